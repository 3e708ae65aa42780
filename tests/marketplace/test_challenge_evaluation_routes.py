"""The deciding side of open challenges in the id-route walker (``test_id_route_access``): builders of organisation
A's challenge in evaluation, awarded, with a milestone and a request for more, and the forms the routes send.

A (a hospital) is the challenger and sits on the panel; C (a firm) is the solver. B, the walker's outsider, is a
member of neither, so every route must refuse B and anonymous visitors and change nothing.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from marketplace.extensions import db
from marketplace.models import (Challenge, ChallengeAward, ChallengeConflict, ChallengeCriterion, ChallengeMilestone,
                                ChallengePanelMember, ChallengeProposal)
from marketplace.models.challenge_requests import ChallengeInfoRequest


def _challenge(w, status: str) -> dict:
    return _challenge_rows(w.app, w.a.org, w.a.user, w.c.org, w.c.user, status)


def _challenge_rows(app, org_a: int, user_a: int, org_c: int, user_c: int | None = None,
                    status: str = "in_evaluation") -> dict:
    """A's challenge with one criterion, C's shortlisted proposal, and A's member on the panel (declared no
    conflict); the ids as URL values (also used by the API walker)."""
    now = datetime.now(timezone.utc)
    with app.app_context():
        challenge = Challenge(organization_id=org_a, created_by_id=user_a, status=status, title_zh="私有揭榜",
                              problem_zh="问题", deadline=now - timedelta(days=1), published_at=now - timedelta(days=20))
        challenge.criteria = [ChallengeCriterion(position=1, name_zh="方案", weight=1)]
        db.session.add(challenge)
        db.session.flush()
        proposal = ChallengeProposal(challenge_id=challenge.id, lead_organization_id=org_c, created_by_id=user_c,
                                     status="shortlisted", title="C的方案", submitted_at=now - timedelta(days=2))
        seat = ChallengePanelMember(challenge_id=challenge.id, user_id=user_a, role="chair")
        db.session.add_all([proposal, seat])
        db.session.flush()
        db.session.add(ChallengeConflict(panel_member_id=seat.id, proposal_id=proposal.id, has_conflict=False))
        db.session.commit()
        return {"challenge_id": challenge.id, "proposal_id": proposal.id, "seat_id": seat.id,
                "criterion_id": challenge.criteria[0].id}


def challenge_in_evaluation(w):
    from tests.marketplace.test_id_route_access import Case
    return Case(_challenge(w, "in_evaluation"), w.a.email)


def awarded_challenge_milestone(w):
    """A's awarded challenge with C's milestone due: C delivers it, A accepts it."""
    from tests.marketplace.test_id_route_access import Case
    ids = _challenge(w, "awarded")
    with w.app.app_context():
        award = ChallengeAward(challenge_id=ids["challenge_id"], proposal_id=ids["proposal_id"])
        db.session.add(award)
        db.session.flush()
        milestone = ChallengeMilestone(challenge_id=ids["challenge_id"], award_id=award.id, position=1, title="交付",
                                       due_on=date.today() + timedelta(days=30), status="due")
        db.session.add(milestone)
        db.session.commit()
        ids["milestone_id"] = milestone.id
    return Case(ids, w.c.email)


def delivered_milestone(w):
    """The same milestone reported delivered: A accepts it."""
    from tests.marketplace.test_id_route_access import Case
    case = awarded_challenge_milestone(w)
    with w.app.app_context():
        db.session.get(ChallengeMilestone, case.values["milestone_id"]).status = "delivered"
        db.session.commit()
    return Case(case.values, w.a.email)


def info_request(w):
    """A's request for more to C's shortlisted proposal: A and C read it, C answers."""
    from tests.marketplace.test_id_route_access import Case
    ids = _challenge(w, "in_evaluation")
    with w.app.app_context():
        request = ChallengeInfoRequest(challenge_id=ids["challenge_id"], proposal_id=ids["proposal_id"],
                                       asked_by_id=w.a.user, text="请补充")
        db.session.add(request)
        db.session.commit()
        ids["request_id"] = request.id
    return Case(ids, w.c.email)


EVALUATION = (challenge_in_evaluation,)
ROUTES = {
    "challenge_eval.solvers": EVALUATION,
    "challenge_eval.invite": EVALUATION,
    "challenge_eval.overview": EVALUATION,
    "challenge_eval.add_panel_member": EVALUATION,
    "challenge_eval.remove_panel_member": EVALUATION,
    "challenge_eval.start": EVALUATION,
    "challenge_eval.proposal": EVALUATION,
    "challenge_eval.declare": EVALUATION,
    "challenge_eval.score": EVALUATION,
    "challenge_eval.shortlist": EVALUATION,
    "challenge_eval.ask": EVALUATION,
    "challenge_eval.award": EVALUATION,
    "challenge_eval.report": EVALUATION,
    "challenge_eval.report_xlsx": EVALUATION,
    "challenge_eval.milestones": (awarded_challenge_milestone,),
    "challenge_eval.deliver": (awarded_challenge_milestone,),
    "challenge_eval.accept": (delivered_milestone,),
    "challenge_eval.info_request": (info_request,),
}
FORMS = {
    "challenge_eval.invite": lambda w, case: {"organization_id": str(w.b.org)},
    "challenge_eval.add_panel_member": lambda w, case: {"user_id": str(w.a.user), "role": "expert"},
    "challenge_eval.declare": {"has_conflict": "yes", "note": "篡改"},
    "challenge_eval.score": lambda w, case: {f"score_{case.values['criterion_id']}": "10"},
    "challenge_eval.ask": {"text": "篡改"},
    "challenge_eval.award": lambda w, case: {"proposal_ids": str(case.values["proposal_id"]), "feedback": "篡改"},
    "challenge_eval.deliver": {"note": "篡改"},
    "challenge_eval.info_request": {"answer": "篡改"},
}
