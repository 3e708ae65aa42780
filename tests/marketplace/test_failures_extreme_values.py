"""Every GET route, as a visitor and as staff, with ids past the integer range, odd digits and extreme dates.

None of them may answer 500: an id that cannot exist is a 404, a number or date that cannot be read is
ignored or refused with a message.
"""
from __future__ import annotations

import re

import pytest
from werkzeug.datastructures import ImmutableMultiDict

from tests.conftest import login

HUGE_IDS = ("9223372036854775808", "2147483648", "99999999999999999999999")
ODD_VALUES = ("²", "١٢", "-1", "1e309", "0x10", "NaN", "0001-01-01", "9999-12-31", "10000-01-01",
              "2020-02-30", "9999-12-31T23:59", "\u00a0", "1" * 400)
SKIP_PREFIXES = ("/static", "/logout", "/lang")


def _get_rules(app):
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or str(rule).startswith(SKIP_PREFIXES):
            continue
        yield rule


def _fill(rule, value: str) -> str | None:
    """The rule's path with every variable set to ``value`` (None when the converter could never match)."""
    path = str(rule)
    for name, converter in rule._converters.items():
        kind = type(converter).__name__
        if kind in ("IntegerConverter",) and not value.isascii():
            return None
        path = re.sub(r"<(?:[^:<>]+:)?%s>" % re.escape(name), value, path)
    return path


def _clients(app, make):
    visitor = app.test_client()
    _, operator_email = make.staff("operator")
    operator = app.test_client()
    assert login(operator, operator_email).status_code == 302
    _, _, member_email = make.member("hospital")
    member = app.test_client()
    assert login(member, member_email).status_code == 302
    return {"visitor": visitor, "operator": operator, "member": member}


def test_no_route_answers_500_to_huge_ids(app, make):
    failures = []
    for who, client in _clients(app, make).items():
        for rule in _get_rules(app):
            if not rule.arguments:
                continue
            for value in HUGE_IDS:
                path = _fill(rule, value)
                if path and client.get(path).status_code >= 500:
                    failures.append((who, path))
    assert not failures, failures


class _RecordingArgs(ImmutableMultiDict):
    """``request.args`` that notes which keys the view asked for."""

    read: set[str] = set()

    def __getitem__(self, key):
        self.read.add(key)
        return super().__getitem__(key)

    def get(self, key, default=None, type=None):  # noqa: A002 (werkzeug's signature)
        self.read.add(key)
        return super().get(key, default=default, type=type)

    def getlist(self, key, type=None):  # noqa: A002
        self.read.add(key)
        return super().getlist(key, type=type)

    def __contains__(self, key):
        self.read.add(key)
        return super().__contains__(key)


def test_no_route_answers_500_to_odd_query_values(app, make):
    """First learn which query keys each page reads, then send each odd value in every one of them."""
    from flask import request, request_started

    def record(sender, **extra):
        request.args = _RecordingArgs(request.args)

    clients = _clients(app, make)
    failures = []
    request_started.connect(record, app)
    try:
        for who, client in clients.items():
            for rule in _get_rules(app):
                path = _fill(rule, "1") if rule.arguments else str(rule)
                if path is None:
                    continue
                _RecordingArgs.read = set()
                client.get(path)
                keys = set(_RecordingArgs.read)
                for value in ODD_VALUES if keys else ():
                    status = client.get(path, query_string={key: value for key in keys}).status_code
                    if status >= 500:
                        failures.append((who, path, value, status))
    finally:
        request_started.disconnect(record, app)
    assert not failures, failures
