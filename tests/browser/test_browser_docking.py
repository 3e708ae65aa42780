"""Docking (对接) in headless Chromium, on a desktop screen and on a phone 390 px wide.

A hospital member searches "CT", opens a firm's CT scanner and requests an introduction asking a technology
manager to mediate; the firm's member sees it counted in the navigation, opens it from My docking and
accepts; both see each other's contacts and talk on the introduction page (a PDF attached), each seeing the
other's message arrive without reloading; a technology manager finds the request, joins it and moves the
deal to "signed". On the phone no page scrolls sideways and the request and send buttons are usable.
"""
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
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

DESKTOP, PHONE = 1366, 390
POLL_WAIT_MS = 15_000  # the introduction page asks for new messages every 10 s
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n" \
      b"trailer<</Root 1 0 R>>\n%%EOF\n"


def set_contacts(live_server, org_id: int, **fields) -> None:
    """Give an organisation contact details (what the contacts cards show once both sides accepted)."""
    from marketplace.extensions import db
    from marketplace.models import Organization
    with live_server.app.app_context():
        org = db.session.get(Organization, org_id)
        for name, value in fields.items():
            setattr(org, name, value)
        live_server._commit()


def fits_the_screen(page: Page) -> None:
    """Nothing makes the page scroll sideways."""
    page.wait_for_load_state("load")
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    if widths[0] > widths[1] + 1:
        wide = page.evaluate("""() => Array.from(document.querySelectorAll("#main *"))
            .filter(el => !el.closest(".table-responsive"))  // those scroll in their own box
            .filter(el => el.getBoundingClientRect().right > window.innerWidth + 1)
            .filter(el => !Array.from(el.children).some(c => c.getBoundingClientRect().right > window.innerWidth + 1))
            .slice(0, 5).map(el => el.outerHTML.slice(0, 160))""")
        raise AssertionError(f"{page.url} scrolls sideways: {widths[0]} px content in {widths[1]} px; too wide: {wide}")


def usable(page: Page, locator) -> None:
    """A button is shown, enabled and wholly on the screen once scrolled to."""
    expect(locator).to_be_visible()
    expect(locator).to_be_enabled()
    locator.scroll_into_view_if_needed()
    box = locator.bounding_box()
    width = page.viewport_size["width"]
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width + 1, (box, width)
    assert box["height"] >= 24, box  # big enough to tap


@pytest.mark.parametrize("width", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_hospital_requests_ct_scanner_firm_accepts_they_talk_and_broker_signs(new_page, live_server, steps,
                                                                              width):
    word = live_server.unique("dk")
    hospital_org, hospital_email = live_server.member("hospital")
    firm_org, firm_email = live_server.member("firm")
    firm_contact = {"contact_email": f"sales-{word}@ct-maker.example.com", "contact_phone": "010-6288 1234"}
    set_contacts(live_server, firm_org, **firm_contact)
    set_contacts(live_server, hospital_org, contact_phone="0755-8392 5678")
    offer_title = f"64排螺旋CT扫描仪 {word}"
    offer_id = live_server.offer(firm_org, offer_title, f"64-slice CT scanner {word}", field_codes=("D1.devices",),
                                 summary_zh=f"64排螺旋CT扫描仪，低剂量成像，适用于医院放射科 {word}。")
    broker_email = live_server.user(roles=("broker",), display_name=f"技术经理人{word}")
    request_text = f"我院放射科计划采购一台CT，希望了解价格与交付周期。{word}"

    def open_page() -> Page:
        person = new_page()
        person.set_viewport_size({"width": width, "height": 900 if width == DESKTOP else 844})
        return person

    # 1. The hospital member searches "CT" from the nav and opens the CT scanner.
    hospital = open_page()
    steps.log_in(hospital, hospital_email)
    steps.open_menu(hospital)
    hospital.locator("nav form[role=search] input[name=q]").fill("CT")
    hospital.locator("nav form[role=search] input[name=q]").press("Enter")
    expect(hospital).to_have_url(re.compile(r"/search/\?q=CT$"))
    hit = hospital.locator("#search-results .search-hit", has_text=offer_title)
    expect(hit).to_have_count(1)
    fits_the_screen(hospital)
    hit.locator("> a:not(.request-introduction)").click()
    expect(hospital).to_have_url(re.compile(rf"/offers/{offer_id}$"))
    expect(hospital.locator("h1")).to_contain_text(offer_title)
    fits_the_screen(hospital)

    # "申请对接" (checked once the translation is in the catalogue) opens the request form.
    ask = hospital.locator("#main a.request-introduction")
    expect(ask).to_have_count(1)
    if steps.t("Request an introduction") != "Request an introduction":
        expect(ask).to_have_text("申请对接")
    usable(hospital, ask)
    ask.click()
    expect(hospital).to_have_url(re.compile(rf"/docking/request\?offer_id={offer_id}$"))
    expect(hospital.locator("#request-subject")).to_contain_text(offer_title)
    fits_the_screen(hospital)
    hospital.locator("#purpose").select_option("purchase")
    hospital.locator("#message").fill(request_text)
    hospital.locator("#mediation").check()
    send = hospital.locator("#send-request")
    usable(hospital, send)
    send.click()
    expect(hospital).to_have_url(re.compile(r"/brokering/\d+$"))
    expect(steps.flash(hospital)).to_contain_text(
        steps.t("Your request was sent. The other side is asked to accept or decline."))
    intro_id = int(re.search(r"/brokering/(\d+)$", hospital.url).group(1))
    intro_url = f"/brokering/{intro_id}"
    expect(hospital.locator("h1 .stage-badge")).to_have_attribute("data-stage", "proposed")
    expect(hospital.locator("#intro-message")).to_have_text(request_text)
    expect(hospital.locator(".request-origin")).to_contain_text(steps.t("a technology manager is asked to mediate"))
    expect(hospital.locator("#contacts-closed")).to_be_visible()  # nothing of the other side before they accept
    expect(hospital.locator(".contact-card")).to_have_count(0)
    expect(hospital.locator("#conversation-closed")).to_be_visible()
    expect(hospital.locator("#message-form")).to_have_count(0)
    fits_the_screen(hospital)

    # 2. The maker's member: the nav counts one request waiting; My docking lists it; they open it and accept.
    firm = open_page()
    steps.log_in(firm, firm_email)
    steps.open_menu(firm)
    open_workspace(firm)
    expect(firm.locator("#nav-docking #docking-count")).to_have_text(re.compile(r"^1\b"))
    open_workspace(firm)
    firm.locator("#nav-docking").click()
    expect(firm).to_have_url(re.compile(r"/docking/$"))
    expect(firm.locator("#received-count")).to_have_text("1")
    item = firm.locator(f'#received .intro-item[data-intro="{intro_id}"]')
    expect(item).to_contain_text(request_text)
    expect(item).to_contain_text(offer_title)
    fits_the_screen(firm)
    item.locator(f'a[href="{intro_url}"]').click()
    expect(firm).to_have_url(re.compile(rf"{intro_url}$"))
    fits_the_screen(firm)
    accept = firm.locator('.respond-forms[data-side="offer"] button[name=decision][value=accepted]')
    usable(firm, accept)
    accept.click()
    expect(firm).to_have_url(re.compile(rf"{intro_url}$"))
    expect(steps.flash(firm)).to_contain_text(steps.t("Thank you: your answer was sent."))
    expect(firm.locator("h1 .stage-badge")).to_have_attribute("data-stage", "accepted")
    expect(firm.locator(".respond-forms")).to_have_count(0)
    expect(firm.locator("#docking-count")).to_have_count(0)  # nothing waits any more

    # 4. Both see each other's contacts (the firm's organisation details; the hospital member's own address).
    hospital.goto(intro_url)
    for person in (firm, hospital):
        expect(person.locator("#contacts .contact-card")).to_have_count(2)
        offer_card = person.locator('#contacts .contact-card[data-side="offer"]')
        expect(offer_card.locator(".contact-email")).to_have_text(firm_contact["contact_email"])
        expect(offer_card.locator(".contact-email")).to_have_attribute("href", f"mailto:{firm_contact['contact_email']}")
        expect(offer_card.locator(".contact-phone")).to_have_text(firm_contact["contact_phone"])
        need_card = person.locator('#contacts .contact-card[data-side="need"]')
        expect(need_card.locator(".contact-email")).to_have_text(hospital_email)
        expect(need_card.locator(".contact-phone")).to_have_text("0755-8392 5678")
        expect(person.locator("#message-form")).to_be_visible()
        fits_the_screen(person)

    # 3. The firm answers with a PDF; the hospital's open page shows it without reloading, and vice versa.
    hospital.evaluate("window.dockingNotReloaded = true")
    answer = (f"附件是CT扫描仪的技术参数与报价，请查收。{word}\n"  # a long address must not widen a phone's page
              f"详见 https://ct-maker.example.com/products/ct64/technical-specifications-and-price-list-2026-{word}")
    pdf_name = f"CT扫描仪报价{word}.pdf"
    firm.locator("#message-body").fill(answer)
    firm.locator("#message-file").set_input_files({"name": pdf_name, "mimeType": "application/pdf", "buffer": PDF})
    send = firm.locator("#send-message")
    usable(firm, send)
    send.click()
    expect(firm).to_have_url(re.compile(rf"{intro_url}#conversation$"))
    mine = firm.locator("#message-list .message", has_text=answer)
    expect(mine).to_have_count(1)
    expect(mine.locator(".message-file")).to_contain_text(pdf_name)
    expect(firm.locator("#no-messages")).to_have_count(0)
    fits_the_screen(firm)

    arrived = hospital.locator("#message-list .message", has_text=answer)
    expect(arrived).to_have_count(1, timeout=POLL_WAIT_MS)
    expect(arrived.locator(".message-file")).to_contain_text(pdf_name)
    assert hospital.evaluate("window.dockingNotReloaded") is True  # the page was not reloaded
    expect(hospital.locator("#no-messages")).to_have_count(0)
    with hospital.expect_download() as download:
        arrived.locator(".message-file").click()
    assert download.value.suggested_filename == pdf_name
    assert download.value.path().read_bytes() == PDF
    fits_the_screen(hospital)

    firm.evaluate("window.dockingNotReloaded = true")
    reply = f"收到，谢谢。我们下周安排放射科主任与贵司工程师会面。{word}"
    hospital.locator("#message-body").fill(reply)
    usable(hospital, hospital.locator("#send-message"))
    hospital.locator("#send-message").click()
    expect(hospital).to_have_url(re.compile(rf"{intro_url}#conversation$"))
    expect(hospital.locator("#message-list .message")).to_have_count(2)
    expect(hospital.locator("#message-list .message").nth(1)).to_contain_text(reply)
    expect(firm.locator("#message-list .message", has_text=reply)).to_have_count(1, timeout=POLL_WAIT_MS)
    expect(firm.locator("#message-list .message")).to_have_count(2)
    assert firm.evaluate("window.dockingNotReloaded") is True
    fits_the_screen(hospital)

    # 5. The technology manager finds the request on My docking (it asks for mediation), joins it and moves it
    #    from "accepted" straight to "signed".
    broker = open_page()
    steps.log_in(broker, broker_email)
    steps.open_menu(broker)
    open_workspace(broker)
    broker.locator("#nav-docking").click()
    expect(broker).to_have_url(re.compile(r"/docking/$"))
    fits_the_screen(broker)
    broker.locator(f'#by-stage tr[data-stage="accepted"] a[href="{intro_url}"]').click()
    expect(broker).to_have_url(re.compile(rf"{intro_url}$"))
    expect(broker.locator(".move-form")).to_have_count(0)  # not theirs to move before they join
    join = broker.locator("#join-form button")
    usable(broker, join)
    join.click()
    expect(broker).to_have_url(re.compile(rf"{intro_url}$"))
    expect(steps.flash(broker)).to_contain_text(
        steps.t("You now follow this introduction as its technology manager."))
    expect(broker.locator("#join-form")).to_have_count(0)
    expect(broker.locator("#main")).to_contain_text(f"技术经理人{word}")
    expect(broker.locator("#message-list .message")).to_have_count(2)  # the broker now reads the conversation
    expect(broker.locator("#contacts .contact-card")).to_have_count(2)
    fits_the_screen(broker)
    move = broker.locator(".move-form")
    move.locator("select[name=to_stage]").select_option("signed")
    move.locator("input[name=reason]").fill(f"双方签订采购合同 {word}")
    usable(broker, move.locator("button"))
    move.locator("button").click()
    expect(broker).to_have_url(re.compile(rf"{intro_url}$"))
    expect(steps.flash(broker)).to_contain_text(steps.t("Stage changed."))
    expect(broker.locator("h1 .stage-badge")).to_have_attribute("data-stage", "signed")
    expect(broker.locator(".move-form")).to_have_count(0)  # signed: the pipeline is closed
    history = broker.locator("#history-table tbody tr")
    kinds = [history.nth(i).get_attribute("data-kind") for i in range(history.count())]
    assert kinds[0] == "requested" and kinds[-2:] == ["joined", "stage"], kinds
    expect(broker.locator('#history-table tbody tr[data-kind="stage"]').last).to_contain_text(f"双方签订采购合同 {word}")
    fits_the_screen(broker)

    # The two sides see the signed deal, and it is on the broker's board.
    for person in (hospital, firm):
        person.goto(intro_url)
        expect(person.locator("h1 .stage-badge")).to_have_attribute("data-stage", "signed")
        expect(person.locator("#main")).to_contain_text(f"技术经理人{word}")
    steps.open_menu(broker)
    open_workspace(broker)
    broker.locator("#nav-introductions").click()
    expect(broker).to_have_url(re.compile(r"/brokering/board$"))
    expect(broker.locator(f'#stage-signed .intro-card[data-intro="{intro_id}"]')).to_have_count(1)
