"""Event rules other than registration under simultaneous requests: the waiting list on simultaneous
cancellations and on a capacity raise, a presenter answering a meeting request twice, the scheduler run twice."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import AgendaItem, Event, MeetingRequest, Registration
from tests.concurrency.conftest import fire, statuses
from tests.concurrency.test_sql_counters import _local

PLACES = 5


def _event(app, organiser: int, capacity: int, meeting_slots: int = 0) -> tuple[int, datetime]:
    start = (datetime.now(timezone.utc) + timedelta(days=5)).replace(minute=0, second=0, microsecond=0)
    with app.app_context():
        event = Event(kind="spark", status="published", title_zh="火花活动", title_en="Spark", starts_at=start,
                      ends_at=start + timedelta(hours=2), capacity=capacity, organiser_id=organiser,
                      published_at=start - timedelta(days=9), meeting_slots=meeting_slots, meeting_tables=2)
        db.session.add(event)
        db.session.commit()
        return event.id, start


def _count(app, event_id: int, status: str) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Registration.id)).where(
            Registration.event_id == event_id, Registration.status == status))


def _crowd(live, make, event_id: int, size: int) -> list:
    clients = [live.client().login(make.member()[2]) for _ in range(size)]
    for client in clients:  # one after the other: the first PLACES are confirmed, the rest wait in order
        assert client.post(f"/events/{event_id}/register").status_code == 302
    return clients


def test_simultaneous_cancellations_promote_exactly_the_freed_places(app, make, live):
    organiser, _ = make.staff("organiser")
    event_id, _start = _event(app, organiser, PLACES)
    clients = _crowd(live, make, event_id, PLACES + 4)
    leaving = clients[:3]
    responses = fire(lambda c=c: c.post(f"/events/{event_id}/unregister") for c in leaving)
    assert statuses(responses) == [302] * len(leaving)
    assert _count(app, event_id, "confirmed") == PLACES  # over-bookings = 0, places left empty = 0
    assert _count(app, event_id, "waitlisted") == 1
    assert _count(app, event_id, "cancelled") == 3


def test_capacity_raised_while_people_register_fills_exactly_the_new_places(app, make, live):
    organiser, organiser_email = make.staff("organiser")
    event_id, start = _event(app, organiser, PLACES)
    _crowd(live, make, event_id, PLACES + 2)  # two on the waiting list
    newcomers = [live.client().login(make.member()[2]) for _ in range(6)]
    organiser_client = live.client().login(organiser_email)
    raise_to = PLACES + 5

    def raise_capacity():
        return organiser_client.post(f"/events/{event_id}/edit", data={
            "kind": "spark", "title_zh": "火花活动", "title_en": "Spark", "timezone": "Asia/Shanghai",
            "starts_at": _local(start), "ends_at": _local(start + timedelta(hours=2)), "capacity": str(raise_to),
            "meeting_slots": "0", "meeting_minutes": "15", "meeting_tables": "2"})

    calls = [raise_capacity] + [lambda c=c: c.post(f"/events/{event_id}/register") for c in newcomers]
    responses = fire(calls)
    assert set(statuses(responses)) == {302}, statuses(responses)
    assert _count(app, event_id, "confirmed") == raise_to
    assert _count(app, event_id, "waitlisted") == PLACES + 2 + len(newcomers) - raise_to


def _meeting_world(app, make, live):
    organiser, organiser_email = make.staff("organiser")
    event_id, start = _event(app, organiser, 50, meeting_slots=3)
    _lab, presenter, presenter_email = make.member("university")
    asker_email = make.member("hospital")[2]
    asker = live.client().login(asker_email)
    assert asker.post(f"/events/{event_id}/register").status_code == 302
    with app.app_context():
        item = AgendaItem(event_id=event_id, presenter_id=presenter, project_title_zh="项目", starts_at=start,
                          ends_at=start + timedelta(minutes=20), meeting_capacity=1)
        db.session.add(item)
        db.session.commit()
        item_id = item.id
    assert asker.post(f"/events/{event_id}/items/{item_id}/meetings",
                      data={"reason": "想谈许可", "priority": "2"}).status_code == 302
    with app.app_context():
        meeting_id = db.session.scalar(select(MeetingRequest.id).where(MeetingRequest.agenda_item_id == item_id))
    return event_id, meeting_id, live.client().login(presenter_email), live.client().login(organiser_email)


def test_accept_and_decline_of_one_meeting_request_at_once_record_one_answer(app, make, live):
    event_id, meeting_id, presenter, _organiser = _meeting_world(app, make, live)
    decisions = ["accepted", "declined"] * 4
    responses = fire(lambda d=d: presenter.post(f"/events/{event_id}/meetings/{meeting_id}/answer",
                                                data={"decision": d}) for d in decisions)
    assert statuses(responses) == [302] * len(decisions)
    with app.app_context():
        meeting = db.session.get(MeetingRequest, meeting_id)
        assert meeting.status in ("accepted", "declined")


def test_scheduler_run_twice_at_once_places_each_meeting_once(app, make, live):
    event_id, meeting_id, presenter, organiser = _meeting_world(app, make, live)
    assert presenter.post(f"/events/{event_id}/meetings/{meeting_id}/answer",
                          data={"decision": "accepted"}).status_code == 302
    with app.app_context():
        before = db.session.get(Event, event_id).ics_sequence or 0
    responses = fire(lambda: organiser.post(f"/events/{event_id}/meetings/schedule") for _ in range(4))
    assert statuses(responses) == [302] * 4
    with app.app_context():
        meeting = db.session.get(MeetingRequest, meeting_id)
        assert meeting.slot is not None and meeting.table_number is not None
        assert db.session.get(Event, event_id).ics_sequence == before + 4
