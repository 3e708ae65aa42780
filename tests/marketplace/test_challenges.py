"""Open challenges, part A: publishing and verification, the public list and page, questions and clarifications."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import (
    Challenge,
    ChallengeClarification,
    ChallengeQuestion,
    ChallengeSolver,
    Notification,
    SubParkStaff,
)
from tests import challenge_builders as build
from tests.conftest import login


def _form(**overrides) -> dict:
    deadline = (datetime.now(UTC) + timedelta(days=20)).strftime("%Y-%m-%dT%H:%M")
    data = {"title_zh": "手术机器人力反馈", "problem_zh": "现有器械缺少力反馈。", "requirements_zh": "延迟小于10毫秒",
            "award_min_rmb": "200000", "award_max_rmb": "800000", "deadline": deadline, "timezone": "Asia/Shanghai",
            "criterion_name_zh_1": "技术可行性", "criterion_weight_1": "60",
            "criterion_name_zh_2": "成本", "criterion_weight_2": "40",
            "eligible_kinds": ["lab", "university"], "consortium_allowed": "1",
            "milestone_plan": "原型 | 6\n临床验证 | 12",
            "confidential_zh": "医院内部的数据接口说明", "nda_text_zh": "不得向第三方披露。"}
    data.update(overrides)
    return data


def _count(app, model, **where) -> int:
    with app.app_context():
        query = select(func.count()).select_from(model)
        for key, value in where.items():
            query = query.where(getattr(model, key) == value)
        return db.session.scalar(query)


def test_hospital_publishes_after_operator_verification(app, client, make):
    org, user, email = make.member("hospital")
    operator, op_email = make.staff("operator")
    login(client, email)
    reply = client.post("/challenges/new", data=_form())
    assert reply.status_code == 302, reply.get_data(as_text=True)
    with app.app_context():
        challenge = db.session.scalar(select(Challenge))
        assert challenge.status == "draft" and challenge.organization_id == org
        assert [(k.name_zh, k.weight) for k in challenge.criteria] == [("技术可行性", 60), ("成本", 40)]
        assert challenge.milestone_plan == [{"title": "原型", "months": 6}, {"title": "临床验证", "months": 12}]
        assert challenge.deadline.tzinfo is not None or app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")
        cid = challenge.id
    # a draft is not public
    assert client.get(f"/challenges/{cid}").status_code == 200
    anonymous = app.test_client()
    assert anonymous.get(f"/challenges/{cid}").status_code == 404
    assert client.post(f"/challenges/{cid}/submit").status_code == 302
    assert make.get(Challenge, cid)["status"] == "submitted"
    assert _count(app, Notification, user_id=operator, message_key="challenge_submitted") == 1
    op = app.test_client()
    login(op, op_email)
    assert "手术机器人力反馈" in op.get("/challenges/review").get_data(as_text=True)
    # sending back needs a reason: nothing changes without one
    refused = op.post(f"/challenges/{cid}/review", data={"decision": "request_changes", "reason": ""})
    assert refused.status_code == 400 and make.get(Challenge, cid)["status"] == "submitted"
    assert op.post(f"/challenges/{cid}/review", data={"decision": "approve"}).status_code == 302
    assert make.get(Challenge, cid)["status"] == "published"
    page = anonymous.get(f"/challenges/{cid}").get_data(as_text=True)
    assert "手术机器人力反馈" in page and 'id="challenge-countdown"' in page
    assert "医院内部的数据接口说明" not in page  # the confidential part waits for the NDA
    assert _count(app, Notification, user_id=user, message_key="challenge_approved") == 1


def test_bad_input_keeps_the_form_and_stores_nothing(app, client, make):
    _org, _user, email = make.member("firm")
    login(client, email)
    past = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    for bad in ({"deadline": past}, {"deadline": "tomorrow"}, {"criterion_weight_1": "abc"},
                {"award_min_rmb": "900000", "award_max_rmb": "100"}, {"timezone": "Mars/Olympus"},
                {"title_zh": ""}, {"milestone_plan": "原型 | soon"}, {"eligible_kinds": ["bank"]}):
        reply = client.post("/challenges/new", data=_form(**bad))
        assert reply.status_code == 400, bad
        assert "手术机器人力反馈" in reply.get_data(as_text=True) or bad == {"title_zh": ""}
    assert _count(app, Challenge) == 0


def test_who_may_publish(app, client, make):
    _lab, _u, lab_email = make.member("lab")
    login(client, lab_email)
    assert client.get("/challenges/new").status_code == 302  # told who publishes, nothing to fill
    assert client.post("/challenges/new", data=_form()).status_code == 302
    assert _count(app, Challenge) == 0
    # sub-park staff publish for their own organisation, whatever its kind
    agency, staff_user, staff_email = make.member("agency")
    with app.app_context():
        db.session.add(SubParkStaff(user_id=staff_user, sub_park="haidian"))
        db.session.commit()
    staff = app.test_client()
    login(staff, staff_email)
    assert staff.post("/challenges/new", data=_form()).status_code == 302
    with app.app_context():
        challenge = db.session.scalar(select(Challenge))
        assert challenge.organization_id == agency and challenge.sub_park == "haidian"


def test_publish_from_a_need_prefills_the_form(app, client, make):
    org, _u, email = make.member("hospital")
    need = make.need(org, title_zh="呼吸机国产化")
    other_org, _o, _e = make.member("hospital")
    foreign = make.need(other_org, title_zh="别人的需求")
    login(client, email)
    page = client.get(f"/challenges/new?need_id={need}").get_data(as_text=True)
    assert "呼吸机国产化" in page
    assert client.get(f"/challenges/new?need_id={foreign}").status_code == 403
    assert client.post(f"/challenges/new?need_id={need}", data=_form()).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Challenge.need_id)) == need


def test_list_filters(app, client, make):
    hospital, _u, _e = make.member("hospital")
    firm, _f, _fe = make.member("firm")
    now = datetime.now(UTC)
    open_id = build.challenge(app, hospital, title_zh="开放的榜单", award_min_rmb=100, award_max_rmb=200)
    closed_id = build.challenge(app, firm, title_zh="已截止的榜单", deadline=now - timedelta(hours=1))
    awarded_id = build.challenge(app, firm, title_zh="已揭榜的榜单", status="awarded")
    build.challenge(app, firm, title_zh="草稿榜单", status="draft")

    def titles(**args):
        return {t for t in ("开放的榜单", "已截止的榜单", "已揭榜的榜单", "草稿榜单")
                if t in client.get("/challenges/", query_string=args).get_data(as_text=True)}

    assert titles() == {"开放的榜单", "已截止的榜单", "已揭榜的榜单"}
    assert titles(status="open") == {"开放的榜单"}
    assert titles(status="closed") == {"已截止的榜单"}
    assert titles(status="awarded") == {"已揭榜的榜单"}
    assert titles(kind="hospital") == {"开放的榜单"}
    assert titles(award_min="300000") == {"已截止的榜单", "已揭榜的榜单"}
    assert titles(award_max="1000") == {"开放的榜单"}
    # nonsense filters are ignored, never an error
    assert client.get("/challenges/?status=x&award_min=abc&kind=bank&page=-3").status_code == 200
    assert open_id and closed_id and awarded_id


def test_countdown_shows_the_deadline_in_the_challenges_zone(app, client, make):
    org, _u, _e = make.member("hospital")
    deadline = datetime(2031, 3, 1, 16, 0, tzinfo=UTC)  # midnight on 2 March in Beijing
    cid = build.challenge(app, org, deadline=deadline, timezone="Asia/Shanghai")
    page = client.get(f"/challenges/{cid}").get_data(as_text=True)
    assert "2031-03-02 00:00" in page and 'data-deadline="2031-03-01T16:00:00+00:00"' in page


def test_questions_public_and_private_answers(app, client, make):
    hospital, h_user, h_email = make.member("hospital")
    lab1, l1_user, l1_email = make.member("lab")
    lab2, l2_user, l2_email = make.member("lab")
    _lab3, l3_user, l3_email = make.member("lab")
    cid = build.challenge(app, hospital)
    first, second, third = app.test_client(), app.test_client(), app.test_client()
    login(first, l1_email)
    login(second, l2_email)
    login(third, l3_email)
    assert first.post(f"/challenges/{cid}/questions", data={"text": "数据格式是DICOM吗？"}).status_code == 302
    assert second.post(f"/challenges/{cid}/questions", data={"text": "能否远程测试？"}).status_code == 302
    assert third.post(f"/challenges/{cid}/follow").status_code == 302
    assert second.post(f"/challenges/{cid}/questions", data={"text": "   "}).status_code == 302
    assert _count(app, ChallengeQuestion) == 2
    assert _count(app, Notification, user_id=h_user, message_key="challenge_question_asked") == 2
    with app.app_context():
        q1, q2 = db.session.scalars(select(ChallengeQuestion.id).order_by(ChallengeQuestion.id)).all()
    login(client, h_email)
    assert client.post(f"/challenges/{cid}/questions/{q1}/answer",
                       data={"answer": "是，DICOM 3.0。", "visibility": "public"}).status_code == 302
    assert client.post(f"/challenges/{cid}/questions/{q2}/answer",
                       data={"answer": "可以，需预约。", "visibility": "private"}).status_code == 302
    # answered once only
    client.post(f"/challenges/{cid}/questions/{q1}/answer", data={"answer": "改口", "visibility": "public"})
    with app.app_context():
        assert db.session.scalars(select(ChallengeClarification.number)).all() == [1]
        assert db.session.get(Challenge, cid).clarification_number == 1
    # every registered solver (askers, followers) is told of the clarification; the private answer only the asker
    for user in (l1_user, l2_user, l3_user):
        assert _count(app, Notification, user_id=user, message_key="challenge_clarified") == 1
    assert _count(app, Notification, user_id=l2_user, message_key="challenge_answered_privately") == 1
    assert _count(app, Notification, user_id=l1_user, message_key="challenge_answered_privately") == 0
    public_page = app.test_client().get(f"/challenges/{cid}").get_data(as_text=True)
    assert "DICOM 3.0" in public_page and "可以，需预约。" not in public_page
    assert "可以，需预约。" in second.get(f"/challenges/{cid}").get_data(as_text=True)
    assert "可以，需预约。" not in first.get(f"/challenges/{cid}").get_data(as_text=True)
    # a solver cannot answer
    assert first.post(f"/challenges/{cid}/questions/{q2}/answer",
                      data={"answer": "x", "visibility": "public"}).status_code in (403, 404)
    assert lab1 and lab2


def test_no_question_after_the_deadline(app, client, make):
    hospital, _u, _e = make.member("hospital")
    _lab, _l, l_email = make.member("lab")
    cid = build.challenge(app, hospital, deadline=datetime.now(UTC) - timedelta(minutes=1))
    login(client, l_email)
    client.post(f"/challenges/{cid}/questions", data={"text": "还来得及吗？"})
    assert _count(app, ChallengeQuestion) == 0 and _count(app, ChallengeSolver) == 0


def test_confidential_part_after_access_and_nda(app, client, make):
    from marketplace.models import AccessRequest, NdaTerms
    from marketplace.services.confidentiality import text_hash
    hospital, _h, h_email = make.member("hospital")
    _lab, _l, l_email = make.member("lab")
    cid = build.challenge(app, hospital, confidential="内部接口文档")
    with app.app_context():
        db.session.add(NdaTerms(item_type="challenge", item_id=cid, text_zh="保密", text_en="NDA",
                                text_hash=text_hash("保密", "NDA")))
        db.session.commit()
    login(client, l_email)
    assert "内部接口文档" not in client.get(f"/challenges/{cid}").get_data(as_text=True)
    assert client.post(f"/confidentiality/challenge/{cid}/request", data={"message": "请授权"}).status_code == 302
    with app.app_context():
        request_id = db.session.scalar(select(AccessRequest.id))
    owner = app.test_client()
    login(owner, h_email)
    assert owner.post(f"/confidentiality/requests/{request_id}/decide", data={"decision": "approve"}).status_code == 302
    assert "内部接口文档" not in client.get(f"/challenges/{cid}").get_data(as_text=True)  # the NDA first
    client.post(f"/confidentiality/challenge/{cid}/nda/accept", data={"agree": "1"})
    assert "内部接口文档" in client.get(f"/challenges/{cid}").get_data(as_text=True)


def test_editing_is_versioned_and_stops_at_submission(app, client, make):
    org, _u, email = make.member("firm")
    cid = build.challenge(app, org, status="draft")
    login(client, email)
    form = _form(title_zh="改后的标题", version="1")
    assert client.post(f"/challenges/{cid}/edit", data=form).status_code == 302
    stale = client.post(f"/challenges/{cid}/edit", data=_form(title_zh="过时的修改", version="1"))
    assert stale.status_code == 409 and "过时的修改" in stale.get_data(as_text=True)
    assert make.get(Challenge, cid)["title_zh"] == "改后的标题"
    client.post(f"/challenges/{cid}/submit")
    assert client.post(f"/challenges/{cid}/edit", data=_form(title_zh="提交后修改")).status_code == 409
    assert make.get(Challenge, cid)["title_zh"] == "改后的标题"


def test_closing_job_closes_only_challenges_past_their_deadline(app, make):
    from marketplace.tasks import challenges as challenge_tasks
    org, _u, _e = make.member("hospital")
    past = build.challenge(app, org, deadline=datetime.now(UTC) - timedelta(minutes=5))
    future = build.challenge(app, org)
    with app.app_context():
        assert challenge_tasks.close_due() == {"closed": 1}
    assert make.get(Challenge, past)["status"] == "closed" and make.get(Challenge, past)["closed_at"] is not None
    assert make.get(Challenge, future)["status"] == "published"


def test_challenger_withdraws_before_the_award(app, client, make):
    org, _u, email = make.member("hospital")
    cid = build.challenge(app, org)
    awarded = build.challenge(app, org, status="awarded")
    login(client, email)
    assert client.post(f"/challenges/{cid}/withdraw").status_code == 302
    assert make.get(Challenge, cid)["status"] == "withdrawn"
    assert app.test_client().get(f"/challenges/{cid}").status_code == 404
    client.post(f"/challenges/{awarded}/withdraw")
    assert make.get(Challenge, awarded)["status"] == "awarded"
