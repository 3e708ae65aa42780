"""Meetings between any two participants in headless Chromium (issue 18), at desktop and phone width.

Two participants say when they are free; one asks the other for a meeting from the participant list, the
other accepts at their common free slot from My agenda; both see it in My agenda and in the .ics; a third
participant asking for the occupied slot is refused with a clear message; on the day both check in, and
after the meeting an interest in the other side's offer becomes their follow-up.
"""
from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta

import pytest

CHROMIUM = "/usr/bin/chromium"
if os.environ.get("CI") != "true":
    if not os.path.isfile(CHROMIUM):
        pytest.skip(f"browser tests skipped: {CHROMIUM} is not installed", allow_module_level=True)
    pytest.importorskip("playwright.sync_api", reason="browser tests need the playwright package")

from page_audit import audit
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}


def _event(live_server, organiser_email: str, title: str) -> int:
    """A published Spark event in three days with three 15-minute meeting slots after its talks."""
    from marketplace.extensions import db
    from marketplace.models import Event, User
    start = (datetime.now(UTC) + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    with live_server.app.app_context():
        organiser = db.session.query(User).filter_by(email=organiser_email).one()
        event = Event(kind="spark", status="published", title_zh=title, title_en=title, starts_at=start,
                      ends_at=start + timedelta(hours=3), organiser_id=organiser.id, audience=[],
                      published_at=datetime.now(UTC), meetings_start_at=start + timedelta(hours=1),
                      meeting_slots=3, meeting_minutes=15, meeting_tables=2,
                      meeting_url="https://meet.example.com/spark")
        db.session.add(event)
        db.session.commit()
        return event.id


def _move_meetings_to(live_server, event_id: int, first_slot_start: datetime) -> None:
    """The clock stands still; the event moves: its meeting slots start at ``first_slot_start``."""
    from sqlalchemy import update

    from marketplace.extensions import db
    from marketplace.models import Event
    with live_server.app.app_context():
        db.session.execute(update(Event).where(Event.id == event_id).values(
            starts_at=first_slot_start - timedelta(hours=1), ends_at=first_slot_start + timedelta(hours=2),
            meetings_start_at=first_slot_start))
        db.session.commit()


def _free_times(page: Page, steps, event_url: str, free: set[int]) -> None:
    page.goto(f"{event_url}/availability")
    boxes = page.locator("#availability-form .slot-box")
    expect(boxes).to_have_count(3)
    for n in range(3):
        (boxes.nth(n).check if n in free else boxes.nth(n).uncheck)()
    page.locator("#save-availability").click()
    expect(steps.flash(page)).to_contain_text(steps.t("Your free times are saved."))


@pytest.mark.parametrize("width", list(WIDTHS))
def test_participants_book_a_common_free_slot_and_follow_up_after_the_meeting(new_page, live_server, steps, width):
    word = live_server.unique("mt")
    firm_org, lab_org, vc_org = live_server.org("firm"), live_server.org("university"), live_server.org("vc")
    tag = word[-5:]  # short names: a long one widens the navigation's account menu
    names = {"firm": f"王{tag}", "lab": f"李{tag}", "vc": f"赵{tag}"}
    email = {"organiser": live_server.user(roles=("organiser",)),
             "firm": live_server.user(org_id=firm_org, display_name=names["firm"]),
             "lab": live_server.user(org_id=lab_org, display_name=names["lab"]),
             "vc": live_server.user(org_id=vc_org, display_name=names["vc"])}
    offer_title = f"快速核酸检测芯片 {word}"
    offer_id = live_server.offer(lab_org, offer_title, f"Rapid nucleic acid chip {word}", kind="technology")
    title = f"火花对接会 {word}"
    event_id = _event(live_server, email["organiser"], title)
    event_url = f"/events/{event_id}"

    pages = {}
    for who in ("firm", "lab", "vc"):
        pg = pages[who] = new_page()
        pg.set_viewport_size(dict(zip(("width", "height"), WIDTHS[width])))
        steps.log_in(pg, email[who])
        pg.goto(event_url)
        pg.locator("#register-btn").click()
        expect(steps.flash(pg)).to_contain_text(steps.t("You are registered. Add the event to your calendar below."))
    firm, lab, vc = pages["firm"], pages["lab"], pages["vc"]

    # --- two participants say when they are free: slot 1 is the only common one -------------------------
    _free_times(firm, steps, event_url, {0, 1})
    _free_times(lab, steps, event_url, {1, 2})

    # --- the firm finds the lab in the participant list and asks, leaving the time to them ---------------
    firm.goto(event_url)
    firm.locator("#participants-link").click()
    expect(firm).to_have_url(re.compile(r"/participants$"))
    firm.locator("#participant-filters input[name=q]").fill(names["lab"])
    firm.locator("#participant-filters button").click()
    card = firm.locator(".participant-card", has_text=names["lab"])
    expect(card).to_have_count(1)
    card.get_by_role("link", name=names["lab"]).click()
    firm.locator("#f-reason").fill("想了解芯片的量产与授权条件")
    firm.locator("#send-request").click()
    expect(steps.flash(firm)).to_contain_text(steps.t("Meeting requested; you will hear when they answer."))

    # --- the lab accepts at the common free slot, from My agenda --------------------------------------------
    lab.goto(event_url)
    lab.locator("#my-agenda-link").click()
    request = lab.locator("#incoming-requests .incoming-request", has_text=names["firm"])
    expect(request).to_have_count(1)
    times = request.locator("select[name=slot] option")
    expect(times).to_have_count(2)  # the one common slot, or the organiser's timetable
    slot_text = times.first.inner_text().strip()
    request.get_by_role("button", name=steps.t("Accept"), exact=True).click()
    expect(steps.flash(lab)).to_contain_text(steps.t("Your answer was recorded."))

    # --- both see it in My agenda (with the video room) and in their calendar file ------------------------
    for who, other in (("lab", "firm"), ("firm", "lab")):
        pg = pages[who]
        pg.goto(f"{event_url}/my-agenda")
        meeting = pg.locator("#agenda-entries .agenda-meeting")
        expect(meeting).to_have_count(1)
        expect(meeting).to_contain_text(names[other])
        expect(meeting.locator(".meeting-time")).to_contain_text(slot_text)
        expect(meeting.locator(".video-link")).to_have_attribute("href", re.compile(r"^https://meet\.example\.com/spark/"))
        ics = pg.request.get(f"{live_server.url}{event_url}.ics").text()
        assert ics.count("UID:meeting-") == 1 and names[other] in ics

    # --- a third participant asking the lab for the occupied slot is refused --------------------------------
    vc.goto(f"{event_url}/participants")
    vc.locator(".participant-card", has_text=names["lab"]).get_by_role("link", name=names["lab"]).click()
    vc.locator("#f-reason").fill("想洽谈投资")
    option = vc.locator("#f-slot option", has_text=slot_text)
    vc.locator("#f-slot").select_option(option.get_attribute("value"))
    vc.locator("#send-request").click()
    expect(steps.flash(vc, "danger")).to_contain_text(steps.t(
        "That time is already taken by another meeting or a talk. Choose another one."))

    # --- on the day: both check in; after the meeting the firm marks an interest in the lab's offer ----------
    now = datetime.now(UTC)
    _move_meetings_to(live_server, event_id, now - timedelta(minutes=20))  # slot 1 runs from 5 minutes ago
    for pg in (firm, lab):
        pg.goto(f"{event_url}/my-agenda")
        pg.locator("#agenda-entries .agenda-meeting .meeting-check-in button").click()
        expect(steps.flash(pg)).to_contain_text(steps.t("You are checked in."))
        expect(pg.locator("#agenda-entries .agenda-meeting")).to_contain_text(steps.t("Checked in"))
    _move_meetings_to(live_server, event_id, now - timedelta(minutes=40))  # the meeting is over
    firm.goto(f"{event_url}/my-agenda")
    meeting = firm.locator("#agenda-entries .agenda-meeting")
    meeting.locator("summary").click()
    meeting.locator("textarea[name=body]").fill("对方可提供样品")
    meeting.get_by_role("button", name=steps.t("Save note")).click()
    expect(steps.flash(firm)).to_contain_text(steps.t("Note saved; only you can read it."))
    meeting = firm.locator("#agenda-entries .agenda-meeting")
    meeting.locator("summary").click()
    meeting.locator("select[name=offer_id]").select_option(str(offer_id))
    meeting.locator('.meeting-interest-form button[value="license"]').click()
    expect(steps.flash(firm)).to_contain_text(
        steps.t("Interest recorded; the other side or a technology manager will follow up."))

    lab.goto(f"{event_url}/follow-ups")
    row = lab.locator("#follow-up-table .follow-up-row", has_text=offer_title)
    expect(row).to_have_count(1)
    expect(row).to_contain_text(steps.t("Want to license"))
    expect(row).to_contain_text(names["firm"])
    expect(row).to_have_attribute("data-status", "open")
    # the note stays the firm's own
    lab.goto(f"{event_url}/my-agenda")
    expect(lab.locator("#agenda-entries")).not_to_contain_text("对方可提供样品")
    # every page of the journey reads cleanly at this width: no sideways scrolling, no internal codes
    lab_id = re.search(r"/participants/(\d+)", vc.url).group(1)
    for lang in ("zh", "en"):
        firm.goto(f"/lang/{lang}")
        for path in ("", "/participants", f"/participants/{lab_id}", "/profile", "/availability", "/my-agenda",
                     "/meetings"):
            firm.goto(f"{event_url}{path}")
            assert audit(firm, lang) == [], f"{event_url}{path} ({lang}): {audit(firm, lang)}"
