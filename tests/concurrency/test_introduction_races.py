"""Both sides answering an introduction at once, and two stage moves at once, through several gunicorn workers."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import Introduction, IntroductionEvent, User
from marketplace.services import api_tokens
from tests.concurrency.conftest import fire, statuses

PAIRS = 8


def _introductions(app, make, count: int, stage: str = "proposed"):
    """``count`` introductions between one hospital and one firm (each about its own offer), by one broker."""
    hospital, _, hospital_email = make.member("hospital")
    firm, _, firm_email = make.member("firm")
    need = make.need(hospital)
    broker, broker_email = make.staff("broker")
    offers = [make.offer(firm) for _ in range(count)]
    now = datetime.now(timezone.utc)
    with app.app_context():
        intros = [Introduction(need_id=need, offer_id=offer, need_organization_id=hospital,
                               offer_organization_id=firm, broker_id=broker, source="manual", message="请联系",
                               stage=stage, stage_changed_at=now, expires_at=now + timedelta(days=14),
                               need_response="accepted" if stage != "proposed" else "pending",
                               offer_response="accepted" if stage != "proposed" else "pending")
                  for offer in offers]
        db.session.add_all(intros)
        db.session.commit()
        ids = [i.id for i in intros]
    return ids, hospital_email, firm_email, broker, broker_email


def _stages(app, ids) -> dict[int, str]:
    with app.app_context():
        return {row.id: row.stage for row in db.session.execute(
            select(Introduction.id, Introduction.stage).where(Introduction.id.in_(ids)))}


def _events(app, intro_id: int, kind: str) -> list[IntroductionEvent]:
    with app.app_context():
        return [tuple(row) for row in db.session.execute(select(IntroductionEvent.from_stage, IntroductionEvent.to_stage).where(
            IntroductionEvent.introduction_id == intro_id, IntroductionEvent.kind == kind)
            .order_by(IntroductionEvent.id))]


def test_both_sides_accepting_at_once_open_the_pipeline(app, make, live):
    ids, hospital_email, firm_email, _, _ = _introductions(app, make, PAIRS)
    hospital, firm = live.client().login(hospital_email), live.client().login(firm_email)
    # one hospital session and one firm session per introduction, so every pair really runs in parallel
    hospitals = [hospital] + [live.client().login(hospital_email) for _ in ids[1:]]
    firms = [firm] + [live.client().login(firm_email) for _ in ids[1:]]
    calls = []
    for intro_id, h, f in zip(ids, hospitals, firms):
        calls.append(lambda h=h, i=intro_id: h.post(f"/brokering/{i}/respond", data={"decision": "accepted"}))
        calls.append(lambda f=f, i=intro_id: f.post(f"/brokering/{i}/respond", data={"decision": "accepted"}))
    responses = fire(calls)
    assert set(statuses(responses)) == {302}, statuses(responses)
    assert set(_stages(app, ids).values()) == {"accepted"}, _stages(app, ids)
    for intro_id in ids:
        assert len(_events(app, intro_id, "response")) == 2
        assert _events(app, intro_id, "stage") == [("proposed", "accepted")]


def test_decline_and_accept_at_once_end_declined_once(app, make, live):
    ids, hospital_email, firm_email, _, _ = _introductions(app, make, PAIRS)
    hospitals = [live.client().login(hospital_email) for _ in ids]
    firms = [live.client().login(firm_email) for _ in ids]
    calls = []
    for intro_id, h, f in zip(ids, hospitals, firms):
        calls.append(lambda h=h, i=intro_id: h.post(f"/brokering/{i}/respond",
                                                     data={"decision": "declined", "reason": "预算不足"}))
        calls.append(lambda f=f, i=intro_id: f.post(f"/brokering/{i}/respond", data={"decision": "accepted"}))
    responses = fire(calls)
    assert set(statuses(responses)) == {302}, statuses(responses)
    assert set(_stages(app, ids).values()) == {"declined"}
    for intro_id in ids:
        assert _events(app, intro_id, "stage") == [("proposed", "declined")]


def test_two_stage_moves_at_once_record_one_and_refuse_the_stale_one(app, make, live):
    ids, _, _, _, broker_email = _introductions(app, make, PAIRS, stage="accepted")
    first = [live.client().login(broker_email) for _ in ids]
    second = [live.client().login(broker_email) for _ in ids]
    calls = []
    for intro_id, a, b in zip(ids, first, second):
        calls.append(lambda a=a, i=intro_id: a.post(f"/brokering/{i}/stage",
                                                     data={"to_stage": "contacted", "from_stage": "accepted"}))
        calls.append(lambda b=b, i=intro_id: b.post(f"/brokering/{i}/stage",
                                                     data={"to_stage": "meeting_held", "from_stage": "accepted"}))
    responses = fire(calls)
    assert set(statuses(responses)) == {302}, statuses(responses)
    for intro_id in ids:
        moves = _events(app, intro_id, "stage")
        assert len(moves) == 1 and moves[0][0] == "accepted", moves
        assert _stages(app, [intro_id])[intro_id] == moves[0][1]
    # the refused mover is told, in Chinese, where the introduction went
    page = first[0].get(f"/brokering/{ids[0]}").text + second[0].get(f"/brokering/{ids[0]}").text
    assert "已被其他人移至" in page


def test_two_stage_moves_at_once_through_the_api(app, make, live):
    ids, _, _, broker, _ = _introductions(app, make, PAIRS, stage="accepted")
    with app.app_context():
        _token, secret = api_tokens.create_token(db.session.get(User, broker), {"name": "race", "scope": "write"})
        db.session.commit()
    api = live.client()
    api.headers["Authorization"] = f"Bearer {secret}"
    calls = []
    for intro_id in ids:
        for target in ("contacted", "nda_signed"):
            calls.append(lambda i=intro_id, t=target: api.post(f"/api/v1/introductions/{i}/stage",
                                                               json={"to_stage": t, "from_stage": "accepted"}))
    responses = fire(calls)
    codes = statuses(responses)
    assert sorted(codes) == [200] * PAIRS + [409] * PAIRS, codes
    refused = [r for r in responses if r.status_code == 409]
    assert all(r.headers["Content-Type"].startswith("application/problem+json") for r in refused)
    for intro_id in ids:
        assert len(_events(app, intro_id, "stage")) == 1
    with app.app_context():
        assert db.session.scalar(select(func.count(IntroductionEvent.id)).where(
            IntroductionEvent.introduction_id.in_(ids), IntroductionEvent.kind == "stage")) == PAIRS
