"""The event report: participation, meetings requested / accepted / held / missed, ratings after the event
(open once it ended, one per person, sent twice keeps one), outcomes months later, the Excel export and the
job that asks participants to rate the event."""
from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

from openpyxl import load_workbook
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import (AgendaItem, Event, EventFeedback, EventOutcome, MeetingRequest, Notification, Organization,
                                Registration)
from marketplace.tasks import event_feedback as feedback_tasks
from tests.conftest import login


def _as(app, email):
    client = app.test_client()
    assert login(client, email).status_code == 302
    client.get("/lang/en")
    return client


def _world(app, make, *, ended: bool = True, status: str = "published"):
    """An event (ended or coming) with an organiser, two participants, one waiting and a stranger."""
    organiser, organiser_email = make.staff("organiser")
    lab, lab_user, lab_email = make.member("university")
    hospital, hospital_user, hospital_email = make.member("hospital")
    _, waiting_user, waiting_email = make.member("firm")
    _, stranger_user, stranger_email = make.member("firm")
    start = datetime.now(timezone.utc) + (timedelta(days=-2) if ended else timedelta(days=2))
    with app.app_context():
        event = Event(kind="spark", status=status, title_zh="火花活动", title_en="Spark session",
                      starts_at=start, ends_at=start + timedelta(hours=3), organiser_id=organiser,
                      meetings_start_at=start + timedelta(hours=2), meeting_slots=4, meeting_tables=2)
        db.session.add(event)
        db.session.flush()
        for user_id, reg_status in ((lab_user, "confirmed"), (hospital_user, "confirmed"),
                                    (waiting_user, "waitlisted")):
            db.session.add(Registration(event_id=event.id, user_id=user_id, status=reg_status))
        items = [AgendaItem(event_id=event.id, project_title_zh=f"项目{i}", presenter_id=lab_user,
                            starts_at=start, ends_at=start + timedelta(minutes=20)) for i in (1, 2)]
        db.session.add_all(items)
        db.session.flush()
        meetings = [MeetingRequest(event_id=event.id, agenda_item_id=item.id, requester_id=requester,
                                   presenter_id=lab_user, reason="r", status=s, slot=slot)
                    for item, requester, s, slot in ((items[0], hospital_user, "accepted", 0),
                                                     (items[0], waiting_user, "accepted", None),
                                                     (items[0], stranger_user, "declined", None),
                                                     (items[1], hospital_user, "pending", None))]
        db.session.add_all(meetings)
        db.session.commit()
        event_id = event.id
    return SimpleNamespace(
        event=event_id, lab=lab, hospital=hospital, lab_user=lab_user, hospital_user=hospital_user,
c_org=_as(app, organiser_email), c_lab=_as(app, lab_email),
        c_hospital=_as(app, hospital_email), c_waiting=_as(app, waiting_email), c_stranger=_as(app, stranger_email))


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_only_the_organiser_and_operators_open_the_report(app, make):
    w = _world(app, make)
    assert w.c_org.get(f"/events/{w.event}/report").status_code == 200
    assert w.c_stranger.get(f"/events/{w.event}/report").status_code == 403
    assert w.c_lab.get(f"/events/{w.event}/report.xlsx").status_code == 403
    assert app.test_client().get(f"/events/{w.event}/report").status_code == 302
    assert w.c_org.get("/events/999999/report").status_code == 404
    _, operator_email = make.staff("operator")
    assert _as(app, operator_email).get(f"/events/{w.event}/report").status_code == 200
    # the report page of this blueprint answers the address the event page links to
    with app.test_request_context():
        adapter = app.url_map.bind("localhost")
        assert adapter.match(f"/events/{w.event}/report")[0] == "event_reports.report"


def test_report_counts_registrations_attendance_and_meetings(app, make):
    w = _world(app, make)
    checks_in = hasattr(Registration, "checked_in_at")
    if checks_in:
        with app.app_context():
            reg = db.session.scalar(select(Registration).where(Registration.user_id == w.hospital_user))
            reg.checked_in_at = datetime.now(timezone.utc)
            held = db.session.scalar(select(MeetingRequest).where(MeetingRequest.slot == 0))
            held.requester_checked_in_at = held.presenter_checked_in_at = datetime.now(timezone.utc)
            db.session.commit()
    html = w.c_org.get(f"/events/{w.event}/report").get_data(as_text=True)
    assert 'id="fig-registered">2<' in html
    assert (f'id="fig-attended">{1 if checks_in else "—"}<') in html
    assert 'id="fig-meetings_requested">4<' in html and 'id="fig-meetings_accepted">2<' in html
    assert 'id="fig-meetings_scheduled">1<' in html and 'id="fig-meetings_held">1<' in html


def test_feedback_opens_after_the_end_for_participants_only_and_stays_one_per_person(app, make):
    coming = _world(app, make, ended=False)
    r = coming.c_lab.post(f"/events/{coming.event}/feedback", data={"rating": "4"})
    assert r.status_code == 400 and "once it has ended" in r.get_data(as_text=True)
    assert _count(app, EventFeedback) == 0

    w = _world(app, make)
    assert w.c_stranger.post(f"/events/{w.event}/feedback", data={"rating": "5"}).status_code == 403
    assert w.c_waiting.post(f"/events/{w.event}/feedback", data={"rating": "5"}).status_code == 403
    assert "feedback-form" in w.c_lab.get(f"/events/{w.event}/feedback").get_data(as_text=True)
    # a refused save keeps the input and changes nothing
    r = w.c_lab.post(f"/events/{w.event}/feedback", data={"rating": "9", "comment": "great tables"})
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and "Choose a rating from 1 to 5." in html and "great tables" in html
    assert _count(app, EventFeedback) == 0
    assert w.c_lab.post(f"/events/{w.event}/feedback", data={"rating": "4", "comment": "useful"}).status_code == 302
    assert w.c_lab.post(f"/events/{w.event}/feedback", data={"rating": "5", "comment": "very useful"}).status_code == 302
    assert w.c_hospital.post(f"/events/{w.event}/feedback", data={"rating": "2"}).status_code == 302
    with app.app_context():
        rows = list(db.session.scalars(select(EventFeedback).order_by(EventFeedback.user_id)))
        assert sorted((f.user_id, f.rating) for f in rows) == sorted([(w.lab_user, 5), (w.hospital_user, 2)])
    html = w.c_org.get(f"/events/{w.event}/report").get_data(as_text=True)
    assert 'id="rating-average">3.5<' in html and 'data-rating="5">1<' in html and "very useful" in html
    assert "You rated this event already" in w.c_lab.get(f"/events/{w.event}/feedback").get_data(as_text=True)


def test_outcomes_are_recorded_validated_listed_and_removed(app, make):
    w = _world(app, make)
    url = f"/events/{w.event}/outcomes"
    assert w.c_lab.post(url, data={"kind": "deal"}).status_code == 403
    r = w.c_org.post(url, data={"kind": "investment", "amount_rmb": "-5", "note": "first round"})
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and "Must not be negative." in html and "first round" in html
    r = w.c_org.post(url, data={"kind": "loan", "organization_id": "abc", "happened_on": "2026-02-30"})
    assert r.status_code == 400
    assert _count(app, EventOutcome) == 0
    r = w.c_org.post(url, data={"kind": "investment", "organization_id": str(w.lab), "amount_rmb": "5,000,000",
                                "happened_on": "2026-06-01", "note": "Angel round after the event"})
    assert r.status_code == 302
    w.c_org.post(url, data={"kind": "introduction", "organization_id": str(w.hospital)})
    html = w.c_org.get(f"/events/{w.event}/report").get_data(as_text=True)
    assert 'id="fig-outcomes">2<' in html and "5,000,000.00" in html and "Angel round after the event" in html
    with app.app_context():
        outcome = db.session.scalar(select(EventOutcome).where(EventOutcome.kind == "introduction"))
        outcome_id = outcome.id
        assert db.session.get(Organization, outcome.organization_id).id == w.hospital
    assert w.c_stranger.post(f"/events/{w.event}/outcomes/{outcome_id}/delete").status_code == 403
    assert w.c_org.post(f"/events/{w.event}/outcomes/999999/delete").status_code == 404
    assert w.c_org.post(f"/events/{w.event}/outcomes/{outcome_id}/delete").status_code == 302
    assert _count(app, EventOutcome) == 1


def test_the_excel_export_has_figures_participants_outcomes_and_unsigned_ratings(app, make):
    w = _world(app, make)
    w.c_hospital.post(f"/events/{w.event}/feedback", data={"rating": "4", "comment": "=HYPERLINK(1)"})
    w.c_org.post(f"/events/{w.event}/outcomes", data={"kind": "deal", "organization_id": str(w.lab),
                                                     "amount_rmb": "1200000", "note": "licence signed"})
    r = w.c_org.get(f"/events/{w.event}/report.xlsx")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(r.data))
    assert book.sheetnames == ["figures", "participants", "outcomes", "ratings"]
    figures = {row[0]: row[1] for row in book["figures"].iter_rows(min_row=2, values_only=True)}
    assert figures["Registered"] == 2 and figures["Ratings"] == 1 and figures["Average rating"] == 4
    assert len(list(book["participants"].iter_rows(min_row=2))) == 2
    outcome = next(book["outcomes"].iter_rows(min_row=2, values_only=True))
    assert outcome[2] == "Deal signed" and float(outcome[3]) == 1200000 and outcome[4] == "licence signed"
    rating = next(book["ratings"].iter_rows(min_row=2, values_only=True))
    assert rating[0] == 4 and rating[1] == "'=HYPERLINK(1)"  # a formula is neutralised
    assert [c.value for c in book["ratings"][1]] == ["评分 / Rating", "意见 / Comment", "日期 / Date"]


def test_the_job_asks_participants_of_ended_events_to_rate_once(app, make):
    w = _world(app, make)
    now = datetime.now(timezone.utc)
    with app.app_context():  # the same people at an event still to come and at a cancelled one
        for start, status in ((now + timedelta(days=1), "published"), (now - timedelta(days=1), "cancelled")):
            other = Event(kind="spark", status=status, title_zh="另一场", title_en="Another one", starts_at=start,
                          ends_at=start + timedelta(hours=1))
            db.session.add(other)
            db.session.flush()
            db.session.add_all([Registration(event_id=other.id, user_id=u, status="confirmed")
                                for u in (w.lab_user, w.hospital_user)])
        db.session.commit()
    w.c_lab.post(f"/events/{w.event}/feedback", data={"rating": "5"})
    with app.app_context():
        assert feedback_tasks.request_feedback()["asked"] == 1
    with app.app_context():
        assert feedback_tasks.request_feedback()["asked"] == 0  # told once
    with app.app_context():
        told = list(db.session.scalars(select(Notification).where(Notification.message_key
                                                                   == "event_feedback_request")))
        assert [(n.user_id, n.link) for n in told] == [(w.hospital_user, f"/events/{w.event}/feedback")]
    html = w.c_hospital.get("/notifications/").get_data(as_text=True)
    assert "How was" in html and "Spark session" in html
