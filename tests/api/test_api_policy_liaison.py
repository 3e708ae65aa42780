"""Liaison API: a firm reports to its sub-park and reads its own reports; the sub-park's staff list theirs and act
on them; nobody else sees a report; the operations are in the OpenAPI document."""
from __future__ import annotations

from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import LiaisonReport, Need, Organization, SubParkStaff, SupplyChain

REPORT = {"topic": "supply_chain", "title": "呼吸机涡轮风机进口受阻", "body": "进口核心部件延迟到货，需要替代供应商。"}


def _firm(app, make, sub_park="haidian"):
    org, user, _ = make.member("firm")
    with app.app_context():
        row = db.session.get(Organization, org)
        row.sub_park, row.short_name = sub_park, "火眼公司"
        db.session.commit()
    return org, user


def _staff(app, make, sub_park="haidian"):
    user, _email = make.staff("broker")
    with app.app_context():
        db.session.add(SubParkStaff(user_id=user, sub_park=sub_park))
        db.session.commit()
    return user


def test_a_firm_reports_and_its_sub_park_answers_through_the_api(app, client, make, token_for):
    org, user = _firm(app, make)
    with app.app_context():
        chain = SupplyChain(organization_id=org, sub_park="haidian", product_zh="呼吸机")
        db.session.add(chain)
        db.session.commit()
        chain_id = chain.id
    reply = client.post("/api/v1/liaison/reports", json={**REPORT, "organization_id": org,
                                                         "supply_chain_id": chain_id}, headers=token_for(user))
    assert reply.status_code == 201, reply.get_json()
    report = reply.get_json()
    assert (report["status"], report["organization_short_name"], report["supply_chain_id"]) == (
        "open", "火眼公司", chain_id)
    assert report["topic_label"] and report["respond_by"]
    mine = client.get("/api/v1/liaison/reports", headers=token_for(user)).get_json()["items"]
    assert [r["id"] for r in mine] == [report["id"]]

    staff = token_for(_staff(app, make))
    waiting = client.get("/api/v1/liaison/reports", query_string={"status": "open"}, headers=staff).get_json()
    assert [r["id"] for r in waiting["items"]] == [report["id"]]
    acted = client.post(f"/api/v1/liaison/reports/{report['id']}", json={"action": "post_need", "text": "已发布需求"},
                        headers=staff)
    assert acted.status_code == 200, acted.get_json()
    assert acted.get_json()["status"] == "need_posted" and acted.get_json()["need_id"]
    assert client.get(f"/api/v1/liaison/reports/{report['id']}", headers=token_for(user)).get_json()["answer"] == \
        "已发布需求"
    # The firm itself cannot act on its report.
    assert client.post(f"/api/v1/liaison/reports/{report['id']}", json={"action": "close", "text": "x"},
                       headers=token_for(user)).status_code == 403
    with app.app_context():
        assert db.session.scalar(select(func.count(Need.id))) == 1


def test_other_firms_and_other_sub_parks_see_nothing(app, client, make, token_for):
    org, user = _firm(app, make)
    reply = client.post("/api/v1/liaison/reports", json={**REPORT, "organization_id": org}, headers=token_for(user))
    report_id = reply.get_json()["id"]
    _other_org, stranger = _firm(app, make)
    other_park = _staff(app, make, "changping")
    for token in (token_for(stranger), token_for(other_park)):
        assert client.get(f"/api/v1/liaison/reports/{report_id}", headers=token).status_code == 404
        assert client.get("/api/v1/liaison/reports", headers=token).get_json()["items"] == []
        assert client.post(f"/api/v1/liaison/reports/{report_id}", json={"action": "close", "text": "x"},
                           headers=token).status_code == 404
    assert client.get("/api/v1/liaison/reports").status_code == 401
    # Reporting for somebody else's organisation is refused.
    assert client.post("/api/v1/liaison/reports", json={**REPORT, "organization_id": org},
                       headers=token_for(stranger)).status_code == 404
    operator, _e = make.staff("operator")
    assert [r["id"] for r in client.get("/api/v1/liaison/reports", headers=token_for(operator)).get_json()["items"]] \
        == [report_id]
    with app.app_context():
        assert db.session.get(LiaisonReport, report_id).status == "open"


def test_malformed_reports_get_clear_errors_and_change_nothing(app, client, make, token_for):
    org, user = _firm(app, make)
    headers = token_for(user)
    for bad in ({"topic": "weather"}, {"title": ""}, {"body": "x" * 5001}, {"organization_id": "abc"},
                {"supply_chain_id": 999999}):
        reply = client.post("/api/v1/liaison/reports", json={**REPORT, "organization_id": org, **bad}, headers=headers)
        assert reply.status_code in (404, 422), (bad, reply.status_code)
        assert reply.get_json()["detail"] or reply.get_json().get("errors")
    with app.app_context():
        assert db.session.scalar(select(func.count(LiaisonReport.id))) == 0


def test_the_openapi_document_lists_the_liaison_operations(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/liaison/reports"])
    assert {"get", "post"} <= set(paths["/api/v1/liaison/reports/{report_id}"])
