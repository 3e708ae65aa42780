"""Events like b2match (issue 18, part A): participant profiles and list, availability, meetings between any
two participants with a time both are free, lapsing requests, My agenda and the .ics, check-in, no-shows, notes,
interests after a meeting that become follow-ups, presenters from the item's organisation."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from marketplace.extensions import db
from marketplace.models import Event, EventInterest, MeetingRequest, Notification, User
from marketplace.models.events import AgendaItem, MeetingNote, Participant
from marketplace.services import events as svc
from marketplace.services import notifications
from marketplace.tasks import events as event_tasks
from tests.marketplace.test_events import _add_item, _as, _create_event, _items, _local, _published


def _meetings(app, **where):
    with app.app_context():
        query = select(MeetingRequest).order_by(MeetingRequest.id)
        for key, value in where.items():
            query = query.where(getattr(MeetingRequest, key) == value)
        return list(db.session.scalars(query))


def _keys(app, user_id):
    with app.app_context():
        return [n.message_key for n in db.session.scalars(select(Notification).where(Notification.user_id == user_id))]


def _register(w, event_id, *clients):
    for client in clients:
        assert client.post(f"/events/{event_id}/register").status_code == 302


def _flash(response) -> str:
    return response.get_data(as_text=True)


def test_profile_is_prefilled_and_the_participant_list_filters_for_participants_only(app, make):
    w, event_id, _ = _published(app, make)
    r = w.c_hospital.get(f"/events/{event_id}/participants")
    assert r.status_code == 403  # not registered yet
    _register(w, event_id, w.c_hospital, w.c_vc)
    form = w.c_hospital.get(f"/events/{event_id}/profile").get_data(as_text=True)
    assert "采购快速检测试剂" in form  # the open need pre-fills "what you look for"
    r = w.c_hospital.post(f"/events/{event_id}/profile", data={
        "headline": "Respiratory department", "looks_for_text": "rapid test kits", "kind": "hospital",
        "looking_for": ["licence", "trial"], "meetings_opt_in": "1"})
    assert r.status_code == 302
    r = w.c_hospital.post(f"/events/{event_id}/profile", data={"headline": "", "looking_for": ["nonsense"]})
    assert r.status_code == 400  # refused, nothing changed
    with app.app_context():
        assert db.session.scalar(select(Participant.headline)) == "Respiratory department"
    page = w.c_vc.get(f"/events/{event_id}/participants?looking_for=licence").get_data(as_text=True)
    assert page.count('class="card h-100 participant-card"') == 1 and "Respiratory department" in page
    page = w.c_vc.get(f"/events/{event_id}/participants?kind=vc").get_data(as_text=True)
    assert "Respiratory department" not in page and 'participant-card' in page
    page = w.c_org.get(f"/events/{event_id}/participants?q=respiratory").get_data(as_text=True)
    assert "Respiratory department" in page  # the organiser sees the list too
    assert w.c_other.get(f"/events/{event_id}/participants/{w.hospital_user}").status_code == 403


def test_any_two_participants_meet_at_a_common_free_slot_and_an_occupied_slot_is_refused(app, make):
    w, event_id, _ = _published(app, make)
    _register(w, event_id, w.c_hospital, w.c_vc, w.c_broker)
    # the hospital is free in slots 0 and 1, the investor in 1 and 2
    w.c_hospital.post(f"/events/{event_id}/availability", data={"slot": ["0", "1"]})
    w.c_vc.post(f"/events/{event_id}/availability", data={"slot": ["1", "2"]})
    r = w.c_hospital.post(f"/events/{event_id}/participants/{w.vc_user}/meetings",
                          data={"reason": "Financing the kit line", "slot": "0"}, follow_redirects=True)
    assert "alert-danger" in _flash(r) and not _meetings(app)
    r = w.c_hospital.post(f"/events/{event_id}/participants/{w.vc_user}/meetings",
                          data={"reason": "Financing the kit line"})
    assert r.status_code == 302
    [meeting] = _meetings(app)
    assert meeting.agenda_item_id is None and meeting.expires_at is not None
    assert "meeting_asked" in _keys(app, w.vc_user)
    agenda = w.c_vc.get(f"/events/{event_id}/my-agenda").get_data(as_text=True)
    assert 'class="list-group-item incoming-request"' in agenda
    # only a slot both are free in: slot 2 is refused, slot 1 accepted
    r = w.c_vc.post(f"/events/{event_id}/meetings/{meeting.id}/answer", data={"decision": "accepted", "slot": "2"},
                    follow_redirects=True)
    assert "alert-danger" in _flash(r) and _meetings(app)[0].status == "pending"
    assert w.c_hospital.post(f"/events/{event_id}/meetings/{meeting.id}/answer",
                             data={"decision": "accepted", "slot": "1"}).status_code == 404
    w.c_vc.post(f"/events/{event_id}/meetings/{meeting.id}/answer", data={"decision": "accepted", "slot": "1"})
    [meeting] = _meetings(app)
    assert (meeting.status, meeting.slot, meeting.table_number) == ("accepted", 1, 1)
    assert "meeting_booked" in _keys(app, w.hospital_user)
    with app.test_request_context("/"):
        note = db.session.scalar(select(Notification).where(Notification.user_id == w.hospital_user,
                                                            Notification.message_key == "meeting_booked"))
        title, body = notifications.render(note, "zh")
        assert "UTC+08:00" in title + body and "Asia/" not in title + body
    # a third participant asking the investor for the same slot is refused
    r = w.c_broker.post(f"/events/{event_id}/participants/{w.vc_user}/meetings",
                        data={"reason": "Brokering", "slot": "1"}, follow_redirects=True)
    assert "already taken" in _flash(r) and len(_meetings(app)) == 1
    # both see it in My agenda, with the video room, and in their calendars
    for client in (w.c_hospital, w.c_vc):
        page = client.get(f"/events/{event_id}/my-agenda").get_data(as_text=True)
        assert 'class="list-group-item agenda-meeting"' in page and f"techbridge-{event_id}-{meeting.id}" in page
        assert f"UID:meeting-{meeting.id}@" in client.get(f"/events/{event_id}.ics").get_data(as_text=True)
    # moving it tells the other side; cancelling frees the slot
    w.c_hospital.post(f"/events/{event_id}/availability", data={"slot": ["0", "1", "2"]})
    w.c_hospital.post(f"/events/{event_id}/meetings/{meeting.id}/move", data={"slot": "2"})
    assert _meetings(app)[0].slot == 2 and "meeting_moved" in _keys(app, w.vc_user)
    w.c_vc.post(f"/events/{event_id}/meetings/{meeting.id}/cancel", data={"reason": "Travel"})
    assert _meetings(app)[0].status == "cancelled" and "meeting_cancelled" in _keys(app, w.hospital_user)


def test_talks_and_meetings_at_other_events_block_overlapping_slots(app, make):
    # meetings start with the event, while the lab presents its patent (the first 20 minutes)
    w, event_id, item_id = _published(app, make, meetings_start_at=None)
    with app.app_context():
        event = db.session.get(Event, event_id)
        event.meetings_start_at = event.starts_at
        db.session.commit()
    _register(w, event_id, w.c_hospital, w.c_vc)
    assert {0, 1} <= svc_busy(app, event_id, w.lab_user)
    r = w.c_hospital.post(f"/events/{event_id}/participants/{w.lab_user}/meetings",
                          data={"reason": "License", "slot": "0"}, follow_redirects=True)
    assert "already taken" in _flash(r)
    # a second event at the same time: the investor's meeting there blocks the slot here
    second = _create_event(w, title_zh="火花活动", title_en="Spark event", meetings_start_at=_local(w.start))
    _add_item(w, second)
    w.c_org.post(f"/events/{second}/publish")
    _register(w, second, w.c_hospital, w.c_vc)
    w.c_hospital.post(f"/events/{second}/participants/{w.vc_user}/meetings", data={"reason": "Spark", "slot": "2"})
    [there] = _meetings(app, event_id=second)
    w.c_vc.post(f"/events/{second}/meetings/{there.id}/answer", data={"decision": "accepted", "slot": "2"})
    assert _meetings(app, event_id=second)[0].slot == 2
    assert 2 in svc_busy(app, event_id, w.vc_user)


def svc_busy(app, event_id, user_id):
    with app.app_context():
        return svc.busy_slots(db.session.get(Event, event_id), user_id)


def test_requests_lapse_and_the_maximum_meetings_per_person_holds(app, make):
    w, event_id, _ = _published(app, make, max_meetings_per_person="1")
    _register(w, event_id, w.c_hospital, w.c_vc, w.c_broker)
    w.c_hospital.post(f"/events/{event_id}/participants/{w.vc_user}/meetings", data={"reason": "One"})
    w.c_broker.post(f"/events/{event_id}/participants/{w.vc_user}/meetings", data={"reason": "Two"})
    first, second = _meetings(app)
    w.c_vc.post(f"/events/{event_id}/meetings/{first.id}/answer", data={"decision": "accepted", "slot": "0"})
    r = w.c_vc.post(f"/events/{event_id}/meetings/{second.id}/answer", data={"decision": "accepted", "slot": "1"},
                    follow_redirects=True)
    assert "maximum" in _flash(r) and _meetings(app)[1].status == "pending"
    with app.app_context():
        assert event_tasks.expire_meeting_requests(now=datetime.now(UTC) + timedelta(days=30)) == {"expired": 1}
    assert [m.status for m in _meetings(app)] == ["accepted", "expired"]
    assert "meeting_expired" in _keys(app, w.broker)


def test_check_in_no_show_private_notes_and_an_interest_becomes_a_follow_up(app, make):
    w, event_id, _ = _published(app, make)
    _register(w, event_id, w.c_hospital, w.c_vc)
    w.c_hospital.post(f"/events/{event_id}/participants/{w.lab_user}/meetings", data={"reason": "Licence"})
    w.c_hospital.post(f"/events/{event_id}/participants/{w.vc_user}/meetings", data={"reason": "Money"})
    lab_meeting, vc_meeting = _meetings(app)
    w.c_lab.post(f"/events/{event_id}/meetings/{lab_meeting.id}/answer", data={"decision": "accepted", "slot": "0"})
    w.c_vc.post(f"/events/{event_id}/meetings/{vc_meeting.id}/answer", data={"decision": "accepted", "slot": "1"})
    r = w.c_hospital.post(f"/events/{event_id}/meetings/{lab_meeting.id}/check-in", follow_redirects=True)
    assert "alert-danger" in _flash(r)  # days before the meeting
    # the event is on now: its meeting slots start 10 minutes ago
    now = datetime.now(UTC)
    with app.app_context():
        db.session.execute(update(Event).where(Event.id == event_id).values(
            starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=1),
            meetings_start_at=now - timedelta(minutes=10)))
        db.session.execute(update(AgendaItem).where(AgendaItem.event_id == event_id).values(
            starts_at=now - timedelta(hours=1), ends_at=now - timedelta(minutes=40)))
        db.session.commit()
    w.c_hospital.post(f"/events/{event_id}/check-in")
    w.c_hospital.post(f"/events/{event_id}/meetings/{lab_meeting.id}/check-in")
    w.c_lab.post(f"/events/{event_id}/meetings/{lab_meeting.id}/check-in")
    w.c_hospital.post(f"/events/{event_id}/meetings/{vc_meeting.id}/check-in")  # 5 minutes early: allowed
    lab_meeting, vc_meeting = _meetings(app)
    assert lab_meeting.requester_checked_in_at and lab_meeting.presenter_checked_in_at
    assert vc_meeting.requester_checked_in_at and vc_meeting.presenter_checked_in_at is None
    with app.app_context():
        assert event_tasks.record_no_shows(now=now + timedelta(hours=2)) == {"no_shows": 1}
    assert _meetings(app)[1].no_show_id == w.vc_user and _meetings(app)[0].no_show_id is None
    # notes are private
    w.c_hospital.post(f"/events/{event_id}/meetings/{lab_meeting.id}/note", data={"body": "Ask for the CE file"})
    assert "Ask for the CE file" in w.c_hospital.get(f"/events/{event_id}/my-agenda").get_data(as_text=True)
    assert "Ask for the CE file" not in w.c_lab.get(f"/events/{event_id}/my-agenda").get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(MeetingNote.author_id)) == w.hospital_user
    # an interest in the lab's patent after the meeting becomes the lab's follow-up
    r = w.c_hospital.post(f"/events/{event_id}/meetings/{lab_meeting.id}/interest",
                          data={"kind": "license", "offer_id": str(w.patent)})
    assert r.status_code == 302
    with app.app_context():
        interest = db.session.scalar(select(EventInterest))
        assert (interest.meeting_id, interest.offer_id, interest.owner_id) == (lab_meeting.id, w.patent, w.lab_user)
    page = w.c_lab.get(f"/events/{event_id}/follow-ups").get_data(as_text=True)
    assert "Rapid nucleic acid test patent" in page or "新冠核酸快速检测专利" in page
    page = w.c_broker.get(f"/events/{event_id}/follow-ups").get_data(as_text=True)
    assert "need_id" in page or "introduce" in page


def test_presenters_come_from_the_items_organisation_and_are_required_for_meetings(app, make):
    w, event_id, _ = _published(app, make)
    page = w.c_org.get(f"/events/{event_id}/agenda?offer_id={w.patent}").get_data(as_text=True)
    assert f'value="{w.lab_user}"' in page and f'value="{w.hospital_user}"' not in page
    start = _local(w.start + timedelta(minutes=30))
    end = _local(w.start + timedelta(minutes=50))
    r = w.c_org.post(f"/events/{event_id}/agenda", data={"offer_id": w.patent, "presenter_id": w.hospital_user,
                                                          "starts_at": start, "ends_at": end})
    assert r.status_code == 400
    r = w.c_org.post(f"/events/{event_id}/agenda", data={"offer_id": w.patent, "starts_at": start, "ends_at": end})
    assert r.status_code == 302 and _items(app, event_id)[-1].presenter_id == w.lab_user
    r = w.c_org.post(f"/events/{event_id}/agenda", data={"project_title_en": "A project", "starts_at": start,
                                                          "ends_at": end, "meeting_capacity": "2"})
    assert r.status_code == 400  # meeting-enabled without a presenter
    r = w.c_org.post(f"/events/{event_id}/agenda", data={"project_title_en": "A project", "starts_at": start,
                                                          "ends_at": end, "meeting_capacity": "0"})
    assert r.status_code == 302


def test_organiser_adds_meeting_windows_and_sees_the_organiser_on_the_event_page(app, make):
    w, event_id, _ = _published(app, make)
    later = _local(w.start + timedelta(days=1))
    w.c_org.post(f"/events/{event_id}/meetings/windows", data={"window_starts_at": later, "window_slots": "2",
                                                               "window_minutes": "30"})
    with app.app_context():
        event = db.session.get(Event, event_id)
        times = svc.slot_times(event)
        assert len(times) == 5 and times[4][1] - times[4][0] == timedelta(minutes=30)
    assert w.c_hospital.post(f"/events/{event_id}/meetings/windows", data={}).status_code == 403
    page = w.c_hospital.get(f"/events/{event_id}").get_data(as_text=True)
    assert 'id="organiser-info"' in page


def test_the_scheduler_keeps_booked_meetings_and_places_the_others_only_where_both_are_free(app, make):
    w, event_id, _ = _published(app, make)
    _register(w, event_id, w.c_hospital, w.c_vc, w.c_broker)
    w.c_broker.post(f"/events/{event_id}/availability", data={"slot": ["2"]})
    w.c_hospital.post(f"/events/{event_id}/participants/{w.vc_user}/meetings", data={"reason": "Booked"})
    w.c_broker.post(f"/events/{event_id}/participants/{w.vc_user}/meetings", data={"reason": "Loose"})
    booked, loose = _meetings(app)
    w.c_vc.post(f"/events/{event_id}/meetings/{booked.id}/answer", data={"decision": "accepted", "slot": "0"})
    w.c_vc.post(f"/events/{event_id}/meetings/{loose.id}/answer", data={"decision": "accepted", "slot": ""})
    assert _meetings(app)[1].status == "accepted" and _meetings(app)[1].slot is None
    w.c_org.post(f"/events/{event_id}/meetings/schedule")
    booked, loose = _meetings(app)
    assert (booked.slot, booked.table_number) == (0, 1)  # kept as the people booked it
    assert loose.slot in (None, 2)  # only where the broker is free (or left for the organiser to see)
    page = w.c_broker.get(f"/events/{event_id}/my-agenda").get_data(as_text=True)
    assert ('class="list-group-item agenda-meeting"' in page) == (loose.slot is not None)


def test_withdrawing_a_request_and_the_personal_feed_with_meetings(app, make):
    w, event_id, _ = _published(app, make)
    _register(w, event_id, w.c_hospital, w.c_vc)
    w.c_hospital.post(f"/events/{event_id}/participants/{w.vc_user}/meetings", data={"reason": "Once"})
    [meeting] = _meetings(app)
    r = w.c_hospital.post(f"/events/{event_id}/participants/{w.vc_user}/meetings", data={"reason": "Twice"},
                          follow_redirects=True)
    assert "alert-danger" in _flash(r) and len(_meetings(app)) == 1  # one open request between two people
    w.c_hospital.post(f"/events/{event_id}/meetings/{meeting.id}/cancel")
    assert _meetings(app)[0].status == "withdrawn"
    w.c_vc.post(f"/events/{event_id}/participants/{w.hospital_user}/meetings", data={"reason": "Back", "slot": "2"})
    back = _meetings(app)[1]
    assert back.proposed_slot == 2
    w.c_hospital.post(f"/events/{event_id}/meetings/{back.id}/answer", data={"decision": "accepted", "slot": "2"})
    with app.app_context():
        token = svc.calendar_token(db.session.get(User, w.hospital_user))
        db.session.commit()
    feed = w.c_other.get(f"/events/calendar/{token}.ics").get_data(as_text=True)
    assert f"UID:meeting-{back.id}@" in feed


def test_leaving_the_event_calls_off_ones_meetings_and_tells_the_other_side(app, make):
    w, event_id, _ = _published(app, make)
    _register(w, event_id, w.c_hospital, w.c_vc)
    w.c_hospital.post(f"/events/{event_id}/participants/{w.vc_user}/meetings", data={"reason": "Kits"})
    [meeting] = _meetings(app)
    w.c_vc.post(f"/events/{event_id}/meetings/{meeting.id}/answer", data={"decision": "accepted", "slot": "1"})
    assert w.c_hospital.post(f"/events/{event_id}/unregister").status_code == 302
    [meeting] = _meetings(app)
    assert (meeting.status, meeting.slot) == ("cancelled", None)
    assert "meeting_cancelled" in _keys(app, w.vc_user)


def test_the_first_windows_size_changes_only_while_no_booked_slot_would_move(app, make):
    w, event_id, _ = _published(app, make)
    _register(w, event_id, w.c_hospital, w.c_vc)
    w.c_hospital.post(f"/events/{event_id}/participants/{w.vc_user}/meetings", data={"reason": "Kits"})
    [meeting] = _meetings(app)
    w.c_vc.post(f"/events/{event_id}/meetings/{meeting.id}/answer", data={"decision": "accepted", "slot": "2"})
    form = w.c_org.get(f"/events/{event_id}/edit")
    assert form.status_code == 200
    with app.app_context():
        data = svc.event_form_data(db.session.get(Event, event_id))
    data.update(meeting_slots="2", version=str(data.get("version") or ""))
    data = {k: v for k, v in data.items() if v not in (None, "")}
    r = w.c_org.post(f"/events/{event_id}/edit", data={**data, "meeting_slots": "2"})
    assert r.status_code == 400 and _meetings(app)[0].slot == 2
    r = w.c_org.post(f"/events/{event_id}/edit", data={**data, "meeting_slots": "4"})
    assert r.status_code == 302
