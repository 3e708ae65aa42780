"""The scores API is scoped to the panel, and solvers never see scores or another team's proposal (API and pages)."""
from __future__ import annotations

from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import ChallengeScore, User
from marketplace.services import api_tokens
from tests.conftest import login
from tests.marketplace.test_challenge_evaluation import build_challenge, score_both, seat_panel

BASE = "/api/v1/challenges/{c}/evaluation"


def _token(app, user_id: int) -> dict:
    with app.app_context():
        _row, secret = api_tokens.create_token(db.session.get(User, user_id), {"name": "t", "scope": "write"})
        db.session.commit()
    return {"Authorization": f"Bearer {secret}"}


def _scores_body(s, first: int, second: int) -> dict:
    return {"scores": [{"criterion_id": s.criteria[0], "score": first, "comment": "好"},
                       {"criterion_id": s.criteria[1], "score": second}]}


def _count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(ChallengeScore.id)))


def test_panel_member_scores_through_the_api_and_sees_only_their_own(app, client, make):
    s = build_challenge(make)
    seat_panel(app, s)
    score_both(app, s, s.hospital_user, (9, 5), (6, 6))
    expert = _token(app, s.expert)
    url = BASE.format(c=s.challenge) + f"/proposals/{s.proposal_a}"
    assert client.put(url + "/scores", json=_scores_body(s, 7, 7), headers=expert).status_code == 403  # no declaration
    assert client.put(url + "/conflict", json={"has_conflict": False}, headers=expert).status_code == 200
    reply = client.put(url + "/scores", json=_scores_body(s, 7, 7), headers=expert)
    assert reply.status_code == 200 and {r["score"] for r in reply.get_json()} == {7}
    again = client.put(url + "/scores", json=_scores_body(s, 7, 7), headers=expert)
    assert again.status_code == 200  # the same scores again: answered as the first time
    assert client.put(url + "/scores", json=_scores_body(s, 2, 2), headers=expert).status_code == 409  # locked
    mine = client.get(BASE.format(c=s.challenge), headers=expert).get_json()
    assert mine["role"] == "panel" and mine["results"] == []
    assert {r["score"] for r in mine["scores"]} == {7}  # not the chair's 9, 5 and 6
    assert len(mine["scores"]) == 2
    chair = client.get(BASE.format(c=s.challenge), headers=_token(app, s.hospital_user)).get_json()
    assert chair["role"] == "challenger" and len(chair["scores"]) == 6
    assert chair["results"][0]["proposal_id"] == s.proposal_a and chair["results"][0]["rank"] == 1
    assert chair["results"][0]["lowest"] == 7.0 and chair["results"][0]["highest"] == 7.4


def test_bad_scores_are_refused_and_change_nothing(app, client, make):
    s = build_challenge(make)
    seat_panel(app, s)
    expert = _token(app, s.expert)
    url = BASE.format(c=s.challenge) + f"/proposals/{s.proposal_a}"
    client.put(url + "/conflict", json={"has_conflict": False}, headers=expert)
    for body in (_scores_body(s, 11, 5), _scores_body(s, -1, 5), {"scores": []}, {"scores": "x"},
                 {"scores": [{"criterion_id": s.criteria[0], "score": 5}]},
                 {"scores": [{"criterion_id": s.criteria[0], "score": 5}, {"criterion_id": s.criteria[0], "score": 6}]},
                 {"scores": [{"criterion_id": 2**40, "score": 5}]}):
        reply = client.put(url + "/scores", json=body, headers=expert)
        assert reply.status_code in (400, 422), (body, reply.status_code)
        assert reply.headers["Content-Type"].startswith("application/problem+json")
    assert _count(app) == 0
    reply = client.put(url + "/conflict", json={"has_conflict": True, "note": "合作者"}, headers=expert)
    assert reply.status_code == 200
    assert client.put(url + "/scores", json=_scores_body(s, 5, 5), headers=expert).status_code == 403
    assert client.put(url + "/conflict", json={"has_conflict": False}, headers=expert).status_code == 409
    assert _count(app) == 0


def test_solvers_never_see_scores_or_other_proposals(app, client, make):
    s = build_challenge(make)
    seat_panel(app, s)
    score_both(app, s, s.expert, (8, 8), (4, 4))
    lab_a = _token(app, s.lab_a_user)
    url = BASE.format(c=s.challenge)
    assert client.get(url, headers=lab_a).status_code == 404
    assert client.put(url + f"/proposals/{s.proposal_a}/scores", json=_scores_body(s, 10, 10),
                      headers=lab_a).status_code == 404
    assert client.get(url).status_code == 401
    assert _count(app) == 4
    login(client, s.lab_a_email)
    for page in (f"/challenges/{s.challenge}/evaluation", f"/challenges/{s.challenge}/evaluation/proposals/{s.proposal_b}",
                 f"/challenges/{s.challenge}/evaluation/proposals/{s.proposal_a}", f"/challenges/{s.challenge}/report",
                 f"/challenges/{s.challenge}/report.xlsx", f"/challenges/{s.challenge}/solvers",
                 f"/challenges/{s.challenge}/proposals/{s.proposal_b}"):
        response = client.get(page)
        assert response.status_code in (403, 404), (page, response.status_code)
        assert "多模态影像筛查" not in response.get_data(as_text=True)
    # the challenger's pages show the ranking; the panel member sees only where they stand
    client.post("/logout")
    login(client, s.hospital_email)
    html = client.get(f"/challenges/{s.challenge}/evaluation").get_data(as_text=True)
    assert 'id="ranking"' in html and "8.00" in html
    client.post("/logout")
    login(client, s.expert_email)
    html = client.get(f"/challenges/{s.challenge}/evaluation").get_data(as_text=True)
    assert 'id="ranking"' not in html and 'id="my-proposals"' in html


def test_scores_api_is_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "get" in paths["/api/v1/challenges/{challenge_id}/evaluation"]
    assert "put" in paths["/api/v1/challenges/{challenge_id}/evaluation/proposals/{proposal_id}/scores"]
    assert "put" in paths["/api/v1/challenges/{challenge_id}/evaluation/proposals/{proposal_id}/conflict"]
