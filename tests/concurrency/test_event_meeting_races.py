"""1:1 meetings between participants under simultaneous answers: two accepts for the same slot and person, and
two accepts for the last table of a slot, each leave exactly one meeting there."""
from __future__ import annotations

from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import Event, MeetingRequest
from tests.concurrency.conftest import fire, statuses
from tests.concurrency.test_event_capacity_races import _event


def _participants(live, make, event_id: int, n: int) -> list[tuple[int, object]]:
    people = []
    for _ in range(n):
        _org, user_id, email = make.member()
        client = live.client().login(email)
        assert client.post(f"/events/{event_id}/register").status_code == 302
        people.append((user_id, client))
    return people


def _ask(event_id: int, asker, other_id: int) -> None:
    assert asker.post(f"/events/{event_id}/participants/{other_id}/meetings",
                      data={"reason": "想谈合作"}).status_code == 302


def _accepted_in_slot(app, event_id: int, slot: int) -> list[MeetingRequest]:
    with app.app_context():
        return list(db.session.scalars(select(MeetingRequest).where(
            MeetingRequest.event_id == event_id, MeetingRequest.status == "accepted", MeetingRequest.slot == slot)))


def test_two_accepts_of_the_same_person_for_one_slot_at_once_book_it_once(app, make, live):
    organiser, _ = make.staff("organiser")
    event_id, _start = _event(app, organiser, 50, meeting_slots=3)
    (asked_id, asked), *askers = _participants(live, make, event_id, 4)
    for _user_id, client in askers:
        _ask(event_id, client, asked_id)
    with app.app_context():
        meeting_ids = list(db.session.scalars(select(MeetingRequest.id).where(MeetingRequest.event_id == event_id)))
    responses = fire(lambda m=m: asked.post(f"/events/{event_id}/meetings/{m}/answer",
                                            data={"decision": "accepted", "slot": "0"}) for m in meeting_ids)
    assert statuses(responses) == [302] * len(meeting_ids)
    assert len(_accepted_in_slot(app, event_id, 0)) == 1  # the person is in one place at a time
    with app.app_context():
        pending = db.session.scalars(select(MeetingRequest.status).where(MeetingRequest.event_id == event_id)).all()
    assert sorted(pending) == ["accepted", "pending", "pending"]


def test_two_accepts_for_the_last_table_of_a_slot_at_once_seat_one(app, make, live):
    organiser, _ = make.staff("organiser")
    event_id, _start = _event(app, organiser, 50, meeting_slots=2)
    with app.app_context():
        db.session.get(Event, event_id).meeting_tables = 1
        db.session.commit()
    people = _participants(live, make, event_id, 6)
    pairs = [(people[i], people[i + 1]) for i in range(0, 6, 2)]
    for (asker_id, asker), (asked_id, _asked) in pairs:
        _ask(event_id, asker, asked_id)
    with app.app_context():
        by_asked = {m.presenter_id: m.id for m in db.session.scalars(
            select(MeetingRequest).where(MeetingRequest.event_id == event_id))}
    calls = [lambda c=asked, m=by_asked[asked_id]: c.post(f"/events/{event_id}/meetings/{m}/answer",
                                                         data={"decision": "accepted", "slot": "1"})
             for _pair, (asked_id, asked) in pairs]
    responses = fire(calls)
    assert statuses(responses) == [302] * len(calls)
    [seated] = _accepted_in_slot(app, event_id, 1)
    assert seated.table_number == 1
