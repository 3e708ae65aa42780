"""The demo dataset shows a living platform: distinct items, true batch sizes, dates relative to the day it is
loaded, the park's 21 Spark events and 5 roadshows with their outcomes, and a docking funnel with every stage.

Loading (and ranking) takes a while, so the dataset is loaded once for this module, at a frozen date, and what
the tests check is read into plain data before the first test's clean-up empties the tables.
"""
import re
import time
from collections import Counter
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import func, select

from marketplace.demo.content import APPLICATIONS
from marketplace.extensions import db
from marketplace.models import (Batch, Event, EventInterest, Introduction, MatchSuggestion, MeetingRequest, Need,
                                LiaisonReport, Offer, Organization, PolicyFiling, PolicyFilingPart, Registration,
                                User)
from marketplace.services import funnel, stats
from tests.conftest import login

TODAY = date(2026, 3, 2)
PARENTHETICAL = re.compile(r"[（(][^）)]*[）)]")
APPLICATION_PREFIXES = sorted({zh for apps in APPLICATIONS.values() for zh, _ in apps}, key=len, reverse=True)


def normalised(title: str) -> str:
    """A title without parentheticals, trailing counters or edition words: clones become equal."""
    title = PARENTHETICAL.sub("", title)
    return re.sub(r"[\s\d]+$|(第[一二三四五六七八九十\d]+代|[a-z]*版|edition)$", "", title.strip()).strip()


def product_type(title: str) -> str:
    for prefix in APPLICATION_PREFIXES:
        if title.startswith(prefix):
            return title[len(prefix):]
    return title


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def demo(app):
    runner = app.test_cli_runner()
    started = time.perf_counter()
    loaded = runner.invoke(args=["demo", "load", "--today", TODAY.isoformat()])
    seconds = time.perf_counter() - started
    assert loaded.exit_code == 0, loaded.output
    again = runner.invoke(args=["demo", "load-if-empty"])
    data = {"output": loaded.output, "again": again.output, "seconds": seconds}
    with app.app_context():
        s = db.session
        data["offers"] = s.execute(select(Offer.id, Offer.title_zh, Offer.title_en, Offer.status, Offer.batch_id,
                                          Offer.published_at, Offer.organization_id, Offer.is_demo)).all()
        data["batches"] = [(b.id, b.kind, b.title_zh, b.title_en, b.published_on) for b in s.scalars(select(Batch))]
        data["needs"] = s.execute(select(Need.status, Need.deadline, Need.created_at, Need.is_demo)).all()
        data["not_demo"] = {m.__name__: s.scalar(select(func.count()).select_from(m).where(m.is_demo.is_(False)))
                            for m in (Organization, Offer, Need, Event)}
        data["events"] = []
        for event in s.scalars(select(Event)):
            regs = s.scalar(select(func.count()).select_from(Registration).where(
                Registration.event_id == event.id, Registration.status == "confirmed"))
            meetings = s.scalar(select(func.count()).select_from(MeetingRequest).where(
                MeetingRequest.event_id == event.id, MeetingRequest.status == "accepted"))
            interests = [i.status for i in s.scalars(select(EventInterest).where(EventInterest.event_id == event.id))]
            data["events"].append((event.kind, event.status, _aware(event.starts_at), regs, meetings, interests,
                                   len(event.items)))
        operator = s.scalar(select(User).where(User.email == "operator@demo.techbridge.cn"))
        total = funnel.funnel(operator)["total"]
        data["funnel"] = dict(total.counts)
        data["signed_values"] = list(s.scalars(select(Introduction.deal_value_rmb).where(
            Introduction.stage == "signed")))
        data["stages"] = Counter(s.scalars(select(Introduction.stage)))
        titles = dict(s.execute(select(Offer.id, Offer.title_zh)).all())
        top: dict[int, list[int]] = {}
        for need_id, offer_id in s.execute(select(MatchSuggestion.need_id, MatchSuggestion.offer_id)
                                           .order_by(MatchSuggestion.need_id, MatchSuggestion.rank)):
            top.setdefault(need_id, []).append(offer_id)
        data["top_titles"] = {n: [titles[o] for o in ids[:10]] for n, ids in top.items()}
        data["trends"] = stats.trends(TODAY)
        data["filing_titles"] = list(s.scalars(select(PolicyFiling.title)))
        data["part_statuses"] = Counter(s.scalars(select(PolicyFilingPart.status)))
        data["report_statuses"] = Counter(s.scalars(select(LiaisonReport.status)))
        data["escalated"] = s.scalar(select(func.count(LiaisonReport.id)).where(LiaisonReport.escalated_at.isnot(None)))
    password = re.search(r"operator@demo\.techbridge\.cn\s+(\S+)", loaded.output).group(1)
    client = app.test_client()
    assert login(client, "operator@demo.techbridge.cn", password).status_code == 302
    data["dashboard"] = client.get("/operator/").get_data(as_text=True)
    with app.app_context():
        spark = db.session.scalar(select(Event.id).where(Event.kind == "spark", Event.status == "finished"))
        signed = db.session.scalar(select(Introduction.id).where(Introduction.stage == "signed"))
    pages = ["/", "/offers/", "/offers/?batch=1", "/offers/batches", "/needs/", "/patents/high-value", "/events/",
             f"/events/{spark}", f"/events/{spark}/report", f"/events/{spark}/follow-ups", f"/events/{spark}/meetings",
             "/brokering/board", f"/brokering/{signed}", "/brokering/overdue", "/operator/verification",
             "/operator/patents", "/policies/", "/policies/office", "/policies/figures", "/liaison/desk"]
    data["pages"] = {path: client.get(path).status_code for path in pages}
    data["funnel_page"] = client.get("/brokering/funnel").get_data(as_text=True)
    data["home"] = app.test_client().get("/").get_data(as_text=True)
    print(f"\ndemo load + ranking: {seconds:.1f} s")
    return data


def test_load_reports_the_platform_in_use_and_is_idempotent(demo):
    assert "not loaded" in demo["again"]
    summary = re.search(r"(\d+) events with (\d+) registrations, (\d+) introductions \((\d+) signed\)", demo["output"])
    events, registrations, introductions, signed = map(int, summary.groups())
    assert events == 28 and registrations > 500 and introductions >= 60 and signed >= 5
    assert demo["not_demo"] == {"Organization": 0, "Offer": 0, "Need": 0, "Event": 0}  # all marked as demo


def test_no_item_is_a_suffix_clone_or_carries_its_status_in_the_title(demo):
    offers = [o for o in demo["offers"] if o.status != "archived"]
    for column in ("title_zh", "title_en"):
        duplicates = [t for t, n in Counter(normalised(getattr(o, column)) for o in offers).items() if n > 1]
        assert duplicates == [], duplicates[:5]
    for o in offers:
        assert not PARENTHETICAL.search(o.title_zh) and not PARENTHETICAL.search(o.title_en), o.title_zh
        assert "待审核" not in o.title_zh and "pending" not in o.title_en.lower()


def test_a_needs_best_matches_are_different_products(demo):
    assert demo["top_titles"], "the load ranks the open needs"
    for need_id, titles in demo["top_titles"].items():
        assert len(set(titles)) == len(titles)
        most = Counter(product_type(t) for t in titles).most_common(1)[0][1]
        assert most <= 4, (need_id, titles)


def test_batch_titles_state_the_number_of_items_they_hold(demo):
    held = Counter(o.batch_id for o in demo["offers"] if o.batch_id is not None)
    regular = [b for b in demo["batches"] if b[1] == "regular"]
    assert len(regular) == 3 and sum(held[b[0]] for b in regular) == 400
    for batch_id, _kind, title_zh, title_en, _day in demo["batches"]:
        stated = re.search(r"(\d+)项", title_zh) or re.search(r"(\d+) ", title_zh)
        assert int(stated.group(1)) == held[batch_id], title_zh
        assert re.search(rf"\b{held[batch_id]}\b", title_en), title_en
    # no published item without a batch (a nameless batch facet)
    assert [o.title_zh for o in demo["offers"] if o.status == "published" and o.batch_id is None] == []


def test_dates_are_relative_to_the_day_of_loading(demo):
    end_of_today = datetime(TODAY.year, TODAY.month, TODAY.day, 23, 59, tzinfo=timezone.utc)
    assert all(_aware(o.published_at) <= end_of_today for o in demo["offers"] if o.published_at)
    assert all(b[4] <= TODAY for b in demo["batches"])
    assert all(_aware(n.created_at) <= end_of_today for n in demo["needs"])
    assert min(b[4] for b in demo["batches"]).year >= TODAY.year - 1  # not stuck in 2020


def test_no_open_need_has_a_past_deadline(demo):
    open_needs = [n for n in demo["needs"] if n.status == "open"]
    assert len(open_needs) >= 50
    assert [n.deadline for n in open_needs if n.deadline is None or n.deadline < TODAY] == []


def test_21_spark_events_and_5_roadshows_with_registrations_and_outcomes(demo):
    now = datetime(TODAY.year, TODAY.month, TODAY.day, tzinfo=timezone.utc)
    past = [e for e in demo["events"] if e[2] < now]
    assert Counter(e[0] for e in past) == {"spark": 21, "roadshow": 5}
    assert sum(e[6] for e in past if e[0] == "roadshow") == 37  # projects shown at the roadshows
    for kind, status, starts, registrations, meetings, interests, items in past:
        assert status == "finished" and items > 0
        assert registrations > 0 and meetings > 0 and interests, (kind, starts)
        if (now - starts).days > 60:  # older follow-ups have moved on
            assert any(s != "open" for s in interests), (kind, starts, interests)
    upcoming = [e for e in demo["events"] if e[2] > now]
    assert {e[0] for e in upcoming} == {"spark", "roadshow"}
    assert all(e[1] == "published" and e[3] > 0 for e in upcoming)


def test_the_funnel_has_every_stage_and_signed_deals_have_values(demo):
    assert all(demo["funnel"][step] > 0 for step in funnel.STEPS), demo["funnel"]
    counts = [demo["funnel"][step] for step in funnel.STEPS[1:]]
    assert counts == sorted(counts, reverse=True)  # a funnel narrows
    assert {"proposed", "declined", "expired", "accepted", "contacted", "meeting_held", "nda_signed", "pilot",
            "negotiation", "signed", "lost"} <= set(demo["stages"])
    assert demo["signed_values"] and all(v and v > 0 for v in demo["signed_values"])


def test_dashboard_shows_trends_and_the_funnel_as_charts(demo):
    counts = demo["trends"]["counts"]
    for key in ("offers", "needs", "introductions", "signed", "registrations"):
        assert sum(1 for n in counts[key] if n) >= 2, key  # activity spread over months, not one spike
    html = demo["dashboard"]
    for chart_id in ("chart-trend-catalogue", "chart-trend-docking", "chart-trend-events", "chart-funnel",
                     "chart-batch", "chart-direction"):
        assert f'<svg id="{chart_id}"' in html, chart_id
    assert "<polyline" in html and "第1批：" in html
    for code in ("approved", "published", "archived", "procurement", "financing"):
        assert f">{code}<" not in html, code  # people see labels, never codes
    assert '<svg id="funnel-chart"' in demo["funnel_page"]


def test_every_page_an_operator_opens_works_with_the_demo_data(demo):
    assert {path: code for path, code in demo["pages"].items() if code != 200} == {}


def test_home_page_is_populated(demo):
    html = demo["home"]
    assert "高价值专利" in html and "第3批" in html and "演示数据" in html


def test_policy_desk_has_filings_in_every_state_and_liaison_reports(demo):
    assert demo["filing_titles"] and all(re.fullmatch(r"\d{8} \S+（第\d+(、\d+)*条）", t) for t in demo["filing_titles"])
    assert set(demo["part_statuses"]) == {"received", "in_review", "info_requested", "supported", "declined"}
    assert {"open", "answered", "routed", "closed"} <= set(demo["report_statuses"]) and demo["escalated"] == 1
    assert all(demo["pages"][p] == 200 for p in ("/policies/", "/policies/office", "/policies/figures", "/liaison/desk"))
