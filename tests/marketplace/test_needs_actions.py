"""Publishing a draft need and reopening a closed one: the service rules, the page's buttons and routes."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from marketplace import jobs
from marketplace.extensions import db
from marketplace.models import MatchSuggestion, Need, User
from marketplace.services import needs as need_service
from marketplace.services.errors import Conflict, NotFound, PermissionDenied
from marketplace.services.matching import RANK_NEED_JOB
from tests.conftest import csrf_token_from, login
from tests.marketplace.test_matching_site import _catalogue, _rebuild


def _status(make, need_id: int) -> str:
    return make.get(Need, need_id)["status"]


def _ranked(app, need_id: int) -> list[int]:
    with app.app_context():
        return list(db.session.scalars(select(MatchSuggestion.offer_id).where(MatchSuggestion.need_id == need_id)))


# --- the service ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("action, start, wrong", [(need_service.publish, "draft", ("open", "matched", "closed")),
                                                  (need_service.reopen, "closed", ("draft", "open", "matched"))])
def test_service_opens_the_need_once_and_enqueues_its_ranking(app, make, action, start, wrong):
    org, user_id, _ = make.member("hospital")
    need_id = make.need(org, status=start, close_reason="已采购" if start == "closed" else "")
    others = {status: make.need(org, status=status) for status in wrong}
    with app.test_request_context():  # domain errors translate their message when raised
        user = db.session.get(User, user_id)
        need = action(user, db.session.get(Need, need_id))
        assert (need.status, need.close_reason) == ("open", "")
        assert (RANK_NEED_JOB, (("need_id", need_id),)) in db.session.info.get("pending_jobs", [])
        for status, other in others.items():
            with pytest.raises(Conflict):
                action(user, db.session.get(Need, other))
            assert db.session.get(Need, other).status == status
        db.session.rollback()
        jobs.discard_pending(db.session)


@pytest.mark.parametrize("action, start", [(need_service.publish, "draft"), (need_service.reopen, "closed")])
def test_service_refuses_other_organisations_and_brokers_but_not_staff(app, make, action, start):
    org, _, _ = make.member("hospital")
    _, outsider, _ = make.member("firm")
    broker, _ = make.staff("broker")
    operator, _ = make.staff("operator")
    need_id = make.need(org, status=start)
    with app.test_request_context():  # domain errors translate their message when raised
        need = db.session.get(Need, need_id)
        hidden = NotFound if start == "draft" else PermissionDenied  # a draft is invisible outside its organisation
        with pytest.raises(hidden):
            action(db.session.get(User, outsider), need)
        with pytest.raises(hidden):
            action(db.session.get(User, broker), need)
        assert need.status == start
        assert action(db.session.get(User, operator), need).status == "open"
        db.session.rollback()
        jobs.discard_pending(db.session)


# --- the page -------------------------------------------------------------------------------------------

def test_member_publishes_a_draft_from_its_page_and_it_is_matched(app, client, make):
    ventilator, _, _ = _catalogue(make)
    _, _, email = make.member("hospital")
    login(client, email)
    r = client.post("/needs/new?kind=procurement", data={"title_zh": "采购有创呼吸机草稿", "description_zh": "ICU",
                                                         "tags": "呼吸机", "action": "draft"})
    need_id = int(r.headers["Location"].rsplit("/", 1)[1])
    _rebuild(app)
    assert _status(make, need_id) == "draft" and _ranked(app, need_id) == []
    page = client.get(f"/needs/{need_id}").get_data(as_text=True)
    assert f'action="/needs/{need_id}/publish"' in page and "发布" in page
    assert f'action="/needs/{need_id}/reopen"' not in page
    r = client.post(f"/needs/{need_id}/publish")
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/needs/{need_id}")
    assert _status(make, need_id) == "open"
    assert ventilator in _ranked(app, need_id)  # the ranking job ran after the commit
    page = client.get(f"/needs/{need_id}").get_data(as_text=True)
    assert "需求已发布" in page and f'action="/needs/{need_id}/publish"' not in page
    assert "采购有创呼吸机草稿" in client.get("/needs/").get_data(as_text=True)


def test_member_reopens_a_closed_need_and_it_is_matched_again(app, client, make):
    ventilator, _, _ = _catalogue(make)
    hospital, _, email = make.member("hospital")
    need_id = make.need(hospital, title_zh="采购ICU呼吸机", tags=["呼吸机"])
    _rebuild(app)
    login(client, email)
    client.post(f"/needs/{need_id}/close", data={"reason": "预算冻结"})
    assert _status(make, need_id) == "closed" and _ranked(app, need_id) == []
    page = client.get(f"/needs/{need_id}").get_data(as_text=True)
    assert f'action="/needs/{need_id}/reopen"' in page and "重新开放" in page
    assert f'action="/needs/{need_id}/close"' not in page
    r = client.post(f"/needs/{need_id}/reopen")
    assert r.status_code == 302
    row = make.get(Need, need_id)
    assert (row["status"], row["close_reason"]) == ("open", "")
    assert ventilator in _ranked(app, need_id)
    assert "需求已重新开放" in client.get(f"/needs/{need_id}").get_data(as_text=True)


def test_buttons_in_english(client, make):
    hospital, _, email = make.member("hospital")
    draft, closed = make.need(hospital, status="draft"), make.need(hospital, status="closed")
    login(client, email)
    client.get("/lang/en")
    assert ">Publish</button>" in client.get(f"/needs/{draft}").get_data(as_text=True)
    assert ">Reopen</button>" in client.get(f"/needs/{closed}").get_data(as_text=True)


@pytest.mark.parametrize("action, start", [("publish", "draft"), ("reopen", "closed")])
def test_buttons_only_for_those_who_may_act(client, make, action, start):
    hospital, _, _ = make.member("hospital")
    _, _, outsider = make.member("firm")
    _, broker = make.staff("broker")
    _, operator = make.staff("operator")
    need_id = make.need(hospital, status=start)
    form = f'action="/needs/{need_id}/{action}"'
    assert form not in client.get(f"/needs/{need_id}").get_data(as_text=True)  # visitor
    for email, sees in ((outsider, False), (broker, False), (operator, True)):
        login(client, email)
        page = client.get(f"/needs/{need_id}")
        assert (form in page.get_data(as_text=True)) is sees, email
        client.post("/logout")


@pytest.mark.parametrize("action, start", [("publish", "draft"), ("reopen", "closed")])
def test_other_organisation_and_broker_are_refused_and_nothing_changes(client, make, action, start):
    hospital, _, _ = make.member("hospital")
    _, _, outsider = make.member("firm")
    _, broker = make.staff("broker")
    need_id = make.need(hospital, status=start)
    refused = 404 if start == "draft" else 403  # as close: a draft is not even visible outside its organisation
    assert client.post(f"/needs/{need_id}/{action}").status_code == 302  # anonymous: to the login page
    for email in (outsider, broker):
        login(client, email)
        assert client.post(f"/needs/{need_id}/{action}").status_code == refused
        client.post("/logout")
    assert _status(make, need_id) == start


@pytest.mark.parametrize("action, wrong", [("publish", ("open", "matched", "closed")),
                                           ("reopen", ("draft", "open", "matched"))])
def test_wrong_state_is_a_conflict_with_the_reason(client, make, action, wrong):
    hospital, _, email = make.member("hospital")
    login(client, email)
    for status in wrong:
        need_id = make.need(hospital, status=status)
        r = client.post(f"/needs/{need_id}/{action}")
        assert r.status_code == 409, status
        assert ("只有草稿需求才能发布" if action == "publish" else "只有已关闭的需求才能重新开放") in r.get_data(as_text=True)
        assert _status(make, need_id) == status


@pytest.mark.parametrize("action, start", [("publish", "draft"), ("reopen", "closed")])
def test_forms_carry_a_csrf_token(csrf_app, make, action, start):
    client = csrf_app.test_client()
    hospital, _, email = make.member("hospital")
    need_id = make.need(hospital, status=start)
    login_page = client.get("/login").get_data(as_text=True)
    client.post("/login", data={"email": email, "password": "correct-horse-battery-9",
                                "csrf_token": csrf_token_from(login_page)})
    assert client.post(f"/needs/{need_id}/{action}").status_code == 400
    assert _status(make, need_id) == start
    token = csrf_token_from(client.get(f"/needs/{need_id}").get_data(as_text=True))
    assert client.post(f"/needs/{need_id}/{action}", data={"csrf_token": token}).status_code == 302
    assert _status(make, need_id) == "open"
