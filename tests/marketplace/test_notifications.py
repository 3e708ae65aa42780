"""Notifications: who hears about introductions, replies, stage changes, reminders and due follow-ups; the inbox
and its badge; preferences per kind and channel; e-mails written to the mail folder after the commit, in the
recipient's language; follow-up ratings some months after signature or loss."""
from __future__ import annotations

import email
import re
from datetime import date, datetime, timedelta, timezone
from email.header import decode_header, make_header
from pathlib import Path

import pytest
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import FollowupRating, Introduction, IntroductionTask, Notification, User
from tests.conftest import csrf_token_from
from tests.marketplace.test_brokering import _accepted, _propose, _shift_expiry, _world, rebuilds  # noqa: F401


@pytest.fixture
def mailbox(app):
    """The mail folder, emptied before the test; returns a reader of the messages written since."""
    folder = Path(app.config["INSTANCE_DIR"]) / "mail"
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.eml"):
        old.unlink()

    def read() -> list[dict]:
        out = []
        for path in sorted(folder.glob("*.eml")):
            msg = email.message_from_bytes(path.read_bytes())
            part = msg if not msg.is_multipart() else next(p for p in msg.walk() if p.get_content_type() == "text/plain")
            out.append({"to": msg["To"], "subject": str(make_header(decode_header(msg["Subject"]))),
                        "body": part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")})
        return out
    return read


def _notes(app, user_id, **filters) -> list[Notification]:
    with app.app_context():
        query = select(Notification).where(Notification.user_id == user_id)
        for key, value in filters.items():
            query = query.where(getattr(Notification, key) == value)
        rows = list(db.session.scalars(query.order_by(Notification.id)))
        for row in rows:
            db.session.expunge(row)
        return rows


def _email_of(app, user_id) -> str:
    with app.app_context():
        return db.session.get(User, user_id).email


def test_introduction_events_notify_the_right_people_in_site_and_by_email(app, make, mailbox, rebuilds):
    w = _world(app, make)
    intro_id = _propose(w, message="请两家联系")
    # both sides hear about the proposal; the broker (who proposed) and strangers do not
    for user in (w.hospital_user, w.firm_user):
        notes = _notes(app, user)
        assert [(n.kind, n.message_key, n.link) for n in notes] == [
            ("introduction", "introduction_proposed", f"/brokering/{intro_id}")]
    assert _notes(app, w.broker) == []
    mails = mailbox()
    assert sorted(m["to"] for m in mails) == sorted([_email_of(app, w.hospital_user), _email_of(app, w.firm_user)])
    assert all("采购ICU呼吸机" in m["body"] and f"/brokering/{intro_id}" in m["body"] for m in mails)
    assert all(n.email_state == "sent" for n in _notes(app, w.hospital_user))

    # the badge in the navigation and the inbox
    home = w.c_hospital.get("/").get_data(as_text=True)
    assert 'id="nav-notifications"' in home and 'id="unread-count">1<' in home
    inbox = w.c_hospital.get("/notifications/").get_data(as_text=True)
    assert "采购ICU呼吸机" in inbox and "ICU有创呼吸机" in inbox
    w.c_hospital.get("/lang/en")
    assert "ICU ventilators" in w.c_hospital.get("/notifications/").get_data(as_text=True)  # reader's language
    assert 'id="unread-count"' not in w.c_stranger.get("/").get_data(as_text=True)

    # answers: the broker and the other side hear; then both accepted: everybody but the last to answer
    w.c_hospital.post(f"/brokering/{intro_id}/respond", data={"decision": "accepted"})
    assert [n.message_key for n in _notes(app, w.broker)] == ["introduction_accepted"]
    assert [n.message_key for n in _notes(app, w.firm_user, kind="reply")] == ["introduction_accepted"]
    assert _notes(app, w.hospital_user, kind="reply") == []
    w.c_firm.post(f"/brokering/{intro_id}/respond", data={"decision": "accepted"})
    assert [n.message_key for n in _notes(app, w.broker)][-1] == "introduction_open"
    assert [n.message_key for n in _notes(app, w.hospital_user, kind="reply")] == ["introduction_open"]

    # stage changes reach both sides, with the stage rendered in the reader's language
    w.c_broker.post(f"/brokering/{intro_id}/stage", data={"to_stage": "meeting_held", "reason": "见面了"})
    stage = _notes(app, w.firm_user, kind="stage")
    assert [n.params["stage"] for n in stage] == [{"label": "stage", "code": "meeting_held"}]
    assert "Meeting held" in w.c_hospital.get("/notifications/").get_data(as_text=True)
    assert _notes(app, w.broker, kind="stage") == []

    # opening marks read and follows the link; nobody else can open it
    note = _notes(app, w.firm_user, kind="stage")[0]
    assert w.c_hospital.post(f"/notifications/{note.id}/open").status_code == 404
    r = w.c_firm.post(f"/notifications/{note.id}/open")
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/brokering/{intro_id}")
    assert _notes(app, w.firm_user, kind="stage")[0].read_at is not None
    w.c_firm.post("/notifications/read-all")
    assert 'id="unread-count"' not in w.c_firm.get("/").get_data(as_text=True)
    assert all(n.read_at for n in _notes(app, w.firm_user))
    assert all(n.read_at is None for n in _notes(app, w.hospital_user))


def test_decline_reason_reaches_the_broker_and_the_other_side(app, make):
    w = _world(app, make)
    intro_id = _propose(w)
    w.c_firm.post(f"/brokering/{intro_id}/respond", data={"decision": "declined", "reason": "产能已满"})
    for user in (w.broker, w.hospital_user):
        [note] = _notes(app, user, kind="reply")
        assert note.message_key == "introduction_declined" and note.params["reason"] == "产能已满"
    assert "产能已满" in w.c_broker.get("/notifications/").get_data(as_text=True)


def test_preferences_choose_channels_per_kind(app, make, mailbox):
    w = _world(app, make)
    page = w.c_hospital.get("/account/notifications").get_data(as_text=True)
    assert 'name="csrf_token"' in page and 'value="email:introduction"' in page
    assert 'id="pref-email-introduction" aria-label' in page and "checked" in page
    # the hospital keeps introductions on the site only; the firm switches everything off
    w.c_hospital.post("/account/notifications", data={"on": ["site:introduction", "site:reply"]})
    w.c_firm.post("/account/notifications", data={})
    page = w.c_hospital.get("/account/notifications").get_data(as_text=True)

    def checked(box):
        return "checked" in re.search(rf'id="pref-{box}"[^>]*>', page).group(0)
    assert checked("site-introduction") and checked("site-reply")
    assert not checked("email-introduction") and not checked("site-stage")
    intro_id = _propose(w)
    [h] = _notes(app, w.hospital_user)
    assert (h.in_site, h.email_state) == (True, "none")
    [f] = _notes(app, w.firm_user)
    assert (f.in_site, f.email_state) == (False, "none")  # recorded, so never told twice, but not shown
    assert mailbox() == []
    listed = w.c_firm.get("/notifications/").get_data(as_text=True).split('id="notification-list"')[1]
    assert intro_id and "notification-item" not in listed.split("</main>")[0]  # recorded, never listed
    assert 'id="unread-count"' not in w.c_firm.get("/").get_data(as_text=True)


def test_notifications_belong_to_the_unit_of_work_and_email_waits_for_the_commit(app, make, mailbox):
    from marketplace.services import brokering
    from marketplace.services.unit_of_work import unit_of_work
    w = _world(app, make)
    with app.app_context():
        broker = db.session.get(User, w.broker)
        with pytest.raises(RuntimeError):
            with unit_of_work():
                brokering.propose(broker, w.need, w.offer, "m", expiry_days=14)
                assert db.session.scalar(select(func.count(Notification.id))) == 2  # flushed with the event
                raise RuntimeError
        assert db.session.scalar(select(func.count(Notification.id))) == 0
        assert mailbox() == []
        with unit_of_work():
            brokering.propose(broker, w.need, w.offer, "m", expiry_days=14)
            assert {n.email_state for n in db.session.scalars(select(Notification))} == {"pending"}
            assert mailbox() == []  # nothing sent before the commit
        assert len(mailbox()) == 2
        assert {n.email_state for n in db.session.scalars(select(Notification))} == {"sent"}


def test_email_is_written_in_the_recipients_language(app, make, mailbox):
    w = _world(app, make)
    with app.app_context():
        db.session.get(User, w.firm_user).locale = "en"
        db.session.commit()
    _propose(w)
    by_to = {m["to"]: m for m in mailbox()}
    english = by_to[_email_of(app, w.firm_user)]
    chinese = by_to[_email_of(app, w.hospital_user)]
    assert "ICU ventilators" in english["body"] and "采购ICU呼吸机" not in english["body"]
    assert "采购ICU呼吸机" in chinese["body"]
    assert english["subject"] == "New introduction proposed"
    assert "/account/notifications" in english["body"]


def test_reminders_and_expiry_are_notified_once(app, make):
    w = _world(app, make)
    intro_id = _propose(w)
    w.c_hospital.post(f"/brokering/{intro_id}/respond", data={"decision": "accepted"})
    _shift_expiry(app, intro_id, timedelta(days=2))
    runner = app.test_cli_runner()
    out = runner.invoke(args=["brokering", "sweep"]).output
    assert "reminded 1" in out and "due follow-ups" in out and "follow-up ratings" in out and "e-mails" in out
    assert [n.message_key for n in _notes(app, w.firm_user, kind="introduction")] == [
        "introduction_proposed", "introduction_reminder"]
    assert [n.message_key for n in _notes(app, w.hospital_user, kind="introduction")] == ["introduction_proposed"]
    _shift_expiry(app, intro_id, timedelta(minutes=-1))
    assert "expired 1" in runner.invoke(args=["brokering", "sweep"]).output
    runner.invoke(args=["brokering", "sweep"])
    for user in (w.broker, w.hospital_user, w.firm_user):
        assert [n.message_key for n in _notes(app, user, kind="stage")] == ["introduction_expired"]


def test_due_follow_ups_tell_the_owner_once_and_the_broker_when_overdue(app, make):
    w = _world(app, make)
    intro_id = _accepted(w)
    w.c_broker.post(f"/brokering/{intro_id}/tasks", data={"title": "寄送样机", "due_on": date.today().isoformat(),
                                                          "owner_id": w.firm_user})
    # the change itself triggers the check: the owner hears at once, on the due date
    [note] = _notes(app, w.firm_user, kind="followup_due")
    assert note.message_key == "followup_due" and note.link == f"/brokering/{intro_id}#follow-ups"
    runner = app.test_cli_runner()
    assert "notified 0 due follow-ups" in runner.invoke(args=["brokering", "sweep"]).output
    assert _notes(app, w.broker, kind="followup_due") == []
    with app.app_context():
        task = db.session.scalar(select(IntroductionTask))
        task.due_on = date.today() - timedelta(days=2)
        db.session.commit()
    assert "notified 1 due follow-ups" in runner.invoke(args=["brokering", "sweep"]).output
    [late] = _notes(app, w.broker, kind="followup_due")
    assert late.message_key == "followup_overdue"
    assert "notified 0 due follow-ups" in runner.invoke(args=["brokering", "sweep"]).output
    assert len(_notes(app, w.firm_user, kind="followup_due")) == 1


def test_follow_up_rating_requested_months_after_signature_and_answered(app, make, rebuilds):
    w = _world(app, make)
    intro_id = _accepted(w)
    w.c_broker.post(f"/brokering/{intro_id}/stage", data={"to_stage": "signed"})
    runner = app.test_cli_runner()
    assert "requested 0 follow-up ratings" in runner.invoke(args=["brokering", "sweep"]).output
    with app.app_context():
        intro = db.session.get(Introduction, intro_id)
        intro.stage_changed_at = datetime.now(timezone.utc) - timedelta(days=95)
        db.session.commit()
    assert "requested 2 follow-up ratings" in runner.invoke(args=["brokering", "sweep"]).output
    assert "requested 0 follow-up ratings" in runner.invoke(args=["brokering", "sweep"]).output
    with app.app_context():
        ratings = {r.side: r.id for r in db.session.scalars(select(FollowupRating))}
    [note] = _notes(app, w.hospital_user, kind="rating_request")
    assert note.link == f"/ratings/{ratings['need']}"

    page = w.c_hospital.get(note.link).get_data(as_text=True)
    assert 'value="no_contact"' in page and 'value="agreement"' in page and 'name="csrf_token"' in page
    assert w.c_hospital.post(note.link, data={"answer": "maybe"}).status_code == 400
    r = w.c_hospital.post(note.link, data={"answer": "agreement", "comment": "已签采购合同"})
    assert r.status_code == 302
    rating = make.get(FollowupRating, ratings["need"])
    assert (rating["answer"], rating["comment"], rating["answered_by_id"]) == ("agreement", "已签采购合同", w.hospital_user)
    page = w.c_hospital.get(note.link).get_data(as_text=True)
    assert "Agreement reached" in page or "已达成协议" in page
    # the other side answers its own request only; the broker reads; strangers see nothing
    assert w.c_firm.get(note.link).status_code == 404
    assert w.c_firm.post(f"/ratings/{ratings['offer']}", data={"answer": "negotiating"}).status_code == 302
    assert w.c_broker.get(note.link).status_code == 200
    assert w.c_broker.post(note.link, data={"answer": "no_contact"}).status_code == 403
    assert w.c_stranger.get(note.link).status_code == 404
    listing = w.c_broker.get("/ratings/").get_data(as_text=True)
    assert f'data-rating="{ratings["need"]}"' in listing and f'data-rating="{ratings["offer"]}"' in listing
    assert 'data-rating' not in w.c_stranger.get("/ratings/").get_data(as_text=True)


def test_rating_delay_is_configurable(app, make, rebuilds):
    w = _world(app, make)
    intro_id = _accepted(w)
    w.c_broker.post(f"/brokering/{intro_id}/stage", data={"to_stage": "lost", "reason": "预算取消"})
    with app.app_context():
        db.session.get(Introduction, intro_id).stage_changed_at = datetime.now(timezone.utc) - timedelta(days=40)
        db.session.commit()
    assert "requested 0" in app.test_cli_runner().invoke(args=["brokering", "sweep"]).output
    app.config["FOLLOWUP_RATING_MONTHS"] = 1
    try:
        assert "requested 2" in app.test_cli_runner().invoke(args=["brokering", "sweep"]).output
    finally:
        app.config["FOLLOWUP_RATING_MONTHS"] = 3
    assert make.get(FollowupRating, _notes(app, w.firm_user, kind="rating_request")[0].link.rsplit("/", 1)[1]
                    )["outcome"] == "lost"


def test_notification_forms_require_csrf(csrf_app, make):
    app = csrf_app
    _, _, email_ = make.member("hospital")
    client = app.test_client()
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"email": email_, "password": "correct-horse-battery-9", "csrf_token": token})
    assert client.post("/notifications/read-all").status_code == 400
    assert client.post("/account/notifications", data={"on": ["site:reply"]}).status_code == 400
    page = client.get("/account/notifications").get_data(as_text=True)
    r = client.post("/account/notifications", data={"on": ["site:reply"], "csrf_token": csrf_token_from(page)})
    assert r.status_code == 302


def test_pages_need_login(client):
    for path in ("/notifications/", "/account/notifications", "/account/saved-searches", "/ratings/",
                 "/brokering/funnel"):
        r = client.get(path)
        assert r.status_code == 302 and "/login" in r.headers["Location"], path



def test_counted_messages_read_right_for_one_and_for_several(app):
    """ "1 new results" was shown to English readers; the count picks the form in the reader's language."""
    from flask_babel import force_locale

    from marketplace.services import notifications

    def saved_search(count):
        note = Notification(user_id=1, kind="saved_search", message_key="saved_search",
                            params={"count": count, "name": {"zh": "呼吸机", "en": "ventilators"}})
        return notifications.render(note, "en")[1]

    with app.test_request_context():
        with force_locale("en"):
            assert saved_search(1) == '1 new result for "ventilators".'
            assert saved_search(3) == '3 new results for "ventilators".'
            assert notifications.digest_subject(1) == "Your TechBridge digest: 1 notification"
            assert notifications.digest_subject(4) == "Your TechBridge digest: 4 notifications"
        with force_locale("zh"):
            assert notifications.digest_subject(1) == "科创桥每日摘要：1条通知"
            note = Notification(user_id=1, kind="saved_search", message_key="saved_search",
                                params={"count": 2, "name": {"zh": "呼吸机", "en": "ventilators"}})
            assert notifications.render(note, "zh")[1] == "“呼吸机”有2条新结果。"
