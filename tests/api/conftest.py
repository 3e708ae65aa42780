"""API fixtures: personal access tokens made through the token service."""
from __future__ import annotations

import pytest

from marketplace.extensions import db
from marketplace.models import User
from marketplace.services import api_tokens


@pytest.fixture
def token_for(app):
    """token_for(user_id, scope="write") -> Authorization headers carrying a fresh token."""
    def make_token(user_id: int, scope: str = "write", lang: str | None = None) -> dict:
        with app.app_context():
            user = db.session.get(User, user_id)
            _token, secret = api_tokens.create_token(user, {"name": "test", "scope": scope})
            db.session.commit()
        headers = {"Authorization": f"Bearer {secret}"}
        if lang:
            headers["Accept-Language"] = lang
        return headers
    return make_token
