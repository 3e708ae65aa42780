"""A creating form or API call sent several times at the same instant (double click, retry, two tabs with
the same form) creates one thing; every copy is answered without a server error."""
from __future__ import annotations

from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import Introduction, Need, Offer, Registration, SubmissionKey, User
from marketplace.services import api_tokens
from tests.concurrency.conftest import fire, statuses
from tests.concurrency.test_event_registration_races import _event

COPIES = 12
NEED = {"title_zh": "采购超声设备", "description_zh": "门诊使用", "quantity": "1"}


def _count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(model.id)).where(*where))


def test_need_form_sent_many_times_at_once_creates_one(app, make, live):
    _org, _user, email = make.member("hospital")
    client = live.client().login(email)
    form_page = "/needs/new?kind=procurement"
    client.headers["Referer"] = live.base_url + form_page
    data = dict(NEED, submission_key="need-form-key-0001")
    responses = fire(lambda: client.post(form_page, data=data) for _ in range(COPIES))
    assert set(statuses(responses)) <= {302, 303}, statuses(responses)
    assert _count(app, Need) == 1
    with app.app_context():
        need_id = db.session.scalar(select(Need.id))
    # every copy ends on the need, or (a copy that finished before the first had answered) back on the form
    # with the message that it was already saved
    locations = [r.headers["Location"] for r in responses]
    assert f"/needs/{need_id}" in locations and set(locations) <= {f"/needs/{need_id}", form_page}
    assert client.post(form_page, data=data).headers["Location"] == f"/needs/{need_id}"  # a later retry


def test_offer_form_sent_many_times_at_once_creates_one(app, make, live):
    org, _user, email = make.member("firm")
    client = live.client().login(email)
    data = {"title_zh": "便携超声", "summary_zh": "掌上超声设备", "field_codes": ["D1.virus_detection"], "action": "submit",
            "submission_key": "offer-form-key-0001"}
    responses = fire(lambda: client.post("/offers/new?kind=product", data=data) for _ in range(COPIES))
    assert set(statuses(responses)) <= {302, 303}, statuses(responses)
    assert _count(app, Offer, Offer.organization_id == org) == 1


def test_introduction_proposal_sent_twice_at_once_creates_one(app, make, live):
    hospital, _u, _e = make.member("hospital")
    firm, _u2, _e2 = make.member("firm")
    need, offer = make.need(hospital), make.offer(firm)
    _broker, broker_email = make.staff("broker")
    client = live.client().login(broker_email)
    data = {"need_id": need, "offer_id": offer, "message": "请两位聊聊", "submission_key": "proposal-key-0001"}
    responses = fire(lambda: client.post("/brokering/propose", data=data) for _ in range(COPIES))
    assert set(statuses(responses)) <= {302, 303}, statuses(responses)
    assert _count(app, Introduction, Introduction.need_id == need) == 1


def test_event_registration_sent_twice_with_one_key(app, make, live):
    event_id = _event(app, 10)
    client = live.client().login(make.member()[2])
    data = {"submission_key": "register-key-0001"}
    responses = fire(lambda: client.post(f"/events/{event_id}/register", data=data) for _ in range(6))
    assert set(statuses(responses)) <= {302, 303}, statuses(responses)
    assert _count(app, Registration, Registration.event_id == event_id) == 1


def test_api_call_with_one_idempotency_key_sent_at_once_creates_one(app, make, live):
    org, user_id, _email = make.member("hospital")
    with app.app_context():
        _token, secret = api_tokens.create_token(db.session.get(User, user_id), {"name": "race", "scope": "write"})
        db.session.commit()
    client = live.client()
    headers = {"Authorization": f"Bearer {secret}", "Idempotency-Key": "api-need-key-0001"}
    body = {"organization_id": org, "kind": "procurement", "title_zh": "采购监护仪"}
    responses = fire(lambda: client.post("/api/v1/needs/", json=body, headers=headers) for _ in range(COPIES))
    codes = statuses(responses)
    assert set(codes) <= {201, 409}, codes
    assert codes.count(201) >= 1
    assert _count(app, Need) == 1
    # afterwards every retry gets the first answer
    again = client.post("/api/v1/needs/", json=body, headers=headers)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert _count(app, SubmissionKey) == 1
