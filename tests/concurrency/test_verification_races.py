"""Operators deciding the same offer or organisation at once, and releasing batches at once, through gunicorn."""
from __future__ import annotations

from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import Batch, Offer, Organization, OrganizationVerification, ReviewDecision
from tests.concurrency.conftest import fire, statuses
from tests.factories import valid_uscc

OFFERS = 8


def _operators(make, live, count: int):
    _, email = make.staff("operator")
    return [live.client().login(email) for _ in range(count)]


def test_approve_and_reject_at_once_record_one_decision(app, make, live):
    org, _, _ = make.member()
    offers = [make.offer(org, status="submitted") for _ in range(OFFERS)]
    approvers, rejecters = _operators(make, live, OFFERS), _operators(make, live, OFFERS)
    calls = []
    for offer_id, a, r in zip(offers, approvers, rejecters):
        calls.append(lambda a=a, o=offer_id: a.post(f"/operator/verification/{o}", data={"decision": "approve"}))
        calls.append(lambda r=r, o=offer_id: r.post(f"/operator/verification/{o}",
                                                     data={"decision": "reject", "reason": "资料不全"}))
    responses = fire(calls)
    codes = statuses(responses)
    # the winner is redirected to the queue; the loser sees the review page again with the reason (409 = conflict)
    assert sorted(codes) == [302] * OFFERS + [409] * OFFERS, codes
    assert any("您的决定未被记录" in r.text for r in responses if r.status_code == 409)
    with app.app_context():
        for offer_id in offers:
            decisions = db.session.scalars(select(ReviewDecision.decision).where(
                ReviewDecision.offer_id == offer_id)).all()
            assert len(decisions) == 1, decisions
            status = db.session.get(Offer, offer_id).status
            assert status == {"approve": "approved", "reject": "rejected"}[decisions[0]]


def test_approve_and_reject_of_an_organisation_at_once_record_one(app, make, live):
    requests = []
    with app.app_context():
        for n in range(OFFERS):
            org = Organization(kind="firm", name_zh=f"待认证机构{n}", name_en=f"Pending {n}", uscc=None)
            db.session.add(org)
            db.session.flush()
            db.session.add(OrganizationVerification(organization_id=org.id, uscc=valid_uscc(900_000 + n),
                                                    status="pending"))
        db.session.commit()
        requests = db.session.scalars(select(OrganizationVerification.id).order_by(
            OrganizationVerification.id.desc()).limit(OFFERS)).all()
    approvers, rejecters = _operators(make, live, OFFERS), _operators(make, live, OFFERS)
    calls = []
    for request_id, a, r in zip(requests, approvers, rejecters):
        calls.append(lambda a=a, i=request_id: a.post(f"/operator/organizations/{i}", data={"decision": "approve"}))
        calls.append(lambda r=r, i=request_id: r.post(f"/operator/organizations/{i}",
                                                       data={"decision": "reject", "reason": "执照模糊"}))
    responses = fire(calls)
    codes = statuses(responses)
    assert 500 not in codes and codes.count(302) == OFFERS, codes
    with app.app_context():
        for request_id in requests:
            req = db.session.get(OrganizationVerification, request_id)
            assert req.status in ("approved", "rejected")
            assert db.session.get(Organization, req.organization_id).verified == (req.status == "approved")


def test_simultaneous_batch_releases_number_gaplessly_and_publish_each_offer_once(app, make, live):
    org, _, _ = make.member()
    offers = [make.offer(org, status="approved") for _ in range(OFFERS)]
    operators = _operators(make, live, 6)
    responses = fire(lambda c=c: c.post("/operator/batches/release", data={"title_zh": "第一批"}) for c in operators)
    assert set(statuses(responses)) == {302}, statuses(responses)
    with app.app_context():
        numbers = db.session.scalars(select(Batch.number).order_by(Batch.number)).all()
        assert numbers == [1], numbers  # one release took them all; the others were told nothing was left
        sizes = db.session.scalars(select(func.count(Offer.id)).where(Offer.batch_id.is_not(None))
                                   .group_by(Offer.batch_id)).all()
        assert sizes == [OFFERS]
        assert set(db.session.scalars(select(Offer.status).where(Offer.id.in_(offers)))) == {"published"}
    # releases of chosen offers at once: each gets the next number, no offer lands in two batches
    more = [make.offer(org, status="approved") for _ in range(OFFERS)]
    responses = fire(lambda c=c, o=o: c.post("/operator/batches/release", data={"offer_ids": [o]})
                     for c, o in zip(operators + _operators(make, live, OFFERS - 6), more))
    assert set(statuses(responses)) == {302}, statuses(responses)
    with app.app_context():
        numbers = db.session.scalars(select(Batch.number).order_by(Batch.number)).all()
        assert numbers == list(range(1, OFFERS + 2)), numbers
        assert db.session.scalar(select(func.count(Offer.id)).where(Offer.id.in_(more), Offer.batch_id.is_not(None),
                                                                    Offer.status == "published")) == OFFERS
        empty = db.session.scalar(select(func.count(Batch.id)).where(~Batch.offers.any()))
        assert empty == 0


def test_simultaneous_high_value_releases_never_share_a_patent_or_a_number(app, make, live):
    from marketplace.models import PatentDetail
    org, _, _ = make.member("university")
    patents = [make.offer(org, kind="patent", status="submitted") for _ in range(OFFERS)]
    with app.app_context():
        for n, offer_id in enumerate(patents):
            detail = db.session.get(PatentDetail, offer_id)
            detail.curation_stage, detail.value_score = "shortlisted", 50 + n
        db.session.commit()
    operators = _operators(make, live, 4)
    responses = fire(lambda c=c: c.post("/operator/patents/publish", data={"n": "2"}) for c in operators)
    assert set(statuses(responses)) == {302}, statuses(responses)
    with app.app_context():
        batches = db.session.scalars(select(Batch).order_by(Batch.number)).all()
        assert [b.number for b in batches] == [1, 2, 3, 4]
        assert [len(b.offers) for b in batches] == [2, 2, 2, 2]
        published = db.session.scalars(select(Offer.id).where(Offer.id.in_(patents), Offer.status == "published"))
        assert len(set(published)) == OFFERS
        # the best-scoring pair went first
        assert {o.id for o in batches[0].offers} == set(patents[-2:])
        # four workers moving patents at once leave the kept stage counts equal to the records
        from marketplace.services import funnel_counts
        assert funnel_counts.stage_counts() == funnel_counts.counted_from_records() == {
            "screened": 0, "shortlisted": 0, "high_value": OFFERS}
