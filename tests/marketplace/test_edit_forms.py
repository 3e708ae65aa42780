"""The shared edit-form flow of versioned records (``views.edit_forms.versioned_edit``), on a real need row."""
from __future__ import annotations

import pytest
from flask import get_flashed_messages

from marketplace.extensions import db
from marketplace.models import Need
from marketplace.services import versions
from marketplace.services.errors import Conflict, PermissionDenied, ValidationFailed
from marketplace.views.edit_forms import versioned_edit

NEXT_URL = "/needs/saved"


def _page(data, errors, status):
    return {"data": data, "errors": errors}, status


def _run(app, need_id, posted=None, *, save=None, **options):
    """Run the flow for one request (POST when ``posted`` is given) on the need; (answer, flashed messages)."""
    method = "POST" if posted is not None else "GET"
    with app.test_request_context("/needs/edit", method=method, data=posted or {}):
        need = db.session.get(Need, need_id)
        answer = versioned_edit(
            need.version, form_values=lambda: {"title_zh": need.title_zh},
            read_form=lambda: dict(posted), save=save or (lambda data, version: None), saved="saved",
            next_url=NEXT_URL, render=_page, **options)
        return answer, get_flashed_messages(with_categories=True)


def _rename(need_id):
    """A save that renames the need with the form's version, as the services do."""
    def save(data, version):
        need = versions.claim(db.session.get(Need, need_id), version)
        need.title_zh = data["title_zh"]
        db.session.flush()
    return save


@pytest.fixture
def need_id(make):
    org, _, _ = make.member("hospital")
    return make.need(org)


def test_the_form_opens_with_the_stored_values_and_version(app, make, need_id):
    (page, status), flashed = _run(app, need_id)
    assert status == 200 and flashed == []
    assert page == {"data": {"title_zh": make.get(Need, need_id)["title_zh"], "version": 1}, "errors": {}}


def test_a_save_commits_flashes_and_redirects(app, make, need_id):
    answer, flashed = _run(app, need_id, {"title_zh": "新名称", "version": "1"}, save=_rename(need_id))
    assert answer.status_code == 302 and answer.location == NEXT_URL
    assert flashed == [("success", "saved")]
    assert make.get(Need, need_id)["title_zh"] == "新名称"
    assert make.get(Need, need_id)["version"] == 2


def test_a_stale_save_keeps_the_input_with_the_stored_version_and_writes_nothing(app, make, need_id):
    before = make.get(Need, need_id)["title_zh"]
    with app.app_context():  # someone else saves first
        db.session.get(Need, need_id).version = 3
        db.session.commit()
    (page, status), flashed = _run(app, need_id, {"title_zh": "过时的修改", "version": "1"}, save=_rename(need_id))
    assert status == 409
    assert page["data"] == {"title_zh": "过时的修改", "version": 3}
    assert [category for category, _ in flashed] == ["danger", "warning"]
    assert make.get(Need, need_id)["title_zh"] == before and make.get(Need, need_id)["version"] == 3


def test_a_refused_save_rolls_back_and_shows_the_field_errors_with_the_posted_version(app, make, need_id):
    before = make.get(Need, need_id)["title_zh"]

    def save(data, version):
        _rename(need_id)(data, version)
        raise ValidationFailed("check the title", field_errors={"title_zh": "too short"})

    (page, status), flashed = _run(app, need_id, {"title_zh": "短", "version": "1"}, save=save)
    assert status == 400
    assert page == {"data": {"title_zh": "短", "version": "1"}, "errors": {"title_zh": "too short"}}
    assert flashed == [("danger", "check the title")]
    assert make.get(Need, need_id)["title_zh"] == before and make.get(Need, need_id)["version"] == 1


def test_the_status_of_a_refusal_is_the_errors_own_when_asked(app, need_id):
    def save(data, version):
        raise Conflict("no longer a draft")

    (_, status), _ = _run(app, need_id, {"title_zh": "x"}, save=save)
    assert status == 400
    (_, status), _ = _run(app, need_id, {"title_zh": "x"}, save=save, error_status=None)
    assert status == 409


def test_refused_statuses_go_to_the_error_page_instead_of_the_form(app, need_id):
    def save(data, version):
        raise PermissionDenied("not yours")

    (_, status), _ = _run(app, need_id, {"title_zh": "x"}, save=save)
    assert status == 400
    with pytest.raises(PermissionDenied):
        _run(app, need_id, {"title_zh": "x"}, save=save, refused=(403, 404))


def test_the_save_gets_the_input_without_the_version_and_cannot_change_what_is_shown_again(app, need_id):
    seen = []

    def save(data, version):
        seen.append((dict(data), version))
        data["title_zh"] = "changed by the save"
        raise ValidationFailed("refused")

    (page, _), _ = _run(app, need_id, {"title_zh": "输入", "version": "1"}, save=save)
    assert seen == [({"title_zh": "输入"}, "1")]
    assert page["data"]["title_zh"] == "输入"


def test_an_event_profile_saved_from_a_stale_page_is_refused_and_keeps_the_input(app, make):
    from tests.edit_forms import edit_form
    from tests.marketplace.test_events import _published

    w, event_id, _ = _published(app, make)
    assert w.c_hospital.post(f"/events/{event_id}/register").status_code == 302
    path = f"/events/{event_id}/profile"
    assert 'name="version"' not in w.c_hospital.get(path).get_data(as_text=True)  # no profile saved yet
    assert w.c_hospital.post(path, data={"headline": "第一次保存", "kind": "hospital"}).status_code == 302
    opened = edit_form(w.c_hospital.get(path).get_data(as_text=True))
    other_tab = edit_form(w.c_hospital.get(path).get_data(as_text=True))
    assert w.c_hospital.post(path, data={**other_tab, "headline": ["另一标签页"]}).status_code == 302

    refused = w.c_hospital.post(path, data={**opened, "headline": ["过时的标题"]})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 409  # this participant reads the site in English
    assert "Someone else saved changes to this record" in html and "Your input is kept below" in html
    again = edit_form(html)
    assert again["headline"] == ["过时的标题"] and int(again["version"][0]) == int(opened["version"][0]) + 1
    assert w.c_hospital.post(path, data=again).status_code == 302
