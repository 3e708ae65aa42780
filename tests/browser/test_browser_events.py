"""Events in headless Chromium: a roadshow with demo high-value patents, from scheduling to a signed deal.

An organiser creates a series and a roadshow through the forms, puts two high-value patents with their
presenters on the agenda and publishes it; registrants register (the third goes to the waiting list), ask for
1:1 meetings, the presenters accept, the scheduler produces a timetable in which nobody is double-booked; an
interest becomes a follow-up, a technology manager turns it into an introduction that both sides accept and
that is moved to "signed"; the event report and the series page count the deal.
"""
from __future__ import annotations

import os
import re
from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

CHROMIUM = "/usr/bin/chromium"
if os.environ.get("CI") != "true":
    if not os.path.isfile(CHROMIUM):
        pytest.skip(f"browser tests skipped: {CHROMIUM} is not installed", allow_module_level=True)
    pytest.importorskip("playwright.sync_api", reason="browser tests need the playwright package")

from page_audit import open_workspace
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

PIPELINE = ("contacted", "meeting_held", "nda_signed", "pilot", "negotiation", "signed")


def open_event(page: Page, title: str) -> None:
    """From anywhere: the nav's Events link, then the event's row."""
    page.locator("#nav-events").click()
    expect(page).to_have_url(re.compile(r"/events/$"))
    page.locator("#event-list .event-row a", has_text=title).click()
    expect(page).to_have_url(re.compile(r"/events/\d+$"))
    expect(page.locator("h1")).to_contain_text(title)


def test_roadshow_from_agenda_to_meetings_follow_up_and_signed_deal(page: Page, new_page, live_server, steps):
    word = live_server.unique("ev")
    names = {key: f"{label}{word}" for key, label in (
        ("organiser", "组织者"), ("p1", "发明人甲"), ("p2", "发明人乙"), ("r1", "王主任"), ("r2", "李经理"),
        ("r3", "赵博士"), ("broker", "技术经理人"))}
    uni1, uni2 = live_server.org("university"), live_server.org("university")
    hospital_org, firm_org, other_org = live_server.org("hospital"), live_server.org("firm"), live_server.org("firm")
    email = {
        "organiser": live_server.user(roles=("organiser",), display_name=names["organiser"]),
        "p1": live_server.user(org_id=uni1, display_name=names["p1"]),
        "p2": live_server.user(org_id=uni2, display_name=names["p2"]),
        "r1": live_server.user(org_id=hospital_org, display_name=names["r1"]),
        "r2": live_server.user(org_id=firm_org, display_name=names["r2"]),
        "r3": live_server.user(org_id=other_org, display_name=names["r3"]),
        "broker": live_server.user(roles=("broker",), display_name=names["broker"]),
    }
    patent1 = f"一种微流控芯片核酸检测方法 {word}"
    patent2 = f"可穿戴心电监测贴片 {word}"
    patent1_id = live_server.patent(uni1, patent1, f"Microfluidic nucleic acid detection {word}")
    live_server.patent(uni2, patent2, f"Wearable ECG patch {word}")
    need_title = f"引进快速核酸检测技术 {word}"
    need_id = live_server.need(hospital_org, need_title, f"Rapid nucleic acid testing {word}",
                               kind="technology_cooperation")
    series_name = f"高价值专利路演系列 {word}"
    event_title = f"微流控与可穿戴专利路演 {word}"
    day = (datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(days=3)).date().isoformat()

    # --- the organiser: a series, then a roadshow in it through the form --------------------------------
    organiser = page
    steps.log_in(organiser, email["organiser"])
    organiser.locator("#nav-events").click()
    organiser.locator("#s-kind").select_option("roadshow")
    organiser.locator("#s-name-zh").fill(series_name)
    organiser.locator("#s-name-en").fill(f"High-value patent roadshows {word}")
    organiser.locator("#series-form button").click()
    expect(organiser).to_have_url(re.compile(r"/events/series/\d+$"))
    expect(steps.flash(organiser)).to_contain_text(steps.t("Series created."))
    series_url = re.search(r"/events/series/\d+$", organiser.url).group()
    organiser.get_by_role("link", name=steps.t("New event in this series")).click()
    expect(organiser).to_have_url(re.compile(r"/events/new\?"))
    expect(organiser.locator("#f-kind")).to_have_value("roadshow")
    expect(organiser.locator("#f-series_id option:checked")).to_have_text(series_name)
    expect(organiser.locator("#f-timezone")).to_have_value("Asia/Shanghai")
    organiser.locator("#f-title_zh").fill(event_title)
    organiser.locator("#f-title_en").fill(f"Microfluidics and wearables patent roadshow {word}")
    organiser.locator("#f-description_zh").fill("两项高价值专利线上路演，会后安排一对一洽谈。")
    organiser.locator("#f-starts_at").fill(f"{day}T14:00")
    organiser.locator("#f-ends_at").fill(f"{day}T16:00")
    organiser.locator("#f-meeting_url").fill("https://meeting.example.com/roadshow")
    organiser.locator("#f-capacity").fill("2")
    organiser.locator("#f-audience-firms").check()
    organiser.locator("#f-audience-hospitals").check()
    organiser.locator("#f-meeting_slots").fill("3")
    organiser.locator("#f-meeting_minutes").fill("15")
    organiser.locator("#f-meeting_tables").fill("2")
    organiser.locator("#event-form button").click()
    expect(organiser).to_have_url(re.compile(r"/events/\d+/agenda$"))
    expect(steps.flash(organiser)).to_contain_text(steps.t("Event saved as a draft. Add the agenda, then publish it."))
    event_url = re.search(r"/events/\d+", organiser.url).group()

    # Two high-value patents from the default candidate list (blank search), each with a presenter.
    for title, presenter, start, end in ((patent1, "p1", "14:00", "14:30"), (patent2, "p2", "14:30", "15:00")):
        candidate = organiser.locator("#candidates .candidate", has_text=title)
        expect(candidate.locator(".badge")).to_have_text(steps.t("High-value patent"))
        candidate.get_by_role("link", name=steps.t("Choose")).click()
        expect(organiser.locator("#f-offer_id")).not_to_have_value("")
        option = organiser.locator("#f-presenter_id option", has_text=names[presenter])
        organiser.locator("#f-presenter_id").select_option(option.get_attribute("value"))
        organiser.locator("#f-starts_at").fill(f"{day}T{start}")
        organiser.locator("#f-ends_at").fill(f"{day}T{end}")
        organiser.locator("#f-meeting_capacity").fill("3")
        organiser.locator("#item-form button").click()
        expect(organiser).to_have_url(re.compile(r"/events/\d+/agenda(#item-form)?$"))  # the fragment survives the redirect
        expect(steps.flash(organiser)).to_contain_text(steps.t("Agenda item added."))
        row = organiser.locator("#agenda-table .agenda-row", has_text=title)
        expect(row).to_contain_text(names[presenter])
        expect(row).to_contain_text(f"{start}–{end}")
    expect(organiser.locator("#agenda-table .agenda-row")).to_have_count(2)

    organiser.locator("nav.breadcrumb, nav[aria-label=breadcrumb]").get_by_role("link", name=event_title).click()
    expect(organiser).to_have_url(re.compile(rf"{event_url}$"))
    expect(organiser.locator("h1 .event-status")).to_have_text(steps.t("Draft"))
    organiser.locator("#publish-btn").click()
    expect(steps.flash(organiser)).to_contain_text(steps.t("Event published."))
    expect(organiser.locator("h1 .event-status")).to_have_text(steps.t("Published"))

    # --- registrants: two places, the third goes to the waiting list; meeting requests with a reason ------
    pages = {}
    for who in ("r1", "r2", "r3"):
        pg = pages[who] = new_page()
        steps.log_in(pg, email[who])
        open_event(pg, event_title)
        expect(pg.locator(".agenda-item")).to_have_count(2)
        pg.locator("#register-btn").click()
        if who == "r3":
            expect(steps.flash(pg, "warning")).to_contain_text(steps.t(
                "The event is full: you are on the waiting list and will get a place if one frees up."))
            expect(pg.locator("#reg-status")).to_have_text(steps.t("On the waiting list"))
            expect(pg.locator(".meeting-form")).to_have_count(0)
            continue
        expect(steps.flash(pg)).to_contain_text(steps.t("You are registered. Add the event to your calendar below."))
        expect(pg.locator("#reg-status")).to_have_text(steps.t("Registered"))
        expect(pg.locator("#meeting-url")).to_be_visible()
        for title in (patent1, patent2):
            form = pg.locator(".agenda-item", has_text=title).locator(".meeting-form")
            form.locator("input[name=reason]").fill(f"{names[who]} 想了解 {title} 的转化条件")
            form.locator("select[name=priority]").select_option("3" if title == patent1 else "2")
            form.get_by_role("button", name=steps.t("Request a 1:1 meeting")).click()
            expect(steps.flash(pg)).to_contain_text(steps.t("Meeting requested; the presenter will accept or decline."))
    pages["r1"].reload()
    expect(pages["r1"].locator("#places")).to_contain_text(steps.t("%(n)d of %(m)d taken", n=2, m=2))

    # --- presenters accept from their meetings page ------------------------------------------------------
    for who in ("p1", "p2"):
        pg = pages[who] = new_page()
        steps.log_in(pg, email[who])
        open_event(pg, event_title)
        pg.get_by_role("link", name=steps.t("My 1:1 meetings")).click()
        expect(pg).to_have_url(re.compile(r"/meetings$"))
        pending = pg.locator('#meeting-table .meeting-row[data-status="pending"]')
        expect(pending).to_have_count(2)
        for _ in range(2):
            pending.first.get_by_role("button", name=steps.t("Accept"), exact=True).click()
            expect(steps.flash(pg)).to_contain_text(steps.t("Your answer was recorded."))
        expect(pg.locator('#meeting-table .meeting-row[data-status="accepted"]')).to_have_count(2)

    # --- the organiser runs the scheduler and reads a conflict-free timetable ----------------------------
    organiser.get_by_role("link", name=steps.t("1:1 meetings"), exact=True).click()
    expect(organiser).to_have_url(re.compile(r"/meetings$"))
    organiser.locator("#run-scheduler").click()
    expect(steps.flash(organiser)).to_contain_text(steps.t("Timetable computed; everybody sees their meetings."))
    expect(steps.flash(organiser, "warning")).to_have_count(0)  # every accepted request fitted
    rows = organiser.locator("#meeting-table .meeting-row")
    expect(rows).to_have_count(4)
    slot_times = {f"{day[5:]} {t}" for t in ("16:00", "16:15", "16:30")}
    busy, tables = Counter(), Counter()
    for i in range(4):
        cells = rows.nth(i).locator("td")
        requester, presenter = cells.nth(1).inner_text().strip(), cells.nth(2).inner_text().strip()
        placed = re.fullmatch(r"(\d\d-\d\d \d\d:\d\d) · \D*(\d+)\D*", cells.nth(6).inner_text().strip())
        assert placed, cells.nth(6).inner_text()
        when, table = placed.groups()
        assert when in slot_times, when
        busy[(requester, when)] += 1
        busy[(presenter, when)] += 1
        tables[(when, table)] += 1
    assert max(busy.values()) == 1, f"double-booked: {busy}"
    assert max(tables.values()) == 1 and all(1 <= int(t) <= 2 for _, t in tables), tables
    assert {p for p, _ in busy} == {names["r1"], names["r2"], names["p1"], names["p2"]}

    # A registrant sees their own schedule on the event page.
    r1 = pages["r1"]
    r1.reload()
    my_meetings = r1.locator(".card", has=r1.get_by_role("link", name=steps.t("My 1:1 meetings"))).locator("li")
    expect(my_meetings).to_have_count(2)
    for i in range(2):
        expect(my_meetings.nth(i)).to_contain_text(re.compile("|".join(t[-5:] for t in slot_times)))

    # --- a registrant wants to license; the follow-up appears -------------------------------------------
    r1.locator(".agenda-item", has_text=patent1).locator('.interest-form button[value="license"]').click()
    expect(steps.flash(r1)).to_contain_text(
        steps.t("Interest recorded; the presenter or a technology manager will follow up."))
    r1.get_by_role("link", name=steps.t("Follow-ups"), exact=True).click()
    expect(r1).to_have_url(re.compile(r"/follow-ups$"))
    follow_up = r1.locator("#follow-up-table .follow-up-row", has_text=patent1)
    expect(follow_up).to_have_count(1)
    expect(follow_up).to_contain_text(steps.t("Want to license"))
    expect(follow_up).to_contain_text(names["r1"])
    expect(follow_up).to_have_attribute("data-status", "open")
    expect(follow_up.locator("td").nth(3)).to_have_text(names["p1"])  # owned by the item's presenter

    # --- a technology manager turns it into an introduction (no page links a broker here: by address) ----
    broker = new_page()
    steps.log_in(broker, email["broker"])
    broker.goto(f"{event_url}/follow-ups")
    row = broker.locator("#follow-up-table .follow-up-row", has_text=patent1)
    expect(row).to_have_count(1)
    row.locator("select[name=need_id]").select_option(str(need_id))
    row.get_by_role("button", name=steps.t("Propose an introduction")).click()
    expect(steps.flash(broker)).to_contain_text(
        steps.t("Introduction proposed: both sides are asked to accept or decline."))
    row = broker.locator("#follow-up-table .follow-up-row", has_text=patent1)
    expect(row).to_have_attribute("data-status", "introduced")
    row.get_by_role("link", name=re.compile(rf"{re.escape(steps.t('Introduction'))} \d+")).click()
    expect(broker).to_have_url(re.compile(r"/brokering/\d+$"))
    intro_url = re.search(r"/brokering/\d+$", broker.url).group()
    intro_id = int(intro_url.rsplit("/", 1)[1])
    expect(broker.locator(f'.intro-parties a[href="/needs/{need_id}"]')).to_have_text(need_title)
    expect(broker.locator(f'.intro-parties a[href="/offers/{patent1_id}"]')).to_have_text(patent1)

    # Both sides accept on their introductions page: the hospital (need) and the patent's university (offer).
    for who, side in (("r1", "need"), ("p1", "offer")):
        pg = pages[who]
        open_workspace(pg)
        pg.locator("#nav-introductions").click()
        forms = pg.locator(f'.intro-item[data-intro="{intro_id}"] .respond-forms[data-side="{side}"]')
        forms.get_by_role("button", name=steps.t("Accept introduction")).click()
        expect(steps.flash(pg)).to_contain_text(steps.t("Thank you: your answer was sent."))

    # The broker moves it through the pipeline to signed.
    broker.reload()
    expect(broker.locator("h1 .stage-badge")).to_have_attribute("data-stage", "accepted")
    for stage in PIPELINE:
        broker.locator(".move-form select[name=to_stage]").select_option(stage)
        broker.locator(".move-form button").click()
        expect(steps.flash(broker)).to_contain_text(steps.t("Stage changed."))
        expect(broker.locator("h1 .stage-badge")).to_have_attribute("data-stage", stage)

    # --- the event report and the series page count the deal ---------------------------------------------
    organiser.goto(event_url)
    organiser.get_by_role("link", name=steps.t("Report"), exact=True).click()
    expect(organiser).to_have_url(re.compile(r"/report$"))
    for key, value in (("items", 2), ("registered", 2), ("meetings_scheduled", 4), ("introductions", 1),
                       ("in_negotiation", 0), ("signed", 1)):
        expect(organiser.locator(f"#fig-{key}")).to_have_text(str(value))
    expect(organiser.locator('#interests-by-kind [data-kind="license"]')).to_have_text("1")
    expect(organiser.locator('#follow-ups-by-status [data-status="introduced"]')).to_have_text("1")

    visitor = new_page()  # the series page is public
    visitor.goto("/events/")
    visitor.locator("#series-list a", has_text=series_name).click()
    expect(visitor).to_have_url(re.compile(rf"{series_url}$"))
    expect(visitor.locator("#series-summary")).to_have_text("1场活动，2个项目，0项洽谈中，1项已签约")
    expect(visitor.locator("#main")).to_contain_text(steps.t("Patents shown: %(n)d", n=2))
    expect(visitor.locator("#main")).to_contain_text(steps.t("Introductions: %(n)d", n=1))
    expect(visitor.locator("#series-events")).to_contain_text(event_title)
