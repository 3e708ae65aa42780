"""Policy desk API: the catalogue, a firm's matching measures, filings with the notice's record title."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import Organization, PolicyFiling
from marketplace.services.policy import catalogue

BODY = {"measures": [7, 2, 4], "project_name": "核酸检测试剂盒", "direction": "D1", "description": "快速检测",
        "contact_name": "王工", "contact_phone": "010-88880000"}


@pytest.fixture
def firm(app, make):
    org, user, _ = make.member("firm")
    with app.app_context():
        catalogue.load_reference(db.session)
        row = db.session.get(Organization, org)
        row.short_name, row.registered_in_park, row.size_class = "火眼公司", True, "small"
        db.session.commit()
    return org, user


def test_catalogue_is_public_and_searchable(client, firm):
    items = client.get("/api/v1/policy/measures").get_json()["items"]
    assert len(items) == 13 and items[0]["offices"]
    found = client.get("/api/v1/policy/measures", query_string={"q": "研发费用补贴"}).get_json()["items"]
    assert [m["number"] for m in found] == [5]
    assert client.get(f"/api/v1/policy/measures/{found[0]['id']}").status_code == 200


def test_post_filing_answers_with_the_record_title(client, firm, token_for):
    org, user = firm
    reply = client.post("/api/v1/filings/", json={**BODY, "organization_id": org}, headers=token_for(user))
    assert reply.status_code == 201, reply.get_json()
    body = reply.get_json()
    assert body["title"].endswith(" 火眼公司（第2、4、7条）") and len(body["title"]) == len("20200206 火眼公司（第2、4、7条）")
    assert [p["measure_number"] for p in body["parts"]] == [2, 4, 7]
    assert client.get(f"/api/v1/filings/{body['id']}", headers=token_for(user)).get_json()["title"] == body["title"]
    assert [f["id"] for f in client.get("/api/v1/filings/", headers=token_for(user)).get_json()["items"]] == [body["id"]]


@pytest.mark.parametrize("change", [{"measures": []}, {"measures": [99]}, {"measures": [2**40]}, {"direction": "X"},
                                    {"project_name": ""}, {"unexpected": 1}, {"organization_id": 2**31}])
def test_malformed_filings_are_refused_with_problem_details_and_create_nothing(app, client, firm, token_for, change):
    org, user = firm
    reply = client.post("/api/v1/filings/", json={**BODY, "organization_id": org, **change}, headers=token_for(user))
    assert 400 <= reply.status_code < 500 and reply.status_code != 401
    assert reply.headers["Content-Type"].startswith("application/problem+json")
    with app.app_context():
        assert db.session.scalar(select(func.count(PolicyFiling.id))) == 0


def test_filing_for_an_organisation_not_yours_is_refused(app, client, firm, make, token_for):
    org, _user = firm
    _other, stranger, _ = make.member("firm")
    reply = client.post("/api/v1/filings/", json={**BODY, "organization_id": org}, headers=token_for(stranger))
    assert reply.status_code == 404
    with app.app_context():
        assert db.session.scalar(select(func.count(PolicyFiling.id))) == 0


def test_matches_list_each_measure_with_its_conditions(client, firm, token_for):
    _org, user = firm
    items = client.get("/api/v1/policy/matches", headers=token_for(user)).get_json()["items"]
    rd = next(i for i in items if i["measure"]["number"] == 5)
    assert rd["verdict"] == "possible"
    assert {c["fact"]: c["status"] for c in rd["checks"]}["rd_spending"] == "unknown"
