"""Whom to meet at an event: the engine's pairings between participants, both directions, never one's own
organisation or group; the page shows the viewer's own list with reasons they may read."""
from __future__ import annotations

import html as html_lib
import re
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import AgendaItem, Event, MatchSuggestion, MeetingRequest, Organization, Registration
from marketplace.services.events.recommendations import Attendee, Pairing, recommend_meetings
from tests.conftest import login


def _pairing(need_org, offer_org, need_id, offer_id, strength):
    return Pairing(need_org, offer_org, need_id, offer_id, {"zh": f"需求{need_id}", "en": f"need {need_id}"},
                   {"zh": f"成果{offer_id}", "en": f"offer {offer_id}"}, strength)


def test_both_directions_are_reasons_and_the_strongest_fit_comes_first():
    attendees = [Attendee(1, frozenset({10})), Attendee(2, frozenset({20})), Attendee(3, frozenset({30})),
                 Attendee(4, frozenset({10}))]
    pairings = [_pairing(10, 20, 100, 200, 60),   # org 10 needs what org 20 offers
                _pairing(20, 10, 101, 201, 40),   # and the reverse
                _pairing(10, 30, 102, 300, 90)]
    recs = recommend_meetings(attendees, pairings)
    assert [(r.participant, r.score) for r in recs[1]] == [(3, 90), (2, 65)]  # 60 + 5 for a second reason
    reasons = recs[1][1].reasons
    assert [(r["direction"], r["need_id"], r["offer_id"]) for r in reasons] == [
        ("they_offer", 100, 200), ("you_offer", 101, 201)]
    assert [r.participant for r in recs[2]] == [1, 4]  # both people of org 10, never themselves
    assert [r["direction"] for r in recs[3][0].reasons] == ["you_offer"]
    assert all(r.participant != 4 for r in recs[1])  # the same organisation is never recommended


def test_same_group_excluded_and_limit_kept():
    attendees = [Attendee(1, frozenset({10})), Attendee(2, frozenset({11})), Attendee(3, frozenset({12}))]
    pairings = [_pairing(10, 11, 1, 2, 80), _pairing(10, 12, 3, 4, None)]
    groups = {"10": "10", "11": "10"}  # 11 belongs to 10's group
    recs = recommend_meetings(attendees, pairings, groups)
    assert [(r.participant, r.score) for r in recs[1]] == [(3, 50)]  # an uncalibrated pairing counts as 50
    assert recommend_meetings(attendees, pairings, limit=1)[1][0].participant == 2
    assert recommend_meetings(attendees, pairings, exclude={1: {2}})[1][0].participant == 3
    assert recommend_meetings([], pairings) == {}


def _as(app, email):
    client = app.test_client()
    assert login(client, email).status_code == 302
    client.get("/lang/en")
    return client


def test_the_page_lists_whom_to_meet_with_reasons_for_participants_only(app, make):
    organiser, organiser_email = make.staff("organiser")
    hospital, hospital_user, hospital_email = make.member("hospital")
    lab, lab_user, lab_email = make.member("university")
    _, colleague_user, _ = make.member("university")
    _, stranger_user, stranger_email = make.member("firm")
    offer = make.offer(lab, kind="technology", title_zh="快速核酸检测技术", title_en="Rapid nucleic acid test")
    need = make.need(hospital, title_zh="采购快速检测试剂", title_en="Rapid test kits")
    start = datetime.now(timezone.utc) + timedelta(days=3)
    with app.app_context():
        # the colleague joins the lab (same organisation as the lab's member)
        from marketplace.models import Membership
        db.session.add(Membership(user_id=colleague_user, organization_id=lab, role="member"))
        event = Event(kind="spark", status="published", title_zh="火花", title_en="Spark", starts_at=start,
                      ends_at=start + timedelta(hours=2), organiser_id=organiser)
        db.session.add(event)
        db.session.flush()
        db.session.add_all([Registration(event_id=event.id, user_id=u, status="confirmed")
                            for u in (hospital_user, lab_user, colleague_user)])
        db.session.add(MatchSuggestion(need_id=need, offer_id=offer, rank=1, score=0.8, strength=82,
                                       reasons=[{"type": "terms", "terms": ["检测"], "zh": "共同词：检测",
                                                 "en": "Shared terms: test"}]))
        db.session.commit()
        event_id = event.id
        assert db.session.get(Organization, lab) is not None
    url = f"/events/{event_id}/recommendations"
    html = _as(app, hospital_email).get(url).get_data(as_text=True)
    assert f'data-participant="{lab_user}"' in html and f'data-participant="{colleague_user}"' in html
    assert "Their offer" in html and "Rapid nucleic acid test" in html and "Rapid test kits" in html
    assert 'data-score="82"' in html
    html = _as(app, lab_email).get(url).get_data(as_text=True)
    assert f'data-participant="{hospital_user}"' in html and 'data-direction="you_offer"' in html
    assert f'data-participant="{colleague_user}"' not in html  # own organisation
    with app.app_context():  # once the lab asked the hospital for a meeting, it is no longer recommended
        item = AgendaItem(event_id=event_id, project_title_zh="检测项目", presenter_id=hospital_user,
                          starts_at=start, ends_at=start + timedelta(minutes=20))
        db.session.add(item)
        db.session.flush()
        db.session.add(MeetingRequest(event_id=event_id, agenda_item_id=item.id, requester_id=lab_user,
                                      presenter_id=hospital_user, reason="谈合作", status="pending"))
        db.session.commit()
    html = _as(app, lab_email).get(url).get_data(as_text=True)
    assert f'data-participant="{hospital_user}"' not in html
    assert _as(app, stranger_email).get(url).status_code == 403
    assert "no-recommendations" in _as(app, organiser_email).get(url).get_data(as_text=True)
    assert app.test_client().get(url).status_code == 302
    assert _as(app, hospital_email).get("/events/999999/recommendations").status_code == 404
    with app.app_context():
        assert db.session.scalar(select(Registration).where(Registration.user_id == stranger_user)) is None


def test_one_click_on_a_recommendation_asks_for_the_meeting_with_the_reason(app, make):
    """The recommendations page carries a request form per person (when the event has meeting slots): one click
    sends the best reason as the message, and the person is no longer recommended."""
    organiser, _organiser_email = make.staff("organiser")
    hospital, hospital_user, hospital_email = make.member("hospital")
    lab, lab_user, _lab_email = make.member("university")
    offer = make.offer(lab, kind="technology", title_zh="快速核酸检测技术", title_en="Rapid nucleic acid test")
    need = make.need(hospital, title_zh="采购快速检测试剂", title_en="Rapid test kits")
    start = datetime.now(timezone.utc) + timedelta(days=3)
    with app.app_context():
        event = Event(kind="spark", status="published", title_zh="火花", title_en="Spark", starts_at=start,
                      ends_at=start + timedelta(hours=4), organiser_id=organiser, meetings_start_at=start,
                      meeting_slots=4, meeting_minutes=15)
        db.session.add(event)
        db.session.flush()
        db.session.add_all([Registration(event_id=event.id, user_id=u, status="confirmed")
                            for u in (hospital_user, lab_user)])
        db.session.add(MatchSuggestion(need_id=need, offer_id=offer, rank=1, score=0.8, strength=82, reasons=[]))
        db.session.commit()
        event_id = event.id
    client = _as(app, hospital_email)
    url = f"/events/{event_id}/recommendations"
    html = client.get(url).get_data(as_text=True)
    action = f'action="/events/{event_id}/participants/{lab_user}/meetings"'
    assert action in html
    form = html.split(action)[1].split("</form>")[0]
    fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', form))
    fields["reason"] = html_lib.unescape(re.search(r'<textarea name="reason"[^>]*>(.*?)</textarea>', form).group(1))
    assert "Rapid nucleic acid test" in fields["reason"] or "快速核酸检测技术" in fields["reason"]
    assert client.post(f"/events/{event_id}/participants/{lab_user}/meetings", data=fields).status_code == 302
    with app.app_context():
        meeting = db.session.scalar(select(MeetingRequest).where(MeetingRequest.event_id == event_id))
        assert (meeting.requester_id, meeting.presenter_id, meeting.status) == (hospital_user, lab_user, "pending")
        assert meeting.reason == fields["reason"]
    assert f'data-participant="{lab_user}"' not in client.get(url).get_data(as_text=True)
