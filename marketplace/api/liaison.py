"""/api/v1/liaison: a firm's reports to its sub-park (difficulties, help needed, measures taken) and the sub-park
staff's actions on them. Members see their organisations' reports, sub-park staff those of their sub-parks,
operators all (``visibility.LIAISON_REPORT_OPEN``)."""
from __future__ import annotations

from datetime import datetime, timezone

from flask_babel import lazy_gettext as _l

from marketplace import vocabulary
from marketplace.api import auth
from marketplace.api.common import api_blueprint
from marketplace.api.schemas.liaison import (LiaisonActionIn, LiaisonReportIn, LiaisonReportListArgs,
                                             LiaisonReportListOut, LiaisonReportOut)
from marketplace.i18n import current_lang
from marketplace.queries import policy as policy_q
from marketplace.services.errors import NotFound
from marketplace.services.policy import liaison, posts
from marketplace.services.unit_of_work import unit_of_work

bp = api_blueprint("api_liaison", __name__, url_prefix="/api/v1/liaison",
                   description="Enterprise liaison: firms' reports to their sub-park and the staff's answers.")


def report_body(report) -> dict:
    """A report as the API shows it, labels in the caller's language."""
    body = {k: getattr(report, k) for k in ("id", "organization_id", "sub_park", "topic", "title", "body", "status",
                                            "respond_by", "escalated_at", "answered_at", "answer", "need_id",
                                            "result", "supply_chain_id", "created_at")}
    org = report.organization
    body.update(organization_name=org.name(current_lang()), organization_short_name=org.short_name or "",
                sub_park_label=vocabulary.label("sub_park", report.sub_park) if report.sub_park else "",
                topic_label=vocabulary.label("liaison_topic", report.topic),
                status_label=vocabulary.label("liaison_status", report.status),
                routed_office=report.routed_office.code if report.routed_office else None)
    return body


@bp.route("/reports", methods=["GET"])
@bp.arguments(LiaisonReportListArgs, location="query", as_kwargs=True)
@bp.response(200, LiaisonReportListOut)
def list_reports(status=None):
    """The reports you may see (your organisations', your sub-parks', all for operators), waiting ones first by
    deadline."""
    user = auth.require_caller()
    return {"items": [report_body(r) for r in policy_q.liaison_reports_for(posts.viewer(user), status=status)]}


@bp.route("/reports", methods=["POST"])
@bp.arguments(LiaisonReportIn)
@bp.response(201, LiaisonReportOut)
@auth.write_access
def create_report(data):
    """Report a difficulty or the measures taken, for one of your organisations; its sub-park answers by
    `respond_by`."""
    user = auth.require_caller()
    data = dict(data)
    org = next((o for o in user.organizations if o.id == data.pop("organization_id")), None)
    if org is None:
        raise NotFound(_l("No such organisation."))
    with unit_of_work():
        report = liaison.submit(user, org, data, now=datetime.now(timezone.utc))
        body = report_body(report)
    return body


@bp.route("/reports/<int:report_id>", methods=["GET"])
@bp.response(200, LiaisonReportOut)
def get_report(report_id):
    """One report you may see."""
    user = auth.require_caller()
    return report_body(liaison.get_report(user, report_id))


@bp.route("/reports/<int:report_id>", methods=["POST"])
@bp.arguments(LiaisonActionIn)
@bp.response(200, LiaisonReportOut)
@auth.write_access
def act_on_report(data, report_id):
    """Sub-park staff and operators: answer, pass to an office, post it as a marketplace need, or close."""
    user = auth.require_caller()
    with unit_of_work():
        report = liaison.handle(user, report_id, dict(data), now=datetime.now(timezone.utc))
        body = report_body(report)
    return body
