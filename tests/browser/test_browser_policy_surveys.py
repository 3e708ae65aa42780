"""Surveys in headless Chromium: an operator writes a short survey for the Haidian firms and sends it; a firm there
answers it from its workspace and changes an answer; the operator reads the results (a chart per choice question)
on a phone without sideways scrolling."""
from __future__ import annotations

import os
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

CHROMIUM = "/usr/bin/chromium"
if os.environ.get("CI") != "true":
    if not os.path.isfile(CHROMIUM):
        pytest.skip(f"browser tests skipped: {CHROMIUM} is not installed", allow_module_level=True)
    pytest.importorskip("playwright.sync_api", reason="browser tests need the playwright package")

from page_audit import open_workspace
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_an_operator_surveys_the_haidian_firms_and_reads_the_answers(new_page, live_server, steps):
    from marketplace.extensions import db
    from marketplace.models import Organization
    firm_id, firm_email = live_server.member("firm")
    with live_server.app.app_context():
        db.session.get(Organization, firm_id).sub_park = "haidian"
        live_server._commit()
    operator_email = live_server.user(roles=("operator",))
    title = "复工周报" + live_server.unique()
    closes = (datetime.now(ZoneInfo("Asia/Shanghai")).date() + timedelta(days=5)).isoformat()

    operator = new_page()
    steps.log_in(operator, operator_email)
    open_workspace(operator)
    operator.locator("#nav-operator-surveys").click()
    operator.locator("#new-survey").click()
    operator.locator("#f-title_zh").fill(title)
    operator.locator("#f-closes_on").fill(closes)
    operator.locator("#f-audience_sub_parks-haidian").check()
    operator.locator("#f-q1_prompt").fill("员工返岗比例（%）")
    operator.locator("#f-q1_kind").select_option("number")
    operator.locator("#f-q1_indicator").fill("staff_back_pct")
    operator.locator("#f-q2_prompt").fill("是否存在供应链断点")
    operator.locator("#f-q2_kind").select_option("single")
    operator.locator("#f-q2_choices").fill("是\n否")
    operator.locator("#survey-form button[type=submit]").click()
    expect(steps.flash(operator)).to_be_visible()
    operator.locator("#send-survey").click()
    expect(operator.locator("#survey-status")).to_have_text(steps.t("Open for answers"))
    survey_url = re.sub(r"^https?://[^/]+", "", operator.url)

    firm = new_page()
    steps.log_in(firm, firm_email)
    open_workspace(firm)
    firm.locator("#nav-surveys").click()
    firm.locator("#my-surveys a", has_text=title).click()
    firm.get_by_label("员工返岗比例（%）").fill("70")
    firm.get_by_label("是", exact=True).check()
    firm.locator("#survey-answer button[type=submit]").click()
    expect(steps.flash(firm)).to_contain_text(steps.t(
        "Thank you: your answers were saved. You may change them until the survey closes."))
    firm.get_by_label("员工返岗比例（%）").fill("85")
    firm.locator("#survey-answer button[type=submit]").click()
    expect(steps.flash(firm)).to_be_visible()

    operator.goto(survey_url)
    expect(operator.locator(".survey-mean")).to_have_text("85.0")
    expect(operator.locator("[id^=chart-q]").first).to_be_visible()
    operator.set_viewport_size({"width": 390, "height": 844})
    assert operator.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
