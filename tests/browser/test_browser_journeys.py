"""End-to-end journeys in headless Chromium against a live TechBridge server (CSRF on).

Each test acts as a new user would: it follows links, fills forms and reads what the page shows.
Expected texts come from the app's own translation catalogue (``live_server.t``) rather than being
copied here, so a reworded translation does not break the journeys while untranslated text still does.
"""
from __future__ import annotations

import os
import re
from datetime import date, timedelta

import pytest

CHROMIUM = "/usr/bin/chromium"
if os.environ.get("CI") != "true":
    if not os.path.isfile(CHROMIUM):
        pytest.skip(f"browser tests skipped: {CHROMIUM} is not installed", allow_module_level=True)
    pytest.importorskip("playwright.sync_api", reason="browser tests need the playwright package")

from page_audit import open_account_menu, open_workspace
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


# --- small steps shared by the journeys ---------------------------------------------------------------

def t(live_server, msgid: str, lang: str = "zh", **variables) -> str:
    """``msgid`` as the live app shows it in ``lang``."""
    from flask_babel import force_locale, gettext
    with live_server.app.test_request_context("/"), force_locale(lang):
        return gettext(msgid, **variables)


def flash(page: Page, category: str = "success"):
    return page.locator(f"#main > .alert.alert-{category}")


def log_in(page: Page, live_server, email: str, password: str | None = None) -> None:
    """Log in through the nav's login link and form; ends on the account page."""
    page.goto("/")
    page.locator('nav a[href="/login"]').click()
    expect(page).to_have_url(re.compile(r"/login$"))
    page.locator("#email").fill(email)
    page.locator("#password").fill(password or live_server.password)
    page.locator("#login-submit").click()
    expect(page).to_have_url(re.compile(r"/account/$"))
    expect(flash(page)).to_contain_text(t(live_server, "You are logged in."))


def log_out(page: Page, live_server) -> None:
    open_account_menu(page)
    page.locator("nav form[action='/logout'] button").click()
    expect(flash(page, "info")).to_contain_text(t(live_server, "You are logged out."))
    expect(page.locator('nav a[href="/login"]')).to_be_visible()


# --- 1. registration, language switch, login and logout -----------------------------------------------

def test_register_with_hospital_switch_language_and_log_in_out(page: Page, live_server):
    catalogue_zh, catalogue_en = t(live_server, "Catalogue"), t(live_server, "Catalogue", "en")
    assert catalogue_zh != catalogue_en, "the Chinese catalogue has no translation for the nav"
    token = live_server.unique()
    email = f"{token}@hospital.example.com"
    name = f"王医生{token}"
    hospital = f"北京{token}医院"
    password = "Hospital-visit-2024!"

    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    expect(page.locator("#lang-switch")).to_have_text("English")
    page.locator('nav a[href="/register"]').click()
    expect(page).to_have_url(re.compile(r"/register$"))

    # A too-short password: the form comes back with the message and keeps what was typed.
    page.locator("#display_name").fill(name)
    page.locator("#email").fill(email)
    page.locator("#password").fill("short-pw1")
    page.locator("#confirm").fill("short-pw1")
    page.locator("#org_kind").select_option("hospital")
    page.locator("#org_name_zh").fill(hospital)
    page.locator("#org_name_en").fill(f"Beijing {token} Hospital")
    page.locator("#org_uscc").fill(live_server.valid_uscc())
    page.locator("#register-submit").click()
    expect(page).to_have_url(re.compile(r"/register$"))
    expect(flash(page, "danger")).to_contain_text(t(live_server, "Please correct the highlighted fields."))
    expect(page.locator("#password")).to_have_class(re.compile(r"\bis-invalid\b"))
    expect(page.locator("#password ~ .invalid-feedback")).to_have_text(
        t(live_server, "At least %(n)d characters.", n=live_server.app.config["PASSWORD_MIN_LENGTH"]))
    expect(page.locator("#org_name_zh")).to_have_value(hospital)
    expect(page.locator("#org_kind")).to_have_value("hospital")

    page.locator("#password").fill(password)
    page.locator("#confirm").fill(password)
    page.locator("#register-submit").click()
    expect(page).to_have_url(re.compile(r"/account/$"))
    expect(flash(page)).to_contain_text(t(live_server, "Welcome to TechBridge, %(name)s.", name=name))
    expect(page.locator("h1")).to_contain_text(name)
    expect(page.locator("#main .list-group-item a", has_text=hospital)).to_be_visible()
    expect(page.locator("nav")).to_contain_text(name)

    # English, then back to Chinese, staying on the account page.
    page.locator("#lang-switch").click()
    expect(page).to_have_url(re.compile(r"/account/\??$"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("nav").get_by_role("link", name=catalogue_en, exact=True)).to_be_visible()
    expect(page.locator("#lang-switch")).to_have_text("中文")
    expect(page.locator("h1")).to_have_text(t(live_server, "Welcome, %(name)s", "en", name=name))
    page.locator("#lang-switch").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    expect(page.locator("nav").get_by_role("link", name=catalogue_zh, exact=True)).to_be_visible()
    expect(page.locator("#lang-switch")).to_have_text("English")

    # Log out, fail once with a wrong password, then log in.
    log_out(page, live_server)
    page.locator('nav a[href="/login"]').click()
    page.locator("#email").fill(email)
    page.locator("#password").fill("not-the-password-123")
    page.locator("#login-submit").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(flash(page, "danger")).to_contain_text(
        t(live_server, "Wrong e-mail or password. %(n)d attempts left before a temporary lock.",
          n=live_server.app.config["LOGIN_MAX_FAILURES"] - 1))
    log_in(page, live_server, email, password)
    expect(page.locator("h1")).to_contain_text(name)
    log_out(page, live_server)
    expect(page.locator("nav")).not_to_contain_text(name)


# --- 2. a hospital posts a procurement need ----------------------------------------------------------

def test_hospital_posts_procurement_need(page: Page, live_server):
    _, email = live_server.member("hospital")
    title = f"采购一次性防护服 {live_server.unique()}"
    deadline = (date.today() + timedelta(days=60)).isoformat()
    log_in(page, live_server, email)

    page.locator('#main a[href="/needs/new"]').click()
    expect(page).to_have_url(re.compile(r"/needs/new$"))
    page.locator('#main a[href="/needs/new?kind=procurement"]').click()
    expect(page.locator("h1")).to_contain_text(t(live_server, "Procurement"))

    page.locator("#f-title_zh").fill(title)
    page.locator("#f-description_zh").fill("需医用级防护服，符合国家标准。")
    page.locator("#f-quantity").fill("500")
    page.locator("#f-unit").fill("套")
    page.locator("#f-deadline").fill("20250-06-30")  # an extra digit in the year
    page.locator("#f-required_certifications-nmpa").check()
    page.locator("#need-submit").click()

    expect(flash(page, "danger")).to_contain_text(t(live_server, "Please correct the highlighted fields."))
    expect(page.locator("#f-deadline")).to_have_class(re.compile(r"\bis-invalid\b"))
    expect(page.locator("#f-deadline ~ .invalid-feedback")).to_have_text(
        t(live_server, "Enter a date as YYYY-MM-DD."))
    expect(page.locator("#f-title_zh")).to_have_value(title)
    expect(page.locator("#f-quantity")).to_have_value("500")
    expect(page.locator("#f-required_certifications-nmpa")).to_be_checked()

    page.locator("#f-deadline").fill(deadline)
    page.locator("#need-submit").click()
    expect(page).to_have_url(re.compile(r"/needs/\d+$"))
    expect(flash(page)).to_contain_text(t(live_server, "Need posted."))
    expect(page.locator("h1")).to_contain_text(title)
    details = page.locator("#main dl")
    expect(details).to_contain_text(deadline)
    expect(details).to_contain_text("500")
    expect(details).to_contain_text(t(live_server, "NMPA registration"))

    page.goto("/needs/mine")  # no page links here; see the report
    row = page.locator("#main table tbody tr", has_text=title)
    expect(row).to_have_count(1)
    expect(row).to_contain_text(t(live_server, "Procurement"))
    expect(row).to_contain_text(t(live_server, "Open"))


# --- 3. a firm lists a product; an operator verifies and publishes it; a visitor finds it -------------

def test_product_verified_published_in_batch_and_found_by_visitor(page: Page, new_page, live_server):
    firm_org, firm_email = live_server.member("firm")
    word = live_server.unique("zx")
    title_zh = f"全自动核酸提取仪 {word}"
    title_en = f"Automatic nucleic acid extractor {word}"
    other_zh = f"便携式血氧仪 {live_server.unique()}"
    other_id = live_server.offer(firm_org, other_zh, "Portable oximeter", status="submitted")
    reason = "请补充国家药监局注册证编号。"
    operator_email = live_server.user(roles=("operator",), display_name="审核员")

    # The firm lists the product and submits it for verification.
    firm = page
    log_in(firm, live_server, firm_email)
    firm.goto("/offers/new?kind=product")
    expect(firm.locator("h1")).to_contain_text(t(live_server, "New product"))
    firm.locator("#f-title_zh").fill(title_zh)
    firm.locator("#f-title_en").fill(title_en)
    firm.locator("#f-summary_zh").fill("32 通道，45 分钟完成核酸提取。")
    firm.locator("#f-summary_en").fill("32 channels, extraction in 45 minutes.")
    firm.locator('[id="fc-D1.ivd"]').check()
    firm.locator("#f-trl").select_option("8")
    firm.locator("#f-regulatory_statuses-nmpa").check()
    firm.locator("#f-price_rmb").fill("180000")
    firm.locator("#offer-submit").click()
    expect(firm).to_have_url(re.compile(r"/offers/\d+$"))
    expect(flash(firm)).to_contain_text(t(live_server, "Submitted for verification."))
    expect(firm.locator("h1")).to_contain_text(title_zh)
    expect(firm.locator("h1 ~ div .badge")).to_have_text(t(live_server, "Awaiting verification"))

    # The operator logs in and opens the queue from the nav's operator menu.
    operator = new_page()
    log_in(operator, live_server, operator_email)
    open_workspace(operator)
    operator.locator('nav .dropdown-menu a[href="/operator/verification"]').click()
    expect(operator).to_have_url(re.compile(r"/operator/verification$"))

    operator.locator("#queue tbody tr", has_text=title_zh).get_by_role("link").click()
    expect(operator.locator("h1")).to_contain_text(title_zh)
    expect(operator.locator("#main dl").first).to_contain_text(t(live_server, "NMPA registration"))
    operator.locator("#approve").click()
    expect(operator).to_have_url(re.compile(r"/operator/verification$"))
    expect(flash(operator)).to_contain_text(t(live_server, "Decision recorded."))
    expect(operator.locator("#queue")).not_to_contain_text(title_zh)

    # Sending the other offer back needs a reason.
    operator.locator("#queue tbody tr", has_text=other_zh).get_by_role("link").click()
    operator.locator("#request-changes").click()
    expect(flash(operator, "danger")).to_contain_text(t(live_server, "Give the submitter a reason."))
    expect(operator.locator("#reason")).to_have_class(re.compile(r"\bis-invalid\b"))
    operator.locator("#reason").fill(reason)
    operator.locator("#request-changes").click()
    expect(operator).to_have_url(re.compile(r"/operator/verification$"))
    expect(flash(operator)).to_contain_text(t(live_server, "Decision recorded."))

    # Publish the approved product as the next batch.
    release = operator.locator("#release-form")
    product_box = release.locator(".form-check", has_text=title_zh).locator("input[type=checkbox]")
    expect(product_box).to_be_checked()
    expect(release).not_to_contain_text(other_zh)
    batch_label = operator.locator("#release-batch").inner_text()
    number = int(re.search(r"\d+", batch_label).group())
    operator.locator("#b-note-zh").fill(f"本批含 {word}。")
    # Once sent, the button is disabled and a progress bar says what runs. The first sending is held in the
    # page (a listener after the site's own), read, then the form is sent for real.
    operator.evaluate("() => window.addEventListener('submit', e => e.preventDefault(), {once: true})")
    operator.locator("#release-batch").click()
    expect(release.locator(".busy-progress .progress-bar")).to_be_visible()
    expect(release.locator(".busy-progress")).to_have_text(t(
        live_server, "Publishing the batch: numbering the offers, telling each firm and updating the matches. "
                     "This can take a few seconds."))
    expect(operator.locator("#release-batch")).to_be_disabled()
    operator.evaluate("() => document.getElementById('release-form').submit()")
    expect(operator).to_have_url(re.compile(rf"/offers/batches/{number}$"))
    expect(flash(operator)).to_contain_text(t(live_server, "Batch %(n)d published.", n=number))
    expect(operator.locator("h1")).to_contain_text(str(number))
    batch_title = operator.locator("h1").inner_text().strip()
    expect(operator.locator("#main .card-title a", has_text=title_zh)).to_be_visible()

    # A visitor searches the catalogue and opens the product.
    visitor = new_page()
    visitor.goto("/")
    visitor.locator('nav a[href="/offers/"]').click()
    visitor.locator("#catalogue-q").fill(word)
    visitor.locator("#catalogue-q").press("Enter")
    expect(visitor).to_have_url(re.compile(rf"/offers/\?.*q={word}"))
    with live_server.app.test_request_context("/"):
        from flask_babel import force_locale, ngettext
        with force_locale("zh"):
            one_result = ngettext("%(num)d result", "%(num)d results", 1)
    expect(visitor.locator("#result-count")).to_have_text(one_result)
    visitor.locator("#results a", has_text=title_zh).click()
    expect(visitor).to_have_url(re.compile(r"/offers/\d+$"))
    expect(visitor.locator("h1")).to_contain_text(title_zh)
    expect(visitor.locator("#main dl").first).to_contain_text(batch_title)
    expect(visitor.locator('a[href$="/edit"]')).to_have_count(0)

    # The firm sees the outcome on its dashboard: one published, one sent back with the reason.
    firm.goto("/account/")
    published_row = firm.locator("#main table tbody tr", has_text=title_zh)
    expect(published_row).to_contain_text(t(live_server, "Published"))
    sent_back_row = firm.locator("#main table tbody tr", has_text=other_zh)
    expect(sent_back_row).to_contain_text(t(live_server, "Changes requested"))
    expect(sent_back_row.locator(".text-danger")).to_have_text(reason)
    sent_back_row.get_by_role("link", name=other_zh).click()
    expect(firm).to_have_url(re.compile(rf"/offers/{other_id}$"))
    expect(firm.locator("#main .alert-warning")).to_contain_text(reason)


# --- 4. site search with a count and a facet ----------------------------------------------------------

def test_site_search_counts_and_filters_by_kind_facet(page: Page, live_server):
    org_id = live_server.org("firm")
    word = live_server.unique("qv")
    product = f"医用红外测温仪 {word}"
    service = f"医疗器械注册咨询服务 {word}"
    live_server.offer(org_id, product, f"Infrared thermometer {word}", kind="product")
    live_server.offer(org_id, service, f"Device registration consulting {word}", kind="service")
    live_server.offer(org_id, f"未发布草稿 {word}", f"Unpublished draft {word}", kind="product", status="draft")

    page.goto("/")
    page.locator("nav form[role=search] input[name=q]").fill(word)
    page.locator("nav form[role=search] input[name=q]").press("Enter")
    expect(page).to_have_url(re.compile(rf"/search/\?q={word}$"))
    expect(page.locator("#site-q")).to_have_value(word)
    results = page.locator("#search-results .search-hit > a:not(.request-introduction)")
    expect(results).to_have_count(2)
    expect(page.locator("#main")).to_contain_text(_results_text(live_server, 2))
    expect(page.locator("#main .nav-tabs .nav-link.active .badge")).to_have_text("2")
    expect(page.locator("#search-results")).not_to_contain_text("未发布草稿")

    kind_product = page.locator('input[type=checkbox][name="kind"][value="product"]')
    label = page.locator(f'label[for="{kind_product.get_attribute("id")}"]')
    expect(label).to_contain_text(t(live_server, "New product"))
    expect(label).to_contain_text("(1)")
    page.wait_for_load_state("load")  # site.js (the auto-submit) runs at the end of the body
    kind_product.check()  # the page submits the facet form on change
    expect(page).to_have_url(re.compile(r"[?&]kind=product(&|$)"))
    expect(results).to_have_count(1)
    expect(results.first).to_contain_text(product)
    expect(page.locator("#main")).to_contain_text(_results_text(live_server, 1))
    expect(page.locator('input[type=checkbox][name="kind"][value="product"]')).to_be_checked()

    results.first.click()
    expect(page).to_have_url(re.compile(r"/offers/\d+$"))
    expect(page.locator("h1")).to_contain_text(product)


def _results_text(live_server, count: int) -> str:
    """The search page's result count as the live app words it in Chinese."""
    from flask_babel import force_locale, ngettext
    with live_server.app.test_request_context("/"), force_locale("zh"):
        return ngettext("%(num)d result", "%(num)d results", count)
