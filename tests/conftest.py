"""Shared fixtures: one app per session on SQLite (or PostgreSQL with DATABASE_URL), clean tables per test.

Requests in tests never run inside a test-held app context, so each request gets its own database session,
as in production; data is prepared through ``make`` (each call commits in its own context).
"""
from __future__ import annotations

import os
import re

import pytest
from sqlalchemy import delete

from marketplace import create_app
from marketplace.extensions import db
from tests.factories import Factory

TEST_PASSWORD = "correct-horse-battery-9"


def _database_url(tmp_path_factory) -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    app = create_app("testing", overrides={
        "SQLALCHEMY_DATABASE_URI": _database_url(tmp_path_factory),
        "INSTANCE_DIR": str(tmp_path_factory.mktemp("instance")),
        "MEILI_URL": None, "REDIS_URL": None,
    })
    with app.app_context():
        db.drop_all()
        db.create_all()
        from marketplace.reference.taxonomy import load_taxonomy
        load_taxonomy(db.session)
        db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


KEEP_TABLES = {"fields"}


@pytest.fixture(autouse=True)
def _clean_tables(request):
    yield
    if "app" not in request.fixturenames:
        return
    app = request.getfixturevalue("app")
    with app.app_context():
        db.session.rollback()
        for table in reversed(db.metadata.sorted_tables):
            if table.name not in KEEP_TABLES:
                db.session.execute(delete(table))
        db.session.commit()
        if request.node.get_closest_marker("keep_index") is None:
            from marketplace import search_index
            search_index.reset_for_tests()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def csrf_app(app):
    """The same app with CSRF protection switched on (restored afterwards)."""
    app.config["WTF_CSRF_ENABLED"] = True
    yield app
    app.config["WTF_CSRF_ENABLED"] = False


@pytest.fixture
def ctx(app):
    """An app context for service-level tests (do not make client requests inside it)."""
    with app.app_context():
        yield db.session
        db.session.rollback()


@pytest.fixture
def make(app):
    return Factory(app, TEST_PASSWORD)


def login(client, email: str, password: str = TEST_PASSWORD):
    return client.post("/login", data={"email": email, "password": password}, follow_redirects=False)


def csrf_token_from(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'id="csrf_token" name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert match, "no CSRF token in page"
    return match.group(1)
