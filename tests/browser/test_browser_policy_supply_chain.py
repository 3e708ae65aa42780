"""Supply-chain coordination in headless Chromium: a ventilator maker lists its product's inputs (one blocked
supplier) and reports the blocked chain to its sub-park; the sub-park's staff member opens the report, follows it
to the chain (counts at a glance, blocked first, fits a phone), turns the blocked input into a need with one
action and answers the report with it; another supplier opens the need and requests an introduction."""
from __future__ import annotations

import os
import re

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
    """A Haidian manufacturer, a Haidian sub-park staff member and a supplier firm."""
    from sqlalchemy import select

    from marketplace.extensions import db
    from marketplace.models import Organization, SubParkStaff, User
    maker_id, maker_email = live_server.member("firm")
    people = {"maker": maker_email, "haidian": live_server.user(), "supplier": live_server.member("firm")[1]}
    with live_server.app.app_context():
        db.session.get(Organization, maker_id).sub_park = "haidian"
        staff_id = db.session.scalar(select(User.id).where(User.email == people["haidian"]))
        db.session.add(SubParkStaff(user_id=staff_id, sub_park="haidian"))
        live_server._commit()
    return people


def test_a_sub_park_turns_a_blocked_supply_chain_report_into_a_need_a_supplier_answers(new_page, live_server, steps):
    people = _setup(live_server)
    part = "流量传感器" + live_server.unique()
    maker = new_page()
    steps.log_in(maker, people["maker"])
    open_workspace(maker)
    maker.locator("#nav-supply-chains").click()
    maker.locator("#f-product_zh").fill("ICU有创呼吸机")
    maker.locator("#new-chain button[type=submit]").click()
    expect(steps.flash(maker)).to_be_visible()
    for name, supplier, status, note in (("机壳注塑件", "昌平某注塑厂", "running", ""),
                                         (part, "苏州某传感器厂", "blocked", "供应商尚未复工，库存只够一周。")):
        maker.locator("#f-part_name").fill(name)
        maker.locator("#f-supplier_name").fill(supplier)
        maker.locator("#f-status").select_option(status)
        maker.locator("#f-status_note").fill(note)
        maker.locator("#add-input button[type=submit]").click()
        expect(steps.flash(maker)).to_contain_text(steps.t("The input was added."))
    expect(maker.locator("#count-blocked .chain-count")).to_have_text("1")
    expect(maker.locator("#chain-inputs > li").first).to_have_attribute("data-status", "blocked")

    maker.goto("/liaison/")
    maker.locator("#f-topic").select_option("supply_chain")
    maker.locator("#f-supply_chain_id").select_option(label="ICU有创呼吸机")
    maker.locator("#f-title").fill("呼吸机流量传感器断供")
    maker.locator("#f-body").fill("上游传感器供应商尚未复工，需要替代供应商，每月200只。")
    maker.locator("#main form button[type=submit]").click()
    expect(steps.flash(maker)).to_be_visible()

    desk = new_page()
    steps.log_in(desk, people["haidian"])
    open_workspace(desk)
    desk.locator("#nav-sub-park-desk").click()
    desk.locator("#desk-queue a", has_text="呼吸机流量传感器断供").click()
    report_url = re.sub(r"^https?://[^/]+", "", desk.url)
    desk.locator("#report-chain").click()
    expect(desk.locator("#chain-title")).to_have_text("ICU有创呼吸机")
    expect(desk.locator("#count-blocked .chain-count")).to_have_text("1")
    expect(desk.locator("#count-running .chain-count")).to_have_text("1")
    expect(desk.locator("#add-input")).to_have_count(0)  # the staff help; the chain stays the maker's
    desk.set_viewport_size({"width": 390, "height": 844})
    assert desk.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    desk.set_viewport_size({"width": 1280, "height": 900})
    blocked = desk.locator("#chain-inputs > li", has_text=part)
    blocked.locator(".post-need button[type=submit]").click()
    expect(steps.flash(desk)).to_contain_text(steps.t(
        "The input is now an open need on the marketplace: other suppliers and the sub-park see it."))
    need_url = desk.locator("#chain-inputs > li", has_text=part).locator(".input-need").get_attribute("href")

    desk.goto(report_url)
    desk.locator("#f-action").select_option("answer")
    desk.locator("#f-text").fill("已把断供的流量传感器发布为供应需求，请关注供应商回复。")
    desk.locator("#main form button[type=submit]").click()
    expect(desk.locator("#report-status")).to_have_text(steps.t("Answered"))

    supplier = new_page()
    steps.log_in(supplier, people["supplier"])
    supplier.goto(need_url)
    expect(supplier.locator("h1")).to_contain_text(part)
    supplier.locator("#main a.request-introduction").first.click()
    supplier.locator("#purpose").select_option("purchase")
    supplier.locator("#message").fill("我们可供应国产流量传感器，每月300只。")
    supplier.locator("#send-request").click()
    expect(supplier).to_have_url(re.compile(r"/brokering/\d+$"))

    maker.goto(report_url)
    expect(maker.locator("#report-answer")).to_contain_text("供应需求")
