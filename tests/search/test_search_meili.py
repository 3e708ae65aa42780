"""Meilisearch-specific behaviour: Retry-After handling, unreachable server, task failures."""
from __future__ import annotations

import json
import threading
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from search import SearchError, SearchUnavailable, create_backend
from search.meili_backend import MeiliBackend, call_with_retry, meili_filter, retry_after_seconds
from search.testing import free_port


def test_retry_after_parsing():
    assert retry_after_seconds("3") == 3.0
    assert retry_after_seconds(" 0.5 ") == 0.5
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("soon") is None
    now = time.time()
    assert 9 <= retry_after_seconds(formatdate(now + 10, usegmt=True), now=now) <= 10
    assert retry_after_seconds(formatdate(now - 10, usegmt=True), now=now) == 0.0


def test_meili_filter_expressions():
    assert meili_filter({"kind": ["product", "tech nology"], "trl": {"gte": 5}}) == [
        'kind IN ["product", "tech nology"]', "trl >= 5.0"]
    assert meili_filter({"title": ['say "hi"']}) == ['title IN ["say \\"hi\\""]']


class _StubHandler(BaseHTTPRequestHandler):
    """Answers 503 + Retry-After for the first `busy_answers` requests, then a health reply."""

    def do_GET(self):
        server = self.server
        server.requests += 1
        if server.requests <= server.busy_answers:
            body = json.dumps({"message": "busy", "code": "too_busy"}).encode()
            self.send_response(503)
            self.send_header("Retry-After", server.retry_after)
        else:
            body = json.dumps({"status": "available"}).encode()
            self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def search_busy_stub():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _StubHandler)
    server.requests, server.busy_answers, server.retry_after = 0, 2, "0.2"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_503_is_retried_after_retry_after(search_busy_stub):
    backend = MeiliBackend(f"http://127.0.0.1:{search_busy_stub.server_port}", "key")
    started = time.monotonic()
    assert call_with_retry(backend.client.health) == {"status": "available"}
    assert search_busy_stub.requests == 3
    assert time.monotonic() - started >= 0.4  # waited 2 x Retry-After


def test_retries_are_bounded(search_busy_stub):
    search_busy_stub.busy_answers = 100
    backend = MeiliBackend(f"http://127.0.0.1:{search_busy_stub.server_port}", "key")
    with pytest.raises(SearchUnavailable):
        call_with_retry(backend.client.health, max_retries=2)
    assert search_busy_stub.requests == 3


def test_long_retry_after_is_reported_not_waited(search_busy_stub):
    search_busy_stub.retry_after = "120"
    backend = MeiliBackend(f"http://127.0.0.1:{search_busy_stub.server_port}", "key")
    started = time.monotonic()
    with pytest.raises(SearchUnavailable) as caught:
        call_with_retry(backend.client.health, max_delay=5)
    assert caught.value.retry_after == 120 and time.monotonic() - started < 2
    assert backend.health()["ok"] is False


def test_unreachable_server_raises_search_unavailable(search_spec):
    backend = create_backend(meili_url=f"http://127.0.0.1:{free_port()}", meili_key="k", request_timeout=1)
    with pytest.raises(SearchUnavailable):
        backend.ensure_index(search_spec)
    with pytest.raises(SearchUnavailable):
        backend.upsert("offers", [{"id": "1"}])
    status = backend.health()
    assert status["ok"] is False and status["backend"] == "meilisearch"


def test_failed_task_raises_search_error(search_make_backend, search_spec):
    backend = search_make_backend("meilisearch")
    backend.ensure_index(search_spec)
    task = backend.client.create_index(backend.uid(search_spec.name))  # already exists -> task fails
    with pytest.raises(SearchError) as caught:
        backend._wait(task.task_uid)
    assert "index_already_exists" in str(caught.value)
    assert not isinstance(caught.value, SearchUnavailable)


def test_wrong_key_is_a_search_error(search_meili_server, search_spec):
    url, _ = search_meili_server
    backend = create_backend(meili_url=url, meili_key="wrong")
    with pytest.raises(SearchError):
        backend.ensure_index(search_spec)


def test_settings_applied(search_make_backend, search_spec):
    backend = search_make_backend("meilisearch")
    backend.ensure_index(search_spec)
    settings = backend.client.index(backend.uid(search_spec.name)).get_settings()
    assert settings["rankingRules"][0] == "sort"
    assert {"attributePatterns": ["*_zh"], "locales": ["cmn"]} in settings["localizedAttributes"]
    assert "pcr" in [s.lower() for s in settings["synonyms"]["核酸检测"]]
    assert settings["searchableAttributes"] == list(search_spec.searchable)
    # A second ensure_index with unchanged settings enqueues no settings task.
    before = backend.client.get_tasks({"indexUids": [backend.uid(search_spec.name)]}).total
    backend.ensure_index(search_spec)
    assert backend.client.get_tasks({"indexUids": [backend.uid(search_spec.name)]}).total == before
