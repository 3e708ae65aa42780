"""Open challenges, part A: proposals — eligibility, consortium, drafts, submission and withdrawal until the
deadline (aware instants, the challenge's zone), one per lead organisation, and who may see them."""
from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import ChallengePanelMember, ChallengeProposal, Notification
from marketplace.services.challenges import common
from marketplace.services.challenges import proposals as proposal_service
from marketplace.services.errors import Conflict
from tests import challenge_builders as build
from tests.conftest import login

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _proposal_form(**overrides) -> dict:
    data = {"title": "力反馈微型传感器", "approach": "MEMS 传感器与闭环控制", "team": "教授一名，博士三名",
            "milestones": "原型 | 6", "budget_rmb": "600000"}
    data.update(overrides)
    return data


def _count(app, **where) -> int:
    with app.app_context():
        query = select(func.count()).select_from(ChallengeProposal)
        for key, value in where.items():
            query = query.where(getattr(ChallengeProposal, key) == value)
        return db.session.scalar(query)


def _signed_in(app, email):
    client = app.test_client()
    login(client, email)
    return client


def test_draft_submit_and_withdraw(app, make):
    hospital, h_user, h_email = make.member("hospital")
    lab, _l, l_email = make.member("lab")
    partner = make.org("university")
    cid = build.challenge(app, hospital, consortium_allowed=True)
    solver = _signed_in(app, l_email)
    form = _proposal_form(lead_organization_id=str(lab), member_ids=[str(partner)])
    reply = solver.post(f"/challenges/{cid}/proposals/new", data=form)
    assert reply.status_code == 302
    with app.app_context():
        proposal = db.session.scalar(select(ChallengeProposal))
        assert proposal.status == "draft" and [o.id for o in proposal.members] == [partner]
        pid = proposal.id
    # the challenger does not see a draft
    challenger = _signed_in(app, h_email)
    assert challenger.get(f"/challenges/{cid}/proposals/{pid}").status_code == 404
    # starting again is idempotent: the same draft
    assert solver.post(f"/challenges/{cid}/proposals/new", data=form).status_code == 302
    assert _count(app) == 1
    assert solver.post(f"/challenges/{cid}/proposals/{pid}/submit").status_code == 302
    assert make.get(ChallengeProposal, pid)["status"] == "submitted"
    with app.app_context():
        assert db.session.scalar(select(func.count(Notification.id)).where(
            Notification.user_id == h_user, Notification.message_key == "proposal_submitted")) == 1
    page = challenger.get(f"/challenges/{cid}/proposals/{pid}").get_data(as_text=True)
    assert "MEMS 传感器与闭环控制" in page
    # still editable before the deadline, with the version
    edit = _proposal_form(approach="改进的路线", version=str(make.get(ChallengeProposal, pid)["version"]))
    assert solver.post(f"/challenges/{cid}/proposals/{pid}/edit", data=edit).status_code == 302
    assert make.get(ChallengeProposal, pid)["approach"] == "改进的路线"
    assert solver.post(f"/challenges/{cid}/proposals/{pid}/withdraw").status_code == 302
    assert make.get(ChallengeProposal, pid)["status"] == "withdrawn"
    # before the deadline a withdrawn proposal can be taken up again: the same row, a draft
    assert 'id="restart-proposal"' in solver.get(f"/challenges/{cid}/proposals/{pid}").get_data(as_text=True)
    assert solver.post(f"/challenges/{cid}/proposals/new", data={"lead_organization_id": str(lab)}).status_code == 302
    assert make.get(ChallengeProposal, pid)["status"] == "draft" and _count(app) == 1


def test_eligibility_and_consortium_rules(app, make):
    hospital, _h, h_email = make.member("hospital")
    _bank, _b, bank_email = make.member("bank")
    lab, _l, l_email = make.member("lab")
    cid = build.challenge(app, hospital, eligible_kinds=["lab"], consortium_allowed=False)
    bank = _signed_in(app, bank_email)
    assert bank.get(f"/challenges/{cid}/proposals/new").status_code == 302  # told nobody of theirs may lead
    assert bank.post(f"/challenges/{cid}/proposals/new", data=_proposal_form()).status_code == 302
    challenger = _signed_in(app, h_email)
    challenger.post(f"/challenges/{cid}/proposals/new", data=_proposal_form())  # the challenger never proposes
    solver = _signed_in(app, l_email)
    other = make.org("university")
    reply = solver.post(f"/challenges/{cid}/proposals/new",
                        data=_proposal_form(lead_organization_id=str(lab), member_ids=[str(other)]))
    assert reply.status_code == 400 and "力反馈微型传感器" in reply.get_data(as_text=True)
    bad = solver.post(f"/challenges/{cid}/proposals/new", data=_proposal_form(budget_rmb="lots"))
    assert bad.status_code == 400
    assert _count(app) == 0


def test_nothing_is_submitted_after_the_deadline(app, make):
    hospital, _h, _e = make.member("hospital")
    lab, _l, l_email = make.member("lab")
    cid = build.challenge(app, hospital)
    pid = build.proposal(app, cid, lab, status="draft")
    with app.app_context():
        row = db.session.get(type(db.session.get(ChallengeProposal, pid).challenge), cid)
        row.deadline = datetime.now(UTC) - timedelta(seconds=1)
        db.session.commit()
    solver = _signed_in(app, l_email)
    solver.post(f"/challenges/{cid}/proposals/{pid}/submit")
    solver.post(f"/challenges/{cid}/proposals/{pid}/edit", data=_proposal_form(version="1"))
    solver.post(f"/challenges/{cid}/proposals/{pid}/withdraw")
    solver.post(f"/challenges/{cid}/proposals/{pid}/files", data={"file": (io.BytesIO(PNG), "a.png")},
                content_type="multipart/form-data")
    after = make.get(ChallengeProposal, pid)
    assert after["status"] == "draft" and after["title"] == "基于深度学习的降噪方案"
    second_lab, _s, s_email = make.member("lab")
    _signed_in(app, s_email).post(f"/challenges/{cid}/proposals/new", data=_proposal_form())
    assert _count(app) == 1 and second_lab


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "UTC"])
def test_deadline_is_an_instant_whatever_the_zone(app, ctx, make, zone):
    """23:59 on 31 December in Beijing is 15:59 UTC: one minute before it proposals are taken, one after not, and
    a reader in UTC whose wall clock still says 31 December does not gain eight hours."""
    hospital, _h, _e = make.member("hospital")
    beijing_midnight = datetime(2030, 12, 31, 23, 59, tzinfo=ZoneInfo("Asia/Shanghai"))
    cid = build.challenge(app, hospital, deadline=beijing_midnight, timezone=zone)
    from marketplace.models import Challenge
    challenge = ctx.get(Challenge, cid)
    just_before = datetime(2030, 12, 31, 15, 58, tzinfo=UTC)
    just_after = datetime(2030, 12, 31, 16, 0, tzinfo=UTC)
    assert common.accepts_submissions(challenge, just_before)
    assert not common.accepts_submissions(challenge, just_after)
    # the same instant written in Beijing time gives the same answer
    assert not common.accepts_submissions(challenge, just_after.astimezone(ZoneInfo("Asia/Shanghai")))
    assert common.shown_status(challenge, just_after) == "closed"


def test_submission_refused_one_second_after_the_deadline(app, make, monkeypatch):
    hospital, _h, _e = make.member("hospital")
    lab, l_user, _l = make.member("lab")
    deadline = datetime.now(UTC) + timedelta(hours=2)
    cid = build.challenge(app, hospital, deadline=deadline, timezone="Asia/Shanghai")
    pid = build.proposal(app, cid, lab, status="draft")
    from marketplace.models import User
    with app.test_request_context():
        user, proposal = db.session.get(User, l_user), db.session.get(ChallengeProposal, pid)
        monkeypatch.setattr(common, "now", lambda: deadline + timedelta(seconds=1))
        with pytest.raises(Conflict):
            proposal_service.submit(user, proposal)
        assert proposal.status == "draft"
        monkeypatch.setattr(common, "now", lambda: deadline - timedelta(seconds=1))
        assert proposal_service.submit(user, proposal).status == "submitted"
        db.session.rollback()


def test_a_solver_never_sees_another_solvers_proposal(app, make):
    hospital, _h, h_email = make.member("hospital")
    lab1, _a, a_email = make.member("lab")
    lab2, _b, b_email = make.member("lab")
    evaluator, ev_email = make.staff("broker")
    _outsider_org, _o, outsider_email = make.member("firm")
    _op, op_email = make.staff("operator")
    cid = build.challenge(app, hospital)
    mine = build.proposal(app, cid, lab1, approach="甲实验室的秘密方案")
    theirs = build.proposal(app, cid, lab2, approach="乙实验室的秘密方案")
    with app.app_context():
        db.session.add(ChallengePanelMember(challenge_id=cid, user_id=evaluator, role="expert"))
        db.session.commit()
    solver = _signed_in(app, a_email)
    assert solver.get(f"/challenges/{cid}/proposals/{theirs}").status_code == 404
    assert solver.get(f"/challenges/{cid}/proposals/{mine}").status_code == 200
    page = solver.get(f"/challenges/{cid}").get_data(as_text=True)
    assert "乙实验室的秘密方案" not in page and f"/proposals/{theirs}" not in page
    assert solver.post(f"/challenges/{cid}/proposals/{theirs}/withdraw").status_code == 404
    assert make.get(ChallengeProposal, theirs)["status"] == "submitted"
    assert _signed_in(app, outsider_email).get(f"/challenges/{cid}/proposals/{mine}").status_code == 404
    assert app.test_client().get(f"/challenges/{cid}/proposals/{mine}").status_code == 302
    for email in (h_email, ev_email, op_email):  # the challenger, the panel, operators
        assert "乙实验室的秘密方案" in _signed_in(app, email).get(f"/challenges/{cid}/proposals/{theirs}").get_data(
            as_text=True)
    assert b_email


def test_attachments_follow_the_proposals_visibility(app, make):
    hospital, _h, h_email = make.member("hospital")
    lab1, _a, a_email = make.member("lab")
    _lab2, _b, b_email = make.member("lab")
    cid = build.challenge(app, hospital)
    pid = build.proposal(app, cid, lab1)
    solver = _signed_in(app, a_email)
    reply = solver.post(f"/challenges/{cid}/proposals/{pid}/files", data={"file": (io.BytesIO(PNG), "图.png")},
                        content_type="multipart/form-data")
    assert reply.status_code == 302
    from marketplace.models import StoredFile
    with app.app_context():
        file_id = db.session.scalar(select(StoredFile.id))
    url = f"/challenges/{cid}/proposals/{pid}/files/{file_id}"
    assert solver.get(url).status_code == 200
    assert _signed_in(app, h_email).get(url).status_code == 200
    assert _signed_in(app, b_email).get(url).status_code == 404
    assert _signed_in(app, b_email).get(f"/files/{file_id}").status_code == 404  # not through the offers' route
    # a file that is not an accepted type is refused with a message
    solver.post(f"/challenges/{cid}/proposals/{pid}/files", data={"file": (io.BytesIO(b"MZ\x90\x00"), "x.exe")},
                content_type="multipart/form-data")
    with app.app_context():
        assert db.session.scalar(select(func.count(StoredFile.id))) == 1
