"""Operators verify submissions, send them back with a reason, and publish approved ones in numbered batches."""
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import Batch, Offer, ReviewDecision
from tests.conftest import login


def test_non_operators_cannot_use_the_queue(client, make):
    _, _, email = make.member("firm")
    login(client, email)
    assert client.get("/operator/verification").status_code == 403
    assert client.get("/operator/").status_code == 403
    assert client.post("/operator/batches/release").status_code == 403


def test_send_back_requires_a_reason_that_reaches_the_submitter(client, make, app):
    org, _, member_email = make.member("firm")
    offer = make.offer(org, status="submitted", title_zh="待审核呼吸机")
    _, operator = make.staff("operator")
    login(client, operator)
    assert "待审核呼吸机" in client.get("/operator/verification").get_data(as_text=True)
    r = client.post(f"/operator/verification/{offer}", data={"decision": "request_changes", "reason": ""})
    assert r.status_code == 400
    assert make.get(Offer, offer)["status"] == "submitted"
    r = client.post(f"/operator/verification/{offer}", data={"decision": "request_changes",
                                                             "reason": "请补充注册证编号"})
    assert r.status_code == 302
    assert make.get(Offer, offer)["status"] == "changes_requested"
    client.post("/logout")
    login(client, member_email)
    html = client.get("/account/").get_data(as_text=True)
    assert "请补充注册证编号" in html
    # the member can fix and resubmit
    assert client.post(f"/offers/{offer}/submit").status_code == 302
    assert make.get(Offer, offer)["status"] == "submitted"


def test_approve_then_publish_numbered_batch_with_release_note(client, make, app):
    org, _, _ = make.member("firm")
    first = make.offer(org, status="submitted", title_zh="产品甲")
    second = make.offer(org, status="submitted", title_zh="产品乙")
    rejected = make.offer(org, status="submitted", title_zh="产品丙")
    _, operator = make.staff("operator")
    login(client, operator)
    for offer in (first, second):
        assert client.post(f"/operator/verification/{offer}", data={"decision": "approve"}).status_code == 302
    client.post(f"/operator/verification/{rejected}", data={"decision": "reject", "reason": "与防疫无关"})
    assert make.get(Offer, first)["status"] == "approved"
    assert client.get(f"/offers/{first}").status_code == 200  # operators see it; visitors do not yet
    r = client.post("/operator/batches/release", data={"offer_ids": [str(first), str(second)],
                                                       "note_zh": "本批次经核验发布。"})
    assert r.status_code == 302
    with app.app_context():
        batch = db.session.scalar(select(Batch))
        assert batch.number == 1 and "2" in batch.title_zh and batch.note_zh == "本批次经核验发布。"
        assert {o.status for o in batch.offers} == {"published"}
        assert db.session.scalar(select(Offer.status).where(Offer.id == rejected)) == "rejected"
        assert db.session.query(ReviewDecision).count() == 3
    client.post("/logout")
    html = client.get("/offers/batches/1").get_data(as_text=True)
    assert "产品甲" in html and "产品乙" in html and "本批次经核验发布" in html
    assert "产品甲" in client.get("/offers/?batch=1").get_data(as_text=True).replace("<mark>", "").replace("</mark>", "")
    # nothing approved left: a second release is refused with a message, nothing created
    login(client, operator)
    r = client.post("/operator/batches/release", data={}, follow_redirects=True)
    with app.app_context():
        assert db.session.query(Batch).count() == 1


def test_dashboard_draws_charts_from_records(client, make):
    org, _, _ = make.member("firm")
    make.offer(org, kind="product")
    make.offer(org, kind="patent")
    hospital, _, _ = make.member("hospital")
    make.need(hospital, kind="procurement")
    _, operator = make.staff("operator")
    login(client, operator)
    html = client.get("/operator/").get_data(as_text=True)
    assert html.count("<svg") >= 5 and "cdn" not in html.lower()
    assert 'id="chart-kind"' in html
