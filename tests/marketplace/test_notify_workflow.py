"""Notifications for the state changes people wait on: a firm's offer approved, sent back, rejected or published
in a batch; operators told of new submissions; presenters and requesters of 1:1 meetings; presenters put on an
agenda; the daily digest and the preferences that choose it. Wording is read from the rendered Chinese pages."""
from __future__ import annotations

from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import Event, MeetingRequest, Notification, Offer
from marketplace.services import notifications
from marketplace.tasks import notifications as notification_tasks
from tests.conftest import csrf_token_from, login
from tests.marketplace.test_events import _add_item, _create_event, _published, _world
from tests.marketplace.test_notifications import _notes, mailbox  # noqa: F401


def _client(app, email):
    """A logged-in client reading the default (Chinese) pages."""
    client = app.test_client()
    assert login(client, email).status_code == 302
    return client


def _inbox(client) -> str:
    return client.get("/notifications/").get_data(as_text=True).split('id="notification-list"')[1]


def test_operator_decisions_reach_the_submitting_firm_in_chinese(app, make):
    org, firm_user, firm_email = make.member("firm")
    _, other_user, _ = make.member("firm")
    approved = make.offer(org, status="submitted", title_zh="快速核酸检测试剂盒")
    returned = make.offer(org, status="submitted", title_zh="负压救护车")
    rejected = make.offer(org, status="submitted", title_zh="普通口罩")
    _, operator_email = make.staff("operator")
    operator = _client(app, operator_email)
    operator.post(f"/operator/verification/{approved}", data={"decision": "approve"})
    operator.post(f"/operator/verification/{returned}", data={"decision": "request_changes", "reason": "请补充注册证编号。"})
    operator.post(f"/operator/verification/{rejected}", data={"decision": "reject", "reason": "与防疫无关。"})
    inbox = _inbox(_client(app, firm_email))
    assert "您的成果“快速核酸检测试剂盒”已通过审核" in inbox and "将随下一批次发布" in inbox
    assert "您的成果“负压救护车”被退回修改" in inbox and "请补充注册证编号。" in inbox
    assert "您的成果“普通口罩”未通过审核" in inbox and "原因：与防疫无关。" in inbox
    assert "request_changes" not in inbox and "approve" not in inbox  # no internal codes
    assert {n.kind for n in _notes(app, firm_user)} == {"review"}
    assert _notes(app, other_user) == []  # another firm hears nothing


def test_new_submissions_reach_operators_in_a_daily_digest(app, make, mailbox):  # noqa: F811
    org, firm_user, firm_email = make.member("firm")
    first = make.offer(org, status="draft", title_zh="红外测温门")
    second = make.offer(org, status="draft", title_zh="移动方舱实验室")
    operator_id, operator_email = make.staff("operator")
    firm = _client(app, firm_email)
    for offer in (first, second):
        assert firm.post(f"/offers/{offer}/submit").status_code == 302
    notes = _notes(app, operator_id)
    assert [(n.kind, n.email_state) for n in notes] == [("submission", "digest")] * 2  # digest by default
    assert _notes(app, firm_user) == []
    inbox = _inbox(_client(app, operator_email))
    assert "新成果待审核：“红外测温门”" in inbox and "（新产品）" in inbox and "product" not in inbox
    assert mailbox() == []  # nothing sent at once
    with app.app_context():
        assert notification_tasks.send_daily_digest() == {"sent": 1, "failed": 0}
    [mail] = mailbox()
    assert mail["to"] == operator_email and mail["subject"] == "科创桥每日摘要：2条通知"
    assert "红外测温门" in mail["body"] and "移动方舱实验室" in mail["body"] and "自上次摘要以来的新动态" in mail["body"]
    assert {n.email_state for n in _notes(app, operator_id)} == {"sent"}
    with app.app_context():  # a second run finds nothing left
        assert notification_tasks.send_daily_digest() == {"sent": 0, "failed": 0}


def test_batch_release_tells_each_firm_once_about_its_own_offers(app, make):
    org_a, user_a, email_a = make.member("firm")
    org_b, user_b, _ = make.member("firm")
    make.offer(org_a, status="approved", title_zh="甲公司呼吸机")
    make.offer(org_a, status="approved", title_zh="甲公司监护仪")
    make.offer(org_b, status="approved", title_zh="乙公司防护服")
    _, operator_email = make.staff("operator")
    assert _client(app, operator_email).post("/operator/batches/release", data={}).status_code == 302
    [note_a] = _notes(app, user_a)
    [note_b] = _notes(app, user_b)
    assert note_a.kind == note_b.kind == "review"
    inbox = _inbox(_client(app, email_a))
    assert "第1批已发布：您的2项成果" in inbox
    assert "甲公司呼吸机" in inbox and "甲公司监护仪" in inbox and "乙公司防护服" not in inbox


def test_people_who_may_not_open_an_item_are_never_told_about_it(app, make):
    org, _, _ = make.member("firm")
    _, stranger, _ = make.member("hospital")
    draft = make.offer(org, status="draft", title_zh="未公开的草稿")
    with app.app_context():
        offer = db.session.get(Offer, draft)
        assert notifications.notify([stranger], "review", "offer_approved", {"offer": "x"}, about=offer) == []
        assert len(notifications.offer_reviewed(offer, "approve")) == 1  # the owner may open it
        db.session.rollback()


def test_meeting_requests_and_answers_reach_presenter_and_requester(app, make):
    w, event_id, item_id = _published(app, make)
    w.c_hospital.post(f"/events/{event_id}/register")
    w.c_hospital.post(f"/events/{event_id}/items/{item_id}/meetings", data={"reason": "希望洽谈许可", "priority": "3"})
    w.c_hospital.get("/lang/zh")
    w.c_lab.get("/lang/zh")
    [request_note] = [n for n in _notes(app, w.lab_user) if n.message_key == "meeting_requested"]
    assert request_note.kind == "meeting"
    inbox = _inbox(w.c_lab)
    assert "申请一对一洽谈" in inbox and "希望洽谈许可" in inbox and "高价值专利线上路演（第1场）" in inbox
    with app.app_context():
        meeting_id = db.session.scalar(select(MeetingRequest.id))
    w.c_lab.post(f"/events/{event_id}/meetings/{meeting_id}/answer", data={"decision": "declined",
                                                                         "reason": "本周已排满"})
    inbox = _inbox(w.c_hospital)
    assert "您的一对一洽谈申请被拒绝" in inbox and "本周已排满" in inbox and "declined" not in inbox


def test_presenters_hear_once_when_the_event_they_present_at_is_published(app, make):
    w = _world(app, make)
    w.app = app
    second_org, second_user, second_email = make.member("institute")
    event_id = _create_event(w)
    _add_item(w, event_id)  # presenter: the lab member
    _add_item(w, event_id, offer_id="", project_title_zh="中科院AI肺炎筛查", presenter_id=second_user)
    assert [n for n in _notes(app, second_user) if n.kind == "meeting"] == []  # a draft they cannot open yet
    assert w.c_org.post(f"/events/{event_id}/publish").status_code == 302
    [note] = _notes(app, second_user)
    assert (note.kind, note.message_key) == ("meeting", "presenter_assigned")
    inbox = _inbox(_client(app, second_email))
    assert "您将在“高价值专利线上路演（第1场）”路演" in inbox and "中科院AI肺炎筛查" in inbox
    # published again (after a change): still told only once
    with app.app_context():
        db.session.get(Event, event_id).status = "draft"
        db.session.commit()
    w.c_org.post(f"/events/{event_id}/publish")
    assert len(_notes(app, second_user)) == 1


def test_preferences_offer_the_digest_and_refuse_both_kinds_of_e_mail(app, make):
    org, user_id, email = make.member("firm")
    client = _client(app, email)
    account = client.get("/account/").get_data(as_text=True)
    assert 'id="notification-choices-link"' in account and "通知设置" in account
    page = client.get("/account/notifications").get_data(as_text=True)
    assert "每日邮件摘要" in page and "立即发邮件" in page and "接收人：" in page and 'value="digest:review"' in page
    r = client.post("/account/notifications", data={"on": ["site:review", "email:review", "digest:review"]})
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    assert "请在“立即发邮件”和“每日邮件摘要”中二选一" in html and "我的成果：审核通过" in html
    assert client.post("/account/notifications", data={"on": ["site:review", "digest:review"]}).status_code == 302
    offer = make.offer(org, status="submitted", title_zh="等待摘要的成果")
    _, operator_email = make.staff("operator")
    _client(app, operator_email).post(f"/operator/verification/{offer}", data={"decision": "approve"})
    [note] = _notes(app, user_id)
    assert (note.in_site, note.email_state) == (True, "digest")
    # switched off entirely: recorded (never told twice) but neither shown nor sent
    client.post("/account/notifications", data={"on": []})
    second = make.offer(org, status="submitted", title_zh="关闭通知后的成果")
    _client(app, operator_email).post(f"/operator/verification/{second}", data={"decision": "approve"})
    last = _notes(app, user_id)[-1]
    assert (last.in_site, last.email_state) == (False, "none")


def test_preferences_form_requires_csrf_for_the_digest_too(csrf_app, make):
    _, _, email = make.member("firm")
    client = csrf_app.test_client()
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"email": email, "password": "correct-horse-battery-9", "csrf_token": token})
    assert client.post("/account/notifications", data={"on": ["digest:review"]}).status_code == 400
    with csrf_app.app_context():
        assert db.session.scalar(select(Notification)) is None


def test_digest_command_sends_the_digest(app, make, mailbox):  # noqa: F811
    org, _, firm_email = make.member("firm")
    operator_id, operator_email = make.staff("operator")
    offer = make.offer(org, status="draft", title_zh="命令行摘要的成果")
    _client(app, firm_email).post(f"/offers/{offer}/submit")
    result = app.test_cli_runner().invoke(args=["notifications", "digest"])
    assert result.exit_code == 0 and "sent 1 digests" in result.output
    assert [m["to"] for m in mailbox()] == [operator_email]


def test_organisation_verification_requests_reach_operators(app, make):
    from tests.factories import other_uscc
    from tests.marketplace.test_organizations import _submit
    org, owner_id, owner_email = make.member("firm")
    operator_id, operator_email = make.staff("operator")
    assert _submit(_client(app, owner_email), org, other_uscc(991)).status_code == 302
    [note] = _notes(app, operator_id)
    assert (note.kind, note.message_key, note.email_state) == ("submission", "organization_submitted", "digest")
    assert _notes(app, owner_id) == []
    inbox = _inbox(_client(app, operator_email))
    assert "新机构待认证" in inbox and "提交了统一社会信用代码和营业执照，等待认证" in inbox
