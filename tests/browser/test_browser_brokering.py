"""Brokering in headless Chromium: a technology manager takes a demo pairing to a signed deal.

The broker proposes an introduction from the pairing queue, both sides accept on their own introductions
page, the broker moves it through the pipeline to "signed" with a deal value, the history shows every step,
a third organisation sees nothing of it (404), and the funnel counts it.
"""
from __future__ import annotations

import os
import re
from decimal import Decimal
from itertools import pairwise

import pytest

CHROMIUM = "/usr/bin/chromium"
if os.environ.get("CI") != "true":
    if not os.path.isfile(CHROMIUM):
        pytest.skip(f"browser tests skipped: {CHROMIUM} is not installed", allow_module_level=True)
    pytest.importorskip("playwright.sync_api", reason="browser tests need the playwright package")

from page_audit import open_workspace
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

PIPELINE = ("contacted", "meeting_held", "nda_signed", "pilot", "negotiation", "signed")


def test_broker_takes_a_pairing_to_signed_deal(page: Page, new_page, live_server, steps):
    word = live_server.unique("bk")
    hospital_org, hospital_email = live_server.member("hospital")
    firm_org, firm_email = live_server.member("firm")
    _, outsider_email = live_server.member("firm")
    need_title = f"采购全自动生化分析仪 {word}"
    offer_title = f"全自动生化分析仪 {word}"
    need_id = live_server.need(hospital_org, need_title, f"Automatic biochemistry analyser {word}",
                               description_zh=f"医院检验科需要全自动生化分析仪 {word}，体外诊断。")
    offer_id = live_server.offer(firm_org, offer_title, f"Automatic biochemistry analyser {word}",
                                 summary_zh=f"全自动生化分析仪 {word}，适用于医院检验科体外诊断。")
    live_server.rebuild_matches()
    broker_email = live_server.user(roles=("broker",), display_name=f"技术经理人{word}")
    operator_email = live_server.user(roles=("operator",))
    message = f"贵院的生化分析仪采购需求与该企业产品高度匹配，建议洽谈。{word}"

    # The broker opens the pairing queue from the nav and proposes the introduction with a message.
    broker = page
    steps.log_in(broker, broker_email)
    open_workspace(broker)
    broker.locator('nav a[href="/matches/queue"]').click()
    expect(broker).to_have_url(re.compile(r"/matches/queue$"))
    # the need may have other, weaker pairings in the queue too: take the row of this pairing
    row = broker.locator("#pairing-queue tbody tr", has_text=need_title).filter(
        has=broker.locator(f'td a[href="/offers/{offer_id}"]'))
    expect(row).to_have_count(1)
    expect(row).to_contain_text(offer_title)
    row.locator("textarea[name=message]").fill(message)
    row.get_by_role("button", name=steps.t("Propose introduction")).click()
    expect(broker).to_have_url(re.compile(r"/brokering/\d+$"))
    expect(steps.flash(broker)).to_contain_text(
        steps.t("Introduction proposed: both sides are asked to accept or decline."))
    intro_id = int(re.search(r"/brokering/(\d+)$", broker.url).group(1))
    intro_url = f"/brokering/{intro_id}"
    expect(broker.locator("h1 .stage-badge")).to_have_attribute("data-stage", "proposed")
    expect(broker.locator("#intro-message")).to_have_text(message)
    expect(broker.locator(f'.intro-parties a[href="/needs/{need_id}"]')).to_have_text(need_title)
    expect(broker.locator(f'.intro-parties a[href="/offers/{offer_id}"]')).to_have_text(offer_title)
    expect(broker.locator("#main")).to_contain_text(steps.t("The pipeline opens when both sides accept."))

    # Each side logs in at its own computer, opens its introductions page and accepts.
    for email, side in ((hospital_email, "need"), (firm_email, "offer")):
        member = new_page()
        steps.log_in(member, email)
        open_workspace(member)
        member.locator("#nav-introductions").click()
        expect(member).to_have_url(re.compile(r"/brokering/mine$"))
        item = member.locator(f'#my-introductions .intro-item[data-intro="{intro_id}"]')
        expect(item).to_contain_text(message)
        expect(item.locator(".stage-badge")).to_have_attribute("data-stage", "proposed")
        forms = item.locator(f'.respond-forms[data-side="{side}"]')
        expect(forms).to_have_count(1)
        forms.get_by_role("button", name=steps.t("Accept introduction")).click()
        expect(member).to_have_url(re.compile(r"/brokering/mine$"))
        expect(steps.flash(member)).to_contain_text(steps.t("Thank you: your answer was sent."))
        item = member.locator(f'#my-introductions .intro-item[data-intro="{intro_id}"]')
        expect(item.locator(".respond-forms")).to_have_count(0)
        # Open the detail page: the side's answer is recorded.
        item.get_by_role("link", name=re.compile(rf"\b{intro_id}$")).click()
        expect(member).to_have_url(re.compile(rf"{intro_url}$"))
        expect(member.locator(f'#responses tr[data-side="{side}"] td')).to_contain_text(steps.t("Accepted"))
        expect(member.locator(".move-form")).to_have_count(0)  # members do not move the pipeline
    expect(member.locator("h1 .stage-badge")).to_have_attribute("data-stage", "accepted")

    # The broker finds it on the board under "accepted" and moves it to "contacted" from there.
    open_workspace(broker)
    broker.locator("#nav-introductions").click()
    expect(broker).to_have_url(re.compile(r"/brokering/board$"))
    card = broker.locator(f'#stage-accepted .intro-card[data-intro="{intro_id}"]')
    expect(card).to_have_count(1)
    card.locator(".move-form select[name=to_stage]").select_option("contacted")
    card.locator(".move-form input[name=reason]").fill("双方已电话沟通")
    card.locator(".move-form button").click()
    expect(broker).to_have_url(re.compile(r"/brokering/board$"))
    expect(steps.flash(broker)).to_contain_text(steps.t("Stage changed."))
    card = broker.locator(f'#stage-contacted .intro-card[data-intro="{intro_id}"]')
    expect(card).to_have_count(1)
    expect(broker.locator(f'#stage-accepted .intro-card[data-intro="{intro_id}"]')).to_have_count(0)

    # Then on the detail page, stage by stage; the deal value is set during the negotiation.
    card.get_by_role("link", name=re.compile(rf"\b{intro_id}$")).click()
    expect(broker).to_have_url(re.compile(rf"{intro_url}$"))
    value = Decimal(1250000)
    reasons = {}
    for stage in PIPELINE[1:]:
        reasons[stage] = f"推进到 {stage} {word}"
        if stage == "signed":
            broker.locator(".value-form input[name=deal_value_rmb]").fill(str(value))
            broker.locator(".value-form button").click()
            expect(steps.flash(broker)).to_contain_text(steps.t("Deal value saved."))
            expect(broker.locator("#deal-value")).to_have_text(steps.rmb(value))
        broker.locator(".move-form select[name=to_stage]").select_option(stage)
        broker.locator(".move-form input[name=reason]").fill(reasons[stage])
        broker.locator(".move-form button").click()
        expect(broker).to_have_url(re.compile(rf"{intro_url}$"))
        expect(steps.flash(broker)).to_contain_text(steps.t("Stage changed."))
        expect(broker.locator("h1 .stage-badge")).to_have_attribute("data-stage", stage)
    expect(broker.locator(".move-form")).to_have_count(0)  # signed: the pipeline is closed
    expect(broker.locator("#deal-value")).to_have_text(steps.rmb(value))

    # The history lists every step, in order, with who did it.
    history = broker.locator("#history-table tbody tr")
    kinds = [history.nth(i).get_attribute("data-kind") for i in range(history.count())]
    assert kinds == ["proposed", "response", "response", "stage"] + ["stage"] * 5 + ["value", "stage"], kinds
    stage_rows = broker.locator('#history-table tbody tr[data-kind="stage"]')
    expect(stage_rows).to_have_count(7)  # proposed -> accepted, then six moves
    from marketplace.vocabulary import INTRODUCTION_STAGE_LABELS as STAGE_LABELS
    with live_server.app.test_request_context("/"):
        from flask_babel import force_locale
        with force_locale("zh"):
            labels = {k: str(v) for k, v in STAGE_LABELS.items()}
    path = ("proposed", "accepted") + PIPELINE
    for i, (before, after) in enumerate(pairwise(path)):
        expect(stage_rows.nth(i).locator("td").nth(2)).to_have_text(f"{labels[before]} → {labels[after]}")
        if after in reasons:
            expect(stage_rows.nth(i).locator("td").nth(3)).to_have_text(reasons[after])
        if after in PIPELINE:
            expect(stage_rows.nth(i).locator("td").nth(1)).to_have_text(f"技术经理人{word}")
    expect(broker.locator('#history-table tbody tr[data-kind="value"] td').nth(2)).to_contain_text(steps.rmb(value))
    responses = broker.locator('#history-table tbody tr[data-kind="response"]')
    expect(responses.nth(0)).to_contain_text(steps.t("Accepted"))
    expect(responses.nth(1)).to_contain_text(steps.t("Accepted"))

    # A member of a third organisation: a 404 page for the introduction, and nothing in their list.
    outsider = new_page()
    steps.log_in(outsider, outsider_email)
    response = outsider.goto(intro_url)
    assert response is not None and response.status == 404
    expect(outsider.locator("#main h1")).to_have_text("404")
    expect(outsider.locator("#main")).not_to_contain_text(message)
    expect(outsider.locator("#main")).not_to_contain_text(need_title)
    open_workspace(outsider)
    outsider.locator("#nav-introductions").click()
    expect(outsider).to_have_url(re.compile(r"/brokering/mine$"))
    expect(outsider.locator(f'[data-intro="{intro_id}"]')).to_have_count(0)
    expect(outsider.locator("#main")).not_to_contain_text(offer_title)

    # The funnel counts it: the broker's own funnel has exactly this one signed deal; operators see >= 1.
    # (No page links to /brokering/funnel, so it is opened by its address.)
    broker.goto("/brokering/funnel")
    expect(broker.locator("h1")).to_have_text(steps.t("Brokering funnel"))
    total = broker.locator("#funnel-total tbody tr").first
    for step in ("proposed", "accepted", "meeting", "nda", "signed"):
        expect(total.locator(f'td[data-step="{step}"] .funnel-count')).to_have_text("1")
    operator = new_page()
    steps.log_in(operator, operator_email)
    operator.goto("/brokering/funnel")
    signed = operator.locator('#funnel-total tbody tr td[data-step="signed"] .funnel-count')
    expect(signed).to_have_text(re.compile(r"^\d+$"))
    assert int(signed.inner_text()) >= 1
