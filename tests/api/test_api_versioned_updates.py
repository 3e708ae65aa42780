"""Updates of versioned records through the API share one flow: ``If-Match`` in, ``ETag`` out, 409 when stale."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import User
from tests.edit_forms import edited_record

RESOURCES = {"offer": "offers", "need": "needs", "organization": "organizations", "event": "events"}


@pytest.mark.parametrize("kind", list(RESOURCES))
def test_an_update_from_an_older_etag_is_refused_and_writes_nothing(app, client, make, token_for, kind):
    email, _, model, row_id, title = edited_record(app, make, kind)
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.email == email))
    headers = token_for(user_id)
    path = f"/api/v1/{RESOURCES[kind]}/{row_id}"
    opened = client.get(path, headers=headers).headers["ETag"]

    saved = client.patch(path, json={title: "接口保存的名称"}, headers={**headers, "If-Match": opened})
    assert saved.status_code == 200 and saved.get_json()[title] == "接口保存的名称"
    assert saved.headers["ETag"] not in ("", opened)
    assert saved.headers["ETag"] == client.get(path, headers=headers).headers["ETag"]

    stale = client.patch(path, json={title: "过时的名称"}, headers={**headers, "If-Match": opened})
    assert stale.status_code == 409
    assert stale.headers["Content-Type"].startswith("application/problem+json")
    assert make.get(model, row_id)[title] == "接口保存的名称"

    # without If-Match (older clients) the update is accepted
    assert client.patch(path, json={title: "不带版本"}, headers=headers).status_code == 200
    assert make.get(model, row_id)[title] == "不带版本"
