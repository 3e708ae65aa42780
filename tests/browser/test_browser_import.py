"""An import in headless Chromium: a member uploads a file through the form and gets the report with links to
the created records; a run still waiting for its worker shows a progress bar that updates from the JSON
endpoint (no inline script: the page's CSP forbids them) and turns into the report when the job has run."""
from __future__ import annotations

import io
import os
import re

import pytest

CHROMIUM = "/usr/bin/chromium"
if os.environ.get("CI") != "true":
    if not os.path.isfile(CHROMIUM):
        pytest.skip(f"browser tests skipped: {CHROMIUM} is not installed", allow_module_level=True)
    pytest.importorskip("playwright.sync_api", reason="browser tests need the playwright package")

from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def offers_file(titles: list[str]) -> bytes:
    from openpyxl import Workbook
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "data"
    sheet.append(["类型", "标题（中文）", "摘要（中文）"])
    for title in titles:
        sheet.append(["新产品", title, "摘要"])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def test_an_upload_reports_links_and_a_queued_run_shows_progress(page, live_server, steps, tmp_path):
    from marketplace.extensions import db
    from marketplace.models import User
    from marketplace.services import imports
    from marketplace.services.unit_of_work import unit_of_work
    from marketplace.tasks import imports as import_tasks

    org_id, email = live_server.member("firm")
    steps.log_in(page, email)
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)

    upload = tmp_path / "offers.xlsx"
    upload.write_bytes(offers_file(["浏览器导入一号", "浏览器导入二号"]))
    page.goto("/transfer/import")
    page.locator("#f-file").set_input_files(str(upload))
    page.locator("form[enctype] button[type=submit]").click()
    expect(page.locator("#import-result")).to_be_visible()
    page.locator("#import-created a", has_text="浏览器导入二号").click()
    expect(page.locator("h1")).to_contain_text("浏览器导入二号")

    # A run waiting for its worker (as with a queue): the page polls, then shows the report by itself.
    with live_server.app.test_request_context("/"):
        user = db.session.scalar(db.select(User).where(User.email == email))
        with unit_of_work():
            run, _ = imports.start_import(user, "offers", "queued.xlsx", offers_file(["排队导入"]),
                                          organization_id=org_id, locale="zh", limits=imports.ReadLimits())
            run_id = run.id
            db.session.info.pop("pending_jobs", None)  # the worker runs it below
        db.session.remove()
    page.goto(f"/transfer/import/{run_id}")
    expect(page.locator("#import-progress")).to_be_visible()
    with live_server.app.app_context():
        assert import_tasks.run(run_id=run_id) == "done"
        db.session.remove()
    expect(page.locator("#import-result")).to_be_visible(timeout=15_000)
    expect(page.locator("#import-created")).to_contain_text("排队导入")
    assert re.search(rf"/transfer/import/{run_id}$", page.url)
    assert not [e for e in errors if "Content Security Policy" in e], errors
