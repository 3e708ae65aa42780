"""/api/v1/policy and /api/v1/filings: the support measures, which fit your organisation, and filings."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l

from marketplace import vocabulary
from marketplace.api import auth
from marketplace.api.common import api_blueprint
from marketplace.api.schemas.policy import (FilingIn, FilingListOut, FilingOut, MatchListArgs, MeasureFitListOut,
                                            MeasureListArgs, MeasureListOut, MeasureOut)
from marketplace.i18n import current_lang
from marketplace.models import Organization
from marketplace.queries import policy as policy_q
from marketplace.services.errors import NotFound
from marketplace.services.policy import eligibility, filings
from marketplace.services.unit_of_work import unit_of_work
from marketplace.settings import current_settings

measures_bp = api_blueprint("api_policy", __name__, url_prefix="/api/v1/policy",
                            description="The park's support measures and which of them fit your organisation.")
filings_bp = api_blueprint("api_filings", __name__, url_prefix="/api/v1/filings",
                           description="Filings (备案) of projects against support measures, reviewed by offices.")


def measure_body(measure) -> dict:
    body = {k: getattr(measure, k) for k in ("id", "number", "source_code", "title_zh", "title_en", "beneficiaries_zh",
                                             "beneficiaries_en", "benefit_zh", "benefit_en", "status", "version")}
    body["max_amount_rmb"] = float(measure.max_amount_rmb) if measure.max_amount_rmb is not None else None
    body["offices"] = [{k: getattr(o, k) for k in ("id", "code", "name_zh", "name_en", "contacts")}
                       for o in measure.offices]
    return body


def filing_body(filing) -> dict:
    body = {k: getattr(filing, k) for k in ("id", "organization_id", "title", "project_name", "direction",
                                            "description", "contact_name", "contact_phone", "filed_on")}
    body["parts"] = [{"id": p.id, "measure_number": p.measure_number, "office": p.office.code if p.office else None,
                      "status": p.status, "status_label": vocabulary.label("policy_part_status", p.status),
                      "amount_rmb": float(p.amount_rmb) if p.amount_rmb is not None else None, "note": p.note,
                      "decided_at": p.decided_at} for p in filing.parts]
    return body


def _organization(user, organization_id) -> Organization:
    orgs = user.organizations
    chosen = next((o for o in orgs if o.id == organization_id), None) if organization_id else (orgs[0] if orgs else None)
    if chosen is None:
        raise NotFound(_l("No such organisation."))
    return chosen


@measures_bp.route("/measures", methods=["GET"])
@measures_bp.arguments(MeasureListArgs, location="query", as_kwargs=True)
@measures_bp.response(200, MeasureListOut)
def list_measures(q=""):
    """The measures in force, optionally matching words in their titles or benefits."""
    return {"items": [measure_body(m) for m in policy_q.measures(q)]}


@measures_bp.route("/measures/<int:measure_id>", methods=["GET"])
@measures_bp.response(200, MeasureOut)
def get_measure(measure_id):
    """One measure in force."""
    measure = policy_q.measure(measure_id)
    if measure is None or measure.status != "active":
        raise NotFound(_l("No such measure."))
    return measure_body(measure)


@measures_bp.route("/matches", methods=["GET"])
@measures_bp.arguments(MatchListArgs, location="query", as_kwargs=True)
@measures_bp.response(200, MeasureFitListOut)
def my_matches(organization_id=None):
    """Every measure evaluated for one of your organisations: likely first, with each condition and what settles it."""
    user = auth.require_caller()
    org = _organization(user, organization_id)
    fits = eligibility.measures_for(org, policy_q.measures(), current_lang())
    return {"organization_id": org.id, "items": [
        {"measure": measure_body(f.measure), "verdict": f.verdict, "verdict_label": f.verdict_label,
         "checks": [vars(c) for c in f.checks]} for f in fits]}


@filings_bp.route("/", methods=["GET"])
@filings_bp.response(200, FilingListOut)
def list_filings():
    """Your organisations' filings, newest first."""
    user = auth.require_caller()
    return {"items": [filing_body(f) for f in policy_q.filings_of(user.org_ids)]}


@filings_bp.route("/", methods=["POST"])
@filings_bp.arguments(FilingIn)
@filings_bp.response(201, FilingOut)
@auth.write_access
def create_filing(data):
    """File a project for one of your organisations; the answer carries the record's `title` as the notice
    prescribes (date, short name, measure numbers)."""
    user = auth.require_caller()
    data = dict(data)
    org = _organization(user, data.pop("organization_id"))
    today = datetime.now(ZoneInfo(current_settings().default_timezone)).date()
    with unit_of_work():
        filing = filings.file_project(user, org, data, today=today)
        body = filing_body(filing)
    return body


@filings_bp.route("/<int:filing_id>", methods=["GET"])
@filings_bp.response(200, FilingOut)
def get_filing(filing_id):
    """One filing: yours, one with a part for your office, or any for operators."""
    user = auth.require_caller()
    return filing_body(filings.get_filing(user, filing_id))
