"""Operator tools: verification queues (offers, organisations), batch release, the statistics dashboard, the audit log and platform roles."""
from __future__ import annotations

from datetime import UTC, date, datetime

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from marketplace.models.accounts import PLATFORM_ROLES
from marketplace.queries import catalogue as catalogue_q
from marketplace.queries.audit import audit_csv_rows, audit_entries
from marketplace.security import safe_next_url
from marketplace.services import access, audit, funnel, org_verification, roles, stats, verification
from marketplace.services.errors import DomainError
from marketplace.services.unit_of_work import unit_of_work
from marketplace.views.helpers import flash_domain_error, page_arg
from marketplace.vocabulary import label
from marketplace.services.cleaning import parse_id

bp = Blueprint("operator", __name__, url_prefix="/operator")


@bp.before_request
@login_required
def require_staff():
    if not access.is_staff(current_user):
        abort(403)


@bp.route("/")
def dashboard():
    status = stats.first_run_status()
    if status["empty"]:  # nothing published yet: say what to do first instead of showing empty charts
        return render_template("operator/first_run.html", status=status)
    return render_template("operator/dashboard.html", data=stats.operator_dashboard(),
                           trends=stats.trends(date.today()), funnel=funnel.funnel(current_user)["total"])


@bp.route("/getting-started")
def first_run():
    return render_template("operator/first_run.html", status=stats.first_run_status())


@bp.route("/verification")
def verification_queue():
    return render_template("operator/queue.html", offers=verification.queue(current_user),
                           approved=verification.approved_pool(current_user),
                           next_number=verification.next_batch_number())


@bp.route("/verification/<int:offer_id>", methods=["GET", "POST"])
def review(offer_id: int):
    try:
        offer = catalogue_q.get_offer(current_user, offer_id)  # staff see every offer
    except DomainError as exc:
        abort(exc.http_status)
    errors: dict = {}
    status = 200
    if request.method == "POST":
        try:
            with unit_of_work():
                verification.decide(current_user, offer, request.form.get("decision", ""),
                                    request.form.get("reason", ""), remote_addr=request.remote_addr or "")
        except DomainError as exc:
            errors, status = flash_domain_error(exc), exc.http_status
        else:
            flash(_("Decision recorded."), "success")
            return redirect(url_for("operator.verification_queue"))
    return render_template("operator/review.html", offer=offer, history=verification.history(offer),
                           errors=errors, related=[], can_edit=False), status


@bp.route("/batches/release", methods=["POST"])
def release_batch():
    ids = [i for i in map(parse_id, request.form.getlist("offer_ids")) if i is not None]
    try:
        with unit_of_work():
            batch = verification.release_batch(current_user, request.form.to_dict(), ids or None,
                                               remote_addr=request.remote_addr or "")
    except DomainError as exc:
        flash_domain_error(exc)
        return redirect(url_for("operator.verification_queue"))
    flash(_("Batch %(n)d published.", n=batch.number), "success")
    return redirect(url_for("catalogue.batch", number=batch.number))


# --- verification of organisations -------------------------------------------------------------------------

@bp.route("/organizations")
def organization_queue():
    """Organisations waiting for verification (credit code and business licence), oldest first."""
    return render_template("operator/organizations.html", requests=org_verification.queue(current_user))


@bp.route("/organizations/<int:request_id>", methods=["GET", "POST"])
def organization_review(request_id: int):
    """One verification request: the code, the licence, the organisation; approve, or reject with a reason."""
    try:
        req = org_verification.get_request(current_user, request_id)
    except DomainError as exc:
        abort(exc.http_status)
    errors, status = {}, 200
    if request.method == "POST":
        try:
            with unit_of_work():
                org_verification.decide(current_user, req, request.form.get("decision", ""),
                                        request.form.get("reason", ""), remote_addr=request.remote_addr or "")
        except DomainError as exc:
            errors, status = flash_domain_error(exc), exc.http_status
        else:
            flash(_("Decision recorded."), "success")
            return redirect(url_for("operator.organization_queue"))
    return render_template("operator/organization_review.html", req=req, org=req.organization, errors=errors,
                           history=org_verification.history(req.organization_id)), status


# --- audit log ---------------------------------------------------------------------------------------------

AUDIT_PER_PAGE = 50


@bp.route("/audit")
def audit_log():
    """Audit entries, newest first, filtered by action, actor, object and date range (dates in local time)."""
    tz = current_app.config["BABEL_DEFAULT_TIMEZONE"]
    filters = audit.parse_filter(request.args.to_dict())
    page = page_arg()
    found = audit_entries(filters, page, AUDIT_PER_PAGE, tz_name=tz)
    return render_template("operator/audit.html", entries=found.items, total=found.total, page=page, per_page=AUDIT_PER_PAGE,
                           filters=filters, errors={k: str(v) for k, v in filters.errors.items()},
                           actions=audit.ACTION_LABELS, object_types=audit.OBJECT_TYPE_LABELS), \
        (400 if filters.errors else 200)


@bp.route("/audit.csv")
def audit_csv():
    """The filtered entries as CSV (UTF-8 with BOM so spreadsheet programs read Chinese text)."""
    tz = current_app.config["BABEL_DEFAULT_TIMEZONE"]
    filters = audit.parse_filter(request.args.to_dict())
    body = "\ufeff" + "".join(audit_csv_rows(filters, tz_name=tz))
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="audit-{stamp}.csv"', "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store"})


# --- platform roles ----------------------------------------------------------------------------------------

USERS_PER_PAGE = 25


@bp.route("/users")
def users():
    """Users found by e-mail or name (and role), with buttons to grant or revoke platform roles."""
    q = (request.args.get("q") or "").strip()[:200]
    role = request.args.get("role") or ""
    page = page_arg()
    found, total = roles.search_users(current_user, q, role, page, USERS_PER_PAGE)
    return render_template("operator/users.html", users=found, total=total, page=page, per_page=USERS_PER_PAGE,
                           q=q, role=role, all_roles=PLATFORM_ROLES, grantable=roles.grantable_roles(current_user),
                           can_change=lambda u: roles.can_change(current_user, u))


@bp.route("/users/<int:user_id>/roles", methods=["POST"])
def change_role(user_id: int):
    """Grant or revoke one role; refusals are flashed (403/404 for accounts the operator may not change)."""
    role = request.form.get("role", "")
    change = request.form.get("change", "")
    if change not in ("grant", "revoke"):
        abort(400)
    try:
        with unit_of_work():
            action = roles.grant if change == "grant" else roles.revoke
            target = action(current_user, user_id, role, remote_addr=request.remote_addr or "")
    except DomainError as exc:
        if exc.http_status in (403, 404):
            abort(exc.http_status, description=str(exc.message))
        flash_domain_error(exc)
    else:
        if change == "grant":
            flash(_("Role %(role)s granted to %(email)s.", role=label("role", role), email=target.email), "success")
        else:
            flash(_("Role %(role)s revoked from %(email)s.", role=label("role", role), email=target.email), "info")
    return redirect(safe_next_url(request.form.get("next"), url_for("operator.users")))
