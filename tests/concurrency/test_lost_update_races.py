"""Several people saving the same record at once, each from the form (or API read) they opened before."""
from __future__ import annotations


import pytest

from marketplace.extensions import db
from marketplace.models import Offer, User
from marketplace.services import api_tokens
from tests.concurrency.conftest import fire, statuses
from tests.edit_forms import edit_form, edited_record

EDITORS = 8


@pytest.mark.parametrize("kind", ["offer", "need", "organization", "event"])
def test_simultaneous_saves_of_one_form_keep_one_and_refuse_the_rest(app, make, live, kind):
    email, path, model, row_id, title = edited_record(app, make, kind)
    editors = [live.client().login(email) for _ in range(EDITORS)]
    forms = [edit_form(c.get(path).text) for c in editors]
    for n, form in enumerate(forms):
        form[title] = [f"编辑者{n}的名称"]
    responses = fire(lambda c=c, f=f: c.post(path, data=f) for c, f in zip(editors, forms))
    codes = statuses(responses)
    assert sorted(codes) == [302] + [409] * (EDITORS - 1), codes
    winner = codes.index(302)
    assert make.get(model, row_id)[title] == f"编辑者{winner}的名称"
    assert make.get(model, row_id)["version"] == int(forms[0]["version"][0]) + 1
    # every refused editor sees the message in Chinese with their own input still on the form
    for n, response in enumerate(responses):
        if n != winner:
            assert "其他人已保存了对此记录的修改" in response.text and f"编辑者{n}的名称" in response.text


def _api(app, live, user_id: int):
    with app.app_context():
        _token, secret = api_tokens.create_token(db.session.get(User, user_id), {"name": "race", "scope": "write"})
        db.session.commit()
    client = live.client()
    client.headers["Authorization"] = f"Bearer {secret}"
    return client


def test_simultaneous_api_updates_with_if_match_keep_one(app, make, live):
    org, user_id, _ = make.member()
    offer = make.offer(org, status="draft")
    api = _api(app, live, user_id)
    etag = api.get(f"/api/v1/offers/{offer}").headers["ETag"]
    responses = fire(lambda n=n: api.patch(f"/api/v1/offers/{offer}", json={"title_zh": f"接口{n}"},
                                           headers={"If-Match": etag}) for n in range(EDITORS))
    codes = statuses(responses)
    assert sorted(codes) == [200] + [409] * (EDITORS - 1), codes
    winner = codes.index(200)
    assert make.get(Offer, offer)["title_zh"] == f"接口{winner}"
    assert responses[winner].headers["ETag"] != etag
    refused = [r for r in responses if r.status_code == 409]
    assert all(r.headers["Content-Type"].startswith("application/problem+json") for r in refused)


def test_simultaneous_partial_api_updates_of_different_fields_both_land(app, make, live):
    org, user_id, _ = make.member()
    offers = [make.offer(org, status="draft") for _ in range(EDITORS)]
    api = _api(app, live, user_id)
    calls = []
    for offer in offers:
        calls.append(lambda o=offer: api.patch(f"/api/v1/offers/{o}", json={"title_zh": "新名称"}))
        calls.append(lambda o=offer: api.patch(f"/api/v1/offers/{o}", json={"summary_zh": "新摘要"}))
    responses = fire(calls)
    assert set(statuses(responses)) == {200}, statuses(responses)
    for offer in offers:
        row = make.get(Offer, offer)
        assert (row["title_zh"], row["summary_zh"], row["version"]) == ("新名称", "新摘要", 3)
