"""Docking through the API: a member's request, the other side's answer, the conversation and the contacts, and
everybody else kept out (404, empty lists), with clear refusals for bad requests and messages."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from marketplace.extensions import db
from marketplace.models import Introduction, IntroductionMessage, Organization, User

EN = {"Accept-Language": "en"}


@pytest.fixture
def docking(app, make, token_for):
    """A hospital member asks about a firm's offer for one of the hospital's needs (not yet answered)."""
    hospital, nurse, nurse_email = make.member("hospital")
    firm, seller, seller_email = make.member("firm")
    need, offer = make.need(hospital), make.offer(firm)
    return {"hospital": hospital, "nurse": nurse, "nurse_email": nurse_email, "firm": firm, "seller": seller,
            "seller_email": seller_email, "need": need, "offer": offer, "token": lambda user, **kw: {
                **token_for(user, **kw), **EN}}


def _request(client, d, **body) -> dict:
    payload = {"offer_id": d["offer"], "need_id": d["need"], "purpose": "purchase",
               "message": "We would like to buy 200 kits."}
    payload.update(body)
    reply = client.post("/api/v1/introductions/", json=payload, headers=d["token"](d["nurse"]))
    assert reply.status_code == 201, reply.get_data(as_text=True)
    return reply.get_json()


def _messages(app, intro_id: int) -> int:
    with app.app_context():
        return db.session.query(IntroductionMessage).filter_by(introduction_id=intro_id).count()


def test_request_answer_conversation_and_contacts(app, client, make, docking):
    d = docking
    nurse, seller = d["token"](d["nurse"]), d["token"](d["seller"])
    intro = _request(client, d)
    assert (intro["source"], intro["stage"], intro["purpose"], intro["requester_side"]) == (
        "request", "proposed", "purchase", "need")
    assert (intro["need_id"], intro["offer_id"], intro["need_response"], intro["offer_response"]) == (
        d["need"], d["offer"], "accepted", "pending")
    assert intro["contacts"] == [] and intro["mediation_requested"] is False
    url = f"/api/v1/introductions/{intro['id']}"

    # before the other side accepts: no contacts, no messages, and writing is refused with a reason
    for headers in (nurse, seller):
        assert client.get(url, headers=headers).get_json()["contacts"] == []
        assert client.get(f"{url}/messages", headers=headers).get_json()["items"] == []
    early = client.post(f"{url}/messages", json={"body": "Hello?"}, headers=nurse)
    assert early.status_code == 409 and early.content_type == "application/problem+json"
    assert "both sides have accepted" in early.get_json()["detail"]

    answered = client.post(f"{url}/respond", json={"decision": "accepted"}, headers=seller)
    assert answered.status_code == 200 and answered.get_json()["stage"] == "accepted"
    contacts = {c["side"]: c for c in answered.get_json()["contacts"]}
    assert contacts["need"]["email"] == d["nurse_email"] and contacts["offer"]["email"] == d["seller_email"]
    assert contacts["need"]["name"] and set(contacts["offer"]) == {"side", "name", "email", "phone"}
    assert client.get(url, headers=nurse).get_json()["contacts"] == answered.get_json()["contacts"]

    first = client.post(f"{url}/messages", json={"body": "Hello, when can we meet?"}, headers=nurse)
    assert first.status_code == 201, first.get_data(as_text=True)
    assert (first.get_json()["side"], first.get_json()["body"], first.get_json()["author_id"]) == (
        "need", "Hello, when can we meet?", d["nurse"])
    second = client.post(f"{url}/messages", json={"body": "Tuesday 10:00 at the park."}, headers=seller)
    assert second.status_code == 201 and second.get_json()["side"] == "offer"
    thread = client.get(f"{url}/messages", headers=seller).get_json()
    assert [m["body"] for m in thread["items"]] == ["Hello, when can we meet?", "Tuesday 10:00 at the park."]
    assert thread["total"] == 2
    newer = client.get(f"{url}/messages?after_id={first.get_json()['id']}", headers=nurse).get_json()
    assert [m["id"] for m in newer["items"]] == [second.get_json()["id"]]
    paged = client.get(f"{url}/messages?per_page=1&page=2", headers=nurse).get_json()
    assert [m["id"] for m in paged["items"]] == [second.get_json()["id"]] and paged["pages"] == 2

    operator, _ = make.staff("operator")
    assert client.get(f"{url}/messages", headers=d["token"](operator)).get_json()["total"] == 2
    platform = client.post(f"{url}/messages", json={"body": "I can host the meeting."}, headers=d["token"](operator))
    assert platform.status_code == 201 and platform.get_json()["side"] == "platform"


def test_outsiders_never_see_the_conversation_or_the_contacts(app, client, make, token_for, docking):
    d = docking
    intro = _request(client, d)
    url = f"/api/v1/introductions/{intro['id']}"
    client.post(f"{url}/respond", json={"decision": "accepted"}, headers=d["token"](d["seller"]))
    client.post(f"{url}/messages", json={"body": "Private words"}, headers=d["token"](d["nurse"]))
    _third, outsider, _ = make.member("firm")
    other_broker, _ = make.staff("broker")
    for user in (outsider, other_broker):
        headers = d["token"](user)
        for reply in (client.get(url, headers=headers), client.get(f"{url}/messages", headers=headers),
                      client.post(f"{url}/messages", json={"body": "Let me in"}, headers=headers)):
            assert reply.status_code == 404, reply.get_data(as_text=True)
            assert "Private words" not in reply.get_data(as_text=True)
            assert d["seller_email"] not in reply.get_data(as_text=True)
        assert client.get("/api/v1/introductions/", headers=headers).get_json()["total"] == 0
    for reply in (client.get(f"{url}/messages"), client.post(f"{url}/messages", json={"body": "Hi"})):
        assert reply.status_code == 401  # a visitor without a token
    read_only = client.post(f"{url}/messages", json={"body": "Hi"}, headers=d["token"](d["nurse"], scope="read"))
    assert read_only.status_code == 403
    assert _messages(app, intro["id"]) == 1


def test_self_request_and_duplicate_are_refused_with_a_reason(app, client, make, docking):
    d = docking
    nurse = d["token"](d["nurse"])
    own_offer = make.offer(d["hospital"])
    for body in ({"need_id": d["need"]}, {"offer_id": own_offer}, {"organization_id": d["hospital"]},
                 {"need_id": d["need"], "offer_id": own_offer}):
        reply = client.post("/api/v1/introductions/", headers=nurse,
                            json={"purpose": "trial", "message": "Me, myself", **body})
        assert reply.status_code == 422, (body, reply.get_data(as_text=True))
        assert reply.content_type == "application/problem+json"
        assert "your own organisation" in reply.get_json()["detail"]
    first = _request(client, d)
    again = client.post("/api/v1/introductions/", headers=nurse, json={
        "offer_id": d["offer"], "need_id": d["need"], "purpose": "trial", "message": "Once more"})
    assert again.status_code == 409 and again.content_type == "application/problem+json"
    assert f"number {first['id']}" in again.get_json()["detail"]
    missing_purpose = client.post("/api/v1/introductions/", headers=nurse,
                                  json={"offer_id": d["offer"], "message": "No purpose"})
    assert missing_purpose.status_code == 422 and "purpose" in missing_purpose.get_json()["errors"]
    unknown = client.post("/api/v1/introductions/", headers=nurse,
                          json={"offer_id": d["offer"], "purpose": "trial", "message": "x", "priority": "high"})
    assert unknown.status_code == 422 and "json.priority" in unknown.get_json()["errors"]
    with app.app_context():
        assert db.session.query(Introduction).count() == 1


def test_request_about_an_organisation_with_mediation(app, client, make, docking):
    d = docking
    reply = client.post("/api/v1/introductions/", headers=d["token"](d["nurse"]), json={
        "organization_id": d["firm"], "need_id": d["need"], "as_organization_id": d["hospital"],
        "purpose": "co_development", "message": "Could we develop a kit together?", "mediation": True})
    assert reply.status_code == 201, reply.get_data(as_text=True)
    body = reply.get_json()
    assert (body["need_id"], body["offer_id"], body["mediation_requested"]) == (d["need"], None, True)
    assert body["offer_organization"]["id"] == d["firm"]
    seller_view = client.get(f"/api/v1/introductions/{body['id']}", headers=d["token"](d["seller"]))
    assert seller_view.status_code == 200 and seller_view.get_json()["need_organization"]["id"] == d["hospital"]
    own_offer = make.offer(d["hospital"])
    offer_with_organisation = client.post("/api/v1/introductions/", headers=d["token"](d["nurse"]), json={
        "organization_id": d["firm"], "offer_id": own_offer, "purpose": "trial", "message": "Try ours"})
    assert offer_with_organisation.status_code == 422 and "offer_id" in offer_with_organisation.get_json()["errors"]


def test_mediated_only_organisation_stays_anonymous_until_it_accepts(app, client, make, docking):
    d = docking
    with app.app_context():
        firm = db.session.get(Organization, d["firm"])
        firm.mediated_only = True
        names = (firm.name_zh, firm.name_en)
        db.session.commit()
    intro = _request(client, d)
    assert intro["offer_organization"] is None
    url = f"/api/v1/introductions/{intro['id']}"
    nurse = d["token"](d["nurse"])
    for reply in (client.get(url, headers=nurse), client.get("/api/v1/introductions/", headers=nurse)):
        text = reply.get_data(as_text=True)
        assert reply.status_code == 200 and not any(name in text for name in names)
    assert client.get("/api/v1/introductions/", headers=nurse).get_json()["items"][0]["offer_organization"] is None
    own_view = client.get(url, headers=d["token"](d["seller"])).get_json()  # its own members know who they are
    assert own_view["offer_organization"]["id"] == d["firm"]
    client.post(f"{url}/respond", json={"decision": "accepted"}, headers=d["token"](d["seller"]))
    assert client.get(url, headers=nurse).get_json()["offer_organization"]["name_en"] == names[1]


def test_bad_messages_are_refused_and_nothing_is_saved(app, client, docking):
    d = docking
    intro = _request(client, d)
    url = f"/api/v1/introductions/{intro['id']}"
    client.post(f"{url}/respond", json={"decision": "accepted"}, headers=d["token"](d["seller"]))
    nurse = d["token"](d["nurse"])
    for body, field in (({"body": ""}, "json.body"), ({"body": "   \n "}, "body"), ({"body": "x" * 4001}, "json.body"),
                        ({"body": "<script>alert(1)</script>"}, "body"), ({"body": "<b>bold</b> offer"}, "body"),
                        ({}, "json.body"), ({"body": "ok", "extra": 1}, "json.extra"), ({"body": None}, "json.body")):
        reply = client.post(f"{url}/messages", json=body, headers=nurse)
        assert reply.status_code == 422, (body, reply.status_code, reply.get_data(as_text=True))
        assert reply.content_type == "application/problem+json" and field in reply.get_json()["errors"], body
    html = client.post(f"{url}/messages", json={"body": "<b>bold</b>"}, headers=nurse).get_json()
    assert "plain text" in html["detail"]
    assert _messages(app, intro["id"]) == 0
    longest = client.post(f"{url}/messages", json={"body": "y" * 4000}, headers=nurse)
    assert longest.status_code == 201
    assert client.post(f"{url}/messages", json={"body": "2 < 3 and 5 > 4"}, headers=nurse).status_code == 201


@pytest.mark.parametrize("ending", ["declined", "expired"])
def test_no_messages_to_a_declined_or_expired_introduction(app, client, docking, ending):
    d = docking
    intro = _request(client, d)
    url = f"/api/v1/introductions/{intro['id']}"
    seller = d["token"](d["seller"])
    if ending == "declined":
        reply = client.post(f"{url}/respond", json={"decision": "declined", "reason": "No capacity"}, headers=seller)
        assert reply.status_code == 200 and reply.get_json()["stage"] == "declined"
    else:
        with app.app_context():
            row = db.session.get(Introduction, intro["id"])
            row.stage, row.expires_at = "expired", datetime.now(timezone.utc) - timedelta(days=1)
            db.session.commit()
    for user in (d["nurse"], d["seller"]):
        reply = client.post(f"{url}/messages", json={"body": "Still there?"}, headers=d["token"](user))
        assert reply.status_code == 409 and "closed" in reply.get_json()["detail"]
        assert client.get(url, headers=d["token"](user)).get_json()["contacts"] == []
    assert _messages(app, intro["id"]) == 0


def test_forged_and_huge_ids_are_not_found(app, client, make, docking):
    d = docking
    nurse = d["token"](d["nurse"])
    for path in ("/api/v1/introductions/0/messages", "/api/v1/introductions/987654/messages",
                 f"/api/v1/introductions/{2**31}/messages", f"/api/v1/introductions/{10**30}/messages",
                 "/api/v1/introductions/-1/messages", "/api/v1/introductions/abc/messages",
                 f"/api/v1/introductions/{10**30}"):
        assert client.get(path, headers=nurse).status_code == 404, path
        assert client.post(path, json={"body": "Hi"}, headers=nurse).status_code in (404, 405), path
    intro = _request(client, d)
    for query in (f"after_id={10**30}", "after_id=-5", "after_id=x", "per_page=100000"):
        reply = client.get(f"/api/v1/introductions/{intro['id']}/messages?{query}", headers=nurse)
        assert reply.status_code == 422, (query, reply.status_code)
    assert client.get(f"/api/v1/introductions/{intro['id']}/messages?after_id={2**31 - 1}",
                      headers=nurse).get_json()["items"] == []
    for body, status in (({"offer_id": 987654}, 404), ({"organization_id": 987654}, 404),
                         ({"need_id": 987654, "offer_id": d["offer"]}, 422),
                         ({"offer_id": 2**31}, 422), ({"offer_id": 10**30}, 422), ({"offer_id": "1; drop"}, 422),
                         ({"as_organization_id": 987654, "offer_id": d["offer"]}, 403),
                         ({"as_organization_id": d["firm"], "need_id": d["need"], "offer_id": d["offer"]}, 403)):
        reply = client.post("/api/v1/introductions/", headers=nurse,
                            json={"purpose": "trial", "message": "Forged", **body})
        assert reply.status_code == status, (body, reply.status_code, reply.get_data(as_text=True))
    with app.app_context():
        assert db.session.query(Introduction).count() == 1
        assert db.session.get(User, d["nurse"]) is not None


def test_unverified_organisations_are_held_to_the_setting_in_the_api_too(app, client, docking):
    payload = {"offer_id": docking["offer"], "purpose": "purchase", "message": "We would like to buy 200 kits."}
    app.config["UNVERIFIED_MAY_REQUEST_INTRODUCTIONS"] = False
    try:
        reply = client.post("/api/v1/introductions/", json=payload, headers=docking["token"](docking["nurse"]))
        assert reply.status_code in (400, 403, 422) and reply.get_json()["detail"]
        with app.app_context():
            assert db.session.query(Introduction).count() == 0
            db.session.get(Organization, docking["hospital"]).verified = True
            db.session.commit()
        assert client.post("/api/v1/introductions/", json=payload,
                           headers=docking["token"](docking["nurse"])).status_code == 201
    finally:
        app.config["UNVERIFIED_MAY_REQUEST_INTRODUCTIONS"] = True
