"""Docking: members request introductions from any page, answer them, talk and see each other's contacts,
and nobody else ever sees those contacts or messages."""
from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

from sqlalchemy import func, select, update

from marketplace.extensions import db
from marketplace.models import Introduction, IntroductionMessage, Notification, Organization
from tests.conftest import login

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _as(app, email):
    client = app.test_client()
    assert login(client, email).status_code == 302
    return client


def _world(app, make):
    hospital, hospital_user, hospital_email = make.member("hospital")
    firm, firm_user, firm_email = make.member("firm")
    third, _, third_email = make.member("firm")
    _, broker_email = make.staff("broker")
    _, operator_email = make.staff("operator")
    with app.app_context():
        db.session.execute(update(Organization).where(Organization.id == firm).values(
            contact_name="王经理", contact_email="sales@ct-maker.example", contact_phone="010-12345678"))
        db.session.commit()
    offer = make.offer(firm, title_zh="移动CT扫描仪", title_en="Mobile CT scanner")
    need = make.need(hospital, title_zh="采购移动CT", title_en="Buy a mobile CT")
    return SimpleNamespace(hospital=hospital, firm=firm, third=third, offer=offer, need=need,
                           hospital_user=hospital_user, firm_user=firm_user,
                           c_hospital=_as(app, hospital_email), c_firm=_as(app, firm_email),
                           c_third=_as(app, third_email), c_broker=_as(app, broker_email),
                           c_operator=_as(app, operator_email), c_visitor=app.test_client())


def _request(w, client=None, **data) -> int:
    form = {"offer_id": w.offer, "purpose": "purchase", "message": "我院需要一台移动CT，请联系。"}
    form.update(data)
    r = (client or w.c_hospital).post("/docking/request", data=form)
    assert r.status_code == 302, r.get_data(as_text=True)
    return int(r.headers["Location"].rstrip("/").rsplit("/", 1)[1])


def _accepted(w) -> int:
    intro_id = _request(w)
    r = w.c_firm.post(f"/brokering/{intro_id}/respond", data={"decision": "accepted"})
    assert r.status_code == 302
    return intro_id


def test_visitor_is_sent_to_log_in_and_comes_back_to_the_form(app, make):
    w = _world(app, make)
    r = w.c_visitor.get(f"/docking/request?offer_id={w.offer}")
    assert r.status_code == 302 and r.headers["Location"].startswith("/login?next=")
    assert "%2Fdocking%2Frequest%3Foffer_id" in r.headers["Location"]


def test_request_from_an_offer_counts_the_requester_as_accepted_and_asks_the_other_side(app, make):
    w = _world(app, make)
    page = w.c_hospital.get(f"/offers/{w.offer}").get_data(as_text=True)
    assert f"/docking/request?offer_id={w.offer}" in page
    assert "/docking/request" not in w.c_firm.get(f"/offers/{w.offer}").get_data(as_text=True)  # own offer
    intro_id = _request(w)
    with app.app_context():
        intro = db.session.get(Introduction, intro_id)
        assert (intro.source, intro.requester_side, intro.need_response, intro.offer_response, intro.stage) == (
            "request", "need", "accepted", "pending", "proposed")
        assert intro.need_id is None and intro.offer_id == w.offer and intro.broker_id is None
        told = db.session.scalars(select(Notification.message_key).where(Notification.user_id == w.firm_user)).all()
        assert "introduction_requested" in told
    mine = w.c_firm.get("/docking/").get_data(as_text=True)
    assert f'data-intro="{intro_id}"' in mine and 'id="received-count">1<' in mine
    assert 'id="docking-count"' in w.c_firm.get("/docking/").get_data(as_text=True)


def test_self_requests_and_duplicates_are_refused_with_a_clear_message(app, make):
    w = _world(app, make)
    r = w.c_firm.post("/docking/request", data={"offer_id": w.offer, "purpose": "purchase", "message": "hi"})
    assert r.status_code == 400 and "不能向本机构申请对接" in r.get_data(as_text=True)
    _request(w)
    r = w.c_hospital.post("/docking/request", data={"offer_id": w.offer, "purpose": "purchase", "message": "again"})
    assert r.status_code == 409
    with app.app_context():
        assert db.session.scalar(select(func.count(Introduction.id))) == 1


def test_bad_requests_change_nothing(app, make):
    w = _world(app, make)
    for data in ({"offer_id": w.offer, "purpose": "", "message": "x"},
                 {"offer_id": w.offer, "purpose": "purchase", "message": ""},
                 {"offer_id": w.offer, "purpose": "purchase", "message": "x" * 2001},
                 {"offer_id": w.offer, "purpose": "bribe", "message": "x"},
                 {"offer_id": w.offer, "purpose": "purchase", "message": "x", "own_need_id": "99999999999999"}):
        assert w.c_hospital.post("/docking/request", data=data).status_code == 400
    assert w.c_hospital.post("/docking/request", data={"offer_id": "9" * 30, "purpose": "purchase",
                                                       "message": "x"}).status_code == 404
    assert w.c_hospital.get("/docking/request?offer_id=abc").status_code == 404
    with app.app_context():
        assert db.session.scalar(select(func.count(Introduction.id))) == 0


def test_contacts_and_messages_only_after_both_accepted_and_only_for_the_sides(app, make):
    w = _world(app, make)
    intro_id = _request(w)
    page = w.c_hospital.get(f"/brokering/{intro_id}").get_data(as_text=True)
    assert "sales@ct-maker.example" not in page and 'id="contacts-closed"' in page
    r = w.c_hospital.post(f"/docking/introductions/{intro_id}/messages", data={"body": "你好"})
    assert r.status_code == 303
    with app.app_context():
        assert db.session.scalar(select(func.count(IntroductionMessage.id))) == 0
    w.c_firm.post(f"/brokering/{intro_id}/respond", data={"decision": "accepted"})
    page = w.c_hospital.get(f"/brokering/{intro_id}").get_data(as_text=True)
    assert "sales@ct-maker.example" in page and "010-12345678" in page and page.count("contact-card") == 2
    r = w.c_hospital.post(f"/docking/introductions/{intro_id}/messages",
                          data={"body": "请发报价单", "file": (io.BytesIO(PDF), "需求说明.pdf")},
                          content_type="multipart/form-data")
    assert r.status_code == 302
    w.c_firm.post(f"/docking/introductions/{intro_id}/messages", data={"body": "报价单已附上 <3"})
    polled = w.c_firm.get(f"/docking/introductions/{intro_id}/messages.json?after=0").get_json()
    assert [m["body"] for m in polled["messages"]] == ["请发报价单", "报价单已附上 <3"]
    file_url = polled["messages"][0]["file"]["url"]
    download = w.c_firm.get(file_url)
    assert download.status_code == 200 and download.data == PDF
    # nobody else: a third organisation, a visitor, another broker's view is the operator's only
    for client in (w.c_third, w.c_visitor):
        assert client.get(f"/brokering/{intro_id}").status_code in (302, 404)
        assert client.get(f"/docking/introductions/{intro_id}/messages.json").status_code in (302, 404)
        assert client.get(file_url).status_code in (302, 404)
        assert client.post(f"/docking/introductions/{intro_id}/messages", data={"body": "x"}).status_code in (302, 404)
    assert w.c_broker.get(f"/docking/introductions/{intro_id}/messages.json").status_code == 404
    assert w.c_operator.get(f"/docking/introductions/{intro_id}/messages.json").status_code == 200


def test_message_input_is_checked(app, make):
    w = _world(app, make)
    intro_id = _accepted(w)
    for body in ("", "   ", "x" * 4001, "<script>alert(1)</script>", '<a href="http://evil">x</a>'):
        r = w.c_hospital.post(f"/docking/introductions/{intro_id}/messages", data={"body": body})
        assert r.status_code == 303
    r = w.c_hospital.post(f"/docking/introductions/{intro_id}/messages",
                          data={"body": "x", "file": (io.BytesIO(b"MZ\x90\x00binary"), "virus.exe")},
                          content_type="multipart/form-data")
    assert r.status_code == 303
    with app.app_context():
        assert db.session.scalar(select(func.count(IntroductionMessage.id))) == 0
    assert w.c_hospital.post(f"/docking/introductions/{intro_id}/messages", data={"body": "a < b, 3 > 2"}
                             ).status_code == 302


def test_no_messages_to_a_declined_or_expired_introduction(app, make):
    w = _world(app, make)
    declined = _request(w)
    w.c_firm.post(f"/brokering/{declined}/respond", data={"decision": "declined", "reason": "暂无产能"})
    assert w.c_hospital.post(f"/docking/introductions/{declined}/messages", data={"body": "为什么"}).status_code == 303
    with app.app_context():
        assert db.session.scalar(select(func.count(IntroductionMessage.id))) == 0
    expired = _request(w, client=w.c_hospital, purpose="trial")
    with app.app_context():
        db.session.execute(update(Introduction).where(Introduction.id == expired).values(
            expires_at=datetime.now(timezone.utc) - timedelta(days=1)))
        db.session.commit()
    r = w.c_firm.post(f"/brokering/{expired}/respond", data={"decision": "accepted"})
    assert r.status_code == 302
    with app.app_context():
        assert db.session.get(Introduction, expired).stage == "proposed"


def test_new_messages_are_told_once_until_read(app, make):
    w = _world(app, make)
    intro_id = _accepted(w)
    for text in ("一", "二", "三"):
        w.c_hospital.post(f"/docking/introductions/{intro_id}/messages", data={"body": text})
    with app.app_context():
        notes = db.session.scalars(select(Notification).where(Notification.user_id == w.firm_user,
                                                              Notification.kind == "message")).all()
        assert len(notes) == 1
    assert 'class="badge rounded-pill text-bg-danger unread"' in w.c_firm.get("/docking/").get_data(as_text=True)
    w.c_firm.get(f"/brokering/{intro_id}")  # reading the thread
    assert "unread" not in w.c_firm.get("/docking/").get_data(as_text=True).split('id="conversations"')[1][:400]
    w.c_hospital.post(f"/docking/introductions/{intro_id}/messages", data={"body": "四"})
    with app.app_context():
        assert db.session.scalar(select(func.count(Notification.id)).where(
            Notification.user_id == w.firm_user, Notification.kind == "message")) == 2


def test_reported_messages_reach_the_operators(app, make):
    w = _world(app, make)
    intro_id = _accepted(w)
    w.c_hospital.post(f"/docking/introductions/{intro_id}/messages", data={"body": "加微信转账"})
    with app.app_context():
        message_id = db.session.scalar(select(IntroductionMessage.id))
    assert w.c_hospital.post(f"/docking/messages/{message_id}/report", data={"reason": "x"}).status_code == 302
    r = w.c_firm.post(f"/docking/messages/{message_id}/report", data={"reason": "疑似诈骗"})
    assert r.status_code == 302
    assert w.c_third.post(f"/docking/messages/{message_id}/report", data={"reason": "x"}).status_code == 404
    with app.app_context():
        message = db.session.get(IntroductionMessage, message_id)
        assert message.report_reason == "疑似诈骗"
        assert db.session.scalar(select(func.count(Notification.id)).where(
            Notification.message_key == "message_reported")) == 1


def test_mediated_only_organisations_stay_anonymous_until_they_accept(app, make):
    w = _world(app, make)
    with app.app_context():
        db.session.execute(update(Organization).where(Organization.id == w.firm).values(mediated_only=True))
        firm_name = db.session.get(Organization, w.firm).name_zh
        db.session.commit()
    intro_id = _request(w, mediation="1")
    page = w.c_hospital.get(f"/brokering/{intro_id}").get_data(as_text=True)
    assert "一家经平台居间的机构" in page
    assert firm_name not in page.split('id="responses"')[1][:2000]
    w.c_firm.post(f"/brokering/{intro_id}/respond", data={"decision": "accepted"})
    assert firm_name in w.c_hospital.get(f"/brokering/{intro_id}").get_data(as_text=True)


def test_a_broker_joins_a_request_that_asks_for_mediation(app, make):
    w = _world(app, make)
    intro_id = _request(w, mediation="1")
    assert w.c_hospital.post(f"/docking/introductions/{intro_id}/join").status_code == 403
    assert w.c_broker.post(f"/docking/introductions/{intro_id}/join").status_code == 302
    with app.app_context():
        assert db.session.get(Introduction, intro_id).broker_id is not None
    r = w.c_broker.post(f"/docking/introductions/{intro_id}/join")
    assert r.status_code == 302  # already taken: a clear message, not a second broker


def test_requests_asking_for_mediation_wait_in_the_broker_queue(app, make):
    w = _world(app, make)
    intro_id = _request(w, mediation="1")
    page = w.c_broker.get("/matches/queue").get_data(as_text=True)
    assert f'class="list-group-item d-flex flex-wrap justify-content-between gap-2 mediation-item" data-intro="{intro_id}"' in page
    w.c_broker.post(f"/docking/introductions/{intro_id}/join")
    assert 'id="mediation-queue"' not in w.c_broker.get("/matches/queue").get_data(as_text=True)
    assert w.c_hospital.get("/matches/queue").status_code == 403


def test_navigation_counts_requests_to_answer_and_unread_conversations(app, make):
    from marketplace.queries import docking as docking_q
    w = _world(app, make)
    first = _request(w)
    second = _request(w, client=w.c_hospital, need_id=None, offer_id=None, organization_id=w.firm)
    with app.app_context():
        from marketplace.models import User
        firm_user = db.session.get(User, w.firm_user)
        hospital_user = db.session.get(User, w.hospital_user)
        assert docking_q.waiting_count(firm_user) == 2 and docking_q.waiting_count(hospital_user) == 0
        assert docking_q.my_docking(firm_user).waiting == 2
    w.c_firm.post(f"/brokering/{first}/respond", data={"decision": "accepted"})
    w.c_firm.post(f"/brokering/{second}/respond", data={"decision": "declined", "reason": "暂不合作"})
    w.c_firm.post(f"/docking/introductions/{first}/messages", data={"body": "您好"})
    with app.app_context():
        assert docking_q.waiting_count(db.session.get(User, w.firm_user)) == 0
        assert docking_q.waiting_count(db.session.get(User, w.hospital_user)) == 1


def test_read_markers_only_move_forward_and_parallel_readers_do_not_fail(app, make):
    from concurrent.futures import ThreadPoolExecutor

    from marketplace.models import IntroductionReadMarker, User
    from marketplace.services import conversations
    w = _world(app, make)
    intro_id = _accepted(w)
    for text in ("一", "二", "三"):
        w.c_hospital.post(f"/docking/introductions/{intro_id}/messages", data={"body": text})
    with app.app_context():
        first, second, _third = db.session.scalars(select(IntroductionMessage.id).order_by(IntroductionMessage.id))
    clients = [app.test_client() for _ in range(4)]
    for client in clients:
        login(client, db_email(app, w.firm_user))
    with ThreadPoolExecutor(4) as pool:  # four tabs of the same person open the thread at once
        codes = list(pool.map(lambda c: c.get(f"/docking/introductions/{intro_id}/messages.json?after=0").status_code,
                              clients))
    assert codes == [200] * 4
    with app.app_context():
        user, intro = db.session.get(User, w.firm_user), db.session.get(Introduction, intro_id)
        assert conversations.mark_read(user, intro, first) > first  # an older position never moves it back
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(IntroductionReadMarker)) >= 1
        assert db.session.get(IntroductionReadMarker, (intro_id, w.firm_user)).last_read_message_id > second


def db_email(app, user_id) -> str:
    from marketplace.models import User
    with app.app_context():
        return db.session.get(User, user_id).email
