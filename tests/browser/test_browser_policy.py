"""The policy desk in headless Chromium: a small firm registered in the park sees the R&D subsidy among the
measures that fit it, with reasons; answers the questionnaire and completes its profile to settle the missing
conditions; files a project for measures 2, 4 and 7 and gets exactly the record title of the notice; two
offices review their parts and the firm sees the outcome. Then the firm reports a blocked supply chain, its
sub-park's staff turn the report into a need, and a supplier answers it. The filing page fits a phone.
"""
from __future__ import annotations

import os
import re
from datetime import datetime
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


def _setup(live_server) -> dict:
    """Measures and offices, a small park firm without a size yet, office and sub-park staff, a supplier."""
    from sqlalchemy import select

    from marketplace.extensions import db
    from marketplace.models import Organization, PolicyOffice, PolicyOfficeStaff, SubParkStaff, User
    from marketplace.services.policy import catalogue
    firm_id, firm_email = live_server.member("firm")
    live_server.offer(firm_id, "新冠核酸快速检测试剂盒", "Rapid nucleic acid test kit")
    emails = {"firm": firm_email, "startup": live_server.user(), "industry": live_server.user(),
              "haidian": live_server.user(), "supplier": live_server.member("firm")[1]}
    with live_server.app.app_context():
        catalogue.load_reference(db.session)
        firm = db.session.get(Organization, firm_id)
        firm.short_name, firm.registered_in_park, firm.size_class, firm.sub_park = "火眼公司", True, None, "haidian"
        users = {k: db.session.scalar(select(User.id).where(User.email == e)) for k, e in emails.items()}
        for code in ("startup", "industry"):
            office = db.session.scalar(select(PolicyOffice.id).where(PolicyOffice.code == code))
            db.session.add(PolicyOfficeStaff(office_id=office, user_id=users[code]))
        db.session.add(SubParkStaff(user_id=users["haidian"], sub_park="haidian"))
        live_server._commit()
    return {"firm_id": firm_id, **emails}


def _card(page, measure: int):
    return page.locator(f'#policy-fits [data-measure="{measure}"]')


def test_a_small_park_firm_files_for_measures_2_4_7_and_its_sub_park_turns_a_report_into_a_need(
        new_page, live_server, steps):
    people = _setup(live_server)
    firm = new_page()
    steps.log_in(firm, people["firm"])
    open_workspace(firm)
    firm.locator("#nav-policy-matches").click()
    rd = _card(firm, 5)
    expect(rd).to_contain_text(steps.t("May qualify: information missing"))
    expect(rd.locator(".policy-check-met")).to_contain_text([steps.t("Registered in the park")])
    expect(rd.locator(".policy-check-unknown")).to_contain_text([steps.t("Size"), steps.t("R&D spending declared")])
    expect(rd).to_contain_text(steps.t("Complete the organisation profile"))

    firm.locator("#answer-questionnaire").click()
    firm.locator("#q-rd_spending-yes").check()
    firm.locator("#q-epidemic_response-yes").check()
    firm.locator("#main form button[type=submit]").click()
    expect(steps.flash(firm)).to_contain_text(steps.t("Your answers were saved."))
    firm.goto(f"/orgs/{people['firm_id']}/edit")
    firm.locator("#f-size_class").select_option("small")
    firm.locator("#main form button.btn-primary[type=submit]").click()
    expect(steps.flash(firm)).to_be_visible()
    firm.goto("/policies/matches")
    expect(_card(firm, 5)).to_contain_text(steps.t("Likely to qualify"))
    expect(_card(firm, 5).locator(".policy-check-unknown")).to_have_count(0)

    firm.locator("#new-filing").click()
    firm.locator("#f-project_name").fill("新冠核酸快速检测试剂盒产业化")
    firm.locator("#f-direction").select_option("D1")
    for number in (2, 4, 7):
        firm.locator(f"#m-{number}").check()
    firm.locator("#f-description").fill("一周内完成研发，已在发热门诊使用。")
    firm.locator("#f-contact_phone").fill("010-8888 0000")
    firm.locator("#main form button[type=submit]").click()
    today = datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y%m%d")
    expect(firm.locator("#filing-title")).to_have_text(f"{today} 火眼公司（第2、4、7条）")
    filing_url = re.sub(r"^https?://[^/]+", "", firm.url)

    startup = new_page()
    steps.log_in(startup, people["startup"])
    open_workspace(startup)
    startup.locator("#nav-policy-office").click()
    startup.locator("#office-queue a").first.click()
    part = startup.locator('#filing-parts [data-measure="7"]')
    part.locator("select[name=status]").select_option("supported")
    part.locator("input[name=amount_rmb]").fill("150000")
    part.locator("button[type=submit]").click()
    expect(steps.flash(startup)).to_contain_text(steps.t("The decision was recorded; the firm sees it on its filing."))
    expect(startup.locator('#filing-parts [data-measure="2"] form')).to_have_count(0)  # not this office's part

    industry = new_page()
    steps.log_in(industry, people["industry"])
    industry.goto(filing_url)
    part = industry.locator('#filing-parts [data-measure="2"]')
    part.locator("select[name=status]").select_option("declined")
    part.locator("textarea[name=note]").fill("不属于第三方平台，建议申请第5条。")
    part.locator("button[type=submit]").click()

    firm.goto(filing_url)
    expect(firm.locator('#filing-parts [data-measure="7"]')).to_contain_text(steps.rmb(150000))
    expect(firm.locator('#filing-parts [data-measure="7"] .part-status')).to_have_text(steps.t("Supported"))
    expect(firm.locator('#filing-parts [data-measure="2"]')).to_contain_text("不属于第三方平台")
    expect(firm.locator('#filing-parts [data-measure="4"] .part-status')).to_have_text(steps.t("Received"))
    firm.set_viewport_size({"width": 390, "height": 844})
    assert firm.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    firm.set_viewport_size({"width": 1280, "height": 900})

    # Measure 10: the firm reports a blocked input; the sub-park posts it as a need; a supplier answers.
    firm.goto("/liaison/")
    firm.locator("#f-topic").select_option("supply_chain")
    firm.locator("#f-title").fill("呼吸机涡轮风机进口受阻")
    firm.locator("#f-body").fill("进口涡轮风机延迟到货，需要国内替代供应商，每月200台。")
    firm.locator("#main form button[type=submit]").click()
    expect(steps.flash(firm)).to_be_visible()
    desk = new_page()
    steps.log_in(desk, people["haidian"])
    open_workspace(desk)
    desk.locator("#nav-sub-park-desk").click()
    desk.locator("#desk-queue a", has_text="呼吸机涡轮风机进口受阻").click()
    desk.locator("#f-action").select_option("post_need")
    desk.locator("#f-text").fill("已发布为供应需求，请关注供应商回复。")
    desk.locator("#main form button[type=submit]").click()
    expect(desk.locator("#report-status")).to_have_text(steps.t("Posted as a need"))
    need_url = desk.locator("#report-need").get_attribute("href")

    supplier = new_page()
    steps.log_in(supplier, people["supplier"])
    supplier.goto(need_url)
    expect(supplier.locator("h1")).to_contain_text("呼吸机涡轮风机进口受阻")
    supplier.locator("#main a.request-introduction").first.click()
    supplier.locator("#purpose").select_option("purchase")
    supplier.locator("#message").fill("我们可供应国产涡轮风机，每月300台。")
    supplier.locator("#send-request").click()
    expect(supplier).to_have_url(re.compile(r"/brokering/\d+$"))
