"""Bulk import (templates, upload, row-by-row report) and exports to Excel and CSV."""
from __future__ import annotations

from datetime import date

from flask import (Blueprint, Response, abort, current_app, flash, render_template, request, session,
                   stream_with_context)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from marketplace.models import Organization
from marketplace.queries import organizations as organizations_q
from marketplace.services import access, curation, exports, imports
from marketplace.services.errors import DomainError
from marketplace.services.imports import ImportRejected
from marketplace.services.unit_of_work import unit_of_work

bp = Blueprint("transfer", __name__, url_prefix="/transfer")

ENTITY_CONVERTER = "any(offers, needs, patents)"
FORMAT_CONVERTER = "any(xlsx, csv)"
ENTITY_LABELS = {"offers": lambda: _("Offers (technologies, products, services, financial products)"),
                 "needs": lambda: _("Needs"), "patents": lambda: _("Patents")}


def _attachment(data, filename: str, fmt: str) -> Response:
    response = Response(data, mimetype=exports.MIMETYPES[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.route(f"/template/<{ENTITY_CONVERTER}:entity>.<{FORMAT_CONVERTER}:fmt>")
def template(entity: str, fmt: str):
    """Download the import template of an entity."""
    data = imports.template_xlsx(entity) if fmt == "xlsx" else imports.template_csv(entity)
    return _attachment(data, f"techbridge-{entity}-template.{fmt}", fmt)


def _org_choices() -> list[Organization]:
    if access.is_staff(current_user):
        return organizations_q.all_organizations(limit=1000)
    return [m.organization for m in current_user.memberships]


@bp.route("/import", methods=["GET", "POST"])
@login_required
def import_page():
    """Upload form; on POST, import and show the counts or the row-by-row report."""
    orgs = _org_choices()
    entity = request.values.get("entity", "offers")
    if entity not in imports.IMPORT_ENTITIES:
        entity = "offers"
    max_bytes = current_app.config.get("IMPORT_MAX_BYTES", imports.MAX_IMPORT_BYTES)
    context = {"orgs": orgs, "entity": entity, "entity_labels": {k: v() for k, v in ENTITY_LABELS.items()},
               "chosen_org": request.form.get("organization_id", ""),
               "max_rows": current_app.config.get("IMPORT_MAX_ROWS", imports.MAX_IMPORT_ROWS),
               "max_mb": max_bytes // (1024 * 1024), "is_staff": access.is_staff(current_user),
               "result": None, "row_errors": None}
    if request.method == "GET":
        if not orgs:
            flash(_("Create or join an organisation before importing."), "warning")
        return render_template("transfer/import.html", **context)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash(_("Choose a file to upload."), "danger")
        return render_template("transfer/import.html", **context), 400
    content = upload.stream.read(max_bytes + 1)
    weights = curation.weights_or_default(session.get("patent_weights")) if context["is_staff"] else None
    try:
        with unit_of_work():
            organization_id = imports.default_organization_for(current_user, request.form.get("organization_id"))
            result = imports.import_file(current_user, entity, upload.filename, content,
                                         organization_id=organization_id, weights=weights, max_bytes=max_bytes,
                                         max_rows=context["max_rows"])
    except ImportRejected as exc:
        flash(str(exc.message), "danger")
        context["row_errors"] = exc.row_errors
        return render_template("transfer/import.html", **context), 400
    except DomainError as exc:
        flash(str(exc.message), "danger")
        return render_template("transfer/import.html", **context), 400
    if result.total == 0 and not result.skipped_rows:
        flash(_("The file has no data rows; nothing to import."), "warning")
    else:
        flash(_("Import finished: %(c)d created, %(u)d updated.", c=result.created, u=result.updated), "success")
    context["result"] = result
    return render_template("transfer/import.html", **context)


def _export_response(table: exports.ExportTable, fmt: str) -> Response:
    filename = f"techbridge-{table.name}-{date.today():%Y%m%d}.{fmt}"
    if fmt == "csv":
        return _attachment(stream_with_context(exports.file_chunks(table, fmt)), filename, fmt)
    return _attachment(exports.file_chunks(table, fmt), filename, fmt)


@bp.route(f"/export/offers.<{FORMAT_CONVERTER}:fmt>")
def export_offers(fmt: str):
    """Offers as listed in the catalogue (same kind / batch / field / direction facets, each repeatable);
    staff may add ``status``."""
    table = exports.export_offers(current_user, kind=request.args.getlist("kind"),
                                  batch_number=request.args.getlist("batch"),
                                  field_code=request.args.getlist("field") + request.args.getlist("direction"),
                                  status=request.args.get("status"))
    return _export_response(table, fmt)


@bp.route(f"/export/needs.<{FORMAT_CONVERTER}:fmt>")
def export_needs(fmt: str):
    """Needs as listed (open, visible to the viewer); staff may add ``status``."""
    table = exports.export_needs(current_user, kind=request.args.get("kind"), status=request.args.get("status"))
    return _export_response(table, fmt)


@bp.route(f"/export/patents.<{FORMAT_CONVERTER}:fmt>")
def export_patents(fmt: str):
    """The published high-value patents."""
    return _export_response(exports.export_high_value_patents(current_user), fmt)


@bp.route(f"/export/batch/<int:number>.<{FORMAT_CONVERTER}:fmt>")
def export_batch(number: int, fmt: str):
    """The visible offers of one numbered batch."""
    try:
        table = exports.export_batch(current_user, number)
    except DomainError as exc:
        abort(exc.http_status)
    return _export_response(table, fmt)
