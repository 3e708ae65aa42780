"""Counters changed by simultaneous requests count every change (``ics_sequence`` tells calendar programs
that an event changed; a lost increment leaves them showing the old event)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from marketplace.extensions import db
from marketplace.models import Event
from tests.concurrency.conftest import fire, statuses

CHANGES = 10
SHANGHAI = timezone(timedelta(hours=8))


def _organiser_event(app, make) -> tuple[int, str, datetime]:
    organiser, email = make.staff("organiser")
    start = (datetime.now(timezone.utc) + timedelta(days=5)).replace(minute=0, second=0, microsecond=0)
    with app.app_context():
        event = Event(kind="roadshow", status="published", title_zh="路演", title_en="Roadshow", starts_at=start,
                      ends_at=start + timedelta(hours=4), capacity=50, organiser_id=organiser,
                      published_at=start - timedelta(days=9), ics_sequence=0)
        db.session.add(event)
        db.session.commit()
        return event.id, email, start


def _sequence(app, event_id: int) -> int:
    with app.app_context():
        return db.session.get(Event, event_id).ics_sequence


def _local(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M")


def test_agenda_items_added_at_once_each_bump_the_calendar_sequence(app, make, live):
    event_id, email, start = _organiser_event(app, make)
    client = live.client().login(email)

    def add(n: int):
        return client.post(f"/events/{event_id}/agenda", data={
            "project_title_zh": f"项目{n}", "starts_at": _local(start + timedelta(minutes=10 * n)),
            "ends_at": _local(start + timedelta(minutes=10 * n + 10)), "meeting_capacity": "0"})

    responses = fire(lambda n=n: add(n) for n in range(CHANGES))
    assert statuses(responses) == [302] * CHANGES
    assert _sequence(app, event_id) == CHANGES  # lost increments = 0


def test_event_edits_at_once_each_bump_the_calendar_sequence(app, make, live):
    event_id, email, start = _organiser_event(app, make)
    client = live.client().login(email)

    def edit(n: int):
        return client.post(f"/events/{event_id}/edit", data={
            "kind": "roadshow", "title_zh": f"路演（第{n}版）", "title_en": "Roadshow", "timezone": "Asia/Shanghai",
            "starts_at": _local(start), "ends_at": _local(start + timedelta(hours=4)), "capacity": "50",
            "meeting_slots": "0", "meeting_minutes": "15", "meeting_tables": "4"})

    responses = fire(lambda n=n: edit(n) for n in range(CHANGES))
    assert statuses(responses) == [302] * CHANGES
    assert _sequence(app, event_id) == CHANGES
