"""Open challenges in headless Chromium, part A: a hospital publishes a challenge with two criteria and a
confidential part, an operator approves it, a lab asks a question that the hospital answers publicly (the lab is
told), then the lab prepares, submits and sees its proposal, which another lab cannot open."""
from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest

CHROMIUM = "/usr/bin/chromium"
if os.environ.get("CI") != "true":
    if not os.path.isfile(CHROMIUM):
        pytest.skip(f"browser tests skipped: {CHROMIUM} is not installed", allow_module_level=True)
    pytest.importorskip("playwright.sync_api", reason="browser tests need the playwright package")

from playwright.sync_api import expect

pytestmark = pytest.mark.browser


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
