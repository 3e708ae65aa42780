"""Open challenges in headless Chromium.

Part A's journey: a hospital publishes a challenge with two criteria and a confidential part, an operator approves
it, a lab asks a question that the hospital answers publicly (the lab is told), then the lab prepares, submits and
sees its proposal, which another lab cannot open.

The deciding side: a hospital's challenge with two criteria and an NDA-protected part is created, verified and
published, two labs ask a question and submit proposals (these steps go through part A's services in the set-up,
as the journey above shows them in the browser), then the deadline passes. In the browser the hospital names a
panel of two (itself and a park expert) and opens the evaluation; both evaluators declare no conflict and score
both proposals; the hospital sees the ranking and awards one, which appears as an introduction in the deal
pipeline and as its first milestone, and the winning lab reports that milestone delivered. The losing lab's
member is refused the evaluation pages.
"""
from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

CHROMIUM = "/usr/bin/chromium"
if os.environ.get("CI") != "true":
    if not os.path.isfile(CHROMIUM):
        pytest.skip(f"browser tests skipped: {CHROMIUM} is not installed", allow_module_level=True)
    pytest.importorskip("playwright.sync_api", reason="browser tests need the playwright package")

from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def _published_challenge_with_two_proposals(live_server) -> dict:
    """Part A's steps, through its services: create, verify, two questions, two submitted proposals; then the
    deadline is moved into the past (time passing)."""
    from sqlalchemy import select

    from marketplace.extensions import db
    from marketplace.models import Challenge, User
    from marketplace.services.challenges import proposals, publishing, questions
    hospital, hospital_email = live_server.member("hospital")
    lab_a, lab_a_email = live_server.member("lab")
    lab_b, lab_b_email = live_server.member("university")
    operator = live_server.user(roles=("operator",))
    expert = live_server.user(roles=("broker",), display_name="园区专家" + live_server.unique())
    title = "肺结节AI筛查揭榜" + live_server.unique()
    deadline = (datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(days=10)).strftime("%Y-%m-%dT%H:%M")
    with live_server.app.test_request_context():
        def user(email):
            return db.session.scalar(select(User).where(User.email == email))
        challenge = publishing.create(user(hospital_email), hospital, {
            "title_zh": title, "problem_zh": "门诊CT影像量大，需要AI辅助发现肺结节。",
            "requirements_zh": "敏感度不低于95%。", "confidential_zh": "院内PACS接口说明（保密）",
            "deadline": deadline, "timezone": "Asia/Shanghai", "award_max_rmb": "1000000",
            "milestone_plan": "原型部署 | 2\n临床验证 | 6",
            "criteria": [{"name_zh": "技术方案", "weight": "60"}, {"name_zh": "团队能力", "weight": "40"}]})
        publishing.submit(user(hospital_email), challenge)
        publishing.decide(user(operator), challenge, "approve")
        ids = {}
        for lab, email, name in ((lab_a, lab_a_email, "深度学习检测方案"), (lab_b, lab_b_email, "多模态筛查方案")):
            questions.ask(user(email), challenge, "能否提供脱敏样本？")
            proposal = proposals.start(user(email), challenge, lab, {
                "title": name + live_server.unique(), "approach": "技术路线", "team": "团队",
                "milestones": "模型交付 | 3\n上线运行 | 6"})
            proposals.submit(user(email), proposal)
            ids[lab] = (proposal.id, proposal.title)
        challenge.deadline = datetime.now(ZoneInfo("UTC")) - timedelta(hours=1)  # the deadline has passed
        live_server._commit()
        challenge_id = db.session.scalar(select(Challenge.id).where(Challenge.title_zh == title))
    return {"challenge": challenge_id, "hospital": hospital_email, "lab_a": lab_a_email, "lab_b": lab_b_email,
            "expert": expert, "proposal_a": ids[lab_a], "proposal_b": ids[lab_b], "title": title}


def _score(page, steps, challenge_id: int, proposal: tuple[int, str], first: str, second: str) -> None:
    page.goto(f"/challenges/{challenge_id}/evaluation/proposals/{proposal[0]}")
    page.locator("#conflict-no").check()
    page.locator("#declare-button").click()
    expect(steps.flash(page)).to_contain_text(steps.t("Declaration recorded."))
    inputs = page.locator('#score-form input[type="number"]')
    expect(inputs).to_have_count(2)
    inputs.nth(0).fill(first)
    inputs.nth(1).fill(second)
    page.locator("#score-button").click()
    expect(steps.flash(page)).to_contain_text(steps.t("Scores sent. They are locked now."))


def test_hospital_awards_a_challenge_scored_by_a_panel_of_two(new_page, live_server, steps):
    world = _published_challenge_with_two_proposals(live_server)
    cid = world["challenge"]
    hospital = new_page()
    steps.log_in(hospital, world["hospital"])
    hospital.goto(f"/challenges/{cid}/evaluation")
    expect(hospital.locator("#criteria li")).to_have_count(2)
    for label in (world["hospital"], world["expert"]):
        value = hospital.locator("#f-user_id option", has_text=label).get_attribute("value")
        hospital.locator("#f-user_id").select_option(value)
        hospital.locator("#panel-form button").click()
        expect(steps.flash(hospital)).to_contain_text(steps.t("Added to the panel; they were told."))
    expect(hospital.locator("#panel .panel-seat")).to_have_count(2)
    hospital.locator("#start-evaluation").click()
    expect(hospital.locator("#challenge-status")).to_have_text(steps.t("In evaluation"))

    _score(hospital, steps, cid, world["proposal_a"], "9", "7")
    _score(hospital, steps, cid, world["proposal_b"], "6", "6")
    expert = new_page()
    steps.log_in(expert, world["expert"])
    _score(expert, steps, cid, world["proposal_a"], "8", "8")
    _score(expert, steps, cid, world["proposal_b"], "5", "7")
    expert.goto(f"/challenges/{cid}/evaluation")
    expect(expert.locator("#ranking")).to_have_count(0)  # the panel sees where it stands, not the ranking

    # A losing solver sees nothing of the evaluation
    lab_b = new_page()
    steps.log_in(lab_b, world["lab_b"])
    response = lab_b.goto(f"/challenges/{cid}/evaluation")
    assert response.status == 404

    hospital.goto(f"/challenges/{cid}/evaluation")
    rows = hospital.locator("#ranking .ranking-row")
    expect(rows).to_have_count(2)
    expect(rows.first).to_have_attribute("data-proposal", str(world["proposal_a"][0]))
    expect(rows.first.locator(".mean")).to_have_text("8.10")  # the mean of (9·60+7·40)/100 = 8.2 and 8.0
    hospital.locator(f"#award-{world['proposal_a'][0]}").check()
    hospital.locator("#f-feedback").fill("感谢参与，方案的临床验证计划不够具体。")
    hospital.locator("#award-button").click()
    expect(hospital).to_have_url(re.compile(rf"/challenges/{cid}/milestones$"))
    award = hospital.locator(".award")
    expect(award).to_have_count(1)
    expect(award.locator(".milestone").first.locator(".milestone-title")).to_have_text("模型交付")
    expect(award.locator(".milestone").first.locator(".milestone-status")).to_have_text(steps.t("Due"))
    award.locator(".award-introduction").click()
    expect(hospital).to_have_url(re.compile(r"/brokering/\d+$"))
    expect(hospital.locator("body")).to_contain_text(steps.t("Accepted"))

    lab_a = new_page()
    steps.log_in(lab_a, world["lab_a"])
    lab_a.goto(f"/challenges/{cid}/milestones")
    first = lab_a.locator(".milestone").first
    first.locator('input[name="note"]').fill("模型与部署文档已交付")
    first.locator("button").click()
    expect(steps.flash(lab_a)).to_contain_text(steps.t("Reported delivered; the challenger was asked to accept it."))
    expect(lab_a.locator(".milestone").first).to_have_attribute("data-status", "delivered")


def test_a_hospital_publishes_a_challenge_and_a_lab_asks_and_proposes(new_page, live_server, steps):
    _hospital_id, hospital_email = live_server.member("hospital")
    _lab_id, lab_email = live_server.member("lab")
    _other_id, other_email = live_server.member("lab")
    operator_email = live_server.user(roles=("operator",))
    word = live_server.unique()
    title = f"低剂量CT降噪揭榜{word}"

    hospital = new_page()
    steps.log_in(hospital, hospital_email)
    hospital.goto("/challenges/")
    hospital.locator("#new-challenge").click()
    hospital.locator("#f-title_zh").fill(title)
    hospital.locator("#f-problem_zh").fill("在剂量降低一半时保持诊断质量。")
    hospital.locator("#f-award_min_rmb").fill("500000")
    hospital.locator("#f-award_max_rmb").fill("1000000")
    deadline = (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M")
    hospital.locator("#f-deadline").fill(deadline)
    hospital.locator("#f-criterion_name_zh_1").fill("技术可行性")
    hospital.locator("#f-criterion_weight_1").fill("60")
    hospital.locator("#f-criterion_name_zh_2").fill("成本")
    hospital.locator("#f-criterion_weight_2").fill("40")
    hospital.locator("#confidential-fields summary").click()
    hospital.locator("#f-confidential_zh").fill("医院影像数据接口说明")
    hospital.locator("#f-nda_text_zh").fill("不得向第三方披露。")
    hospital.locator("#challenge-save").click()
    expect(steps.flash(hospital)).to_contain_text(steps.t("Draft saved. Check it, then submit it for verification."))
    hospital.locator("#submit-challenge").click()
    expect(hospital.locator("#challenge-status")).to_have_text(steps.t("Waiting for verification"))
    challenge_url = hospital.url

    operator = new_page()
    steps.log_in(operator, operator_email)
    operator.goto("/challenges/review")
    operator.get_by_text(title).click()
    operator.locator("#approve").click()
    expect(steps.flash(operator)).to_contain_text(steps.t("Decision recorded."))

    lab = new_page()
    steps.log_in(lab, lab_email)
    lab.goto("/challenges/?status=open")
    lab.get_by_text(title).click()
    expect(lab.locator("#challenge-countdown")).to_contain_text(steps.t("Submission deadline"))
    expect(lab.locator("#countdown-remaining")).to_contain_text(steps.t("days"))
    expect(lab.locator("#confidential-hidden")).to_be_visible()
    expect(lab.locator("#criteria")).to_contain_text("60%")
    lab.locator("#question-text").fill("样本数据是否为DICOM格式？")
    lab.locator("#ask-submit").click()
    expect(steps.flash(lab)).to_contain_text(steps.t("Your question was sent to the challenger."))

    hospital.goto(challenge_url)
    hospital.locator(".question textarea").fill("是，DICOM 3.0。")
    hospital.get_by_role("button", name=steps.t("Answer publicly (clarification)")).click()
    expect(hospital.locator("#clarifications + .clarification")).to_contain_text("DICOM 3.0")

    lab.goto("/notifications/")
    expect(lab.locator("main")).to_contain_text(steps.t("Clarification %(number)s of \"%(title)s\"", number=1,
                                                        title=title))
    lab.goto(challenge_url)
    lab.locator("#start-proposal").click()
    lab.locator("#f-title").fill("深度学习降噪方案")
    lab.locator("#f-approach").fill("基于扩散模型的低剂量重建")
    lab.locator("#proposal-save").click()
    lab.locator("#submit-proposal").click()
    expect(lab.locator("#proposal-status")).to_have_text(steps.t("Submitted"))
    proposal_url = lab.url

    other = new_page()
    steps.log_in(other, other_email)
    response = other.goto(proposal_url)
    assert response.status == 404
    hospital.goto(proposal_url)
    expect(hospital.locator("#proposal-approach")).to_contain_text("基于扩散模型的低剂量重建")
