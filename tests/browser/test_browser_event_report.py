"""After a Spark event, in headless Chromium: a participant rates it on a phone, another sees whom to meet
with the engine's reasons, and the organiser reads the report (ratings, meetings), records an investment that
came of it months later, and the page reads cleanly at phone and desktop widths in both languages."""
from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone

import pytest

CHROMIUM = "/usr/bin/chromium"
if os.environ.get("CI") != "true":
    if not os.path.isfile(CHROMIUM):
        pytest.skip(f"browser tests skipped: {CHROMIUM} is not installed", allow_module_level=True)
    pytest.importorskip("playwright.sync_api", reason="browser tests need the playwright package")

from page_audit import audit
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def _ended_event(live_server) -> dict:
    """A Spark event that ended yesterday: a lab and a hospital took part; the engine paired them."""
    from sqlalchemy import select

    from marketplace.extensions import db
    from marketplace.models import Event, MatchSuggestion, Registration, User
    lab_id, lab_email = live_server.member("university")
    hospital_id, hospital_email = live_server.member("hospital")
    organiser_email = live_server.user(roles=("organiser",))
    offer = live_server.offer(lab_id, "新冠核酸快速检测技术", "Rapid nucleic acid test technology",
                              kind="technology")
    need = live_server.need(hospital_id, "采购快速检测试剂", "Rapid test kits")
    start = datetime.now(timezone.utc) - timedelta(days=1, hours=3)
    with live_server.app.app_context():
        users = {e: db.session.scalar(select(User.id).where(User.email == e))
                 for e in (lab_email, hospital_email, organiser_email)}
        event = Event(kind="spark", status="published", title_zh="火花活动：快速检测专场",
                      title_en="Spark: rapid testing", starts_at=start, ends_at=start + timedelta(hours=3),
                      organiser_id=users[organiser_email])
        db.session.add(event)
        db.session.flush()
        db.session.add_all([Registration(event_id=event.id, user_id=users[e], status="confirmed")
                            for e in (lab_email, hospital_email)])
        db.session.add(MatchSuggestion(need_id=need, offer_id=offer, rank=1, score=0.8, strength=80, reasons=[]))
        event_id = event.id
        live_server._commit()
    return {"event": event_id, "lab": lab_email, "hospital": hospital_email, "organiser": organiser_email,
            "lab_org": lab_id}


def test_a_participant_rates_the_event_and_the_organiser_records_what_it_led_to(new_page, live_server, steps):
    people = _ended_event(live_server)
    event = people["event"]

    # The hospital's member rates the event on a phone.
    phone = new_page()
    phone.set_viewport_size({"width": 390, "height": 844})
    steps.log_in(phone, people["hospital"])
    phone.goto(f"/events/{event}/feedback")
    phone.locator("#feedback-form button").click()
    expect(phone.locator("#feedback-form")).to_contain_text(steps.t("Choose a rating from 1 to 5."))
    phone.locator("label[for=rating-4]").click()
    phone.locator("#f-comment").fill("一对一洽谈很高效")
    phone.locator("#feedback-form button").click()
    expect(steps.flash(phone)).to_contain_text(steps.t("Thank you: your rating was saved."))

    # The hospital sees whom to meet: the lab, because its technology fits the hospital's need.
    phone.goto(f"/events/{event}/recommendations")
    reason = phone.locator('.recommendation-reasons [data-direction="they_offer"]')
    expect(reason).to_contain_text("新冠核酸快速检测技术")
    expect(reason).to_contain_text("采购快速检测试剂")
    assert audit(phone, "zh") == []

    # The organiser reads the report and records an investment heard of months later.
    organiser = new_page()
    steps.log_in(organiser, people["organiser"])
    organiser.goto(f"/events/{event}/report")
    expect(organiser.locator("#rating-average")).to_have_text("4.0")
    expect(organiser.locator('#rating-distribution [data-rating="4"]')).to_have_text("1")
    form = organiser.locator("#outcome-form")
    form.locator("#f-kind").select_option("investment")
    form.locator("#f-organization_id").select_option(str(people["lab_org"]))
    form.locator("#f-amount_rmb").fill("5000000")
    form.locator("#f-note").fill("天使轮投资")
    form.locator("button").click()
    expect(steps.flash(organiser)).to_contain_text(steps.t("Outcome recorded."))
    expect(organiser.locator('#outcome-list [data-kind="investment"]')).to_have_text(steps.t("Investment"))
    expect(organiser.locator("#fig-outcomes")).to_have_text("1")
    with organiser.expect_download() as download:
        organiser.locator("#report-export").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    for width in (1366, 390):
        organiser.set_viewport_size({"width": width, "height": 900})
        for lang in ("zh", "en"):
            organiser.goto(f"/lang/{lang}")
            organiser.goto(f"/events/{event}/report")
            assert audit(organiser, lang) == [], (width, lang)
