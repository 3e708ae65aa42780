"""Open challenges API: public list and detail, create and update for the challenger's members, questions, and
owner-scoped proposals (a solver never reads another's), refused after the deadline."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import Challenge, ChallengeProposal
from tests import challenge_builders as build

BODY = {"title_zh": "基层医院远程超声", "problem_zh": "基层缺少超声医生。", "award_min_rmb": 300000,
        "award_max_rmb": 600000, "timezone": "Asia/Shanghai", "eligible_kinds": ["lab", "firm"],
        "consortium_allowed": True, "criteria": [{"name_zh": "临床价值", "weight": 70}, {"name_zh": "成本", "weight": 30}],
        "milestone_plan": [{"title": "样机", "months": 6}], "confidential_zh": "合作医院名单"}


def _deadline(days: int = 30) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).replace(microsecond=0).isoformat()


def test_create_update_submit_and_read(app, client, make, token_for):
    org, user, _ = make.member("hospital")
    headers = token_for(user)
    reply = client.post("/api/v1/challenges/", json={**BODY, "organization_id": org, "deadline": _deadline()},
                        headers=headers)
    assert reply.status_code == 201, reply.get_json()
    body = reply.get_json()
    assert body["status"] == "draft" and [c["weight"] for c in body["criteria"]] == [70, 30]
    assert body["confidential_zh"] == "合作医院名单"  # the challenger sees its own confidential part
    cid, etag = body["id"], reply.headers["ETag"]
    # a visitor does not see a draft
    assert client.get(f"/api/v1/challenges/{cid}").status_code == 404
    patched = client.patch(f"/api/v1/challenges/{cid}", json={"title_en": "Remote ultrasound"},
                           headers={**headers, "If-Match": etag})
    assert patched.status_code == 200 and patched.get_json()["title_zh"] == "基层医院远程超声"
    stale = client.patch(f"/api/v1/challenges/{cid}", json={"title_en": "Stale"}, headers={**headers, "If-Match": etag})
    assert stale.status_code == 409
    assert client.post(f"/api/v1/challenges/{cid}/submit", headers=headers).get_json()["status"] == "submitted"
    with app.app_context():
        row = db.session.get(Challenge, cid)
        row.status = "published"
        db.session.commit()
    public = client.get(f"/api/v1/challenges/{cid}").get_json()
    assert public["confidential_zh"] is None and public["has_confidential_part"] is True
    assert public["review_reason"] is None and public["accepts_submissions"] is True
    listed = client.get("/api/v1/challenges/", query_string={"status": "open"}).get_json()
    assert [c["id"] for c in listed["items"]] == [cid]


def test_bad_bodies_change_nothing(app, client, make, token_for):
    org, user, _ = make.member("hospital")
    lab_org, lab_user, _ = make.member("lab")
    headers = token_for(user)
    past = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    for bad in ({"deadline": past}, {"deadline": _deadline(), "criteria": [{"name_zh": "x", "weight": 0}]},
                {"deadline": _deadline(), "timezone": "Mars/Base"}, {"deadline": _deadline(), "unknown": 1},
                {"deadline": _deadline(), "award_min_rmb": 9, "award_max_rmb": 1}):
        reply = client.post("/api/v1/challenges/", json={**BODY, "organization_id": org, **bad}, headers=headers)
        assert reply.status_code in (400, 422), bad
    # a lab may not publish a challenge
    reply = client.post("/api/v1/challenges/", json={**BODY, "organization_id": lab_org, "deadline": _deadline()},
                        headers=token_for(lab_user))
    assert reply.status_code == 403
    with app.app_context():
        assert db.session.scalar(select(func.count(Challenge.id))) == 0


def test_questions_and_answers(app, client, make, token_for):
    hospital, h_user, _ = make.member("hospital")
    _lab, l_user, _ = make.member("lab")
    cid = build.challenge(app, hospital)
    asked = client.post(f"/api/v1/challenges/{cid}/questions", json={"text": "样本量多少？"}, headers=token_for(l_user))
    assert asked.status_code == 201 and asked.get_json()["asked_by_you"] is True
    qid = asked.get_json()["id"]
    assert client.get(f"/api/v1/challenges/{cid}/questions").get_json()["items"] == []
    assert client.post(f"/api/v1/challenges/{cid}/questions/{qid}/answer", json={"answer": "x", "visibility": "public"},
                       headers=token_for(l_user)).status_code == 403
    answered = client.post(f"/api/v1/challenges/{cid}/questions/{qid}/answer",
                           json={"answer": "约两百例。", "visibility": "public"}, headers=token_for(h_user))
    assert answered.status_code == 200
    items = client.get(f"/api/v1/challenges/{cid}/questions").get_json()["items"]
    assert [q["answer"] for q in items] == ["约两百例。"]
    assert client.get(f"/api/v1/challenges/{cid}").get_json()["clarification_number"] == 1


def test_proposals_are_owner_scoped(app, client, make, token_for):
    hospital, h_user, _ = make.member("hospital")
    lab1, a_user, _ = make.member("lab")
    lab2, b_user, _ = make.member("lab")
    cid = build.challenge(app, hospital)
    theirs = build.proposal(app, cid, lab2, approach="乙的方案")
    mine = client.post(f"/api/v1/challenges/{cid}/proposals",
                       json={"lead_organization_id": lab1, "title": "甲的方案", "approach": "路线",
                             "milestones": [{"title": "样机", "months": 3}]}, headers=token_for(a_user))
    assert mine.status_code == 201, mine.get_json()
    pid = mine.get_json()["id"]
    # starting again returns the same proposal
    again = client.post(f"/api/v1/challenges/{cid}/proposals", json={"lead_organization_id": lab1},
                        headers=token_for(a_user))
    assert again.get_json()["id"] == pid
    listed = client.get(f"/api/v1/challenges/{cid}/proposals", headers=token_for(a_user)).get_json()["items"]
    assert [p["id"] for p in listed] == [pid]
    assert client.get(f"/api/v1/challenges/{cid}/proposals/{theirs}", headers=token_for(a_user)).status_code == 404
    assert client.patch(f"/api/v1/challenges/{cid}/proposals/{theirs}", json={"title": "抢走"},
                        headers=token_for(a_user)).status_code == 404
    assert client.post(f"/api/v1/challenges/{cid}/proposals/{pid}/submit",
                       headers=token_for(a_user)).get_json()["status"] == "submitted"
    seen = client.get(f"/api/v1/challenges/{cid}/proposals", headers=token_for(h_user)).get_json()["items"]
    assert sorted(p["id"] for p in seen) == sorted([pid, theirs])
    assert client.get(f"/api/v1/challenges/{cid}/proposals", headers=token_for(b_user)).get_json()["items"][0]["id"] \
        == theirs
    assert client.get(f"/api/v1/challenges/{cid}/proposals").status_code == 401


def test_nothing_after_the_deadline(app, client, make, token_for):
    hospital, _h, _ = make.member("hospital")
    lab, l_user, _ = make.member("lab")
    cid = build.challenge(app, hospital)
    pid = build.proposal(app, cid, lab, status="draft")
    with app.app_context():
        db.session.get(Challenge, cid).deadline = datetime.now(UTC) - timedelta(seconds=1)
        db.session.commit()
    headers = token_for(l_user)
    assert client.post(f"/api/v1/challenges/{cid}/proposals/{pid}/submit", headers=headers).status_code == 409
    assert client.patch(f"/api/v1/challenges/{cid}/proposals/{pid}", json={"title": "晚了"},
                        headers=headers).status_code == 409
    assert client.post(f"/api/v1/challenges/{cid}/questions", json={"text": "晚了吗"}, headers=headers).status_code == 409
    with app.app_context():
        row = db.session.get(ChallengeProposal, pid)
        assert row.status == "draft" and row.title != "晚了"
    assert client.get(f"/api/v1/challenges/{cid}").get_json()["status"] == "closed"
