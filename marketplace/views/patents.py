"""High-value patents: the operators' curation funnel and the public list of published high-value patents."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from marketplace import visibility
from marketplace.i18n import current_lang
from marketplace.models.catalogue import CURATION_STAGES
from marketplace.queries import patents as patents_q
from marketplace.queries.paging import site_per_page
from marketplace.services import access, curation
from marketplace.services.errors import DomainError
from marketplace.services.patent_value import DEFAULT_WEIGHTS
from marketplace.services.unit_of_work import unit_of_work
from marketplace.views.helpers import flash_domain_error, page_arg

bp = Blueprint("patents", __name__)

WEIGHTS_SESSION_KEY = "patent_weights"


def _require_staff() -> None:
    if not access.is_staff(current_user):
        abort(403)


def _current_weights() -> dict[str, float]:
    return curation.weights_or_default(session.get(WEIGHTS_SESSION_KEY))


def _selected_ids() -> list[int]:
    ids = []
    for value in request.form.getlist("offer_ids"):
        try:
            ids.append(int(value))
        except ValueError:
            continue
    return ids


def _funnel_page(weights: dict, weight_values: dict | None = None, weight_errors: dict | None = None,
                 status: int = 200):
    stage = request.args.get("stage", "screened")
    if stage not in CURATION_STAGES:
        stage = "screened"
    counts = curation.stage_counts()
    page = page_arg()
    per_page = site_per_page()
    # The pager's links carry the place of the row next to them and seek from it (deep pages as quick as the
    # first); a bare ?page=N (an old or hand-written link) still opens that page by number.
    after = patents_q.FunnelCursor.parse(request.args.get("after"))
    before = None if after else patents_q.FunnelCursor.parse(request.args.get("before"))
    if page > 1 and (after or before):
        offers = patents_q.funnel_stage_seek(stage, per_page, after=after, before=before)
        if before and len(offers) < per_page:  # rows moved since the link was made: start again at the top
            page, offers = 1, patents_q.funnel_stage_offers(stage, 1, per_page)
    else:
        offers = patents_q.funnel_stage_offers(stage, page, per_page)
    cursors = {"first": patents_q.FunnelCursor.of(offers[0]).token(),
               "last": patents_q.FunnelCursor.of(offers[-1]).token()} if offers else {}
    breakdowns = {o.id: curation.score_breakdown(o.patent, weights) for o in offers}
    return render_template("patents/funnel.html", stage=stage, counts=counts, offers=offers, breakdowns=breakdowns,
                           weights=weights, weight_values=weight_values or weights, weight_errors=weight_errors or {}, default_weights=DEFAULT_WEIGHTS,
                           indicator_labels=curation.INDICATOR_LABELS, stage_labels=curation.STAGE_LABELS,
                           page=page, per_page=per_page, total=counts.get(stage, 0), cursors=cursors), status


@bp.route("/operator/patents")
@login_required
def funnel():
    """Counts per stage, the weights form, and the patents of one stage with per-indicator contributions."""
    _require_staff()
    return _funnel_page(_current_weights())


@bp.route("/operator/patents/weights", methods=["POST"])
@login_required
def set_weights():
    """Validate submitted weights (or reset to the defaults), keep them in the session and rescore the funnel."""
    _require_staff()
    if request.form.get("action") == "reset":
        data = {k: str(v) for k, v in DEFAULT_WEIGHTS.items()}
    else:
        data = {k: request.form.get(k, "") for k in DEFAULT_WEIGHTS}
    try:
        with unit_of_work():
            weights = curation.parse_weights(data)
            count = curation.rescore_funnel(current_user, weights)
    except DomainError as exc:
        errors = flash_domain_error(exc)
        submitted = {k: request.form.get(k, "") for k in DEFAULT_WEIGHTS}
        return _funnel_page(_current_weights(), submitted, errors, 400)
    session[WEIGHTS_SESSION_KEY] = weights
    flash(_("Weights saved; %(n)d patents rescored.", n=count), "success")
    return redirect(url_for("patents.funnel", stage=request.args.get("stage", "screened")))


@bp.route("/operator/patents/shortlist", methods=["POST"])
@login_required
def shortlist():
    """Shortlist the ticked screened patents, or send ticked shortlisted ones back (``action=remove``)."""
    _require_staff()
    remove = request.form.get("action") == "remove"
    try:
        with unit_of_work():
            ids = _selected_ids()
            moved = (curation.unshortlist if remove else curation.shortlist)(current_user, ids)
    except DomainError as exc:
        flash_domain_error(exc)
    else:
        flash(_("%(n)d patents moved back to screened.", n=moved) if remove
              else _("%(n)d patents shortlisted.", n=moved), "success")
    return redirect(url_for("patents.funnel", stage="shortlisted" if remove else "screened"))


@bp.route("/operator/patents/shortlist-top", methods=["POST"])
@login_required
def shortlist_top():
    """Shortlist the K best-scoring screened patents."""
    _require_staff()
    try:
        with unit_of_work():
            moved = curation.shortlist_top(current_user, request.form.get("n"))
    except DomainError as exc:
        flash_domain_error(exc)
        return redirect(url_for("patents.funnel"))
    flash(_("%(n)d patents shortlisted.", n=moved), "success")
    return redirect(url_for("patents.funnel", stage="shortlisted"))


@bp.route("/operator/patents/publish", methods=["POST"])
@login_required
def publish():
    """Publish the N best-scoring shortlisted patents as a new high-value batch."""
    _require_staff()
    try:
        with unit_of_work():
            batch = curation.publish_top_shortlisted(current_user, request.form.get("n"))
            title = batch.title(current_lang())
    except DomainError as exc:
        flash_domain_error(exc)
        return redirect(url_for("patents.funnel", stage="shortlisted"))
    flash(_("Published: %(title)s", title=title), "success")
    return redirect(url_for("patents.funnel", stage="high_value"))


@bp.route("/patents/high-value")
def high_value():
    """Public list of published high-value patents with their indicators, sortable, paginated."""
    sort = request.args.get("sort", "score")
    if sort not in patents_q.HIGH_VALUE_SORTS:
        sort = "score"
    page = page_arg()
    found = patents_q.high_value_patents(current_user, sort, page, site_per_page())
    # A list is not a logged detail view: teaser patents show their public indicators only.
    return render_template("patents/high_value.html", offers=[visibility.static_view(current_user, o) for o in found.items],
                           total=found.total, page=page, per_page=found.per_page, sort=sort)
