"""Brokering: introductions, answers with reasons, expiry and reminders, the deal pipeline with its history,
follow-ups and overdue lists, the feedback to matching, and who may see what."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from marketplace import jobs
from marketplace.extensions import db
from marketplace.models import Introduction, IntroductionEvent, IntroductionTask, MatchFeedback, MatchSuggestion
from marketplace.services import matching
from tests.conftest import csrf_token_from, login


# --- helpers ------------------------------------------------------------------------------------------

def _as(app, email):
    client = app.test_client()
    assert login(client, email).status_code == 302
    return client


def _world(app, make):
    """A hospital with a need, a firm with an offer, a broker, an operator, another broker and a stranger."""
    hospital, hospital_user, hospital_email = make.member("hospital")
    firm, firm_user, firm_email = make.member("firm")
    stranger_org, _, stranger_email = make.member("firm")
    need = make.need(hospital, title_zh="采购ICU呼吸机", title_en="ICU ventilators")
    offer = make.offer(firm, title_zh="ICU有创呼吸机", title_en="ICU invasive ventilator")
    broker, broker_email = make.staff("broker")
    _, other_broker_email = make.staff("broker")
    _, operator_email = make.staff("operator")
    return SimpleNamespace(
        hospital=hospital, hospital_user=hospital_user, firm=firm, firm_user=firm_user, need=need, offer=offer,
        broker=broker, stranger_org=stranger_org,
        c_hospital=_as(app, hospital_email), c_firm=_as(app, firm_email), c_broker=_as(app, broker_email),
        c_other_broker=_as(app, other_broker_email), c_operator=_as(app, operator_email),
        c_stranger=_as(app, stranger_email))


def _propose(w, message="两家可以谈谈呼吸机采购。") -> int:
    r = w.c_broker.post("/brokering/propose", data={"need_id": w.need, "offer_id": w.offer, "message": message})
    assert r.status_code == 302, r.get_data(as_text=True)
    return int(r.headers["Location"].rstrip("/").rsplit("/", 1)[1])


def _accepted(w) -> int:
    intro_id = _propose(w)
    assert w.c_hospital.post(f"/brokering/{intro_id}/respond", data={"decision": "accepted"}).status_code == 302
    assert w.c_firm.post(f"/brokering/{intro_id}/respond", data={"decision": "accepted"}).status_code == 302
    return intro_id


def _intro(app, intro_id) -> Introduction:
    with app.app_context():
        intro = db.session.get(Introduction, intro_id)
        db.session.expunge(intro)
        return intro


def _events(app, intro_id) -> list[tuple]:
    with app.app_context():
        return [(e.kind, e.side, e.from_stage, e.to_stage, e.actor_id, e.reason) for e in db.session.scalars(
            select(IntroductionEvent).where(IntroductionEvent.introduction_id == intro_id)
            .order_by(IntroductionEvent.id))]


@pytest.fixture
def rebuilds(monkeypatch):
    """Record matching.rebuild runs instead of fitting the engine."""
    calls = []
    monkeypatch.setitem(jobs.REGISTRY, matching.REBUILD_JOB, lambda: calls.append(1))
    return calls


# --- proposing and answering --------------------------------------------------------------------------

def test_broker_proposes_from_the_pairing_queue_and_both_sides_accept(app, make):
    w = _world(app, make)
    with app.app_context():
        suggestion = MatchSuggestion(need_id=w.need, offer_id=w.offer, rank=1, score=0.9, parts={}, reasons=[])
        db.session.add(suggestion)
        db.session.commit()
        suggestion_id = suggestion.id
    html = w.c_broker.get("/matches/queue").get_data(as_text=True)
    assert 'class="propose-introduction"' in html and f'name="suggestion_id" value="{suggestion_id}"' in html
    r = w.c_broker.post("/brokering/propose", data={"suggestion_id": suggestion_id, "message": "请联系",
                                                    "next": "/matches/queue"})
    intro_id = int(r.headers["Location"].rsplit("/", 1)[1])
    intro = _intro(app, intro_id)
    assert (intro.source, intro.stage, intro.broker_id, intro.need_organization_id, intro.offer_organization_id) == (
        "suggestion", "proposed", w.broker, w.hospital, w.firm)
    assert timedelta(days=13, hours=23) < intro.expires_at.replace(tzinfo=None) - intro.created_at.replace(
        tzinfo=None) <= timedelta(days=14)

    # the hospital sees it in its list with answer buttons, and accepts
    mine = w.c_hospital.get("/brokering/mine").get_data(as_text=True)
    assert "请联系" in mine and 'value="accepted"' in mine and 'value="declined"' in mine
    w.c_hospital.post(f"/brokering/{intro_id}/respond", data={"decision": "accepted"})
    assert _intro(app, intro_id).stage == "proposed"  # still waiting for the firm
    assert 'value="accepted"' not in w.c_hospital.get("/brokering/mine").get_data(as_text=True)
    w.c_firm.post(f"/brokering/{intro_id}/respond", data={"decision": "accepted"})
    intro = _intro(app, intro_id)
    assert (intro.need_response, intro.offer_response, intro.stage) == ("accepted", "accepted", "accepted")
    assert intro.need_responded_by_id == w.hospital_user and intro.offer_responded_by_id == w.firm_user
    kinds = [(k, side, f, t) for k, side, f, t, _, _ in _events(app, intro_id)]
    assert kinds == [("proposed", "", None, "proposed"), ("response", "need", "proposed", "accepted"),
                     ("response", "offer", "proposed", "accepted"), ("stage", "offer", "proposed", "accepted")]
    # answering twice is refused
    r = w.c_firm.post(f"/brokering/{intro_id}/respond", data={"decision": "declined", "reason": "x"},
                      follow_redirects=True)
    assert _intro(app, intro_id).offer_response == "accepted" and 'alert-danger' in r.get_data(as_text=True)


def test_propose_by_hand_form_and_from_need_page(app, make):
    w = _world(app, make)
    assert w.c_broker.get("/brokering/propose?need_id=5").status_code == 200
    r = w.c_broker.post("/brokering/propose", data={"need_id": w.need, "offer_id": w.offer, "message": ""})
    assert r.status_code == 400
    r = w.c_broker.post("/brokering/propose", data={"need_id": "abc", "offer_id": w.offer, "message": "hi"})
    assert r.status_code == 400
    with app.app_context():
        db.session.add(MatchSuggestion(need_id=w.need, offer_id=w.offer, rank=1, score=0.9, parts={}, reasons=[]))
        db.session.commit()
    page = w.c_broker.get(f"/needs/{w.need}").get_data(as_text=True)
    assert "propose-introduction" in page and f'name="offer_id" value="{w.offer}"' in page
    assert "propose-introduction" not in w.c_hospital.get(f"/needs/{w.need}").get_data(as_text=True)
    r = w.c_broker.post("/brokering/propose", data={"need_id": w.need, "offer_id": w.offer, "message": "hi",
                                                    "next": f"/needs/{w.need}#matches"})
    assert r.status_code == 302 and "/brokering/" in r.headers["Location"]
    # the same pairing cannot be introduced twice while the first is live; the inline form goes back
    r = w.c_broker.post("/brokering/propose", data={"need_id": w.need, "offer_id": w.offer, "message": "again",
                                                    "next": f"/needs/{w.need}#matches"})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/needs/{w.need}#matches")
    r = w.c_broker.post("/brokering/propose", data={"need_id": w.need, "offer_id": w.offer, "message": "again",
                                                    "next": "//evil.example/x"})
    assert r.headers["Location"].endswith("/brokering/propose")
    with app.app_context():
        assert len(db.session.scalars(select(Introduction)).all()) == 1


def test_only_brokers_propose_and_sides_must_differ(app, make):
    w = _world(app, make)
    assert w.c_hospital.post("/brokering/propose", data={"need_id": w.need, "offer_id": w.offer,
                                                         "message": "hi"}).status_code == 403
    assert w.c_hospital.get("/brokering/propose").status_code == 403
    own_offer = make.offer(w.hospital)
    r = w.c_broker.post("/brokering/propose", data={"need_id": w.need, "offer_id": own_offer, "message": "hi"})
    assert r.status_code == 400
    draft = make.offer(w.firm, status="draft")
    assert w.c_broker.post("/brokering/propose", data={"need_id": w.need, "offer_id": draft,
                                                       "message": "hi"}).status_code == 404
    closed = make.need(w.hospital, status="closed")
    assert w.c_broker.post("/brokering/propose", data={"need_id": closed, "offer_id": w.offer,
                                                       "message": "hi"}).status_code == 400
    with app.app_context():
        assert db.session.scalars(select(Introduction)).all() == []


def test_decline_needs_a_reason_that_the_other_side_and_the_broker_see(app, make):
    w = _world(app, make)
    intro_id = _propose(w)
    w.c_firm.post(f"/brokering/{intro_id}/respond", data={"decision": "declined", "reason": ""})
    assert _intro(app, intro_id).stage == "proposed"
    w.c_firm.post(f"/brokering/{intro_id}/respond", data={"decision": "declined", "reason": "产能已满，年底前无法供货"})
    intro = _intro(app, intro_id)
    assert (intro.stage, intro.offer_response, intro.offer_reason) == ("declined", "declined", "产能已满，年底前无法供货")
    for client in (w.c_hospital, w.c_broker):
        assert "产能已满，年底前无法供货" in client.get(f"/brokering/{intro_id}").get_data(as_text=True)
    assert "产能已满" in w.c_hospital.get("/brokering/mine").get_data(as_text=True)
    board = w.c_broker.get("/brokering/board").get_data(as_text=True)
    assert f'data-intro="{intro_id}"' in board.split('id="stage-declined"')[1].split("</section>")[0]
    # the other side can no longer accept a declined introduction, and a broker cannot answer for a side
    w.c_hospital.post(f"/brokering/{intro_id}/respond", data={"decision": "accepted"})
    assert _intro(app, intro_id).need_response == "pending"
    assert w.c_broker.post(f"/brokering/{intro_id}/respond", data={"decision": "accepted"}).status_code == 403
    # declined pairings may be proposed again later
    assert _propose(w) != intro_id


# --- expiry and reminders -----------------------------------------------------------------------------

def _shift_expiry(app, intro_id, delta: timedelta):
    with app.app_context():
        db.session.get(Introduction, intro_id).expires_at = datetime.now(timezone.utc) + delta
        db.session.commit()


def test_sweep_reminds_once_then_expires(app, make):
    w = _world(app, make)
    intro_id = _propose(w)
    _shift_expiry(app, intro_id, timedelta(days=2))  # inside the 3-day reminder window
    runner = app.test_cli_runner()
    result = runner.invoke(args=["brokering", "sweep"])
    assert result.exit_code == 0 and "reminded 1" in result.output, result.output
    assert "reminded 0" in runner.invoke(args=["brokering", "sweep"]).output
    assert _intro(app, intro_id).reminded_at is not None
    _shift_expiry(app, intro_id, timedelta(minutes=-1))
    # answering after the deadline is refused even before the sweep has run
    w.c_hospital.post(f"/brokering/{intro_id}/respond", data={"decision": "accepted"})
    assert _intro(app, intro_id).need_response == "pending"
    result = runner.invoke(args=["brokering", "sweep"])
    assert "expired 1" in result.output
    assert _intro(app, intro_id).stage == "expired"
    kinds = [(k, f, t, actor) for k, _, f, t, actor, _ in _events(app, intro_id)]
    assert kinds[1:] == [("reminder", "proposed", "proposed", None), ("stage", "proposed", "expired", None)]
    assert "expired 0" in runner.invoke(args=["brokering", "sweep"]).output


def test_sweep_runs_after_each_introduction_change_and_expiry_is_configurable(app, make):
    w = _world(app, make)
    old = _propose(w)
    _shift_expiry(app, old, timedelta(seconds=-5))
    other_offer = make.offer(w.firm)
    app.config["INTRODUCTION_EXPIRY_DAYS"] = 3
    try:
        r = w.c_broker.post("/brokering/propose", data={"need_id": w.need, "offer_id": other_offer, "message": "hi"})
    finally:
        app.config["INTRODUCTION_EXPIRY_DAYS"] = 14
    new = _intro(app, int(r.headers["Location"].rsplit("/", 1)[1]))
    assert _intro(app, old).stage == "expired"  # swept by the job enqueued with the new proposal
    gap = new.expires_at.replace(tzinfo=None) - new.created_at.replace(tzinfo=None)
    assert timedelta(days=2, hours=23) < gap <= timedelta(days=3)
    assert new.reminded_at is not None  # 3 days is within the reminder window at once


# --- pipeline -----------------------------------------------------------------------------------------

def test_pipeline_moves_are_recorded_and_signed_feeds_matching(app, make, rebuilds):
    w = _world(app, make)
    intro_id = _accepted(w)
    for stage in ("contacted", "meeting_held", "nda_signed", "pilot", "negotiation"):
        r = w.c_broker.post(f"/brokering/{intro_id}/stage", data={"to_stage": stage, "reason": f"步骤 {stage}"})
        assert r.status_code == 302
    assert _intro(app, intro_id).stage == "negotiation"
    # a side's member may look but not move the deal
    assert w.c_hospital.post(f"/brokering/{intro_id}/stage", data={"to_stage": "signed"}).status_code == 403
    assert rebuilds == []
    w.c_broker.post(f"/brokering/{intro_id}/stage", data={"to_stage": "signed", "reason": "合同已签"})
    intro = _intro(app, intro_id)
    assert intro.stage == "signed"
    stage_events = [(f, t, actor, why) for k, _, f, t, actor, why in _events(app, intro_id) if k == "stage"]
    assert stage_events[-6:] == [
        ("accepted", "contacted", w.broker, "步骤 contacted"), ("contacted", "meeting_held", w.broker, "步骤 meeting_held"),
        ("meeting_held", "nda_signed", w.broker, "步骤 nda_signed"), ("nda_signed", "pilot", w.broker, "步骤 pilot"),
        ("pilot", "negotiation", w.broker, "步骤 negotiation"), ("negotiation", "signed", w.broker, "合同已签")]
    with app.app_context():
        feedback = db.session.scalars(select(MatchFeedback)).all()
        assert [(f.need_id, f.offer_id, f.user_id, f.decision) for f in feedback] == [
            (w.need, w.offer, w.broker, "signed")]
    assert rebuilds == [1]
    # a signed deal is closed: no further moves
    w.c_broker.post(f"/brokering/{intro_id}/stage", data={"to_stage": "lost", "reason": "x"})
    assert _intro(app, intro_id).stage == "signed"
    # the history is shown on the page with who and why
    html = w.c_hospital.get(f"/brokering/{intro_id}").get_data(as_text=True)
    assert "合同已签" in html.split('id="history-table"')[1] and 'data-kind="stage"' in html


def test_lost_needs_a_reason_and_becomes_dismissed_feedback(app, make, rebuilds):
    w = _world(app, make)
    intro_id = _accepted(w)
    with app.app_context():  # an earlier "accepted" verdict of the broker is replaced, not duplicated
        db.session.add(MatchFeedback(need_id=w.need, offer_id=w.offer, user_id=w.broker, decision="accepted"))
        db.session.commit()
    w.c_broker.post(f"/brokering/{intro_id}/stage", data={"to_stage": "lost", "reason": " "})
    assert _intro(app, intro_id).stage == "accepted"
    w.c_broker.post(f"/brokering/{intro_id}/stage", data={"to_stage": "lost", "reason": "预算被砍"})
    intro = _intro(app, intro_id)
    assert (intro.stage, intro.lost_reason) == ("lost", "预算被砍")
    with app.app_context():
        assert [(f.decision, f.reason) for f in db.session.scalars(select(MatchFeedback))] == [("dismissed", "预算被砍")]
    assert "预算被砍" in w.c_firm.get(f"/brokering/{intro_id}").get_data(as_text=True)
    # an unknown stage or a request that was never accepted cannot move
    other = make.offer(w.firm)
    pending = int(w.c_broker.post("/brokering/propose", data={"need_id": w.need, "offer_id": other, "message": "m"})
                  .headers["Location"].rsplit("/", 1)[1])
    w.c_broker.post(f"/brokering/{pending}/stage", data={"to_stage": "contacted"})
    assert _intro(app, pending).stage == "proposed"


def test_board_groups_by_stage_and_edits_deal_value(app, make, rebuilds):
    w = _world(app, make)
    intro_id = _accepted(w)
    pending = _propose_other(w, make)
    r = w.c_broker.post(f"/brokering/{intro_id}/value", data={"deal_value_rmb": "4,320,000", "next": "/brokering/board"})
    assert r.headers["Location"].endswith("/brokering/board")
    assert _intro(app, intro_id).deal_value_rmb == Decimal("4320000.00")
    w.c_broker.post(f"/brokering/{intro_id}/value", data={"deal_value_rmb": "-5"})
    assert _intro(app, intro_id).deal_value_rmb == Decimal("4320000.00")
    assert w.c_firm.post(f"/brokering/{intro_id}/value", data={"deal_value_rmb": "1"}).status_code == 403
    html = w.c_broker.get("/brokering/board").get_data(as_text=True)
    accepted_section = html.split('id="stage-accepted"')[1].split("</section>")[0]
    proposed_section = html.split('id="stage-proposed"')[1].split("</section>")[0]
    assert f'data-intro="{intro_id}"' in accepted_section and "432 万元" in accepted_section
    assert 'class="move-form' in accepted_section and 'class="value-form' in accepted_section
    assert f'data-intro="{pending}"' in proposed_section
    assert next(e for e in _events(app, intro_id) if e[0] == "value")[4] == w.broker
    # the board is the broker's own: another broker sees nothing, the operator sees all, members get 403
    assert f'data-intro="{intro_id}"' not in w.c_other_broker.get("/brokering/board").get_data(as_text=True)
    assert f'data-intro="{intro_id}"' in w.c_operator.get("/brokering/board").get_data(as_text=True)
    assert w.c_hospital.get("/brokering/board").status_code == 403


def _propose_other(w, make) -> int:
    other = make.offer(w.firm)
    r = w.c_broker.post("/brokering/propose", data={"need_id": w.need, "offer_id": other, "message": "m"})
    return int(r.headers["Location"].rsplit("/", 1)[1])


# --- follow-ups ---------------------------------------------------------------------------------------

def test_follow_ups_with_owner_due_date_and_overdue_lists(app, make):
    w = _world(app, make)
    intro_id = _accepted(w)
    yesterday, next_week = date.today() - timedelta(days=1), date.today() + timedelta(days=7)
    w.c_broker.post(f"/brokering/{intro_id}/tasks", data={"title": "发送报价单", "due_on": yesterday.isoformat(),
                                                          "owner_id": w.firm_user})
    w.c_hospital.post(f"/brokering/{intro_id}/tasks", data={"title": "安排现场演示", "due_on": next_week.isoformat(),
                                                            "owner_id": w.hospital_user})
    # the owner must be one of the introduction's people
    _, outsider, _ = make.member("firm")
    w.c_broker.post(f"/brokering/{intro_id}/tasks", data={"title": "x", "due_on": yesterday.isoformat(),
                                                          "owner_id": outsider})
    w.c_broker.post(f"/brokering/{intro_id}/tasks", data={"title": "", "due_on": "", "owner_id": w.broker})
    with app.app_context():
        tasks = db.session.scalars(select(IntroductionTask).order_by(IntroductionTask.id)).all()
        assert [(t.title, t.owner_id) for t in tasks] == [("发送报价单", w.firm_user), ("安排现场演示", w.hospital_user)]
        overdue_id = tasks[0].id
    for client in (w.c_broker, w.c_operator):
        html = client.get("/brokering/overdue").get_data(as_text=True)
        assert "发送报价单" in html and "安排现场演示" not in html
    assert "发送报价单" not in w.c_other_broker.get("/brokering/overdue").get_data(as_text=True)
    assert w.c_hospital.get("/brokering/overdue").status_code == 403
    # only the owner (or the broker) closes it
    assert w.c_hospital.post(f"/brokering/{intro_id}/tasks/{overdue_id}/done").status_code == 403
    w.c_firm.post(f"/brokering/{intro_id}/tasks/{overdue_id}/done")
    assert "发送报价单" not in w.c_broker.get("/brokering/overdue").get_data(as_text=True)
    kinds = [k for k, *_ in _events(app, intro_id)]
    assert kinds.count("task") == 2 and kinds.count("task_done") == 1


# --- access -------------------------------------------------------------------------------------------

def test_introductions_are_hidden_from_everybody_else(app, make):
    w = _world(app, make)
    intro_id = _accepted(w)
    with app.app_context():
        task = IntroductionTask(introduction_id=intro_id, title="核对样机参数", due_on=date.today() - timedelta(days=3),
                                owner_id=w.broker)
        db.session.add(task)
        db.session.commit()
        task_id = task.id
    urls = [("get", f"/brokering/{intro_id}", {}),
            ("post", f"/brokering/{intro_id}/respond", {"decision": "accepted"}),
            ("post", f"/brokering/{intro_id}/stage", {"to_stage": "contacted", "reason": "r"}),
            ("post", f"/brokering/{intro_id}/value", {"deal_value_rmb": "1"}),
            ("post", f"/brokering/{intro_id}/tasks", {"title": "t", "due_on": "2030-01-01", "owner_id": w.broker}),
            ("post", f"/brokering/{intro_id}/tasks/{task_id}/done", {})]
    for client in (w.c_stranger, w.c_other_broker):
        for method, url, data in urls:
            assert getattr(client, method)(url, data=data).status_code == 404, (url, client)
        assert f'data-intro="{intro_id}"' not in client.get("/brokering/mine").get_data(as_text=True)
        overdue = client.get("/brokering/overdue")
        assert overdue.status_code == 403 if client is w.c_stranger else "核对样机参数" not in overdue.get_data(as_text=True)
    anonymous = app.test_client()
    for method, url, data in urls:
        assert getattr(anonymous, method)(url, data=data).status_code == 302  # to the login page
    # nothing changed, and the people who may see it do
    intro = _intro(app, intro_id)
    assert (intro.stage, intro.deal_value_rmb) == ("accepted", None)
    for client in (w.c_hospital, w.c_firm, w.c_broker, w.c_operator):
        assert client.get(f"/brokering/{intro_id}").status_code == 200
    assert w.c_operator.get("/brokering/overdue").get_data(as_text=True).count("核对样机参数") == 1
    # a task id of another introduction is not found through this one
    other_task_url = f"/brokering/{_propose_other(w, make)}/tasks/{task_id}/done"
    assert w.c_broker.post(other_task_url).status_code == 404


def test_nav_link_and_member_list(app, make):
    w = _world(app, make)
    intro_id = _propose(w)
    assert 'href="/brokering/board"' in w.c_broker.get("/").get_data(as_text=True)
    home = w.c_hospital.get("/").get_data(as_text=True)
    assert 'id="nav-introductions" href="/brokering/mine"' in home
    assert f'data-intro="{intro_id}"' in w.c_firm.get("/brokering/mine").get_data(as_text=True)
    assert "nav-introductions" not in app.test_client().get("/").get_data(as_text=True)


def test_forms_carry_and_require_csrf_tokens(csrf_app, make):
    app = csrf_app
    hospital, _, hospital_email = make.member("hospital")
    firm, _, _ = make.member("firm")
    need, offer = make.need(hospital), make.offer(firm)
    _, broker_email = make.staff("broker")
    broker = app.test_client()
    token = csrf_token_from(broker.get("/login").get_data(as_text=True))
    broker.post("/login", data={"email": broker_email, "password": "correct-horse-battery-9", "csrf_token": token})
    assert broker.post("/brokering/propose", data={"need_id": need, "offer_id": offer, "message": "m"}).status_code == 400
    page = broker.get("/brokering/propose").get_data(as_text=True)
    r = broker.post("/brokering/propose", data={"need_id": need, "offer_id": offer, "message": "m",
                                                "csrf_token": csrf_token_from(page)})
    assert r.status_code == 302
    detail = broker.get(r.headers["Location"]).get_data(as_text=True)
    assert detail.count('name="csrf_token"') >= 2  # logout and the follow-up form at least
    hospital_client = app.test_client()
    token = csrf_token_from(hospital_client.get("/login").get_data(as_text=True))
    hospital_client.post("/login", data={"email": hospital_email, "password": "correct-horse-battery-9",
                                         "csrf_token": token})
    mine = hospital_client.get("/brokering/mine").get_data(as_text=True)
    assert mine.count('name="csrf_token"') >= 3  # logout, accept, decline


def test_the_deal_value_can_be_recorded_once_the_deal_is_signed(app, make):
    w = _world(app, make)
    intro_id = _accepted(w)
    assert w.c_broker.post(f"/brokering/{intro_id}/stage", data={"to_stage": "signed"}).status_code == 302
    page = w.c_broker.get(f"/brokering/{intro_id}").get_data(as_text=True)
    assert 'id="signed-value"' in page
    version = _intro(app, intro_id).version
    assert w.c_broker.post(f"/brokering/{intro_id}/value",
                           data={"deal_value_rmb": "5000000", "version": version}).status_code == 302
    assert int(_intro(app, intro_id).deal_value_rmb) == 5000000
