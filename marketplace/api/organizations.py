"""/api/v1/organizations and /api/v1/me."""
from __future__ import annotations

import marshmallow as ma
from flask import g
from marshmallow import fields

from marketplace.api import auth
from marketplace.api import representations as rep
from marketplace.api.common import api_blueprint, page_envelope
from marketplace.api.schemas.catalogue import (
    OrganizationListArgs,
    OrganizationOut,
    OrganizationPage,
    OrganizationUpdateIn,
)
from marketplace.api.schemas.common import OrganizationRef
from marketplace.queries import organizations as organizations_q
from marketplace.queries.paging import api_per_page
from marketplace.services import organizations as org_service
from marketplace.services.unit_of_work import unit_of_work

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
    return rep.organization(organizations_q.get_organization(org_id))


@bp.route("/<int:org_id>", methods=["PATCH"])
@bp.arguments(OrganizationUpdateIn)
@bp.response(200, OrganizationOut)
@auth.write_access
def update_organization(data, org_id):
    """Change your organisation's profile (owners and operators)."""
    user = auth.require_caller()
    with unit_of_work():
        org = org_service.update_profile(user, organizations_q.get_organization(org_id), data)
        body = rep.organization(org)
    return body


@me_bp.route("", methods=["GET"])
@me_bp.response(200, MeOut)
def me():
    """Who the token belongs to, their roles and organisations."""
    user = auth.require_caller()
    return {"id": user.id, "email": user.email, "display_name": user.display_name,
            "roles": sorted(user.role_names), "organizations": [rep.organization_ref(o) for o in user.organizations],
            "token_scope": g.api_token.scope}
