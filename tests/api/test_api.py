"""The public API through the test client: tokens, access rules, workflows, problem+json errors."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from marketplace.extensions import db
from marketplace.models import ApiToken, Introduction, MatchSuggestion
from tests.conftest import login

EN = {"Accept-Language": "en"}


def test_openapi_document_describes_every_resource(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    paths = set(spec["paths"])
    for path in ("/api/v1/offers/", "/api/v1/offers/{offer_id}", "/api/v1/offers/{offer_id}/submit",
                 "/api/v1/needs/", "/api/v1/needs/{need_id}/matches",
                 "/api/v1/needs/{need_id}/matches/{offer_id}/accept", "/api/v1/patents/",
                 "/api/v1/organizations/{org_id}", "/api/v1/introductions/{intro_id}/stage",
                 "/api/v1/events/{event_id}/registration", "/api/v1/me"):
        assert path in paths, path
    create = spec["paths"]["/api/v1/offers/"]["post"]
    assert create["security"] == [{"bearerAuth": []}]
    assert "application/problem+json" in spec["components"]["responses"]["UNPROCESSABLE_ENTITY"]["content"]
    assert "kind" in spec["components"]["schemas"]["OfferCreateIn"]["required"]


def test_browsable_reference_is_served_offline(client):
    page = client.get("/api/v1/docs/")
    assert page.status_code == 200
    for src in re.findall(r'(?:src|href)="(/[^"]+)"', page.get_data(as_text=True)):
        assert client.get(src).status_code == 200, src
    assert "https://" not in page.get_data(as_text=True)


def test_token_created_on_account_page_is_shown_once_and_stored_hashed(app, client, make):
    _org, user_id, email = make.member("firm")
    login(client, email)
    page = client.post("/account/tokens", data={"name": "ERP sync", "scope": "read"}).get_data(as_text=True)
    secret = re.search(r'id="new-token">(tb_[^<]+)<', page).group(1)
    with app.app_context():
        stored = db.session.query(ApiToken).filter_by(user_id=user_id).one()
        assert secret not in (stored.token_hash, stored.prefix) and stored.token_hash != secret
        token_id = stored.id
    assert secret not in client.get("/account/tokens").get_data(as_text=True)
    anon = app.test_client()
    me = anon.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.status_code == 200 and me.get_json()["email"] == email and me.get_json()["token_scope"] == "read"
    client.post(f"/account/tokens/{token_id}/revoke")
    again = anon.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}", **EN})
    assert again.status_code == 401
    assert again.content_type == "application/problem+json"
    assert "revoked" in again.get_json()["detail"]


def test_someone_else_cannot_revoke_my_token(app, client, make, token_for):
    _org, owner_id, _ = make.member()
    token_for(owner_id)
    with app.app_context():
        token_id = db.session.query(ApiToken).filter_by(user_id=owner_id).one().id
    _org2, _other, other_email = make.member()
    login(client, other_email)
    assert client.post(f"/account/tokens/{token_id}/revoke").status_code == 404
    assert make.get(ApiToken, token_id)["revoked_at"] is None


def test_expired_and_malformed_tokens_are_refused(app, client, make, token_for):
    _org, user_id, _ = make.member()
    headers = token_for(user_id)
    with app.app_context():
        token = db.session.query(ApiToken).filter_by(user_id=user_id).one()
        token.expires_at = datetime.now(timezone.utc) - timedelta(minutes=1)
        db.session.commit()
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": "Basic abc"}).status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer tb_nope"}).status_code == 401


def test_errors_are_problem_json_in_the_requested_language(client):
    zh = client.get("/api/v1/offers/999")
    assert zh.status_code == 404 and zh.content_type == "application/problem+json"
    assert zh.headers["Content-Language"] == "zh"
    assert re.search(r"[\u4e00-\u9fff]", zh.get_json()["detail"])
    en = client.get("/api/v1/offers/999", headers=EN).get_json()
    assert en["status"] == 404 and en["title"] == "Not found" and en["instance"] == "/api/v1/offers/999"
    bad = client.get("/api/v1/offers/?per_page=1000", headers=EN)
    assert bad.status_code == 422 and "query.per_page" in bad.get_json()["errors"]
    assert client.get("/api/v1/nothing-here").content_type == "application/problem+json"
    assert client.delete("/api/v1/offers/").status_code == 405


def test_visitors_see_only_published_offers_and_members_their_drafts(client, make, token_for):
    org_a, user_a, _ = make.member()
    published = make.offer(org_a, title_en="Rapid PCR kit")
    draft = make.offer(org_a, status="draft", title_en="Secret draft")
    listing = client.get("/api/v1/offers/").get_json()
    assert [o["id"] for o in listing["items"]] == [published]
    assert client.get(f"/api/v1/offers/{draft}").status_code == 404
    _org_b, user_b, _ = make.member()
    assert client.get(f"/api/v1/offers/{draft}", headers=token_for(user_b)).status_code == 404
    mine = client.get(f"/api/v1/offers/{draft}", headers=token_for(user_a)).get_json()
    assert mine["title_en"] == "Secret draft" and mine["details_visible"] is True
    drafts = client.get("/api/v1/offers/?status=draft", headers=token_for(user_a)).get_json()
    assert [o["id"] for o in drafts["items"]] == [draft]
    assert client.get("/api/v1/offers/?status=draft", headers=token_for(user_b)).get_json()["items"] == []


def test_teaser_offer_details_are_hidden_from_outsiders(client, make, token_for):
    org_a, user_a, _ = make.member()
    teaser = make.offer(org_a, visibility="teaser", description_en="Secret process parameters")
    outsider = client.get(f"/api/v1/offers/{teaser}").get_json()
    assert outsider["details_visible"] is False and outsider["description_en"] is None
    assert "Secret process" not in client.get("/api/v1/offers/").get_data(as_text=True)
    owner = client.get(f"/api/v1/offers/{teaser}", headers=token_for(user_a)).get_json()
    assert owner["description_en"] == "Secret process parameters"


def test_create_update_and_submit_an_offer(client, make, token_for):
    org, user, _ = make.member()
    headers = token_for(user)
    body = {"organization_id": org, "kind": "technology", "title_zh": "微流控芯片", "summary_en": "Chip",
            "field_codes": ["D1.ivd"], "trl": 6, "tags": ["microfluidics"]}
    created = client.post("/api/v1/offers/", json=body, headers=headers)
    assert created.status_code == 201, created.get_data(as_text=True)
    offer = created.get_json()
    assert offer["status"] == "draft" and offer["field_codes"] == ["D1.ivd"] and offer["trl"] == 6
    changed = client.patch(f"/api/v1/offers/{offer['id']}", json={"title_en": "Microfluidic chip"},
                           headers=headers).get_json()
    assert changed["title_en"] == "Microfluidic chip" and changed["title_zh"] == "微流控芯片"
    assert changed["tags"] == ["microfluidics"]
    submitted = client.post(f"/api/v1/offers/{offer['id']}/submit", headers=headers).get_json()
    assert submitted["status"] == "submitted"
    again = client.patch(f"/api/v1/offers/{offer['id']}", json={"title_en": "x"}, headers=headers)
    assert again.status_code == 403


def test_business_rule_errors_name_the_fields_and_save_nothing(client, make, token_for):
    org, user, _ = make.member()
    reply = client.post("/api/v1/offers/", json={"organization_id": org, "kind": "patent", "title_zh": "专利",
                                                 "summary_zh": "摘要", "patent": {"application_number": "123"}},
                        headers={**token_for(user), **EN})
    assert reply.status_code == 422
    problem = reply.get_json()
    assert "application_number" in problem["errors"] and "check character" in problem["errors"]["application_number"]
    assert client.get("/api/v1/offers/?status=draft", headers=token_for(user)).get_json()["total"] == 0
    unknown = client.post("/api/v1/offers/", json={"organization_id": org, "kind": "product", "colour": "red"},
                          headers=token_for(user))
    assert unknown.status_code == 422 and "json.colour" in unknown.get_json()["errors"]


def test_writes_need_a_write_token_and_membership(client, make, token_for):
    org, user, _ = make.member()
    body = {"organization_id": org, "kind": "procurement", "title_zh": "采购需求"}
    assert client.post("/api/v1/needs/", json=body).status_code == 401
    assert client.post("/api/v1/needs/", json=body, headers=token_for(user, "read")).status_code == 403
    _other_org, other, _ = make.member()
    assert client.post("/api/v1/needs/", json=body, headers=token_for(other)).status_code == 403
    created = client.post("/api/v1/needs/", json=body, headers=token_for(user))
    assert created.status_code == 201 and created.get_json()["status"] == "open"


def test_confidential_need_is_invisible_to_other_organisations(client, make, token_for):
    org, user, _ = make.member("hospital")
    need = make.need(org, visibility="confidential", title_en="Confidential need")
    _o, other, _ = make.member()
    assert client.get(f"/api/v1/needs/{need}", headers=token_for(other)).status_code == 404
    assert client.get(f"/api/v1/needs/{need}/matches", headers=token_for(other)).status_code == 404
    assert "Confidential need" not in client.get("/api/v1/needs/", headers=token_for(other)).get_data(as_text=True)
    assert client.get(f"/api/v1/needs/{need}", headers=token_for(user)).status_code == 200
    assert client.patch(f"/api/v1/needs/{need}", json={"title_en": "x"}, headers=token_for(other)).status_code == 404


def test_matches_carry_scores_and_reasons_and_a_pairing_can_be_accepted(app, client, make, token_for):
    hospital, nurse, _ = make.member("hospital")
    firm, _u, _ = make.member("firm")
    need = make.need(hospital)
    offer = make.offer(firm)
    with app.app_context():
        db.session.add(MatchSuggestion(need_id=need, offer_id=offer, rank=1, score=1.4, parts={"text": 0.9},
                                       reasons=[{"kind": "terms", "zh": "共同词：核酸", "en": "shared terms: PCR"}]))
        db.session.commit()
    matches = client.get(f"/api/v1/needs/{need}/matches", headers=EN).get_json()["items"]
    assert matches[0]["offer"]["id"] == offer and matches[0]["reasons"][0]["text"] == "shared terms: PCR"
    assert client.get(f"/api/v1/needs/{need}/matches").get_json()["items"][0]["reasons"][0]["text"] == "共同词：核酸"
    accepted = client.post(f"/api/v1/needs/{need}/matches/{offer}/accept", json={}, headers=token_for(nurse))
    assert accepted.status_code == 200 and accepted.get_json()["decision"] == "accepted"
    seen = client.get(f"/api/v1/needs/{need}/matches", headers=token_for(nurse)).get_json()
    assert seen["items"][0]["decision"] == "accepted"
    _o, stranger, _ = make.member()
    assert client.post(f"/api/v1/needs/{need}/matches/{offer}/accept", json={},
                       headers=token_for(stranger)).status_code == 403


def test_introduction_from_proposal_to_signed_deal(app, client, make, token_for):
    hospital, nurse, _ = make.member("hospital")
    firm, seller, _ = make.member("firm")
    broker, _ = make.staff("broker")
    need, offer = make.need(hospital), make.offer(firm)
    proposed = client.post("/api/v1/introductions/", json={"need_id": need, "offer_id": offer, "message": "Talk"},
                           headers=token_for(broker))
    assert proposed.status_code == 201, proposed.get_data(as_text=True)
    intro = proposed.get_json()["id"]
    # a member's call is a request, which needs a purpose (proposing is for technology managers)
    member_call = client.post("/api/v1/introductions/", json={"need_id": need, "offer_id": offer, "message": "x"},
                              headers=token_for(nurse))
    assert member_call.status_code == 422 and "purpose" in member_call.get_json()["errors"]
    for user in (nurse, seller):
        reply = client.post(f"/api/v1/introductions/{intro}/respond", json={"decision": "accepted"},
                            headers=token_for(user))
        assert reply.status_code == 200
    assert reply.get_json()["stage"] == "accepted"
    moved = client.post(f"/api/v1/introductions/{intro}/stage", json={"to_stage": "signed"},
                        headers=token_for(broker)).get_json()
    assert moved["stage"] == "signed"
    value = client.put(f"/api/v1/introductions/{intro}/deal-value", json={"deal_value_rmb": 1200000},
                       headers=token_for(broker)).get_json()
    assert value["deal_value_rmb"] == 1200000.0
    assert [h["kind"] for h in value["history"]][:1] == ["proposed"] and len(value["history"]) >= 5
    _third, outsider, _ = make.member()
    other_broker, _ = make.staff("broker")
    for user in (outsider, other_broker):
        assert client.get(f"/api/v1/introductions/{intro}", headers=token_for(user)).status_code == 404
        assert client.post(f"/api/v1/introductions/{intro}/stage", json={"to_stage": "lost", "reason": "x"},
                           headers=token_for(user)).status_code == 404
        assert client.get("/api/v1/introductions/", headers=token_for(user)).get_json()["total"] == 0
    with app.app_context():
        assert db.session.get(Introduction, intro).stage == "signed"


def test_event_created_published_and_registered(client, make, token_for):
    organiser, _ = make.staff("organiser")
    _org, attendee, _ = make.member()
    start = (datetime.now(timezone.utc) + timedelta(days=10)).strftime("%Y-%m-%d 09:00")
    end = (datetime.now(timezone.utc) + timedelta(days=10)).strftime("%Y-%m-%d 11:00")
    created = client.post("/api/v1/events/", json={"kind": "roadshow", "title_zh": "高价值专利路演",
                                                   "starts_at": start, "ends_at": end, "capacity": 1,
                                                   "meeting_url": "https://meet.example.com/x"},
                          headers=token_for(organiser))
    assert created.status_code == 201, created.get_data(as_text=True)
    event = created.get_json()["id"]
    assert client.get(f"/api/v1/events/{event}").status_code == 404  # drafts are the organiser's
    assert client.post(f"/api/v1/events/{event}/publish", headers=token_for(attendee)).status_code in (403, 404)
    assert client.post(f"/api/v1/events/{event}/publish", headers=token_for(organiser)).status_code == 200
    public = client.get(f"/api/v1/events/{event}").get_json()
    assert public["status"] == "published" and public["meeting_url"] is None
    reg = client.post(f"/api/v1/events/{event}/registration", headers=token_for(attendee))
    assert reg.status_code == 201 and reg.get_json()["status"] == "confirmed"
    seen = client.get(f"/api/v1/events/{event}", headers=token_for(attendee)).get_json()
    assert seen["my_registration"] == "confirmed" and seen["meeting_url"] == "https://meet.example.com/x"
    assert client.post(f"/api/v1/events/{event}/registration", headers=token_for(attendee)).status_code == 409
    assert client.delete(f"/api/v1/events/{event}/registration",
                         headers=token_for(attendee)).get_json()["status"] == "cancelled"


def test_organisation_profile_owners_only(client, make, token_for):
    org, owner, _ = make.member("lab")
    _other, stranger, _ = make.member()
    assert client.patch(f"/api/v1/organizations/{org}", json={"website": "https://lab.example.cn"},
                        headers=token_for(stranger)).status_code == 403
    bad = client.patch(f"/api/v1/organizations/{org}", json={"website": "ftp://x"}, headers=token_for(owner))
    assert bad.status_code == 422
    ok = client.patch(f"/api/v1/organizations/{org}", json={"website": "https://lab.example.cn"},
                      headers=token_for(owner))
    assert ok.status_code == 200 and ok.get_json()["website"] == "https://lab.example.cn"
    listed = client.get("/api/v1/organizations/?kind=lab").get_json()
    assert [o["id"] for o in listed["items"]] == [org]


def test_patents_listed_with_value_indicators(client, make):
    org, _u, _ = make.member("university")
    patent = make.offer(org, kind="patent")
    make.offer(org, kind="product")
    listing = client.get("/api/v1/patents/").get_json()
    assert [p["id"] for p in listing["items"]] == [patent]
    assert listing["items"][0]["patent"]["legal_status"] == "granted"
    assert client.get(f"/api/v1/patents/{patent}").status_code == 200
    assert client.get(f"/api/v1/patents/{patent + 1}").status_code == 404


def test_api_rate_limit_answers_429_problem(app, client, make):
    from marketplace.extensions import limiter
    app.config["API_RATE_LIMIT"] = "3 per minute"
    limiter.reset()
    try:
        codes = [client.get("/api/v1/offers/").status_code for _ in range(5)]
        limited = client.get("/api/v1/offers/", headers=EN)
    finally:
        app.config["API_RATE_LIMIT"] = "100000 per minute"
        limiter.reset()
    assert codes[:3] == [200, 200, 200] and codes[3] == 429
    assert limited.content_type == "application/problem+json" and "Retry-After" in limited.headers


def test_huge_ids_are_not_found_rather_than_errors(client):
    assert client.get("/api/v1/offers/99999999999999999999").status_code == 404
    assert client.get("/api/v1/needs/?organization_id=99999999999999").status_code == 422


def test_protected_details_read_through_the_api_are_audited(app, client, make, token_for):
    from marketplace.models import AuditEntry
    org_a, _owner, _ = make.member()
    teaser = make.offer(org_a, visibility="teaser", description_en="Process window")
    broker, _ = make.staff("broker")
    body = client.get(f"/api/v1/offers/{teaser}", headers=token_for(broker)).get_json()
    assert body["details_visible"] is True and body["description_en"] == "Process window"
    with app.app_context():
        entries = db.session.query(AuditEntry).filter_by(action="confidential_view", object_id=teaser).all()
        assert [e.actor_id for e in entries] == [broker]


def test_control_characters_in_json_text_are_dropped(client, make, token_for):
    hospital, nurse, _ = make.member("hospital")
    need = client.post("/api/v1/needs/", json={"organization_id": hospital, "kind": "procurement",
                                               "title_zh": "采购\u0000需求", "tags": ["a\u0000b"]},
                       headers=token_for(nurse)).get_json()
    assert need["title_zh"] == "采购需求" and need["tags"] == ["ab"]
    closed = client.post(f"/api/v1/needs/{need['id']}/close", json={"reason": "done\u0000"},
                         headers=token_for(nurse))
    assert closed.status_code == 200 and closed.get_json()["close_reason"] == "done"
