"""Events: scheduling, agendas with suggestions, registration with a waiting list, calendars, reminders,
1:1 meetings, interests that become follow-ups and introductions, the report and the series page."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import (AgendaItem, Event, EventInterest, Introduction, MatchSuggestion, MeetingRequest,
                                Registration)
from marketplace.services import events as svc
from marketplace.tasks import events as event_tasks
from tests.conftest import csrf_token_from, login


def _as(app, email):
    """A logged-in client reading the English UI (the assertions below quote English wording)."""
    client = app.test_client()
    assert login(client, email).status_code == 302
    client.get("/lang/en")
    return client


def _local(dt: datetime) -> str:
    return dt.astimezone(svc.zone("Asia/Shanghai")).strftime("%Y-%m-%dT%H:%M")


def _world(app, make):
    organiser, organiser_email = make.staff("organiser")
    lab, lab_user, lab_email = make.member("university")
    hospital, hospital_user, hospital_email = make.member("hospital")
    vc_org, vc_user, vc_email = make.member("vc")
    _, stranger_email = make.staff("broker")
    broker, broker_email = make.staff("broker")
    patent = make.offer(lab, kind="patent", title_zh="新冠核酸快速检测专利", title_en="Rapid nucleic acid test patent")
    need = make.need(hospital, title_zh="采购快速检测试剂", title_en="Rapid test kits")
    start = (datetime.now(timezone.utc) + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    return SimpleNamespace(
        organiser=organiser, lab=lab, lab_user=lab_user, hospital=hospital, hospital_user=hospital_user,
        vc_org=vc_org, vc_user=vc_user, broker=broker, patent=patent, need=need, start=start,
        c_org=_as(app, organiser_email), c_lab=_as(app, lab_email), c_hospital=_as(app, hospital_email),
        c_vc=_as(app, vc_email), c_other=_as(app, stranger_email), c_broker=_as(app, broker_email),
        emails=SimpleNamespace(lab=lab_email, hospital=hospital_email, vc=vc_email))


def _create_event(w, **extra) -> int:
    data = {"kind": "roadshow", "title_zh": "高价值专利线上路演（第1场）", "title_en": "High-value patent roadshow 1",
            "starts_at": _local(w.start), "ends_at": _local(w.start + timedelta(hours=2)),
            "timezone": "Asia/Shanghai", "meeting_url": "https://meeting.example.cn/123", "capacity": "",
            "audience": ["investors", "hospitals"], "meeting_slots": "3", "meeting_minutes": "15",
            "meeting_tables": "2"}
    data.update(extra)
    r = w.c_org.post("/events/new", data=data)
    assert r.status_code == 302, r.get_data(as_text=True)
    return int(r.headers["Location"].split("/")[2])


def _add_item(w, event_id, **extra) -> int:
    data = {"offer_id": w.patent, "presenter_id": w.lab_user, "starts_at": _local(w.start),
            "ends_at": _local(w.start + timedelta(minutes=20)), "meeting_capacity": "2"}
    data.update(extra)
    r = w.c_org.post(f"/events/{event_id}/agenda", data=data)
    assert r.status_code == 302, r.get_data(as_text=True)
    return max(i.id for i in _items(w.app, event_id))


def _items(app, event_id):
    with app.app_context():
        return list(db.session.scalars(select(AgendaItem).where(AgendaItem.event_id == event_id)))


def _event(app, event_id) -> dict:
    with app.app_context():
        e = db.session.get(Event, event_id)
        return {c.key: getattr(e, c.key) for c in e.__table__.columns}


def _reg(app, event_id, user_id) -> str | None:
    with app.app_context():
        reg = db.session.scalar(select(Registration).where(Registration.event_id == event_id,
                                                           Registration.user_id == user_id))
        return reg.status if reg else None


def _published(app, make, **extra):
    w = _world(app, make)
    w.app = app
    event_id = _create_event(w, **extra)
    item_id = _add_item(w, event_id)
    assert w.c_org.post(f"/events/{event_id}/publish").status_code == 302
    return w, event_id, item_id


# --- scheduling ---------------------------------------------------------------------------------------

def test_organiser_schedules_in_the_event_zone_and_visitors_see_both_zones(app, make):
    w = _world(app, make)
    w.app = app
    event_id = _create_event(w, starts_at="2030-05-08T14:00", ends_at="2030-05-08T16:30")
    e = _event(app, event_id)
    assert e["status"] == "draft" and e["organiser_id"] == w.organiser and e["audience"] == ["investors", "hospitals"]
    assert e["starts_at"].replace(tzinfo=None) == datetime(2030, 5, 8, 6, 0)  # 14:00 Beijing is 06:00 UTC
    # a draft is hidden from everybody but its organiser
    assert w.c_hospital.get(f"/events/{event_id}").status_code == 404
    assert app.test_client().get(f"/events/{event_id}").status_code == 404
    assert "高价值专利线上路演" not in app.test_client().get("/events/").get_data(as_text=True)
    assert w.c_org.post(f"/events/{event_id}/publish").status_code == 302
    html = app.test_client().get(f"/events/{event_id}").get_data(as_text=True)
    assert "2030-05-08 14:00" in html and "北京时间" in html and 'data-time="2030-05-08T06:00:00+00:00"' in html
    assert "meeting.example.cn" not in html  # the link is for registrants
    # editing in another zone keeps the instant right
    r = w.c_org.post(f"/events/{event_id}/edit", data={**_form(app, event_id), "timezone": "Europe/Berlin",
                                                        "starts_at": "2030-05-08T08:00",
                                                        "ends_at": "2030-05-08T10:30"})
    assert r.status_code == 302
    assert _event(app, event_id)["starts_at"].replace(tzinfo=None) == datetime(2030, 5, 8, 6, 0)


def _form(app, event_id):
    with app.test_request_context():
        return svc.event_form_data(db.session.get(Event, event_id))


def test_only_organisers_create_and_manage_and_validation_is_reported(app, make):
    w = _world(app, make)
    w.app = app
    assert w.c_hospital.get("/events/new").status_code == 403
    assert w.c_hospital.post("/events/new", data={"kind": "spark"}).status_code == 403
    r = w.c_org.post("/events/new", data={"kind": "spark", "title_zh": "火花", "starts_at": "2030-01-01T10:00",
                                          "ends_at": "2030-01-01T09:00", "timezone": "Mars/Olympus",
                                          "meeting_url": "javascript:alert(1)"})
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and "Unknown time zone" in html and "The end must be after the start" in html
    assert "Enter a web address" in html
    event_id = _create_event(w)
    for path in (f"/events/{event_id}/publish", f"/events/{event_id}/cancel"):
        assert w.c_other.post(path, data={"reason": "x"}).status_code == 404  # a draft of somebody else
    assert w.c_org.post(f"/events/{event_id}/publish").status_code == 302
    assert w.c_other.post(f"/events/{event_id}/cancel", data={"reason": "x"}).status_code == 403
    assert w.c_other.get(f"/events/{event_id}/agenda").status_code == 403
    assert w.c_other.get(f"/events/{event_id}/report").status_code == 403


def test_cancelling_tells_registrants_and_waiting_list(app, make):
    w, event_id, _ = _published(app, make, capacity="1")
    w.c_hospital.post(f"/events/{event_id}/register")
    w.c_vc.post(f"/events/{event_id}/register")
    assert _reg(app, event_id, w.vc_user) == "waitlisted"
    r = w.c_org.post(f"/events/{event_id}/cancel", data={"reason": ""}, follow_redirects=True)
    assert "alert-danger" in r.get_data(as_text=True) and _event(app, event_id)["status"] == "published"
    w.c_org.post(f"/events/{event_id}/cancel", data={"reason": "主讲专家临时出差"})
    e = _event(app, event_id)
    assert e["status"] == "cancelled" and e["ics_sequence"] >= 1
    for client in (w.c_hospital, w.c_vc):
        html = client.get("/events/mine").get_data(as_text=True)
        assert "event-cancelled-notice" in html and "主讲专家临时出差" in html
    assert "STATUS:CANCELLED" in w.c_hospital.get(f"/events/{event_id}.ics").get_data(as_text=True)
    assert w.c_lab.post(f"/events/{event_id}/register", follow_redirects=True).status_code == 200
    assert _reg(app, event_id, w.lab_user) is None


# --- agenda -------------------------------------------------------------------------------------------

def test_agenda_from_high_value_list_search_and_projects_with_attendance_suggestions(app, make):
    w = _world(app, make)
    w.app = app
    event_id = _create_event(w)
    with app.app_context():
        from marketplace.models import PatentDetail
        db.session.get(PatentDetail, w.patent).curation_stage = "high_value"
        financing_need = make.need(w.lab, kind="financing", title_zh="成果转化融资")
        loan = make.offer(w.vc_org, kind="financial", title_zh="知识产权质押贷款")
        db.session.add_all([MatchSuggestion(need_id=w.need, offer_id=w.patent, rank=1, score=0.8, parts={}, reasons=[]),
                            MatchSuggestion(need_id=financing_need, offer_id=loan, rank=1, score=0.7, parts={},
                                            reasons=[])])
        db.session.commit()
    html = w.c_org.get(f"/events/{event_id}/agenda").get_data(as_text=True)
    assert "Rapid nucleic acid test patent" in html or "新冠核酸快速检测专利" in html  # high-value list by default
    assert f"#{w.patent}" in w.c_org.get(f"/events/{event_id}/agenda?q={w.patent}").get_data(as_text=True)
    w.c_org.get("/lang/zh")
    assert "新冠核酸" in w.c_org.get(f"/events/{event_id}/agenda?q=核酸").get_data(as_text=True)
    w.c_org.get("/lang/en")
    _add_item(w, event_id)
    # a free-text project
    _add_item(w, event_id, offer_id="", project_title_zh="清华团队：可穿戴体温监测", presenter_id=w.lab_user)
    # outside the event's time: refused
    r = w.c_org.post(f"/events/{event_id}/agenda", data={"offer_id": w.patent, "starts_at": _local(
        w.start - timedelta(hours=3)), "ends_at": _local(w.start - timedelta(hours=2))})
    assert r.status_code == 400
    html = w.c_org.get(f"/events/{event_id}/agenda").get_data(as_text=True)
    assert html.count('class="agenda-row"') == 2
    # suggestions: the hospital whose need matches the patent, and the VC whose loan fits the lab's financing need
    with app.app_context():
        hospital_name = db.session.get(__import__("marketplace.models", fromlist=["Organization"]).Organization,
                                       w.hospital).name_en
    assert "suggest-firm" in html and hospital_name in html and "suggest-funder" in html


# --- registration, calendars and reminders ------------------------------------------------------------

def test_registration_waiting_list_promotion_and_confirmation(app, make):
    w, event_id, _ = _published(app, make, capacity="2")
    r = w.c_hospital.post(f"/events/{event_id}/register", follow_redirects=True)
    assert "alert-success" in r.get_data(as_text=True)
    w.c_vc.post(f"/events/{event_id}/register")
    r = w.c_broker.post(f"/events/{event_id}/register", follow_redirects=True)
    assert "alert-warning" in r.get_data(as_text=True)
    assert [_reg(app, event_id, u) for u in (w.hospital_user, w.vc_user, w.broker)] == [
        "confirmed", "confirmed", "waitlisted"]
    assert w.c_hospital.post(f"/events/{event_id}/register", follow_redirects=True).status_code == 200
    html = w.c_hospital.get(f"/events/{event_id}").get_data(as_text=True)
    assert "meeting.example.cn" in html and 'id="reg-status"' in html
    # a place frees up: the first on the waiting list gets it
    w.c_vc.post(f"/events/{event_id}/unregister")
    assert _reg(app, event_id, w.vc_user) == "cancelled" and _reg(app, event_id, w.broker) == "confirmed"
    assert "A place freed up" in w.c_broker.get("/events/mine").get_data(as_text=True)
    # registering again after cancelling joins the queue
    w.c_vc.post(f"/events/{event_id}/register")
    assert _reg(app, event_id, w.vc_user) == "waitlisted"


def test_registration_closes_at_the_deadline(app, make):
    w, event_id, _ = _published(app, make)
    with app.app_context():
        db.session.get(Event, event_id).registration_deadline = datetime.now(timezone.utc) - timedelta(minutes=1)
        db.session.commit()
    w.c_hospital.post(f"/events/{event_id}/register")
    assert _reg(app, event_id, w.hospital_user) is None


def test_ics_per_event_and_personal_feed(app, make):
    w, event_id, _ = _published(app, make)
    w.c_hospital.post(f"/events/{event_id}/register")
    r = app.test_client().get(f"/events/{event_id}.ics")
    body = r.get_data(as_text=True)
    assert r.mimetype == "text/calendar" and body.startswith("BEGIN:VCALENDAR\r\n")
    assert f"UID:event-{event_id}@" in body and f"DTSTART:{w.start.strftime('%Y%m%dT%H%M%SZ')}" in body
    assert all(len(line.encode()) <= 75 for line in body.split("\r\n"))
    html = w.c_hospital.get("/events/mine").get_data(as_text=True)
    token = html.split("/events/calendar/")[1].split(".ics")[0]
    feed = app.test_client().get(f"/events/calendar/{token}.ics").get_data(as_text=True)
    assert f"UID:event-{event_id}@" in feed
    assert app.test_client().get("/events/calendar/not-a-token.ics").status_code == 404
    # the token is stable
    assert token in w.c_hospital.get("/events/mine").get_data(as_text=True)


def test_reminder_job_marks_registrants_once(app, make):
    w, event_id, _ = _published(app, make)
    w.c_hospital.post(f"/events/{event_id}/register")
    with app.app_context():
        assert event_tasks.send_reminders(now=w.start - timedelta(days=2)) == {"reminded": 0}
        assert event_tasks.send_reminders(now=w.start - timedelta(hours=5)) == {"reminded": 1}
        assert event_tasks.send_reminders(now=w.start - timedelta(hours=4)) == {"reminded": 0}
    assert "Reminder: the event starts soon" in w.c_hospital.get("/events/mine").get_data(as_text=True)
    result = app.test_cli_runner().invoke(args=["events", "remind"])
    assert result.exit_code == 0 and "reminded" in result.output


# --- 1:1 meetings -------------------------------------------------------------------------------------

def test_meetings_requested_answered_and_scheduled_without_conflicts(app, make):
    w, event_id, item_id = _published(app, make)
    # a second presenter's project item
    second_org, second_user, second_email = make.member("institute")
    with app.app_context():
        db.session.get(Event, event_id).status = "draft"
        db.session.commit()
    _add_item(w, event_id, offer_id="", project_title_en="CAS lab: AI CT screening", presenter_id=second_user,
              meeting_capacity="3")
    w.c_org.post(f"/events/{event_id}/publish")
    item2 = max(i.id for i in _items(app, event_id))
    c_second = _as(app, second_email)
    # not registered: refused
    w.c_hospital.post(f"/events/{event_id}/items/{item_id}/meetings", data={"reason": "谈许可", "priority": "3"})
    with app.app_context():
        assert db.session.scalar(select(MeetingRequest)) is None
    requesters = [(w.c_hospital, w.hospital_user), (w.c_vc, w.vc_user), (w.c_broker, w.broker)]
    for client, _ in requesters:
        client.post(f"/events/{event_id}/register")
        client.post(f"/events/{event_id}/items/{item_id}/meetings", data={"reason": "谈许可", "priority": "3"})
        client.post(f"/events/{event_id}/items/{item2}/meetings", data={"reason": "看演示", "priority": "1"})
    r = w.c_hospital.post(f"/events/{event_id}/items/{item_id}/meetings", data={"reason": "again"},
                          follow_redirects=True)
    assert "alert-danger" in r.get_data(as_text=True)
    r = w.c_vc.post(f"/events/{event_id}/items/{item2}/meetings", data={"reason": ""}, follow_redirects=True)
    with app.app_context():
        meetings = list(db.session.scalars(select(MeetingRequest).order_by(MeetingRequest.id)))
    assert len(meetings) == 6 and {m.status for m in meetings} == {"pending"}
    # only the presenter answers (somebody else gets 404)
    first = meetings[0]
    assert w.c_vc.post(f"/events/{event_id}/meetings/{first.id}/answer",
                       data={"decision": "accepted"}).status_code == 404
    for m in meetings:
        client = w.c_lab if m.agenda_item_id == item_id else c_second
        client.post(f"/events/{event_id}/meetings/{m.id}/answer", data={"decision": "accepted"})
    assert w.c_hospital.post(f"/events/{event_id}/meetings/schedule").status_code == 403
    r = w.c_org.post(f"/events/{event_id}/meetings/schedule", follow_redirects=True)
    html = r.get_data(as_text=True)
    assert "alert-warning" in html  # the lab presenter takes at most 2 of 3 meetings
    with app.app_context():
        meetings = list(db.session.scalars(select(MeetingRequest)))
    placed = [m for m in meetings if m.slot is not None]
    assert len(placed) == 5
    seen = set()
    for m in placed:
        for person in (m.requester_id, m.presenter_id):
            assert (person, m.slot) not in seen
            seen.add((person, m.slot))
        assert 1 <= m.table_number <= 2 and 0 <= m.slot < 3
    assert sum(1 for m in placed if m.presenter_id == w.lab_user) == 2
    # everybody sees their own schedule, in their calendar too
    mine = w.c_hospital.get(f"/events/{event_id}/meetings").get_data(as_text=True)
    assert mine.count('class="meeting-row"') == 2
    body = w.c_hospital.get(f"/events/{event_id}.ics").get_data(as_text=True)
    hospital_placed = [m for m in placed if m.requester_id == w.hospital_user]
    assert body.count("UID:meeting-") == len(hospital_placed)


# --- follow-ups, report, series ------------------------------------------------------------------------

def test_interest_becomes_follow_up_then_introduction_then_signed_deal_counted_by_series(app, make):
    w = _world(app, make)
    w.app = app
    r = w.c_org.post("/events/series", data={"kind": "spark", "name_zh": "火花活动", "name_en": "Spark series"})
    series_id = int(r.headers["Location"].rsplit("/", 1)[1])
    event_id = _create_event(w, kind="spark", series_id=str(series_id))
    item_id = _add_item(w, event_id)
    w.c_org.post(f"/events/{event_id}/publish")
    # only attendees mark interest
    w.c_hospital.post(f"/events/{event_id}/items/{item_id}/interest", data={"kind": "license"})
    with app.app_context():
        assert db.session.scalar(select(EventInterest)) is None
    w.c_hospital.post(f"/events/{event_id}/register")
    w.c_hospital.post(f"/events/{event_id}/items/{item_id}/interest", data={"kind": "license", "note": "想谈独占许可"})
    w.c_vc.post(f"/events/{event_id}/register")
    w.c_vc.post(f"/events/{event_id}/items/{item_id}/interest", data={"kind": "invest"})
    with app.app_context():
        interests = list(db.session.scalars(select(EventInterest).order_by(EventInterest.id)))
    assert [(i.kind, i.status, i.owner_id, i.organization_id) for i in interests] == [
        ("license", "open", w.lab_user, w.hospital), ("invest", "open", w.lab_user, w.vc_org)]
    # the presenter sees the follow-ups; another attendee sees only their own
    assert w.c_lab.get(f"/events/{event_id}/follow-ups").get_data(as_text=True).count('class="follow-up-row"') == 2
    assert w.c_vc.get(f"/events/{event_id}/follow-ups").get_data(as_text=True).count('class="follow-up-row"') == 1
    # a stranger cannot act on a follow-up
    assert _as(app, _stranger(make)).post(f"/events/follow-ups/{interests[0].id}/close",
                                            data={"reason": "x"}).status_code == 404
    # the VC has no open need: converting is refused with an explanation; the presenter closes it instead
    r = w.c_broker.post(f"/events/follow-ups/{interests[1].id}/introduce", follow_redirects=True)
    assert "alert-danger" in r.get_data(as_text=True)
    w.c_lab.post(f"/events/follow-ups/{interests[1].id}/close", data={"reason": "暂不投资早期项目"})
    # one action: the broker turns the hospital's interest into an introduction
    r = w.c_broker.post(f"/events/follow-ups/{interests[0].id}/introduce", data={"need_id": w.need})
    assert r.status_code == 302
    with app.app_context():
        interest = db.session.get(EventInterest, interests[0].id)
        intro = db.session.get(Introduction, interest.introduction_id)
        assert (interest.status, intro.need_id, intro.offer_id, intro.broker_id, intro.stage) == (
            "introduced", w.need, w.patent, w.broker, "proposed")
        intro_id = intro.id
    assert "introduction" in w.c_broker.get(f"/events/{event_id}/follow-ups").get_data(as_text=True).lower()
    # the pipeline to a signed deal, through the brokering views
    w.c_hospital.post(f"/brokering/{intro_id}/respond", data={"decision": "accepted"})
    w.c_lab.post(f"/brokering/{intro_id}/respond", data={"decision": "accepted"})
    w.c_broker.post(f"/brokering/{intro_id}/stage", data={"to_stage": "negotiation"})
    anonymous = app.test_client()
    anonymous.get("/lang/en")
    html = anonymous.get(f"/events/series/{series_id}").get_data(as_text=True)
    assert "1 event, 1 project, 1 in negotiation, 0 deals signed" in html
    w.c_broker.post(f"/brokering/{intro_id}/stage", data={"to_stage": "signed"})
    w.c_org.post(f"/events/{event_id}/finish")
    with app.app_context():
        assert db.session.get(Introduction, intro_id).stage == "signed"
        summary = svc.series_summary(db.session.get(__import__("marketplace.models", fromlist=["EventSeries"])
                                                    .EventSeries, series_id))
    assert summary == {"events": 1, "projects": 1, "patents": 1, "interests": 2, "introductions": 1,
                       "in_negotiation": 0, "signed": 1}
    html = w.c_org.get(f"/events/{event_id}/report").get_data(as_text=True)
    assert 'id="fig-signed">1<' in html and 'id="fig-introductions">1<' in html and 'id="fig-items">1<' in html
    assert 'data-kind="license">1<' in html and 'data-kind="invest">1<' in html
    assert 'data-status="introduced">1<' in html and 'data-status="closed">1<' in html


def _stranger(make) -> str:
    _, _, email = make.member("firm")
    return email


def test_forms_carry_csrf_tokens(app, make):
    w, event_id, item_id = _published(app, make)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        _check_csrf(app, w, event_id)
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def _check_csrf(app, w, event_id):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    client.post("/login", data={"email": w.emails.hospital, "password": "correct-horse-battery-9",
                                "csrf_token": csrf_token_from(page)})
    html = client.get(f"/events/{event_id}").get_data(as_text=True)
    token = csrf_token_from(html)
    assert client.post(f"/events/{event_id}/register").status_code == 400
    assert client.post(f"/events/{event_id}/register", data={"csrf_token": token}).status_code == 302
    html = client.get(f"/events/{event_id}").get_data(as_text=True)
    assert html.count('name="csrf_token"') >= 3  # unregister, interest, meeting request (and log out)


def test_every_page_renders_for_its_audience_in_both_languages(app, make):
    w, event_id, item_id = _published(app, make)
    w.c_hospital.post(f"/events/{event_id}/register")
    for lang in ("zh", "en"):
        for client in (w.c_org, w.c_hospital):
            client.get(f"/lang/{lang}")
        for path in ("/events/", "/events/new", f"/events/{event_id}", f"/events/{event_id}/edit",
                     f"/events/{event_id}/agenda", f"/events/{event_id}/meetings", f"/events/{event_id}/report",
                     f"/events/{event_id}/follow-ups", "/events/mine"):
            assert w.c_org.get(path).status_code == 200, path
        for path in ("/events/", f"/events/{event_id}", f"/events/{event_id}/meetings", "/events/mine",
                     f"/events/{event_id}/follow-ups"):
            assert w.c_hospital.get(path).status_code == 200, path
    html = w.c_hospital.get("/").get_data(as_text=True)
    assert 'id="nav-events"' in html
    # the presenter sees the meeting link without registering
    assert "meeting.example.cn" in w.c_lab.get(f"/events/{event_id}").get_data(as_text=True)
    assert "meeting.example.cn" not in w.c_vc.get(f"/events/{event_id}").get_data(as_text=True)
    # anonymous visitors are sent to log in for member pages
    anon = app.test_client()
    for path in ("/events/mine", f"/events/{event_id}/meetings", f"/events/{event_id}/report"):
        assert anon.get(path).status_code == 302, path
    assert anon.post(f"/events/{event_id}/register").status_code == 302


def test_notifications_are_used_only_when_they_know_event_messages(app, make):
    w, event_id, _ = _published(app, make)
    w.c_hospital.post(f"/events/{event_id}/register")
    with app.app_context():
        event = db.session.get(Event, event_id)
        try:
            from marketplace.models.notifications import NOTIFICATION_KINDS
        except ImportError:
            NOTIFICATION_KINDS = ()
        assert svc.tell([w.hospital_user], "event_cancelled", event) == ("event" in NOTIFICATION_KINDS)
        db.session.rollback()


def test_an_event_is_marked_finished_only_once_it_has_ended(app, make):
    w, event_id, _item = _published(app, make)
    w.c_org.post(f"/events/{event_id}/finish")
    with app.app_context():
        event = db.session.get(Event, event_id)
        assert event.status == "published"
        event.starts_at -= timedelta(days=10)
        event.ends_at -= timedelta(days=10)
        db.session.commit()
    w.c_org.post(f"/events/{event_id}/finish")
    with app.app_context():
        assert db.session.get(Event, event_id).status == "finished"
