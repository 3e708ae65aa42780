"""Idempotent submissions: a creating form or API call sent twice creates one thing; integrity conflicts at the
unit-of-work boundary become a Conflict, never a 500."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import Need, SubmissionKey, User
from marketplace.services.errors import Conflict
from marketplace.services.unit_of_work import unit_of_work
from tests.api.conftest import token_for  # noqa: F401 (fixture)
from tests.conftest import login

KEY = "5f0c8a1e2b3d4c5e6f708192a3b4c5d6"
NEED = {"title_zh": "采购超声设备", "description_zh": "门诊使用", "quantity": "1"}


def _needs(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Need.id)))


def _key_in(html: str) -> str:
    match = re.search(r'name="submission_key" value="([^"]+)"', html)
    assert match, "no submission key in the form"
    return match.group(1)


def test_creating_form_carries_a_fresh_key_each_time(client, make):
    _org, _user, email = make.member("hospital")
    login(client, email)
    first = _key_in(client.get("/needs/new?kind=procurement").get_data(as_text=True))
    second = _key_in(client.get("/needs/new?kind=procurement").get_data(as_text=True))
    assert first != second and len(first) >= 8


def test_form_sent_twice_creates_one_need_and_the_replay_goes_to_it(app, client, make):
    _org, _user, email = make.member("hospital")
    login(client, email)
    first = client.post("/needs/new?kind=procurement", data=dict(NEED, submission_key=KEY))
    assert first.status_code == 302
    replay = client.post("/needs/new?kind=procurement", data=dict(NEED, submission_key=KEY))
    assert replay.status_code == 302 and replay.headers["Location"] == first.headers["Location"]
    assert _needs(app) == 1
    page = client.get(replay.headers["Location"], headers={"Accept-Language": "zh"}).get_data(as_text=True)
    assert "已提交并保存过一次" in page
    with app.app_context():
        row = db.session.scalar(select(SubmissionKey))
        assert row.response_status == 302 and row.path == "/needs/new"


def test_refused_form_keeps_its_key_and_can_be_sent_again(app, client, make):
    _org, _user, email = make.member("hospital")
    login(client, email)
    refused = client.post("/needs/new?kind=procurement", data={"title_zh": "", "submission_key": KEY})
    assert refused.status_code == 400
    assert _key_in(refused.get_data(as_text=True)) == KEY  # nothing was saved under it
    assert client.post("/needs/new?kind=procurement", data=dict(NEED, submission_key=KEY)).status_code == 302
    assert _needs(app) == 1


def test_keys_belong_to_their_user(app, client, make):
    for _ in range(2):
        _org, _user, email = make.member("hospital")
        login(client, email)
        assert client.post("/needs/new?kind=procurement", data=dict(NEED, submission_key=KEY)).status_code == 302
        client.post("/logout")
    assert _needs(app) == 2


def test_form_without_key_still_works(app, client, make):
    _org, _user, email = make.member("hospital")
    login(client, email)
    for _ in range(2):
        assert client.post("/needs/new?kind=procurement", data=NEED).status_code == 302
    assert _needs(app) == 2


def test_api_replays_the_first_response_for_the_same_idempotency_key(app, client, make, token_for):
    org, user, _ = make.member("hospital")
    headers = dict(token_for(user), **{"Idempotency-Key": KEY})
    body = {"organization_id": org, "kind": "procurement", "title_zh": "采购监护仪"}
    first = client.post("/api/v1/needs/", json=body, headers=headers)
    assert first.status_code == 201
    again = client.post("/api/v1/needs/", json=body, headers=headers)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["id"] == first.get_json()["id"]
    assert _needs(app) == 1
    other_token = dict(token_for(user), **{"Idempotency-Key": KEY})  # another token is another caller
    assert client.post("/api/v1/needs/", json=body, headers=other_token).status_code == 201
    assert _needs(app) == 2


def test_api_refuses_a_malformed_idempotency_key(app, client, make, token_for):
    org, user, _ = make.member("hospital")
    reply = client.post("/api/v1/needs/", json={"organization_id": org, "kind": "procurement", "title_zh": "x"},
                        headers=dict(token_for(user, lang="zh"), **{"Idempotency-Key": "bad key!"}))
    assert reply.status_code == 400 and reply.mimetype == "application/problem+json"
    assert "Idempotency-Key" in reply.get_json()["detail"]
    assert _needs(app) == 0


def test_key_recorded_but_not_yet_answered_is_reported_as_already_sent(app, client, make, token_for):
    org, user, _ = make.member("hospital")
    headers = dict(token_for(user, lang="zh"), **{"Idempotency-Key": KEY})
    body = {"organization_id": org, "kind": "procurement", "title_zh": "采购监护仪"}
    assert client.post("/api/v1/needs/", json=body, headers=headers).status_code == 201
    with app.app_context():  # as if the first request were still running (or died before answering)
        db.session.scalar(select(SubmissionKey)).response_status = None
        db.session.commit()
    reply = client.post("/api/v1/needs/", json=body, headers=headers)
    assert reply.status_code == 409 and "已提交" in reply.get_json()["detail"]
    assert _needs(app) == 1


def test_unique_violation_in_a_unit_of_work_is_a_conflict(app, make):
    make.user(email="taken@example.com")
    with app.test_request_context():
        with pytest.raises(Conflict), unit_of_work() as session:
            session.add(User(email="taken@example.com", password_hash="x", display_name="Copy"))
            session.flush()
        assert db.session.scalar(select(func.count(User.id)).where(User.email == "taken@example.com")) == 1


def test_unique_violation_at_commit_is_a_conflict(app, make):
    make.user(email="taken@example.com")
    with app.test_request_context():
        with pytest.raises(Conflict), unit_of_work() as session:
            session.add(User(email="taken@example.com", password_hash="x", display_name="Copy"))
        assert db.session.scalar(select(func.count(User.id)).where(User.email == "taken@example.com")) == 1


def _pages_with_creating_forms(make) -> list[tuple[str, str]]:
    """(e-mail of someone who may use the form or None for a visitor, path of the page with the form)."""
    hospital, _u, hospital_email = make.member("hospital")
    firm, _u2, _e2 = make.member("firm")
    offer, need = make.offer(firm), make.need(hospital, visibility="teaser")
    _b, broker_email = make.staff("broker")
    _o, organiser_email = make.staff("organiser")
    _n, loner_email = make.staff("organiser")
    return [(None, "/register"), (hospital_email, "/needs/new?kind=procurement"),
            (hospital_email, "/offers/new?kind=product"), (broker_email, "/brokering/propose"),
            (hospital_email, f"/docking/request?offer_id={offer}"), (organiser_email, "/events/new"),
            (loner_email, "/account/organization/new"), (hospital_email, f"/orgs/{hospital}/verification"),
            (make.member("firm")[2], f"/needs/{need}"), (hospital_email, "/policies/filings/new"),
            (hospital_email, "/liaison/")]


def test_every_creating_form_carries_a_submission_key(app, make):
    for email, path in _pages_with_creating_forms(make):
        client = app.test_client()
        if email:
            login(client, email)
        page = client.get(path)
        assert page.status_code == 200, path
        _key_in(page.get_data(as_text=True))


def test_docking_message_sent_twice_is_posted_once(app, client, make):
    from datetime import datetime, timedelta, timezone

    from marketplace.models import Introduction, IntroductionMessage
    hospital, _u, hospital_email = make.member("hospital")
    firm, _u2, _e2 = make.member("firm")
    now = datetime.now(timezone.utc)
    with app.app_context():
        intro = Introduction(need_organization_id=hospital, offer_organization_id=firm, source="manual",
                             stage="accepted", need_response="accepted", offer_response="accepted",
                             stage_changed_at=now, expires_at=now + timedelta(days=14))
        db.session.add(intro)
        db.session.commit()
        intro_id = intro.id
    login(client, hospital_email)
    page = client.get(f"/brokering/{intro_id}").get_data(as_text=True)
    key = _key_in(page[page.index('id="message-form"'):])
    for _ in range(2):
        assert client.post(f"/docking/introductions/{intro_id}/messages",
                           data={"body": "您好，想约个时间", "submission_key": key}).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count(IntroductionMessage.id))) == 1


def test_conflict_outside_a_request_is_still_a_conflict(app, make):
    make.user(email="taken@example.com")
    with app.app_context(), pytest.raises(Conflict, match="uq_users_email|users.email"):
        with unit_of_work() as session:
            session.add(User(email="taken@example.com", password_hash="x", display_name="Copy"))


def test_one_pending_verification_per_organisation_is_kept_by_the_database(app, make):
    from marketplace.models import OrganizationVerification
    org, _user, _ = make.member("firm")
    with app.test_request_context():
        with unit_of_work() as session:
            session.add(OrganizationVerification(organization_id=org, uscc="x", status="rejected", reason="blurred"))
            session.add(OrganizationVerification(organization_id=org, uscc="x", status="pending"))
        with pytest.raises(Conflict), unit_of_work() as session:  # a second one sent at the same instant
            session.add(OrganizationVerification(organization_id=org, uscc="x", status="pending"))
        assert db.session.scalar(select(func.count(OrganizationVerification.id)).where(
            OrganizationVerification.organization_id == org)) == 2


def test_old_submission_keys_are_pruned_by_the_sweep(app, make):
    """Keys are kept long enough to answer a resend (a week by default), then the sweep deletes them."""
    from datetime import datetime, timedelta, timezone

    from marketplace.tasks import submissions as submission_tasks

    now = datetime.now(timezone.utc)
    with app.app_context():
        db.session.add_all([SubmissionKey(scope="user:1", key="old-key-0001", created_at=now - timedelta(days=8)),
                            SubmissionKey(scope="user:1", key="new-key-0001", created_at=now - timedelta(days=6))])
        db.session.commit()
        assert submission_tasks.prune_keys(now=now) == {"submission_keys_pruned": 1}
        assert db.session.scalars(select(SubmissionKey.key)).all() == ["new-key-0001"]
    runner = app.test_cli_runner()
    result = runner.invoke(args=["brokering", "sweep"])
    assert result.exit_code == 0, result.output
    assert "deleted 0 old submission keys" in result.output
