"""Whole pages kept for a few seconds for anonymous visitors (the crowd on the home page, the catalogue, search).

A page is cached only when nothing in it belongs to one person: the request is a GET by someone not logged in,
no flashed message waits or was shown, the view did not opt out (``skip()``) and the page holds no one-time
submission key. The key is the site's address, the path with its query string and the language the page was
drawn in. The CSRF token of the language switch is the one personal thing on such a page: it is stored as a
placeholder and each visitor gets their own token when the page is served again.

Storage: Redis (``REDIS_URL``) so every gunicorn worker shares one copy; without Redis a small SQLite file in
``INSTANCE_DIR`` that the workers of the machine share (``page_cache_file``); without an instance directory (or
with ``PAGE_CACHE_STORE = "memory"``) this process's memory (a bounded dict). A commit that changed what the
pages show (offers, needs, organisations, batches, matches…) invalidates every page at once: a generation stamp
is part of each key, kept in Redis, or without Redis in a small file of ``INSTANCE_DIR`` that every worker of
the machine reads (``page-cache.generation``; the store of the process that committed is also emptied). So the pages of one offer or need can be kept longer
(``PAGE_CACHE_ITEM_TTL``) than the lists (``PAGE_CACHE_TTL``): a change shows at once in every worker; the TTL
only bounds what the listener cannot see (bulk statements, another machine without Redis).
Store unreachable or failing: pages are served uncached (never an error), and the store is tried again after a
pause (30 s for Redis, 5 s for the file).

``PAGE_CACHE`` (``on`` / ``off``) switches it; tests run with it off except the ones that test it.
"""
from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import secrets
import threading
import time
from collections import OrderedDict
from pathlib import Path

from flask import Response, current_app, g, has_app_context, make_response, request, session
from flask.signals import message_flashed
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy import event

from marketplace.i18n import current_lang
from marketplace.page_cache_file import FILE_NAME, FileStore

log = logging.getLogger(__name__)

CSRF_PLACEHOLDER = "\x00tb-csrf-token\x00"  # never in a page: NUL bytes are refused on input
_PLACEHOLDER_BYTES = CSRF_PLACEHOLDER.encode()
HEADER = "X-Page-Cache"  # hit / miss / bypass, for the benchmark and the tests
GENERATION_KEY = "tb:page:generation"
GENERATION_FILE = "page-cache.generation"  # in INSTANCE_DIR: the stamp shared by the workers without Redis
MEMORY_LIMIT = 2000  # pages kept per process without Redis (oldest dropped first)
REDIS_RETRY_SECONDS = 30  # after a Redis error, serve uncached for this long before trying again
REDIS_TIMEOUT_SECONDS = 0.2
EXTENSION = "tb_page_cache"
# Rows whose change shows on cached pages: a commit touching one of these tables empties the cache.
SHOWN_TABLES = frozenset({"offers", "needs", "organizations", "batches", "patent_details", "financial_details",
                          "match_suggestions", "match_feedback", "fields", "stored_files", "nda_terms"})


# --- stores -----------------------------------------------------------------------------------------------

class MemoryStore:
    """Pages of this process, each with its expiry (monotonic clock), at most ``limit`` of them; with
    ``stamp_path``, under a generation stamp that an invalidation in any process of the machine renews."""

    def __init__(self, limit: int = MEMORY_LIMIT, stamp_path: Path | None = None) -> None:
        self.limit = limit
        self.stamp_path = stamp_path
        self.clock = time.monotonic  # tests move time by hand
        self._pages: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        """The stored page, or None when absent or expired."""
        with self._lock:
            found = self._pages.get(key)
            if found is None:
                return None
            if found[0] <= self.clock():
                del self._pages[key]
                return None
            return found[1]

    def set(self, key: str, value: bytes, ttl: int) -> None:
        """Keep ``value`` for ``ttl`` seconds."""
        with self._lock:
            self._pages[key] = (self.clock() + ttl, value)
            self._pages.move_to_end(key)
            while len(self._pages) > self.limit:
                self._pages.popitem(last=False)

    def generation(self) -> str:
        """The stamp the other workers renew on a change ("" without a stamp file: this process only)."""
        if self.stamp_path is None:
            return ""
        try:
            return self.stamp_path.read_text() or "0"
        except FileNotFoundError:
            return "0"

    def invalidate(self) -> None:
        """Forget every page: this process's at once, the other workers' through a new stamp."""
        with self._lock:
            self._pages.clear()
        if self.stamp_path is not None:
            # A random stamp needs no lock between workers; the rename makes it appear whole.
            self.stamp_path.parent.mkdir(parents=True, exist_ok=True)
            partial = self.stamp_path.with_name(f"{self.stamp_path.name}.{os.getpid()}.{threading.get_ident()}")
            partial.write_text(secrets.token_hex(8))
            os.replace(partial, self.stamp_path)


class RedisStore:
    """Pages shared by every worker, under a generation number that an invalidation increments."""

    def __init__(self, url: str) -> None:
        from redis import Redis
        self.redis = Redis.from_url(url, socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
                                    socket_timeout=REDIS_TIMEOUT_SECONDS)

    def get(self, key: str) -> bytes | None:
        return self.redis.get(key)

    def set(self, key: str, value: bytes, ttl: int) -> None:
        self.redis.set(key, value, ex=ttl)

    def generation(self) -> str:
        return (self.redis.get(GENERATION_KEY) or b"0").decode()

    def invalidate(self) -> None:
        self.redis.incr(GENERATION_KEY)


class PageCache:
    """The app's store with its settings; Redis errors switch to "no cache" for a while, never to a 500."""

    def __init__(self, app) -> None:
        self.ttl = int(app.config.get("PAGE_CACHE_TTL") or 0)
        self.item_ttl = int(app.config.get("PAGE_CACHE_ITEM_TTL") or self.ttl)
        self.enabled = _flag(app.config.get("PAGE_CACHE", "on")) and self.ttl > 0
        self.store = _store(app.config)
        self._down_until = 0.0

    def _call(self, fn, *args):
        if time.monotonic() < self._down_until:
            return None
        try:
            return fn(*args)
        except Exception:  # noqa: BLE001 (a cache must never break a page)
            pause = getattr(self.store, "retry_seconds", REDIS_RETRY_SECONDS)
            self._down_until = time.monotonic() + pause
            log.warning("page cache unavailable; serving pages uncached for %ss", pause, exc_info=True)
            return None

    def key(self, lang: str) -> str | None:
        """This request's key (None when the store cannot be reached)."""
        generation = self._call(self.store.generation)
        if generation is None:
            return None
        raw = "\n".join((request.host, request.full_path, lang))
        return f"tb:page:{generation}:{hashlib.sha256(raw.encode()).hexdigest()}"

    def get(self, key: str) -> bytes | None:
        return self._call(self.store.get, key)

    def set(self, key: str, value: bytes, ttl: int | None = None) -> None:
        self._call(self.store.set, key, value, ttl or self.ttl)

    def invalidate(self) -> None:
        self._call(self.store.invalidate)


def _store(config):
    """Redis when configured; else the file in INSTANCE_DIR shared by the machine's workers; else this process's
    memory (no instance directory, or ``PAGE_CACHE_STORE = "memory"``)."""
    if config.get("REDIS_URL"):
        return RedisStore(config["REDIS_URL"])
    instance = config.get("INSTANCE_DIR")
    stamp = Path(instance) / GENERATION_FILE if instance else None
    if stamp is not None and str(config.get("PAGE_CACHE_STORE") or "file").strip().lower() != "memory":
        return FileStore(Path(instance) / FILE_NAME, stamp)
    return MemoryStore(stamp_path=stamp)


def _flag(value) -> bool:
    return str(value).strip().lower() not in ("0", "off", "false", "no", "")


def init_app(app) -> None:
    """Create the app's page cache and listen for flashes and for commits that change what pages show."""
    app.extensions[EXTENSION] = PageCache(app)
    message_flashed.connect(_flashed, app)
    install_invalidation_listener()


def _cache() -> PageCache | None:
    cache = current_app.extensions.get(EXTENSION)
    return cache if cache is not None and cache.enabled else None


# --- serving ----------------------------------------------------------------------------------------------

def skip() -> None:
    """Keep this response out of the cache (the view showed something that is not for everyone)."""
    g.page_cache_skip = True


def _flashed(sender, message, category, **extra) -> None:
    skip()  # a message is for the one person who caused it


def _cacheable_request() -> bool:
    return (request.method == "GET" and not current_user.is_authenticated and not session.get("_flashes")
            and not g.get("page_cache_skip"))


def _serialise(response: Response) -> bytes | None:
    """The response as stored (with the CSRF placeholder), or None when it must not be kept."""
    if response.status_code != 200 or response.mimetype != "text/html" or response.direct_passthrough:
        return None
    body = response.get_data(as_text=True)
    if 'name="submission_key"' in body:
        return None  # a one-time key is one visitor's
    token = g.get("csrf_token")
    if token:
        body = body.replace(token, CSRF_PLACEHOLDER)
    head = {"content_type": response.content_type}
    if g.get("page_cache_note") is not None:
        head["note"] = g.page_cache_note
    return json.dumps(head).encode() + b"\n" + body.encode()


def _replay(stored: bytes) -> tuple[Response, object]:
    """The stored page as this visitor's response, and the note its view kept for replays (or None)."""
    head, _, body = stored.partition(b"\n")
    if _PLACEHOLDER_BYTES in body:  # bytes as stored: no decoding and encoding again of a page of tens of kB
        body = body.replace(_PLACEHOLDER_BYTES, generate_csrf().encode())  # this visitor's own token
    head = json.loads(head)
    response = Response(body, status=200, content_type=head["content_type"])
    response.headers[HEADER] = "hit"
    return response, head.get("note")


def note_for_replay(value) -> None:
    """Keep a JSON value with the page being drawn; each time the page is served from the cache instead, the
    view's ``on_replay`` gets it (what every visit must do even when the page is not drawn: a search counted)."""
    g.page_cache_note = value


def anonymous_page(view=None, *, item: bool = False, on_replay=None):
    """Serve the view's page from the cache to visitors who are not logged in (see the module's docstring).

    ``@anonymous_page(item=True)``: the page of one offer or need, kept ``PAGE_CACHE_ITEM_TTL`` seconds (a
    crowd spreads over many such pages, so each is asked for less often than a list). ``on_replay(note)`` runs
    for each visit served from the cache when the view left a note (``note_for_replay``) while drawing it."""
    if view is None:
        return functools.partial(anonymous_page, item=item, on_replay=on_replay)

    @functools.wraps(view)
    def cached_view(*args, **kwargs):
        cache = _cache()
        if cache is None or not _cacheable_request():
            return view(*args, **kwargs)
        key = cache.key(current_lang())
        stored = cache.get(key) if key else None
        if stored is not None:
            response, note = _replay(stored)
            if note is not None and on_replay is not None:
                on_replay(note)
            return response
        response = make_response(view(*args, **kwargs))
        if key and not g.get("page_cache_skip") and not session.get("_flashes"):
            value = _serialise(response)
            if value is not None:
                cache.set(key, value, cache.item_ttl if item else None)
        response.headers[HEADER] = "miss"
        return response
    return cached_view


def _fragment_key(cache: PageCache, name: str, parts) -> str | None:
    generation = cache._call(cache.store.generation)
    if generation is None:
        return None
    digest = hashlib.sha256(json.dumps(parts, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    return f"tb:fragment:{generation}:{name}:{digest}"


def recall(name: str, parts):
    """A kept fragment: a JSON value shared by every visitor with the same ``parts`` (such as the catalogue's
    facet counts, the same on each page and in each order), or None when not kept or the cache is off.
    ``parts`` must name everything the value depends on (the viewer's visibility tokens included)."""
    cache = _cache()
    key = _fragment_key(cache, name, parts) if cache is not None else None
    stored = cache.get(key) if key else None
    return json.loads(stored) if stored is not None else None


def keep(name: str, parts, value) -> None:
    """Keep a fragment for ``PAGE_CACHE_FRAGMENT_TTL`` seconds; a change to what pages show forgets it with them."""
    cache = _cache()
    key = _fragment_key(cache, name, parts) if cache is not None and value is not None else None
    if key:
        ttl = int(current_app.config.get("PAGE_CACHE_FRAGMENT_TTL") or cache.ttl)
        cache._call(cache.store.set, key, json.dumps(value, ensure_ascii=False).encode(), ttl)


def invalidate() -> None:
    """Forget every cached page now (shared store: for every worker; memory: for this process)."""
    if has_app_context():
        cache = current_app.extensions.get(EXTENSION)
        if cache is not None and cache.enabled:
            cache.invalidate()


# --- invalidation on commit -------------------------------------------------------------------------------

def _note_changes(session, flush_context) -> None:
    """after_flush: remember whether this transaction changed rows that pages show."""
    if session.info.get("page_cache_dirty"):
        return
    for obj in (*session.new, *session.dirty, *session.deleted):
        table = getattr(obj, "__tablename__", None)
        if table in SHOWN_TABLES:
            session.info["page_cache_dirty"] = True
            return


def _after_commit(session) -> None:
    if session.info.pop("page_cache_dirty", False):
        invalidate()


def _after_rollback(session) -> None:
    session.info.pop("page_cache_dirty", None)


def install_invalidation_listener() -> None:
    """Listen on every session of the app's SQLAlchemy (idempotent)."""
    from flask_sqlalchemy.session import Session as FlaskSession
    for name, listener in (("after_flush", _note_changes), ("after_commit", _after_commit),
                           ("after_rollback", _after_rollback)):
        if not event.contains(FlaskSession, name, listener):
            event.listen(FlaskSession, name, listener)
