"""The rendered Chinese says the right thing: one English word used in two senses gets two Chinese words,
and people read labels, never codes (issue 20)."""
from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from html import unescape

from marketplace.extensions import db
from marketplace.models import Event
from tests.conftest import login


def _as(app, email):
    client = app.test_client()
    assert login(client, email).status_code == 302
    return client


def _text(html: str) -> str:
    """The page's text without tags, scripts or attribute values (roughly what a person reads)."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.DOTALL)
    return unescape(re.sub(r"<[^>]+>", " ", html))


def _nav_labels(html: str) -> list[str]:
    nav = html[html.index('<nav class="navbar'):html.index("</nav>")]
    links = re.findall(r'class="(?:nav-link|dropdown-item)[^"]*"[^>]*>(.*?)</(?:a|button)>', nav, flags=re.DOTALL)
    return [" ".join(_text(re.sub(r'<span class="(?:badge|visually-hidden)[^"]*".*?</span>', "", x)).split())
            for x in links]


def _introduction(app, make):
    """A hospital's need and a firm's offer introduced by a broker and accepted by both; returns the clients."""
    hospital, _hospital_user, hospital_email = make.member("hospital")
    firm, firm_user, firm_email = make.member("firm")
    need = make.need(hospital, title_zh="采购监护仪", title_en="Monitors")
    offer = make.offer(firm, title_zh="床旁监护仪", title_en="Bedside monitor")
    _, broker_email = make.staff("broker")
    _, operator_email = make.staff("operator")
    c_hospital, c_firm, c_broker = _as(app, hospital_email), _as(app, firm_email), _as(app, broker_email)
    r = c_broker.post("/brokering/propose", data={"need_id": need, "offer_id": offer, "message": "请双方沟通"})
    intro_id = int(re.search(r"/brokering/(\d+)", r.headers["Location"]).group(1))
    for client in (c_hospital, c_firm):
        assert client.post(f"/brokering/{intro_id}/respond", data={"decision": "accepted"}).status_code == 302
    return intro_id, c_hospital, c_firm, c_broker, _as(app, operator_email), firm_user


def test_navigation_items_read_differently_and_the_workspace_counts(app, make):
    _, _, email = make.member("hospital")
    html = _as(app, email).get("/").get_data(as_text=True)
    labels = _nav_labels(html)
    assert "工作台" in labels and "我的对接" in labels and "对接进展" in labels
    duplicates = {x for x in labels if labels.count(x) > 1}
    assert not duplicates, f"two navigation items read the same: {duplicates}"
    anonymous = app.test_client().get("/").get_data(as_text=True)
    assert "工作台" not in _nav_labels(anonymous) and "注册" in _nav_labels(anonymous)


def test_notification_open_button_reads_view_not_an_open_need(app, make):
    _intro_id, c_hospital, *_ = _introduction(app, make)
    html = c_hospital.get("/notifications/").get_data(as_text=True)
    buttons = [_text(b).strip() for b in re.findall(r"<button[^>]*>(.*?)</button>", html, flags=re.DOTALL)]
    assert "查看" in buttons
    assert "征集中" not in buttons


def test_introduction_page_history_reason_and_mark_done(app, make):
    intro_id, _c_hospital, _c_firm, c_broker, _c_operator, firm_user = _introduction(app, make)
    due = (date.today() + timedelta(days=3)).isoformat()
    c_broker.post(f"/brokering/{intro_id}/tasks", data={"title": "发送报价单", "due_on": due, "owner_id": firm_user})
    c_broker.post(f"/brokering/{intro_id}/stage", data={"to_stage": "contacted", "reason": "已电话沟通"})
    html = c_broker.get(f"/brokering/{intro_id}").get_data(as_text=True)
    assert re.search(r"<button[^>]*>\s*标记完成\s*</button>", html), "the open task's button says what it does"
    assert not re.search(r"<button[^>]*>\s*已完成\s*</button>", html)
    assert 'id="history">进展记录<' in html and "审核记录" not in html
    assert "<th>原因</th>" in html and "推荐理由" not in html
    assert "已接受 → 已联系" in _text(html)


def test_event_register_and_capacity_use_the_event_words(app, make):
    _, organiser_email = make.staff("organiser")
    _, _, member_email = make.member("firm")
    with app.app_context():
        now = datetime.now(UTC)
        event = Event(kind="roadshow", status="published", title_zh="医疗器械路演", title_en="Roadshow",
                      starts_at=now + timedelta(days=5), ends_at=now + timedelta(days=5, hours=2), published_at=now,
                      capacity=30)
        db.session.add(event)
        db.session.commit()
        event_id = event.id
    page = _as(app, member_email).get(f"/events/{event_id}").get_data(as_text=True)
    assert re.search(r'id="register-btn">报名</button>', page)
    text = _text(page)
    assert "北京时间" in text and "Asia/Shanghai" not in text
    form = _as(app, organiser_email).get("/events/new").get_data(as_text=True)
    assert re.search(r'<label class="form-label" for="f-capacity">名额', form)
    assert "产能" not in form
    assert '<option value="Asia/Shanghai"' in form and ">北京时间</option>" in form


def test_audit_log_describes_entries_in_chinese_without_codes(app, make):
    intro_id, _c_hospital, _c_firm, c_broker, c_operator, _ = _introduction(app, make)
    c_broker.post(f"/brokering/{intro_id}/stage", data={"to_stage": "contacted"})
    c_broker.post(f"/brokering/{intro_id}/stage", data={"to_stage": "meeting_held"})
    html = c_operator.get("/operator/audit").get_data(as_text=True)
    visible = _text(re.sub(r"<details>.*?</details>", " ", html, flags=re.DOTALL))
    assert "阶段：已联系 → 已会面" in visible
    assert "->" not in visible and "meeting_held" not in visible and "contacted" not in visible


def test_counts_are_plural_in_english_only_when_more_than_one(app, make):
    firm, _, _ = make.member("firm")
    make.offer(firm, title_zh="唯一的产品", title_en="The only product")
    client = app.test_client()
    assert "共 1 条结果" in _text(client.get("/offers/").get_data(as_text=True))
    client.post("/lang/en")
    text = " ".join(_text(client.get("/offers/").get_data(as_text=True)).split())
    assert "1 result" in text and "1 results" not in text


def test_every_coded_value_has_a_label():
    """Each code a model allows has a label, in each group people see (a missing one would show the code)."""
    from marketplace.models import brokering as brokering_models
    from marketplace.vocabulary import ALL_LABELS
    stages = getattr(brokering_models, "INTRODUCTION_STAGES", ())
    assert stages, "the introduction stages are declared on the model"
    assert set(stages) <= set(ALL_LABELS["introduction_stage"])
    assert "Asia/Shanghai" in ALL_LABELS["timezone"]


def test_workspace_counts_what_waits_for_an_operator(app, make):
    firm, _, _ = make.member("firm")
    make.offer(firm, status="submitted")
    make.offer(firm, status="submitted")
    _, operator_email = make.staff("operator")
    html = _as(app, operator_email).get("/").get_data(as_text=True)
    menu = html[html.index('id="nav-workspace"'):html.index("</nav>")]
    assert re.search(r'id="workspace-count">2<', menu)
    queue = menu[menu.index('href="/operator/verification"'):]
    assert re.search(r'^[^<]*<span class="badge[^"]*">2<', queue[queue.index(">") + 1:])


def test_the_frame_does_not_shadow_a_pages_own_variables(app, make):
    """The search page's tab counts survive the layout's own navigation counts (signed in or not)."""
    firm, _, email = make.member("firm")
    make.offer(firm, title_zh="红外测温仪", title_en="Infrared thermometer")
    for client in (app.test_client(), _as(app, email)):
        html = client.get("/search/?q=红外测温仪").get_data(as_text=True)
        tabs = html[html.index('class="nav nav-tabs'):]
        assert re.search(r'nav-link active"[^>]*>[^<]*<span class="badge[^"]*">1<', tabs)


def test_patent_number_help_shows_a_number_that_passes_its_own_check():
    from marketplace.identifiers import is_valid_patent_number, normalise_patent_number
    assert is_valid_patent_number("202010123456.2") and not is_valid_patent_number("202010123456.X")
    assert is_valid_patent_number("ZL202010123456.2") and is_valid_patent_number("ZL 2020 1 0123456.2")
    assert normalise_patent_number("zl202010123456.2") == "202010123456.2"


def test_csv_exports_name_their_charset_once(app, make):
    firm, _, _ = make.member("firm")
    make.offer(firm)
    response = app.test_client().get("/transfer/export/offers.csv")
    if response.status_code == 200:
        assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    else:  # exports may need a signed-in member
        _, _, email = make.member("firm")
        response = _as(app, email).get("/transfer/export/offers.csv")
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
