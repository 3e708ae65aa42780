"""/api/v1/organizations (profiles, members, invitations) and /api/v1/me."""
from __future__ import annotations

import marshmallow as ma
from flask import g
from flask_babel import lazy_gettext as _l
from marshmallow import fields

from marketplace.api import auth
from marketplace.api import representations as rep
from marketplace.api.common import IF_MATCH_DOC, api_blueprint, page_envelope, send_etag, versioned_update
from marketplace.api.schemas.catalogue import OrganizationListArgs, OrganizationOut, OrganizationPage
from marketplace.api.schemas.common import OrganizationRef
from marketplace.api.schemas.organizations import (
    InvitationIn,
    InvitationOut,
    MemberListOut,
    MemberOut,
    MemberRoleIn,
    OrganizationUpdateIn,
)
from marketplace.i18n import current_lang
from marketplace.queries import organizations as organizations_q
from marketplace.queries.paging import api_per_page
from marketplace.services import invitations
from marketplace.services import organizations as org_service
from marketplace.services.errors import PermissionDenied
from marketplace.services.unit_of_work import unit_of_work
from marketplace.settings import current_settings

bp = api_blueprint("api_organizations", __name__, url_prefix="/api/v1/organizations",
               description="Hospitals, firms, labs, universities, funders and agencies of the park.")
me_bp = api_blueprint("api_me", __name__, url_prefix="/api/v1/me", description="The account behind your token.")


class MeOut(ma.Schema):
    id = fields.Integer(required=True)
    email = fields.String(required=True)
    display_name = fields.String(required=True)
    roles = fields.List(fields.String(), required=True)
    organizations = fields.List(fields.Nested(OrganizationRef), required=True)
    token_scope = fields.String(required=True)


@bp.route("/", methods=["GET"])
@bp.arguments(OrganizationListArgs, location="query", as_kwargs=True)
@bp.response(200, OrganizationPage)
def list_organizations(page, per_page=None, q=None, kind=None, verified=None):
    """Organisations, by name."""
    found = organizations_q.list_organizations(q=q, kind=kind, verified=verified, page=page,
                                               per_page=api_per_page(per_page))
    return page_envelope(found, rep.organization)


@bp.route("/<int:org_id>", methods=["GET"])
@bp.response(200, OrganizationOut)
def get_organization(org_id):
    """One organisation's public profile."""
    org = organizations_q.get_organization(org_id)
    send_etag(org)
    return rep.organization(org)


@bp.route("/<int:org_id>", methods=["PATCH"])
@bp.doc(**IF_MATCH_DOC)
@bp.arguments(OrganizationUpdateIn)
@bp.response(200, OrganizationOut)
@auth.write_access
def update_organization(data, org_id):
    """Change your organisation's profile (owners and operators)."""
    user = auth.require_caller()
    return versioned_update(
        lambda version: org_service.update_profile(user, organizations_q.get_organization(org_id), data,
                                                   remote_addr=auth.remote_addr(), expected_version=version),
        rep.organization)


def _member(m) -> dict:
    return {"membership_id": m.id, "user_id": m.user_id, "display_name": m.user.display_name, "email": m.user.email,
            "role": m.role, "contact_email": m.contact_email or "", "contact_phone": m.contact_phone or "",
            "joined_at": m.created_at}


def _managed(user, org_id):
    """The organisation, for its owners and operators (403 for everybody else; 404 when it does not exist)."""
    org = organizations_q.get_organization(org_id)
    if not org_service.can_manage_members(user, org):
        raise PermissionDenied(_l("Only the organisation's owners and operators manage its members."))
    return org


@bp.route("/<int:org_id>/members", methods=["GET"])
@bp.response(200, MemberListOut)
def list_members(org_id):
    """The organisation's members and their roles (owners and operators)."""
    org = _managed(auth.require_caller(), org_id)
    return {"items": [_member(m) for m in organizations_q.members(org.id)]}


@bp.route("/<int:org_id>/members/<int:membership_id>", methods=["PATCH"])
@bp.arguments(MemberRoleIn)
@bp.response(200, MemberOut)
@auth.write_access
def change_member_role(data, org_id, membership_id):
    """Make a member an owner, or an owner a member (owners and operators); the last owner stays."""
    user = auth.require_caller()
    with unit_of_work():
        membership = org_service.change_role(user, _managed(user, org_id), membership_id, data["role"],
                                             remote_addr=auth.remote_addr())
        body = _member(membership)
    return body


@bp.route("/<int:org_id>/members/<int:membership_id>", methods=["DELETE"])
@bp.response(204)
@auth.write_access
def remove_member(org_id, membership_id):
    """Take someone out of the organisation (owners and operators), or leave it yourself with your own
    membership id; the last owner cannot go."""
    user = auth.require_caller()
    with unit_of_work():
        org_service.remove_member(user, organizations_q.get_organization(org_id), membership_id,
                                  remote_addr=auth.remote_addr())


@bp.route("/<int:org_id>/invitations", methods=["POST"])
@bp.arguments(InvitationIn)
@bp.response(201, InvitationOut)
@auth.write_access
def invite(data, org_id):
    """Invite someone by e-mail (owners and operators). The link is e-mailed and works once, for a few days."""
    user = auth.require_caller()
    with unit_of_work():
        invitation, _token = invitations.invite(
            user, _managed(user, org_id), data["email"], data["role"],
            expiry_days=current_settings().invitation_expiry_days, lang=current_lang(),
            remote_addr=auth.remote_addr())
        body = {"id": invitation.id, "organization_id": invitation.organization_id, "email": invitation.email,
                "role": invitation.role, "expires_at": invitation.expires_at}
    return body


@me_bp.route("", methods=["GET"])
@me_bp.response(200, MeOut)
def me():
    """Who the token belongs to, their roles and organisations."""
    user = auth.require_caller()
    return {"id": user.id, "email": user.email, "display_name": user.display_name,
            "roles": sorted(user.role_names), "organizations": [rep.organization_ref(o) for o in user.organizations],
            "token_scope": g.api_token.scope}
