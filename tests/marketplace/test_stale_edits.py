"""A form opened before someone else's save: saving it is refused with a message in Chinese, the input stays."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from marketplace.extensions import db
from marketplace.models import Introduction
from tests.conftest import login
from tests.edit_forms import edit_form, edited_record

STALE_ZH = "其他人已保存了对此记录的修改"
KEPT_ZH = "您填写的内容保留在下方"


def _client(app, email):
    client = app.test_client()
    assert login(client, email).status_code == 302
    return client


@pytest.mark.parametrize("kind", ["offer", "need", "organization", "event"])
def test_a_stale_save_is_refused_in_chinese_and_keeps_the_input(app, make, kind):
    email, path, model, row_id, title = edited_record(app, make, kind)
    first, second = _client(app, email), _client(app, email)
    first_form = edit_form(first.get(path).get_data(as_text=True))
    second_form = edit_form(second.get(path).get_data(as_text=True))
    assert first_form["version"] == second_form["version"]

    second_form[title] = ["第二位编辑保存的名称"]
    assert second.post(path, data=second_form).status_code == 302

    first_form[title] = ["第一位编辑的名称"]
    refused = first.post(path, data=first_form)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 409
    assert STALE_ZH in html and KEPT_ZH in html
    assert "第一位编辑的名称" in html  # the input is still on the form
    assert make.get(model, row_id)[title] == "第二位编辑保存的名称"  # the other save is not undone

    # the re-rendered form carries the current version: saving it again is a deliberate replacement
    again = edit_form(html)
    assert again["version"] != first_form["version"]
    assert first.post(path, data=again).status_code == 302
    assert make.get(model, row_id)[title] == "第一位编辑的名称"


def test_a_save_without_a_version_still_works(app, make):
    email, path, model, row_id, title = edited_record(app, make, "need")
    client = _client(app, email)
    form = edit_form(client.get(path).get_data(as_text=True))
    form.pop("version")
    form[title] = ["没有版本号的保存"]
    assert client.post(path, data=form).status_code == 302
    assert make.get(model, row_id)[title] == "没有版本号的保存"
    assert make.get(model, row_id)["version"] == 2


def test_a_deal_value_entered_on_a_stale_page_is_refused(app, make):
    hospital, _, _ = make.member("hospital")
    firm, _, _ = make.member("firm")
    broker, broker_email = make.staff("broker")
    now = datetime.now(timezone.utc)
    with app.app_context():
        intro = Introduction(need_id=make.need(hospital), offer_id=make.offer(firm), need_organization_id=hospital,
                             offer_organization_id=firm, broker_id=broker, source="manual", message="请联系",
                             stage="accepted", stage_changed_at=now, expires_at=now + timedelta(days=14),
                             need_response="accepted", offer_response="accepted")
        db.session.add(intro)
        db.session.commit()
        intro_id = intro.id
    first, second = _client(app, broker_email), _client(app, broker_email)
    path = f"/brokering/{intro_id}/value"
    assert second.post(path, data={"deal_value_rmb": "500000", "version": "1"}).status_code == 302
    assert first.post(path, data={"deal_value_rmb": "900000", "version": "1"}).status_code == 302
    assert STALE_ZH in first.get(f"/brokering/{intro_id}").get_data(as_text=True)
    assert make.get(Introduction, intro_id)["deal_value_rmb"] == 500000
