"""Schemathesis against /api/v1/openapi.json: generated requests (valid and invalid) never get a 500, and every
response matches the documented status codes, content types and schemas.

The number of examples per operation is bounded (FUZZ_EXAMPLES, default 20) to keep the suite quick; set it
higher to fuzz harder.
"""
from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from marketplace.extensions import db
from marketplace.models import Event, MatchSuggestion

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "20"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance]


def _served_document() -> dict:
    """The document as an app serves it. Parametrisation needs it at collection time, before the session's app
    exists, so a throwaway app (in-memory database, never queried) serves it; the tests then call the real one."""
    import tempfile

    from marketplace import create_app
    with tempfile.TemporaryDirectory() as instance:
        app = create_app("testing", overrides={"SQLALCHEMY_DATABASE_URI": "sqlite://", "INSTANCE_DIR": instance})
        return app.test_client().get("/api/v1/openapi.json").get_json()


@pytest.fixture
def fuzz_headers(app, make, token_for):
    """A member with a write token and a few records the generated ids can hit (ids start at 1 on a fresh run)."""
    hospital, nurse, _ = make.member("hospital")
    firm, _seller, _ = make.member("firm")
    make.offer(firm), make.offer(firm, kind="patent"), make.offer(firm, status="draft")
    make.offer(firm, visibility="teaser", description_en="secret")
    need = make.need(hospital)
    make.need(hospital, visibility="confidential")
    with app.app_context():
        db.session.add(MatchSuggestion(need_id=need, offer_id=make_offer_id(app), rank=1, score=1.0,
                                       parts={"text": 1.0}, reasons=[{"kind": "terms", "zh": "词", "en": "words"}]))
        now = datetime.now(timezone.utc)
        db.session.add(Event(kind="spark", status="published", title_zh="火花活动", starts_at=now + timedelta(days=5),
                             ends_at=now + timedelta(days=5, hours=2)))
        db.session.commit()
    return token_for(nurse)


def make_offer_id(app) -> int:
    from marketplace.models import Offer
    return db.session.query(Offer.id).filter_by(status="published").order_by(Offer.id).first()[0]


schema = schemathesis.openapi.from_dict(_served_document())


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_api_never_fails_and_matches_its_document(app, case, fuzz_headers):
    case.operation.schema.app = app  # call the session's app in-process (WSGI), no server needed
    case.call_and_validate(headers=fuzz_headers, checks=CHECKS, app=app)
