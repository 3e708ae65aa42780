"""An integrator's journey in headless Chromium: create a personal access token on the account page, read the
browsable API reference (Swagger UI from the package, under the site's CSP) and call the API with the token."""
from __future__ import annotations

import os

import pytest

if os.environ.get("CI") != "true":
    if not os.path.isfile("/usr/bin/chromium"):
        pytest.skip("browser tests skipped: /usr/bin/chromium is not installed", allow_module_level=True)
    pytest.importorskip("playwright.sync_api", reason="browser tests need the playwright package")

from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_member_creates_token_reads_reference_and_calls_the_api(page, live_server, steps):
    org_id, email = live_server.member("firm")
    offer_id = live_server.offer(org_id, "浏览器接口测试试剂盒", "API journey kit", status="draft")
    problems = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))

    steps.log_in(page, email)
    page.locator('a[href="/account/tokens"]').first.click()
    page.locator("#f-name").fill("Hospital ERP")
    page.locator("#f-scope").select_option("write")
    page.locator("form:has(#f-name) button[type=submit]").click()
    expect(steps.flash(page)).to_contain_text(steps.t("Token created. Copy it now: it will not be shown again."))
    secret = page.locator("#new-token").inner_text().strip()
    assert secret.startswith("tb_")
    expect(page.locator("table")).to_contain_text("Hospital ERP")

    page.locator('a[href="/api/v1/docs/"]').click()
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("TechBridge API")
    expect(page.locator(".opblock-tag-section").first).to_be_visible()
    expect(page.locator(".opblock-summary-path", has_text="/api/v1/needs/{need_id}/matches").first).to_be_attached()
    assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p], problems

    auth = {"Authorization": f"Bearer {secret}", "Accept-Language": "en"}
    me = page.request.get("/api/v1/me", headers=auth)
    assert me.status == 200 and me.json()["email"] == email
    draft = page.request.get(f"/api/v1/offers/{offer_id}", headers=auth)
    assert draft.status == 200 and draft.json()["status"] == "draft"
    submitted = page.request.post(f"/api/v1/offers/{offer_id}/submit", headers=auth)
    assert submitted.status == 200 and submitted.json()["status"] == "submitted"
    visitor = page.request.get(f"/api/v1/offers/{offer_id}", headers={"Accept-Language": "en"})
    assert visitor.status == 404 and visitor.headers["content-type"] == "application/problem+json"
