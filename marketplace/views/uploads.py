"""Uploads: organisation logos and attachments on offers and needs, served only after an access check.

Every response with file bytes carries ``X-Content-Type-Options: nosniff`` and the stored (detected) content type;
attachments are always downloads (``Content-Disposition: attachment``), logos are shown inline on profiles.
"""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from marketplace.extensions import limiter
from marketplace.models import Organization
from marketplace.queries import organizations as organizations_q
from marketplace.services import uploads
from marketplace.services.errors import DomainError, ValidationFailed
from marketplace.services.unit_of_work import unit_of_work
from marketplace.settings import ServiceSettings, current_settings
from marketplace.views.helpers import flash_domain_error

bp = Blueprint("uploads", __name__, url_prefix="/files")

ITEM = "<any(offer, need):item_type>/<int:item_id>"


def _rate_key() -> str:
    """Uploads are limited per user (tests and offices share addresses)."""
    return f"user:{current_user.id}" if current_user.is_authenticated else request.remote_addr or ""


_upload_limit = limiter.limit(lambda: current_app.config["UPLOAD_RATE_LIMIT"], key_func=_rate_key,
                              methods=["POST"])


def _addr() -> str:
    return request.remote_addr or ""


def file_store() -> uploads.FileStore:
    """The upload store of the running app's settings."""
    return uploads.FileStore.from_settings(current_settings())


def _read_upload(purpose: str) -> tuple[str, bytes]:
    """The posted file's name and at most one byte more than allowed (enough to tell it is too big)."""
    file = request.files.get("file")
    if file is None:
        return "", b""
    return file.filename or "", file.stream.read(file_store().max_bytes(purpose) + 1)


def _detail_url(item_type: str, item_id: int) -> str:
    if item_type == "offer":
        return url_for("catalogue.detail", offer_id=item_id)
    return url_for("needs.detail", need_id=item_id)


def _protect(response, *, private: bool):
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"  # no embedding by other sites
    if private:
        response.headers["Cache-Control"] = "private, no-store"
    return response


def _abort_for(exc: DomainError):
    abort(exc.http_status, description=str(exc.message))


# --- template helpers ------------------------------------------------------------------------------------

def attachment_panel(item, *, with_form: bool = False) -> dict:
    """What the attachments panel on an offer's or need's page shows to the current user (no writes).

    The upload form's details (accepted types, size limit) are worked out only for someone who may upload, or
    with ``with_form`` (the upload page): a visitor's page shows no form."""
    item = getattr(item, "source", item)  # pages pass the item's safe view
    item_type = "offer" if item.__class__.__name__ == "Offer" else "need"
    can_upload = current_user.is_authenticated and uploads.can_attach(current_user, item)
    panel = {"item_type": item_type, "files": uploads.attachments_for(current_user, item), "can_upload": can_upload}
    if can_upload or with_form:
        panel.update(accept=uploads.accept_attribute("attachment"), types=uploads.allowed_names("attachment"),
                     limit=uploads.megabytes(file_store().max_bytes("attachment")))
    return panel


def logo_panel(org) -> dict:
    """The organisation's logo and whether the current user may change it."""
    return {"logo": uploads.current_logo(org.id),
            "can_manage": current_user.is_authenticated and uploads.can_manage_logo(current_user, org),
            "accept": uploads.accept_attribute("logo"), "types": uploads.allowed_names("logo"),
            "limit": uploads.megabytes(file_store().max_bytes("logo"))}


@bp.record_once
def _setup(state) -> None:
    folder = uploads.FileStore.from_settings(ServiceSettings.from_config(state.app.config)).folder
    static = Path(state.app.static_folder).resolve() if state.app.static_folder else None
    if static is not None and (folder == static or static in folder.parents):
        raise RuntimeError("UPLOAD_FOLDER must not be inside the static folder: files there skip the checks")
    uploads.install_file_hooks()
    state.app.jinja_env.globals.update(attachment_panel=attachment_panel, logo_panel=logo_panel,
                                  file_size=uploads.megabytes)


# --- logos ---------------------------------------------------------------------------------------------

def _org(org_id: int) -> Organization:
    try:
        return organizations_q.get_organization(org_id)
    except DomainError as exc:
        abort(exc.http_status)


@bp.route("/orgs/<int:org_id>/logo", methods=["GET"])
def logo(org_id: int):
    """The logo, inline (profiles are public), still with nosniff and the detected type."""
    try:
        stored = uploads.logo_for_display(_org(org_id).id)
        path = uploads.path_of(stored, file_store())
    except DomainError as exc:
        _abort_for(exc)
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype=stored.content_type, as_attachment=False,
                         download_name=stored.original_name, etag=stored.sha256, max_age=3600, conditional=True)
    return _protect(response, private=False)


@bp.route("/orgs/<int:org_id>/logo/upload", methods=["GET", "POST"])
@login_required
@_upload_limit
def upload_logo(org_id: int):
    """The logo form (GET) and upload (POST); a refused file shows the form again with the reason."""
    org = _org(org_id)
    if not uploads.can_manage_logo(current_user, org):
        abort(403)
    errors: dict = {}
    if request.method == "POST":
        filename, data = _read_upload("logo")
        try:
            with unit_of_work():
                uploads.upload_logo(current_user, org.id, filename, data, file_store(), remote_addr=_addr())
        except ValidationFailed as exc:
            errors = flash_domain_error(exc)
        except DomainError as exc:
            _abort_for(exc)
        else:
            flash(_("Logo saved."), "success")
            return redirect(url_for("organizations.profile", org_id=org.id))
    return render_template("uploads/upload.html", purpose="logo", org=org, item=None, errors=errors,
                           panel=logo_panel(org), back_url=url_for("organizations.profile", org_id=org.id),
                           action=url_for("uploads.upload_logo", org_id=org.id)), (400 if errors else 200)


@bp.route("/orgs/<int:org_id>/logo/delete", methods=["POST"])
@login_required
def delete_logo(org_id: int):
    """Remove the organisation's logo (owners, staff)."""
    org = _org(org_id)
    try:
        with unit_of_work():
            uploads.remove_logo(current_user, org.id, file_store(), remote_addr=_addr())
    except DomainError as exc:
        _abort_for(exc)
    flash(_("Logo removed."), "info")
    return redirect(url_for("organizations.profile", org_id=org.id))


# --- attachments ---------------------------------------------------------------------------------------

@bp.route(f"/{ITEM}/attachments", methods=["GET", "POST"])
@login_required
@_upload_limit
def upload_attachment(item_type: str, item_id: int):
    """The attachment form (GET) and upload (POST) for an offer or need the user may edit."""
    try:
        item = uploads.get_item(current_user, item_type, item_id)
    except DomainError as exc:
        _abort_for(exc)
    if not uploads.can_attach(current_user, item):
        abort(403)
    errors: dict = {}
    if request.method == "POST":
        filename, data = _read_upload("attachment")
        try:
            with unit_of_work():
                uploads.upload_attachment(current_user, item_type, item_id, filename, data, file_store(),
                                           remote_addr=_addr())
        except ValidationFailed as exc:
            errors = flash_domain_error(exc)
        except DomainError as exc:
            _abort_for(exc)
        else:
            flash(_("File attached."), "success")
            return redirect(_detail_url(item_type, item_id) + "#attachments")
    return render_template("uploads/upload.html", purpose="attachment", org=None, item=item, item_type=item_type,
                           errors=errors, panel=attachment_panel(item, with_form=True), back_url=_detail_url(item_type, item_id),
                           action=url_for("uploads.upload_attachment", item_type=item_type, item_id=item_id)), \
        (400 if errors else 200)


@bp.route("/<int:file_id>")
def download(file_id: int):
    """An attachment, for those who may see the item's details; always a download."""
    try:
        with unit_of_work():
            stored, path = uploads.open_attachment(current_user, file_id, file_store(), remote_addr=_addr())
    except DomainError as exc:
        _abort_for(exc)
    response = send_file(path, mimetype=stored.content_type, as_attachment=True,
                         download_name=stored.original_name, etag=stored.sha256, max_age=0, conditional=True)
    return _protect(response, private=True)


@bp.route("/<int:file_id>/delete", methods=["POST"])
@login_required
def delete_attachment(file_id: int):
    """Delete an attachment (owner organisation while it may edit the item, staff)."""
    try:
        with unit_of_work():
            item_type, item_id = uploads.delete_attachment(current_user, file_id, file_store(), remote_addr=_addr())
    except DomainError as exc:
        _abort_for(exc)
    flash(_("Attachment deleted."), "info")
    return redirect(_detail_url(item_type, item_id) + "#attachments")
