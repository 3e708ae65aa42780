"""Search help in headless Chromium: results appear while typing (static script, no inline code), a click opens
the offer, and an empty search offers to post the words as a need."""
from __future__ import annotations

import os
import re

import pytest

CHROMIUM = "/usr/bin/chromium"
if os.environ.get("CI") != "true":
    if not os.path.isfile(CHROMIUM):
        pytest.skip(f"browser tests skipped: {CHROMIUM} is not installed", allow_module_level=True)
    pytest.importorskip("playwright.sync_api", reason="browser tests need the playwright package")

from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


def test_results_appear_while_typing_and_empty_searches_offer_a_need(page: Page, live_server, steps):
    org_id = live_server.org("firm")
    word = live_server.unique("ix")
    title = f"便携式呼吸机 {word}"
    offer_id = live_server.offer(org_id, title, f"Portable ventilator {word}")
    live_server.offer(org_id, f"草稿呼吸机 {word}", f"Draft ventilator {word}", status="draft")

    page.goto("/search/")
    page.locator("#site-q").press_sequentially(word, delay=30)
    instant = page.locator("#instant-results .instant-result")
    expect(instant.first).to_contain_text(title)
    expect(page.locator("#instant-results")).not_to_contain_text("草稿呼吸机")
    instant.filter(has_text=title).first.click()
    expect(page).to_have_url(re.compile(rf"/offers/{offer_id}$"))

    missing = live_server.unique("无此成果")
    page.goto(f"/search/?q={missing}")
    expect(page.locator("#search-empty")).to_contain_text(steps.t("Post “%(q)s” as a need", q=missing))
