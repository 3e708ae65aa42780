"""POST /api/v1/needs/{id}/publish and /reopen: the same rules as the site, answered in JSON."""
from __future__ import annotations

import pytest

from marketplace.models import MatchSuggestion, Need
from tests.marketplace.test_matching_site import _catalogue, _rebuild


def test_openapi_document_describes_publish_and_reopen(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    for action in ("publish", "reopen"):
        operation = spec["paths"][f"/api/v1/needs/{{need_id}}/{action}"]["post"]
        assert operation["security"] == [{"bearerAuth": []}]
        assert operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("NeedDetailOut")
        assert {"401", "403", "404", "409"} <= set(operation["responses"])
        assert "409" in operation["summary"]


def test_member_publishes_a_draft_and_it_is_matched(app, client, make, token_for):
    ventilator, _, _ = _catalogue(make)
    hospital, nurse, _ = make.member("hospital")
    _rebuild(app)
    draft = client.post("/api/v1/needs/", headers=token_for(nurse), json={
        "organization_id": hospital, "kind": "procurement", "title_zh": "采购有创呼吸机", "tags": ["呼吸机"],
        "draft": True}).get_json()
    assert draft["status"] == "draft"
    reply = client.post(f"/api/v1/needs/{draft['id']}/publish", headers=token_for(nurse))
    assert reply.status_code == 200 and reply.get_json()["status"] == "open"
    matches = client.get(f"/api/v1/needs/{draft['id']}/matches", headers=token_for(nurse)).get_json()["items"]
    assert ventilator in [m["offer"]["id"] for m in matches]
    again = client.post(f"/api/v1/needs/{draft['id']}/publish", headers=token_for(nurse))
    assert again.status_code == 409 and again.content_type == "application/problem+json"
    assert "草稿" in again.get_json()["detail"]


def test_member_reopens_a_closed_need(app, client, make, token_for):
    hospital, nurse, _ = make.member("hospital")
    need_id = make.need(hospital)
    headers = token_for(nurse, lang="en")
    assert client.post(f"/api/v1/needs/{need_id}/close", json={"reason": "bought"}, headers=headers).status_code == 200
    reply = client.post(f"/api/v1/needs/{need_id}/reopen", headers=headers)
    assert reply.status_code == 200
    assert (reply.get_json()["status"], reply.get_json()["close_reason"]) == ("open", "")
    again = client.post(f"/api/v1/needs/{need_id}/reopen", headers=headers)
    assert again.status_code == 409 and again.get_json()["detail"] == "Only a closed need can be reopened."
    assert client.post(f"/api/v1/needs/{need_id}/publish", headers=headers).status_code == 409


@pytest.mark.parametrize("action, start", [("publish", "draft"), ("reopen", "closed")])
def test_others_are_refused_and_nothing_changes(client, make, token_for, action, start):
    hospital, nurse, _ = make.member("hospital")
    _, outsider, _ = make.member("firm")
    broker, _ = make.staff("broker")
    need_id = make.need(hospital, status=start)
    url = f"/api/v1/needs/{need_id}/{action}"
    refused = 404 if start == "draft" else 403  # as close: drafts are invisible outside their organisation
    assert client.post(url, headers=token_for(outsider)).status_code == refused
    assert client.post(url, headers=token_for(broker)).status_code == refused
    assert client.post(url).status_code == 401
    assert client.post(url, headers=token_for(nurse, scope="read")).status_code == 403
    assert make.get(Need, need_id)["status"] == start
    operator, _ = make.staff("operator")
    assert client.post(url, headers=token_for(operator)).get_json()["status"] == "open"


def test_suggestions_are_removed_on_close_and_come_back_on_reopen(app, client, make, token_for):
    ventilator, _, _ = _catalogue(make)
    hospital, nurse, _ = make.member("hospital")
    need_id = make.need(hospital, title_zh="采购ICU呼吸机", tags=["呼吸机"])
    _rebuild(app)
    headers = token_for(nurse)

    def ranked():
        with app.app_context():
            from marketplace.extensions import db
            return [s.offer_id for s in db.session.query(MatchSuggestion).filter_by(need_id=need_id)]

    assert ventilator in ranked()
    client.post(f"/api/v1/needs/{need_id}/close", json={}, headers=headers)
    assert ranked() == []
    client.post(f"/api/v1/needs/{need_id}/reopen", headers=headers)
    assert ventilator in ranked()
