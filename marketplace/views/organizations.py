"""Organisation profiles: the public page, editing by owners and operators, and verification requests."""
from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    get_template_attribute,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from marketplace.queries import catalogue as catalogue_q
from marketplace.queries import needs as needs_q
from marketplace.queries import organizations as organizations_q
from marketplace.queries import taxonomy
from marketplace.services import org_verification, uploads
from marketplace.services import organizations as org_service
from marketplace.services.errors import DomainError
from marketplace.services.unit_of_work import unit_of_work
from marketplace.views.edit_forms import versioned_edit
from marketplace.views.helpers import abort_for, flash_domain_error, form_dict
from marketplace.views.uploads import _protect, _read_upload, _upload_limit, file_store
from marketplace.vocabulary import options

bp = Blueprint("organizations", __name__, url_prefix="/orgs")


def verified_badge(org, small: bool = False):
    """The verified badge (templates/organizations/_badge.html), callable from any template without an import."""
    return get_template_attribute("organizations/_badge.html", "verified_badge")(org, small)


@bp.record_once
def _setup(state) -> None:
    state.app.jinja_env.globals.update(verified_badge=verified_badge)


def _org(org_id: int):
    try:
        return organizations_q.get_organization(org_id)
    except DomainError as exc:
        abort(exc.http_status)


def _addr() -> str:
    return request.remote_addr or ""


@bp.route("/<int:org_id>")
def profile(org_id: int):
    org = _org(org_id)
    offers = catalogue_q.published_offers_of(current_user, org.id)
    needs = needs_q.open_needs_of(current_user, org.id)
    manage = current_user.is_authenticated and org_service.can_edit_profile(current_user, org)
    return render_template("organizations/profile.html", org=org, offers=offers, needs=needs, can_manage=manage)


def _posted_profile() -> dict:
    """The posted profile form (an unchecked box is sent as nothing: it reads as "")."""
    data = form_dict(request.form, list_keys=("field_codes",))
    data["mediated_only"] = "1" if request.form.get("mediated_only") else ""
    data.pop("csrf_token", None)
    return data


@bp.route("/<int:org_id>/edit", methods=["GET", "POST"])
@login_required
def edit(org_id: int):
    """The profile form for owners and operators: names, description, contacts, sub-park, size, fields, mediation."""
    org = _org(org_id)
    if not org_service.can_edit_profile(current_user, org):
        abort(403)
    return versioned_edit(
        org.version, form_values=lambda: org_service.profile_form_data(org), read_form=_posted_profile,
        save=lambda data, version: org_service.update_profile(current_user, org, data, remote_addr=_addr(),
                                                              expected_version=version),
        saved=_("Profile saved."), next_url=url_for("organizations.profile", org_id=org.id),
        error_status=None, refused=(403, 404),
        render=lambda data, errors, status: (render_template(
            "organizations/edit.html", org=org, data=data, errors=errors, fields=taxonomy.field_tree(),
            sub_parks=options("sub_park"), size_classes=options("size_class")), status))


# --- verification ----------------------------------------------------------------------------------------

@bp.route("/<int:org_id>/verification", methods=["GET", "POST"])
@login_required
@_upload_limit
def verification(org_id: int):
    """The organisation's verification: its state and past decisions, and the request form for owners."""
    org = _org(org_id)
    if not org_verification.can_see_requests(current_user, org):
        abort(403)
    errors: dict = {}
    status = 200
    if request.method == "POST":
        if not org_verification.can_request(current_user, org):
            abort(403)
        filename, data = _read_upload("licence")
        try:
            with unit_of_work():
                org_verification.submit(current_user, org, request.form.get("uscc", ""), filename, data, file_store(),
                                        remote_addr=_addr())
        except DomainError as exc:
            if exc.http_status in (403, 404):
                abort_for(exc)
            errors, status = flash_domain_error(exc), exc.http_status
        else:
            flash(_("Your request was sent. An operator will check it."), "success")
            return redirect(url_for("organizations.verification", org_id=org.id))
    return render_template("organizations/verification.html", org=org, errors=errors,
                           history=org_verification.history(org.id),
                           pending=org_verification.pending_request(org.id),
                           can_request=org_verification.can_request(current_user, org),
                           uscc=request.form.get("uscc", "") if request.method == "POST" else (org.uscc or ""),
                           accept=uploads.accept_attribute("licence"), types=uploads.allowed_names("licence"),
                           limit=uploads.megabytes(file_store().max_bytes("licence"))), status


@bp.route("/<int:org_id>/verification/<int:request_id>/licence")
@login_required
def licence(org_id: int, request_id: int):
    """The business licence of a request: the organisation's owners and operators only; always a download."""
    try:
        stored, path = org_verification.open_licence(current_user, request_id, file_store())
    except DomainError as exc:
        abort_for(exc)
    if stored.organization_id != org_id:
        abort(404)
    response = send_file(path, mimetype=stored.content_type, as_attachment=True, download_name=stored.original_name,
                         etag=stored.sha256, max_age=0, conditional=True)
    return _protect(response, private=True)
