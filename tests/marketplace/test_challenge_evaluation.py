"""Evaluation of open challenges: the panel, conflicts of interest, locked scores, the weighted ranking with its
spread, the shortlist and requests for more, the award (introduction and milestones) and feedback.

The challenge and its proposals are written as rows (``build_challenge``), as part A's services leave them: a
published challenge whose deadline has passed, two criteria, two submitted proposals from two labs.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import (Challenge, ChallengeAward, ChallengeConflict, ChallengeCriterion, ChallengeMilestone,
                                ChallengePanelMember, ChallengeProposal, ChallengeScore, Introduction, Notification,
                                User)
from marketplace.services.challenges import awards, evaluation, info_requests
from marketplace.services.errors import Conflict, PermissionDenied, ValidationFailed
from tests.conftest import login


@dataclass
class Scenario:
    hospital: int
    hospital_user: int
    hospital_email: str
    lab_a: int
    lab_a_user: int
    lab_a_email: str
    lab_b: int
    lab_b_user: int
    lab_b_email: str
    expert: int
    expert_email: str
    challenge: int
    criteria: tuple[int, int]
    proposal_a: int
    proposal_b: int


def build_challenge(make, *, status: str = "closed", deadline_days: int = -1, confidential: str = "院内影像数据接口说明",
                    need_id: int | None = None) -> Scenario:
    """A hospital's challenge with two criteria (weights 60 / 40) and two submitted proposals from two labs."""
    hospital, hospital_user, hospital_email = make.member("hospital")
    lab_a, lab_a_user, lab_a_email = make.member("lab")
    lab_b, lab_b_user, lab_b_email = make.member("university")
    expert, expert_email = make.staff("broker")
    now = datetime.now(timezone.utc)
    with make.app.app_context():
        challenge = Challenge(
            organization_id=hospital, created_by_id=hospital_user, need_id=need_id, status=status,
            title_zh="肺结节CT影像AI筛查揭榜", title_en="AI screening of lung nodules on CT",
            summary_zh="征集肺结节CT影像人工智能辅助筛查方案", problem_zh="门诊CT影像量大，需要AI辅助识别肺结节",
            requirements_zh="敏感度不低于95%，在院内部署", confidential_zh=confidential,
            award_max_rmb=Decimal(1_000_000), milestone_plan=[{"title": "原型部署", "months": 2},
                                                             {"title": "临床验证", "months": 6}],
            deadline=now + timedelta(days=deadline_days), timezone="Asia/Shanghai",
            published_at=now - timedelta(days=30), closed_at=now if status == "closed" else None)
        challenge.criteria = [ChallengeCriterion(position=1, name_zh="技术方案", name_en="Approach", weight=60),
                              ChallengeCriterion(position=2, name_zh="团队能力", name_en="Team", weight=40)]
        db.session.add(challenge)
        db.session.flush()
        proposals = []
        for lab, user, title in ((lab_a, lab_a_user, "深度学习肺结节检测"), (lab_b, lab_b_user, "多模态影像筛查")):
            proposal = ChallengeProposal(challenge_id=challenge.id, lead_organization_id=lab, created_by_id=user,
                                         status="submitted", title=title, approach="方案说明" + title, team="团队",
                                         milestones=[{"title": "模型交付", "months": 3}], budget_rmb=Decimal(800_000),
                                         submitted_at=now - timedelta(days=3))
            db.session.add(proposal)
            proposals.append(proposal)
        db.session.commit()
        return Scenario(hospital, hospital_user, hospital_email, lab_a, lab_a_user, lab_a_email, lab_b, lab_b_user,
                        lab_b_email, expert, expert_email, challenge.id,
                        (challenge.criteria[0].id, challenge.criteria[1].id), proposals[0].id, proposals[1].id)


def _user(user_id):
    return db.session.get(User, user_id)


def _challenge(s: Scenario):
    return db.session.get(Challenge, s.challenge)


def _proposal(proposal_id):
    return db.session.get(ChallengeProposal, proposal_id)


def seat_panel(app, s: Scenario, *, start: bool = True) -> None:
    """Name the hospital's member and the park expert to the panel, then open the evaluation."""
    with app.test_request_context():
        hospital = _user(s.hospital_user)
        evaluation.add_panel_member(hospital, _challenge(s), s.hospital_user, "chair")
        evaluation.add_panel_member(hospital, _challenge(s), s.expert, "expert")
        if start:
            evaluation.start_evaluation(hospital, _challenge(s))
        db.session.commit()


def score_both(app, s: Scenario, user_id: int, a: tuple[int, int], b: tuple[int, int]) -> None:
    with app.test_request_context():
        user = _user(user_id)
        for proposal_id, (first, second) in ((s.proposal_a, a), (s.proposal_b, b)):
            evaluation.declare(user, _challenge(s), _proposal(proposal_id), False)
            evaluation.score(user, _challenge(s), _proposal(proposal_id),
                             {s.criteria[0]: (first, "好"), s.criteria[1]: (second, "")})
        db.session.commit()


def test_panel_takes_staff_and_park_experts_only(app, make):
    s = build_challenge(make)
    _, outsider, _ = make.member("firm")
    with app.test_request_context():
        hospital = _user(s.hospital_user)
        with pytest.raises(ValidationFailed):
            evaluation.add_panel_member(hospital, _challenge(s), outsider)
        db.session.rollback()
        with pytest.raises(PermissionDenied):
            evaluation.add_panel_member(_user(s.lab_a_user), _challenge(s), s.lab_a_user)
        db.session.rollback()
        with pytest.raises(ValidationFailed):  # no panel yet: the evaluation cannot open
            evaluation.start_evaluation(hospital, _challenge(s))
    seat_panel(app, s)
    with app.test_request_context():
        assert {p.user_id for p in evaluation.panel(_challenge(s))} == {s.hospital_user, s.expert}
        assert _challenge(s).status == "in_evaluation"
        assert db.session.scalar(select(func.count(Notification.id)).where(
            Notification.user_id == s.expert, Notification.message_key == "challenge_panel_named")) == 1


def test_evaluation_opens_only_after_the_deadline(app, make):
    s = build_challenge(make, status="published", deadline_days=2)
    seat_panel(app, s, start=False)
    with app.test_request_context():
        with pytest.raises(Conflict):
            evaluation.start_evaluation(_user(s.hospital_user), _challenge(s))
        db.session.rollback()
        later = datetime.now(timezone.utc) + timedelta(days=3)
        evaluation.start_evaluation(_user(s.hospital_user), _challenge(s), now=later)
        db.session.commit()
        assert _challenge(s).status == "in_evaluation"


def test_a_declared_conflict_blocks_scoring_that_proposal(app, make):
    s = build_challenge(make)
    seat_panel(app, s)
    with app.test_request_context():
        expert = _user(s.expert)
        entries = {s.criteria[0]: (8, ""), s.criteria[1]: (7, "")}
        with pytest.raises(PermissionDenied):  # no declaration yet
            evaluation.score(expert, _challenge(s), _proposal(s.proposal_a), entries)
        db.session.rollback()
        with pytest.raises(ValidationFailed):  # a conflict needs a word on what it is
            evaluation.declare(expert, _challenge(s), _proposal(s.proposal_a), True, "")
        db.session.rollback()
        evaluation.declare(expert, _challenge(s), _proposal(s.proposal_a), True, "曾是该实验室的合作者")
        db.session.commit()
        with pytest.raises(PermissionDenied):
            evaluation.score(expert, _challenge(s), _proposal(s.proposal_a), entries)
        db.session.rollback()
        with pytest.raises(Conflict):  # a conflict cannot be withdrawn
            evaluation.declare(expert, _challenge(s), _proposal(s.proposal_a), False)
        db.session.rollback()
        assert db.session.scalar(select(func.count(ChallengeScore.id))) == 0
        # the other proposal is scored normally
        evaluation.declare(expert, _challenge(s), _proposal(s.proposal_b), False)
        evaluation.score(expert, _challenge(s), _proposal(s.proposal_b), entries)
        db.session.commit()
        assert db.session.scalar(select(func.count(ChallengeScore.id))) == 2


def test_declaring_a_conflict_after_scoring_withdraws_the_scores(app, make):
    s = build_challenge(make)
    seat_panel(app, s)
    score_both(app, s, s.expert, (8, 6), (5, 5))
    with app.test_request_context():
        evaluation.declare(_user(s.expert), _challenge(s), _proposal(s.proposal_a), True, "亲属在该团队")
        db.session.commit()
        left = db.session.scalars(select(ChallengeScore.proposal_id)).all()
        assert set(left) == {s.proposal_b}


def test_scores_are_validated_locked_and_idempotent(app, make):
    s = build_challenge(make)
    seat_panel(app, s)
    with app.test_request_context():
        expert = _user(s.expert)
        evaluation.declare(expert, _challenge(s), _proposal(s.proposal_a), False)
        db.session.commit()
        for bad in ({s.criteria[0]: ("11", ""), s.criteria[1]: ("5", "")},
                    {s.criteria[0]: ("abc", ""), s.criteria[1]: ("5", "")},
                    {s.criteria[0]: ("-1", ""), s.criteria[1]: ("5", "")},
                    {s.criteria[0]: ("5", "")},  # a criterion left out
                    {s.criteria[0]: ("5", ""), s.criteria[1]: ("5", ""), 999999: ("5", "")}):
            with pytest.raises(ValidationFailed):
                evaluation.score(expert, _challenge(s), _proposal(s.proposal_a), bad)
            db.session.rollback()
        assert db.session.scalar(select(func.count(ChallengeScore.id))) == 0
        good = {s.criteria[0]: ("9", "清楚"), s.criteria[1]: ("6", "")}
        evaluation.score(expert, _challenge(s), _proposal(s.proposal_a), good)
        db.session.commit()
        evaluation.score(expert, _challenge(s), _proposal(s.proposal_a), good)  # the same again: nothing changes
        db.session.commit()
        with pytest.raises(Conflict):
            evaluation.score(expert, _challenge(s), _proposal(s.proposal_a),
                             {s.criteria[0]: ("3", ""), s.criteria[1]: ("6", "")})
        db.session.rollback()
        assert sorted(db.session.scalars(select(ChallengeScore.score))) == [6, 9]
        # someone not on the panel scores nothing
        with pytest.raises(PermissionDenied):
            evaluation.score(_user(s.lab_b_user), _challenge(s), _proposal(s.proposal_a), good)


def test_ranking_is_the_weighted_mean_with_its_spread(app, make):
    s = build_challenge(make)
    seat_panel(app, s)
    score_both(app, s, s.hospital_user, (9, 5), (6, 6))   # A: 0.6*9+0.4*5 = 7.4 ; B: 6.0
    score_both(app, s, s.expert, (7, 7), (8, 4))          # A: 7.0 ; B: 6.4
    with app.test_request_context():
        ranked = evaluation.results(_challenge(s))
        first, second = ranked
        assert first.proposal.id == s.proposal_a and first.rank == 1 and second.rank == 2
        assert first.mean == pytest.approx(7.2) and (first.low, first.high) == (7.0, 7.4)
        assert first.spread == pytest.approx(0.2)
        assert second.mean == pytest.approx(6.2) and second.scored_by == 2
        assert first.criterion_means[s.criteria[0]] == pytest.approx(8.0)


def test_shortlist_request_for_more_and_answer(app, make):
    s = build_challenge(make)
    seat_panel(app, s)
    with app.test_request_context():
        hospital = _user(s.hospital_user)
        with pytest.raises(Conflict):  # only shortlisted proposals are asked for more
            info_requests.ask(hospital, _challenge(s), s.proposal_a, "请补充验证数据")
        db.session.rollback()
        awards.shortlist(hospital, _challenge(s), s.proposal_a)
        request = info_requests.ask(hospital, _challenge(s), s.proposal_a, "请补充验证数据")
        db.session.commit()
        request_id = request.id
        assert _proposal(s.proposal_a).status == "shortlisted"
        keys = set(db.session.scalars(select(Notification.message_key).where(Notification.user_id == s.lab_a_user)))
        assert {"proposal_shortlisted", "proposal_more_requested"} <= keys
        with pytest.raises(PermissionDenied):  # the other lab cannot answer
            info_requests.answer(_user(s.lab_b_user), info_requests.get(hospital, request_id), "x")
        db.session.rollback()
        info_requests.answer(_user(s.lab_a_user), info_requests.get(_user(s.lab_a_user), request_id), "已附上验证集结果")
        db.session.commit()
        assert info_requests.get(hospital, request_id).answer == "已附上验证集结果"


def test_award_opens_an_introduction_milestones_and_feedback(app, make):
    s = build_challenge(make)
    seat_panel(app, s)
    score_both(app, s, s.expert, (9, 8), (5, 5))
    with app.test_request_context():
        hospital = _user(s.hospital_user)
        with pytest.raises(ValidationFailed):  # feedback for the others is required
            awards.award(hospital, _challenge(s), [s.proposal_a], feedback="")
        db.session.rollback()
        with pytest.raises(ValidationFailed):
            awards.award(hospital, _challenge(s), [], feedback="谢谢参与")
        db.session.rollback()
        with pytest.raises(PermissionDenied):
            awards.award(_user(s.lab_a_user), _challenge(s), [s.proposal_a], feedback="x")
        db.session.rollback()
        assert db.session.scalar(select(func.count(ChallengeAward.id))) == 0
        awards.award(hospital, _challenge(s), [s.proposal_a], feedback="方案验证数据不足", amount="500000")
        db.session.commit()
        assert _challenge(s).status == "awarded"
        award = db.session.scalars(select(ChallengeAward)).one()
        intro = db.session.get(Introduction, award.introduction_id)
        assert (intro.need_organization_id, intro.offer_organization_id) == (s.hospital, s.lab_a)
        assert intro.source == "challenge" and intro.stage == "accepted"
        stones = awards.milestones(_challenge(s))
        assert [m.title for m in stones] == ["模型交付"] and stones[0].status == "due"
        assert _proposal(s.proposal_b).status == "not_selected"
        assert _proposal(s.proposal_b).feedback == "方案验证数据不足"
        keys_b = set(db.session.scalars(select(Notification.message_key).where(Notification.user_id == s.lab_b_user)))
        assert "proposal_not_selected" in keys_b
        keys_a = set(db.session.scalars(select(Notification.message_key).where(Notification.user_id == s.lab_a_user)))
        assert "challenge_award_won" in keys_a and "proposal_not_selected" not in keys_a
        with pytest.raises(Conflict):  # decided: no second award round
            awards.award(hospital, _challenge(s), [s.proposal_b], feedback="x")


def test_milestones_delivered_by_the_solver_then_accepted_make_the_challenge_delivered(app, make):
    s = build_challenge(make)
    seat_panel(app, s)
    with app.test_request_context():
        awards.award(_user(s.hospital_user), _challenge(s), [s.proposal_a], feedback="谢谢")
        db.session.commit()
        milestone = awards.milestones(_challenge(s))[0]
        with pytest.raises(Conflict):  # not delivered yet
            awards.accept(_user(s.hospital_user), milestone)
        db.session.rollback()
        with pytest.raises(PermissionDenied):  # the unsuccessful lab is not the solver
            awards.deliver(_user(s.lab_b_user), milestone)
        db.session.rollback()
        awards.deliver(_user(s.lab_a_user), milestone, "模型与部署文档已交付")
        db.session.commit()
        with pytest.raises(PermissionDenied):
            awards.accept(_user(s.lab_a_user), awards.milestones(_challenge(s))[0])
        db.session.rollback()
        awards.accept(_user(s.hospital_user), awards.milestones(_challenge(s))[0])
        db.session.commit()
        assert _challenge(s).status == "delivered"
        assert db.session.scalars(select(ChallengeMilestone.status)).all() == ["accepted"]


def test_conflicted_evaluator_is_refused_through_the_page_too(app, client, make):
    s = build_challenge(make)
    seat_panel(app, s)
    login(client, s.expert_email)
    page = f"/challenges/{s.challenge}/evaluation/proposals/{s.proposal_a}"
    response = client.post(page + "/declare", data={"has_conflict": "yes", "note": "我是该团队的顾问"})
    assert response.status_code == 302
    response = client.post(page + "/score", data={f"score_{s.criteria[0]}": "9", f"score_{s.criteria[1]}": "9"})
    assert response.status_code == 403
    with app.test_request_context():
        assert db.session.scalar(select(func.count(ChallengeScore.id))) == 0
        assert db.session.scalars(select(ChallengeConflict.has_conflict)).all() == [True]


def test_bad_score_input_keeps_the_form_and_changes_nothing(app, client, make):
    s = build_challenge(make)
    seat_panel(app, s)
    login(client, s.expert_email)
    page = f"/challenges/{s.challenge}/evaluation/proposals/{s.proposal_a}"
    client.post(page + "/declare", data={"has_conflict": "no"})
    response = client.post(page + "/score", data={f"score_{s.criteria[0]}": "12", f"score_{s.criteria[1]}": "7",
                                                  f"comment_{s.criteria[1]}": "团队经验丰富"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "团队经验丰富" in html and "is-invalid" in html
    with app.test_request_context():
        assert db.session.scalar(select(func.count(ChallengeScore.id))) == 0
    response = client.post(page + "/score", data={f"score_{s.criteria[0]}": "8", f"score_{s.criteria[1]}": "7"})
    assert response.status_code == 302
    with app.test_request_context():
        assert sorted(db.session.scalars(select(ChallengeScore.score))) == [7, 8]
        assert db.session.scalar(select(func.count(ChallengePanelMember.id))) == 2


def test_challenge_page_links_the_deciding_pages_only_for_those_who_may_open_them(app, client, make):
    s = build_challenge(make)
    seat_panel(app, s)
    login(client, s.hospital_email)
    html = client.get(f"/challenges/{s.challenge}").get_data(as_text=True)
    assert f"/challenges/{s.challenge}/evaluation" in html and f"/challenges/{s.challenge}/report" in html
    client.post("/logout")
    login(client, s.lab_a_email)
    html = client.get(f"/challenges/{s.challenge}").get_data(as_text=True)
    assert 'id="challenge-eval-links"' not in html and f"/challenges/{s.challenge}/evaluation" not in html


def test_a_park_expert_finds_the_proposals_waiting_for_them_in_the_workspace(app, client, make):
    s = build_challenge(make)
    seat_panel(app, s)
    login(client, s.expert_email)
    html = client.get("/challenges/mine").get_data(as_text=True)
    assert 'id="nav-evaluations"' in html and html.count('id="my-panels"') == 1
    assert "<title>" in html and "待评审" not in html.split("<title>")[1].split("</title>")[0]
    assert "2 个方案待评审" in html  # both proposals wait: nothing declared or scored yet
    page = f"/challenges/{s.challenge}/evaluation/proposals/{s.proposal_a}"
    client.post(page + "/declare", data={"has_conflict": "yes", "note": "我是该团队的顾问"})
    html = client.get("/challenges/mine").get_data(as_text=True)
    assert "1 个方案待评审" in html  # a declared conflict settles that proposal for this evaluator
    score_both_page = f"/challenges/{s.challenge}/evaluation/proposals/{s.proposal_b}"
    client.post(score_both_page + "/declare", data={"has_conflict": "no"})
    client.post(score_both_page + "/score", data={f"score_{s.criteria[0]}": "8", f"score_{s.criteria[1]}": "7"})
    html = client.get("/challenges/mine").get_data(as_text=True)
    assert "个方案待评审" not in html  # everything settled
    # a member who sits on no panel sees no such entry
    client.post("/logout")
    login(client, s.lab_a_email)
    html = client.get("/challenges/mine").get_data(as_text=True)
    assert 'id="nav-evaluations"' not in html and 'id="my-panels"' not in html
