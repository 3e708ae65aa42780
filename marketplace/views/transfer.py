"""Bulk import (templates, upload queued as a job, progress, row report) and exports to Excel and CSV."""
from __future__ import annotations

from datetime import date

from flask import (Blueprint, Response, abort, current_app, flash, jsonify, redirect, render_template, request,
                   session, stream_with_context, url_for)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from marketplace.i18n import current_lang
from marketplace.models import Organization
from marketplace.queries import imports as imports_q
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
    """Download the import template of an entity (headers and drop-downs in the reader's language)."""
    lang = current_lang()
    data = imports.template_xlsx(entity, lang) if fmt == "xlsx" else imports.template_csv(entity, lang)
    return _attachment(data, f"techbridge-{entity}-template.{fmt}", fmt)


def _org_choices() -> list[Organization]:
    if access.is_staff(current_user):
        return organizations_q.all_organizations(limit=1000)
    return [m.organization for m in current_user.memberships]


def _grouped_problems(entity: str, problems) -> list[tuple[int, list[tuple[str, str]]]]:
    """Problems as ``[(row, [(column header, reason), ...])]``: every problem of a row on one line."""
    labels = imports.column_labels(entity, current_lang())
    rows: dict[int, list[tuple[str, str]]] = {}
    for problem in problems:
        row, column, reason = ((problem.row, problem.column, problem.reason) if hasattr(problem, "reason")
                               else tuple(problem))
        rows.setdefault(int(row), []).append((labels.get(column, column or ""), str(reason)))
    return sorted(rows.items())


def _page_context(entity: str, orgs) -> dict:
    limits = imports.ReadLimits.for_entity(current_app.config, entity)
    return {"orgs": orgs, "entity": entity, "entity_labels": {k: v() for k, v in ENTITY_LABELS.items()},
            "chosen_org": request.form.get("organization_id", ""), "max_rows": limits.max_rows,
            "max_mb": max(1, limits.max_bytes // (1024 * 1024)), "is_staff": access.is_staff(current_user),
            "run": None, "records": None, "problems": None,
            "recent_runs": imports_q.recent_runs(current_user)}


def _run_context(run) -> dict:
    return {"run": run, "records": imports_q.records_of(run) if run.status == "done" else None,
            "problems": _grouped_problems(run.entity, run.row_errors or []),
            "run_entity_label": ENTITY_LABELS[run.entity]()}


@bp.route("/import", methods=["GET", "POST"])
@login_required
def import_page():
    """Upload form; on POST, check the file and queue its import as a job: the report when the job already
    ran (no queue), else the run's progress page."""
    orgs = _org_choices()
    entity = request.values.get("entity", "offers")
    if entity not in imports.IMPORT_ENTITIES:
        entity = "offers"
    context = _page_context(entity, orgs)
    if request.method == "GET":
        if not orgs:
            flash(_("Create or join an organisation before importing."), "warning")
        return render_template("transfer/import.html", **context)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash(_("Choose a file to upload."), "danger")
        return render_template("transfer/import.html", **context), 400
    limits = imports.ReadLimits.for_entity(current_app.config, entity)
    content = upload.stream.read(limits.max_bytes + 1)
    weights = curation.weights_or_default(session.get("patent_weights")) if context["is_staff"] else None
    try:
        with unit_of_work():
            organization_id = imports.default_organization_for(current_user, request.form.get("organization_id"))
            run, is_new = imports.start_import(current_user, entity, upload.filename, content,
                                               organization_id=organization_id, locale=current_lang(),
                                               limits=limits, weights=weights)
    except ImportRejected as exc:
        flash(str(exc.message), "danger")
        context["problems"] = _grouped_problems(entity, exc.row_errors)
        return render_template("transfer/import.html", **context), 400
    except DomainError as exc:
        flash(str(exc.message), "danger")
        return render_template("transfer/import.html", **context), 400
    if not is_new:
        flash(_("This file was just submitted; here is that import."), "info")
    run = imports_q.run_for(current_user, run.id)
    if not run.finished:
        return redirect(url_for("transfer.import_run", run_id=run.id), 303)
    context.update(_run_context(run))
    return render_template("transfer/import.html", **context), (400 if run.status == "failed" else 200)


@bp.route("/import/<int:run_id>")
@login_required
def import_run(run_id: int):
    """One import run: its progress while the job runs, then the row report with links to the records."""
    try:
        run = imports_q.run_for(current_user, run_id)
    except DomainError as exc:
        abort(exc.http_status)
    context = _page_context(run.entity, _org_choices())
    context.update(_run_context(run))
    return render_template("transfer/import.html", **context)


@bp.route("/import/<int:run_id>.json")
@login_required
def import_run_status(run_id: int):
    """The run's status and progress, polled by the run page (static/js/import-progress.js)."""
    try:
        run = imports_q.run_for(current_user, run_id)
    except DomainError as exc:
        abort(exc.http_status)
    response = jsonify(status=run.status, finished=run.finished, rows_done=run.rows_done,
                       rows_total=run.rows_total, report_url=url_for("transfer.import_run", run_id=run.id))
    response.headers["Cache-Control"] = "no-store"
    return response


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
