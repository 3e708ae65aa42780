"""Every API operation that takes an object id refuses a member of another organisation (403 or 404) and
changes nothing. The operations are read from the OpenAPI document, so a new one must be covered here."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import (Challenge, ChallengeProposal, ChallengeQuestion, Event, Introduction,
                                IntroductionMessage, LiaisonReport, Membership, Need, Offer, Organization,
                                OrganizationInvitation, PolicyFiling, PolicyFilingPart, PolicyMeasure)

# Operations whose object is public on purpose (what a visitor may see anyway).
PUBLIC = {("get", "/api/v1/organizations/{org_id}"), ("get", "/api/v1/policy/measures/{measure_id}")}
BODIES = {  # a valid body, so the refusal comes from the access rules and not from validation
    ("patch", "/api/v1/offers/{offer_id}"): {"title_en": "Taken over"},
    ("patch", "/api/v1/needs/{need_id}"): {"title_en": "Taken over"},
    ("post", "/api/v1/needs/{need_id}/close"): {"reason": "x"},
    ("post", "/api/v1/needs/{need_id}/matches/{offer_id}/accept"): {},
    ("post", "/api/v1/needs/{need_id}/matches/{offer_id}/dismiss"): {},
    ("patch", "/api/v1/organizations/{org_id}"): {"website": "https://evil.example.com"},
    ("patch", "/api/v1/organizations/{org_id}/members/{membership_id}"): {"role": "member"},
    ("post", "/api/v1/organizations/{org_id}/invitations"): {"email": "intruder@example.com", "role": "owner"},
    ("post", "/api/v1/introductions/{intro_id}/respond"): {"decision": "declined", "reason": "x"},
    ("post", "/api/v1/introductions/{intro_id}/stage"): {"to_stage": "lost", "reason": "x"},
    ("put", "/api/v1/introductions/{intro_id}/deal-value"): {"deal_value_rmb": 1},
    ("post", "/api/v1/introductions/{intro_id}/messages"): {"body": "Taken over"},
    ("patch", "/api/v1/events/{event_id}"): {"title_en": "Taken over"},
    ("post", "/api/v1/events/{event_id}/cancel"): {"reason": "x"},
    ("post", "/api/v1/liaison/reports/{report_id}"): {"action": "close", "text": "x"},
    ("put", "/api/v1/challenges/{challenge_id}/evaluation/proposals/{proposal_id}/conflict"): {"has_conflict": True,
                                                                                             "note": "x"},
    ("put", "/api/v1/challenges/{challenge_id}/evaluation/proposals/{proposal_id}/scores"): {
        "scores": [{"criterion_id": 1, "score": 10}]},
    ("patch", "/api/v1/challenges/{challenge_id}"): {"title_en": "Taken over"},
    ("post", "/api/v1/challenges/{challenge_id}/questions"): {"text": "Taken over"},
    ("post", "/api/v1/challenges/{challenge_id}/questions/{question_id}/answer"): {"answer": "x", "visibility": "public"},
    ("post", "/api/v1/challenges/{challenge_id}/proposals"): {"lead_organization_id": 1},
    ("patch", "/api/v1/challenges/{challenge_id}/proposals/{proposal_id}"): {"title": "Taken over"},
}


def _operations(app) -> list[tuple[str, str]]:
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    return sorted((method, path) for path, ops in spec["paths"].items() if "{" in path
                  for method in ops if method in ("get", "post", "put", "patch", "delete"))


@pytest.fixture
def private_world(app, make):
    """Records of organisation A (and an introduction A↔C by another broker) that B may not see or change."""
    org_a, user_a, _ = make.member("hospital")
    org_c, _uc, _ = make.member("firm")
    broker, _ = make.staff("broker")
    organiser, _ = make.staff("organiser")
    draft_offer = make.offer(org_a, status="draft", kind="patent")
    published_c = make.offer(org_c)
    need = make.need(org_a, visibility="confidential")
    open_need = make.need(org_a)
    with app.app_context():
        now = datetime.now(timezone.utc)
        intro = Introduction(need_id=open_need, offer_id=published_c, need_organization_id=org_a,
                             offer_organization_id=org_c, broker_id=broker, message="m", stage="accepted",
                             need_response="accepted", offer_response="accepted",
                             stage_changed_at=now, expires_at=now + timedelta(days=14))
        event = Event(kind="spark", status="draft", organiser_id=organiser, title_zh="草稿活动",
                      starts_at=now + timedelta(days=3), ends_at=now + timedelta(days=3, hours=2))
        db.session.add_all([intro, event])
        db.session.flush()
        db.session.add(IntroductionMessage(introduction_id=intro.id, author_id=user_a, side="need", body="private"))
        from marketplace.services.policy import catalogue
        catalogue.load_reference(db.session)
        measure = db.session.scalar(select(PolicyMeasure).where(PolicyMeasure.number == 5))
        filing = PolicyFiling(organization_id=org_a, title="20200206 甲（第5条）", project_name="p", filed_on=now.date())
        filing.parts.append(PolicyFilingPart(measure_id=measure.id, measure_number=5))
        db.session.add(filing)
        report = LiaisonReport(organization_id=org_a, sub_park="haidian", topic="legal", title="t", body="b",
                               respond_by=now + timedelta(days=3))
        db.session.add(report)
        # a challenge of A waiting for verification, with C's question and C's proposal: B sees none of them
        challenge = Challenge(organization_id=org_a, status="submitted", title_zh="待审核榜单",
                              deadline=now + timedelta(days=9))
        db.session.add(challenge)
        db.session.flush()
        question = ChallengeQuestion(challenge_id=challenge.id, asker_id=_uc, text="私下的问题")
        proposal = ChallengeProposal(challenge_id=challenge.id, lead_organization_id=org_c, status="submitted",
                                     title="丙的方案")
        db.session.add_all([question, proposal])
        db.session.commit()
        membership_id = db.session.scalar(select(Membership.id).where(Membership.organization_id == org_a))
        ids = {"offer_id": draft_offer, "need_id": need, "org_id": org_a, "intro_id": intro.id, "event_id": event.id,
               "membership_id": membership_id, "filing_id": filing.id, "measure_id": measure.id,
               "report_id": report.id,
               "challenge_id": challenge.id, "question_id": question.id, "proposal_id": proposal.id}
    return ids


def _snapshot(app, ids) -> dict:
    with app.app_context():
        offer, need = db.session.get(Offer, ids["offer_id"]), db.session.get(Need, ids["need_id"])
        intro, event = db.session.get(Introduction, ids["intro_id"]), db.session.get(Event, ids["event_id"])
        org = db.session.get(Organization, ids["org_id"])
        members = sorted(db.session.execute(select(Membership.user_id, Membership.role).where(
            Membership.organization_id == org.id)).all())
        invited = db.session.scalar(select(func.count(OrganizationInvitation.id)))
        return {"members": members, "invited": invited, "offer": (offer.status, offer.title_en), "need": (need.status, need.title_en),
                "intro": (intro.stage, intro.deal_value_rmb), "event": (event.status, event.title_en),
                "messages": db.session.query(IntroductionMessage).filter_by(introduction_id=intro.id).count(),
                "org": org.website, "reports": [(r.status, r.result) for r in db.session.scalars(
                    select(LiaisonReport))],
                "challenge": (db.session.get(Challenge, ids["challenge_id"]).status,
                                                   db.session.get(Challenge, ids["challenge_id"]).title_en),
                "proposal": db.session.get(ChallengeProposal, ids["proposal_id"]).title,
                "questions": db.session.scalar(select(func.count(ChallengeQuestion.id)))}


def test_every_id_operation_is_refused_to_another_organisation(app, client, make, token_for, private_world):
    _org_b, user_b, _ = make.member("firm")
    headers = token_for(user_b)
    before = _snapshot(app, private_world)
    checked = []
    for method, path in _operations(app):
        if (method, path) in PUBLIC:
            continue
        url = re.sub(r"\{(\w+)\}", lambda m: str(private_world[m.group(1)]), path)
        reply = client.open(url, method=method.upper(), headers=headers, json=BODIES.get((method, path)))
        assert reply.status_code in (403, 404), (method, path, reply.status_code, reply.get_data(as_text=True))
        anonymous = client.open(url, method=method.upper(), json=BODIES.get((method, path)))
        assert anonymous.status_code in (401, 403, 404), (method, path, anonymous.status_code)
        checked.append((method, path))
    assert _snapshot(app, private_world) == before
    assert {("get", "/api/v1/introductions/{intro_id}/messages"),
            ("post", "/api/v1/introductions/{intro_id}/messages")} <= set(checked)
    assert {("post", "/api/v1/needs/{need_id}/publish"), ("post", "/api/v1/needs/{need_id}/reopen")} <= set(checked)
    assert {("get", "/api/v1/challenges/{challenge_id}/proposals/{proposal_id}"),
            ("post", "/api/v1/challenges/{challenge_id}/proposals/{proposal_id}/withdraw")} <= set(checked)
    assert len(checked) >= 19  # the document lists the id-taking operations; none may slip through
