"""A crowd registering for a small event at the same instant, through several gunicorn workers."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import Event, Registration
from tests.concurrency.conftest import fire, statuses

CROWD = 30
PLACES = 10


def _event(app, capacity: int) -> int:
    start = datetime.now(timezone.utc) + timedelta(days=5)
    with app.app_context():
        event = Event(kind="spark", status="published", title_zh="火花活动", title_en="Spark", starts_at=start,
                      ends_at=start + timedelta(hours=2), capacity=capacity, published_at=start - timedelta(days=9))
        db.session.add(event)
        db.session.commit()
        return event.id


def _count(app, event_id: int, status: str) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Registration.id)).where(
            Registration.event_id == event_id, Registration.status == status))


def test_simultaneous_registrations_never_overbook(app, make, live):
    event_id = _event(app, PLACES)
    clients = [live.client().login(make.member()[2]) for _ in range(CROWD)]
    responses = fire(lambda c=c: c.post(f"/events/{event_id}/register") for c in clients)
    assert set(statuses(responses)) <= {302, 303}, statuses(responses)
    assert _count(app, event_id, "confirmed") == PLACES
    assert _count(app, event_id, "waitlisted") == CROWD - PLACES


def test_one_person_registering_twice_at_once_holds_one_place(app, make, live):
    event_id = _event(app, PLACES)
    client = live.client().login(make.member()[2])
    responses = fire(lambda: client.post(f"/events/{event_id}/register") for _ in range(6))
    assert set(statuses(responses)) <= {302, 303}, statuses(responses)
    assert _count(app, event_id, "confirmed") == 1
    with app.app_context():
        assert db.session.scalar(select(func.count(Registration.id)).where(Registration.event_id == event_id)) == 1
