"""Hardening: security headers with a strict CSP, cookie flags in production, rate limits (429 pages,
problem+json, Retry-After, Redis storage), the account lock-out notice and open-redirect-safe ``next``."""
from __future__ import annotations

import re
import secrets
import time
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from marketplace import create_app
from marketplace.config import load_config
from marketplace.extensions import db, limiter
from marketplace.models import Notification, User
from marketplace.security import merge_csp
from tests.conftest import TEST_PASSWORD, csrf_token_from, login

REDIS_URL = "redis://127.0.0.1:6379/0"


def _csp(response) -> dict[str, list[str]]:
    header = response.headers.get("Content-Security-Policy", "")
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


def _inline_code(html: str) -> list[str]:
    """Inline scripts, styles and event handlers: everything the CSP would block."""
    found = re.findall(r"<script(?![^>]*\ssrc=)[^>]*>", html)
    found += re.findall(r"<style\b", html)
    found += re.findall(r"<[^>]+\sstyle=[\"'][^>]*>", html)
    found += re.findall(r"<[^>]+\son[a-z]+=[\"'][^>]*>", html)
    found += re.findall(r"(?:href|src|action)=[\"']\s*javascript:", html)
    return found


def _fresh_app(tmp_path, name: str = "testing", **overrides):
    """A separate app on its own SQLite file (tables created)."""
    settings = {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / f'{name}.sqlite'}",
                "INSTANCE_DIR": str(tmp_path), "MEILI_URL": None, "REDIS_URL": None, "RATELIMIT_STORAGE_URI": "memory://"}
    settings.update(overrides)
    app = create_app(name, overrides=settings)
    with app.app_context():
        db.create_all()
    return app


@pytest.fixture
def own_limiter():
    """Apps made in a test re-bind the one process-wide limiter (its storage and key prefix); put it back."""
    saved = dict(limiter.__dict__)
    yield limiter
    limiter.__dict__.clear()
    limiter.__dict__.update(saved)


@contextmanager
def lowered(app, **limits):
    """Lower rate limits on the session app for a moment, on a clean limiter storage."""
    old = {key: app.config[key] for key in limits}
    app.config.update(limits)
    limiter.reset()
    try:
        yield
    finally:
        app.config.update(old)
        limiter.reset()


# --- security headers and the content security policy ------------------------------------------------

def test_html_pages_send_a_strict_csp_and_security_headers(client):
    response = client.get("/")
    assert response.status_code == 200
    csp = _csp(response)
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"][0] == "'self'" and all(s.startswith("'nonce-") for s in csp["script-src"][1:])
    assert csp["style-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"] and csp["object-src"] == ["'none'"]
    assert csp["form-action"] == ["'self'"] and csp["base-uri"] == ["'self'"]
    assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "camera=()" in response.headers["Permissions-Policy"]
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    # no HSTS and no https redirect outside production
    assert "Strict-Transport-Security" not in response.headers
    # the nonce changes per response
    assert _csp(client.get("/"))["script-src"] != csp["script-src"]


def test_pages_carry_no_inline_code_the_csp_would_block(client, make):
    org_id, _user_id, _email = make.member("hospital")
    offer_id = make.offer(org_id, title_en="Ventilator")
    need_id = make.need(org_id, title_en="Breathing aid")
    _staff_id, operator = make.staff("operator")
    pages = ["/", "/login", "/register", "/offers/", f"/offers/{offer_id}", "/needs/", f"/needs/{need_id}",
             "/search/?q=Ventilator", "/events/", "/offers/batches", "/no-such-page"]
    for path in pages:
        response = client.get(path)
        assert response.status_code in (200, 404), path
        html = response.get_data(as_text=True)
        assert "Content-Security-Policy" in response.headers, path
        assert _inline_code(html) == [], path
        for src in re.findall(r"<(?:script|link)[^>]+(?:src|href)=\"([^\"]+)\"", html):
            assert src.startswith(("/", "data:")), (path, src)  # nothing from a CDN
    login(client, operator)
    for path in ("/account/", "/notifications/", "/account/notifications", "/operator/",
                 "/operator/verification", "/matches/queue", "/brokering/board", f"/needs/{need_id}"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert _inline_code(response.get_data(as_text=True)) == [], path


def test_csp_additions_per_blueprint_from_config(app, client):
    app.config["CSP_BLUEPRINT_ALLOW"] = {"main": {"style-src": "'unsafe-inline'", "worker-src": "blob:"}}
    try:
        home = _csp(client.get("/"))
        login_page = _csp(client.get("/login"))
    finally:
        app.config["CSP_BLUEPRINT_ALLOW"] = {}
    assert home["style-src"] == ["'self'", "'unsafe-inline'"]
    assert home["worker-src"] == ["'self'", "blob:"]  # a new directive starts from default-src
    assert login_page["style-src"] == ["'self'"] and "worker-src" not in login_page


def test_csp_additions_for_one_view(tmp_path, own_limiter):
    from marketplace.security import csp_allow
    app = _fresh_app(tmp_path)

    @app.route("/probe")
    @csp_allow(img_src="https://tiles.example", connect_src="https://tiles.example")
    def probe():
        return "ok"

    client = app.test_client()
    csp = _csp(client.get("/probe"))
    assert csp["img-src"] == ["'self'", "data:", "https://tiles.example"]
    assert csp["connect-src"] == ["'self'", "https://tiles.example"]
    assert _csp(client.get("/login"))["img-src"] == ["'self'", "data:"]


def test_merge_csp_appends_without_duplicates():
    merged = merge_csp({"default-src": "'self'", "img-src": "'self' data:"},
                       {"img-src": "data: https://x.example", "font-src": "https://f.example"})
    assert merged == {"default-src": "'self'", "img-src": "'self' data: https://x.example",
                      "font-src": "'self' https://f.example"}


def test_api_reference_page_has_a_csp_and_no_inline_script(client):
    response = client.get("/api/v1/docs/")
    if response.status_code == 404:
        pytest.skip("the API reference page is not there")
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert _inline_code(response.get_data(as_text=True)) == []


# --- production: cookies, https, HSTS -----------------------------------------------------------------

def test_production_cookies_are_secure_httponly_samesite_and_https_is_forced(tmp_path, own_limiter):
    app = _fresh_app(tmp_path, "production", SECRET_KEY=secrets.token_hex(32))
    with app.app_context():
        db.session.add(User(email="prod@example.com", display_name="Prod",
                            password_hash=generate_password_hash(TEST_PASSWORD, method="pbkdf2:sha256:1000")))
        db.session.commit()
    client = app.test_client()
    http = {"base_url": "http://localhost"}  # the test client would use PREFERRED_URL_SCHEME (https)
    plain = client.get("/login", **http)
    assert plain.status_code in (301, 302) and plain.headers["Location"] == "https://localhost/login"
    assert "Strict-Transport-Security" not in plain.headers  # only sent over https
    assert client.get("/healthz", **http).status_code in (200, 503)  # load balancers probe over http

    https = {"base_url": "https://localhost"}
    page = client.get("/login", **https)
    assert page.status_code == 200
    assert page.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    session_cookie = page.headers["Set-Cookie"]
    assert "Secure" in session_cookie and "HttpOnly" in session_cookie and "SameSite=Lax" in session_cookie
    token = csrf_token_from(page.get_data(as_text=True))
    response = client.post("/login", data={"csrf_token": token, "email": "prod@example.com",
                                           "password": TEST_PASSWORD, "remember": "y"},
                           headers={"Referer": "https://localhost/login"}, **https)  # CSRF wants it on https
    assert response.status_code == 302
    cookies = response.headers.getlist("Set-Cookie")
    remember = [c for c in cookies if c.startswith("remember_token=")]
    assert remember and all("Secure" in c and "HttpOnly" in c for c in cookies)
    # behind a TLS-terminating proxy the forwarded scheme counts: no redirect loop
    assert app.test_client().get("/login", headers={"X-Forwarded-Proto": "https"}, **http).status_code == 200


def test_force_https_can_be_switched_off_from_the_environment(tmp_path, own_limiter):
    settings = load_config("production", environ={"SECRET_KEY": "s" * 40, "FORCE_HTTPS": "0"},
                           overrides={"INSTANCE_DIR": str(tmp_path)})
    assert settings["FORCE_HTTPS"] == "0"
    app = _fresh_app(tmp_path, "production", SECRET_KEY="s" * 40, FORCE_HTTPS="0")
    assert app.test_client().get("/login", base_url="http://localhost").status_code == 200


def test_development_and_testing_do_not_force_https():
    for name in ("development", "testing"):
        settings = load_config(name, environ={}, overrides={"SQLALCHEMY_DATABASE_URI": "sqlite://"})
        assert not settings["FORCE_HTTPS"] and not settings["HSTS_ENABLED"]
        assert not settings["SESSION_COOKIE_SECURE"] and settings["SESSION_COOKIE_HTTPONLY"]


# --- rate limits --------------------------------------------------------------------------------------

def test_login_posts_are_rate_limited_with_a_friendly_page_and_retry_after(app, client):
    client.get("/lang/en")
    with lowered(app, LOGIN_RATE_LIMIT="2 per minute"):
        for _ in range(2):
            assert login(client, "nobody@example.com", "wrong-password-1").status_code == 401
        response = login(client, "nobody@example.com", "wrong-password-1")
        assert response.status_code == 429
        html = response.get_data(as_text=True)
        assert "Too many requests" in html and "Please wait" in html
        assert 0 < int(response.headers["Retry-After"]) <= 60
        assert "Content-Security-Policy" in response.headers
        assert client.get("/login").status_code == 200  # only the form posts are limited


def test_rate_limit_page_is_in_chinese_by_default(app, client):
    with lowered(app, REGISTER_RATE_LIMIT="1 per minute"):
        client.post("/register", data={})
        response = client.post("/register", data={})
    assert response.status_code == 429
    assert response.headers["Content-Language"] == "zh-Hans"
    assert int(response.headers["Retry-After"]) > 0


def test_search_pages_and_suggestions_are_rate_limited(app, client):
    with lowered(app, SEARCH_RATE_LIMIT="1 per minute", SUGGEST_RATE_LIMIT="1 per minute"):
        assert client.get("/search/?q=robot").status_code == 200
        assert client.get("/search/?q=robot").status_code == 429
        for path in ("/search/suggest?q=ro", "/offers/suggest?q=ro"):
            assert client.get(path, headers={"Accept": "application/json"}).status_code == 200
            response = client.get(path, headers={"Accept": "application/json"})
            assert response.status_code == 429, path
            assert response.is_json and response.get_json()["status"] == 429
            assert int(response.headers["Retry-After"]) > 0


def test_api_rate_limit_answers_problem_json(app, client):
    with lowered(app, API_RATE_LIMIT="1 per minute"):
        first = client.get("/api/v1/offers/", headers={"Accept-Language": "en"})
        if first.status_code == 404:
            pytest.skip("the API is not there")
        response = client.get("/api/v1/offers/", headers={"Accept-Language": "en"})
    assert response.status_code == 429
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == 429 and body["title"] == "Too many requests" and "wait" in body["detail"]
    assert int(response.headers["Retry-After"]) > 0


def test_redis_url_makes_redis_the_limit_storage():
    settings = load_config("production", environ={"SECRET_KEY": "s" * 40, "REDIS_URL": REDIS_URL},
                           overrides={"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert settings["RATELIMIT_STORAGE_URI"] == REDIS_URL
    development = load_config("development", environ={}, overrides={"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert development["RATELIMIT_STORAGE_URI"] == "memory://"


def test_limits_are_counted_in_redis(tmp_path, own_limiter):
    redis = pytest.importorskip("redis")
    connection = redis.Redis.from_url(REDIS_URL)
    try:
        connection.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    prefix = f"tb-test-{secrets.token_hex(6)}"
    limiter._key_prefix = ""  # the process-wide limiter keeps the first prefix it saw (own_limiter restores)
    app = _fresh_app(tmp_path, RATELIMIT_STORAGE_URI=REDIS_URL, RATELIMIT_KEY_PREFIX=prefix,
                     LOGIN_RATE_LIMIT="2 per minute")
    client = app.test_client()
    try:
        codes = [login(client, "nobody@example.com", "wrong-password-1").status_code for _ in range(3)]
        assert codes == [401, 401, 429]
        keys = list(connection.scan_iter(match=f"*{prefix}*"))
        assert keys, "the limit was not counted in Redis"
        # a second app (another gunicorn worker) with the same storage sees the same counter
        (tmp_path / "other").mkdir()
        other = _fresh_app(tmp_path / "other", RATELIMIT_STORAGE_URI=REDIS_URL, RATELIMIT_KEY_PREFIX=prefix,
                           LOGIN_RATE_LIMIT="2 per minute")
        assert login(other.test_client(), "nobody@example.com", "wrong-password-1").status_code == 429
    finally:
        for key in connection.scan_iter(match=f"*{prefix}*"):
            connection.delete(key)
        connection.close()


# --- account lock-out notice --------------------------------------------------------------------------

def _mails_to(app, address: str, since: float) -> list[str]:
    folder = Path(app.config.get("MAIL_FOLDER") or Path(app.config["INSTANCE_DIR"]) / "mail")
    texts = []
    for path in sorted(folder.glob("*.eml")) if folder.exists() else []:
        if path.stat().st_mtime >= since:
            text = path.read_text(encoding="utf-8", errors="replace")
            if address in text:
                texts.append(text)
    return texts


def test_lockout_is_explained_on_the_login_page_and_told_to_the_owner_once(app, client, make):
    since = time.time() - 1
    user_id = make.user("locked@example.com")
    client.get("/lang/en")
    for _ in range(4):
        assert login(client, "locked@example.com", "wrong-password-123").status_code == 401
    response = login(client, "locked@example.com", "wrong-password-123")
    assert response.status_code == 429
    html = response.get_data(as_text=True)
    notice = re.search(r'id="lockout-notice">([^<]+)<', html)
    assert notice, "no lock-out notice on the page"
    assert "locked for 15 minutes" in notice.group(1) and "try again after" in notice.group(1)
    assert re.search(r"\d{1,2}:\d{2}", notice.group(1))  # the time the lock ends
    assert 890 <= int(response.headers["Retry-After"]) <= 900
    # more attempts while locked (even with the right password) tell nobody again
    for password in ("wrong-password-123", TEST_PASSWORD):
        again = login(client, "locked@example.com", password)
        assert again.status_code == 429 and 'id="lockout-notice"' in again.get_data(as_text=True)
    with app.app_context():
        notes = list(db.session.scalars(select(Notification).where(Notification.user_id == user_id)))
        assert [(n.kind, n.message_key) for n in notes] == [("security", "account_locked")]
        assert notes[0].params["attempts"] == 5 and notes[0].params["address"] == "127.0.0.1"
        assert notes[0].email_state == "sent"
        from marketplace.services.notifications import render
        with app.test_request_context("/"):
            from flask_babel import force_locale
            with force_locale("en"):
                title, body = render(notes[0], "en")
        assert "locked" in title and "5 times" in body and notes[0].params["until"] in body
    mails = _mails_to(app, "locked@example.com", since)
    assert len(mails) == 1


def test_lockout_of_an_unknown_address_tells_nobody(app, client):
    for _ in range(5):
        response = login(client, "ghost@example.com", "wrong-password-123")
    assert response.status_code == 429 and 'id="lockout-notice"' in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(Notification.id)) is None


def test_each_new_lock_is_told_once_and_ends_on_time(app, make):
    from marketplace.services import accounts
    from marketplace.services.errors import AuthenticationFailed, TooManyAttempts
    user_id = make.user("twice@example.com")
    t0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)

    def attempt(at, password="wrong-password-123"):
        try:
            return accounts.authenticate("twice@example.com", password, "10.0.0.1", now=at)
        except (AuthenticationFailed, TooManyAttempts) as exc:
            return exc

    with app.test_request_context("/"):
        for i in range(4):
            assert isinstance(attempt(t0 + timedelta(minutes=i)), AuthenticationFailed)
        locked = attempt(t0 + timedelta(minutes=4))
        assert isinstance(locked, TooManyAttempts)
        # the oldest counted failure (08:00) ends the lock at 08:15: 11 minutes after the locking attempt
        assert locked.retry_after_seconds == 11 * 60
        assert "16:15" in str(locked.message)  # 08:15 UTC in the site's zone (Asia/Shanghai)
        still = attempt(t0 + timedelta(minutes=10), TEST_PASSWORD)
        assert isinstance(still, TooManyAttempts) and still.retry_after_seconds == 5 * 60
        # 08:15:30: the 08:00 failure has aged out, so the next failure is the fifth within 15 minutes again
        # (08:01 to 08:04): a new lock until 08:16 (when 08:01 ages out), and a new notice
        relocked = attempt(t0 + timedelta(minutes=15, seconds=30))
        assert isinstance(relocked, TooManyAttempts) and relocked.retry_after_seconds == 30
        notes = list(db.session.scalars(select(Notification).where(Notification.user_id == user_id)
                                        .order_by(Notification.id)))
        assert [n.message_key for n in notes] == ["account_locked", "account_locked"]
        assert notes[0].dedupe_key != notes[1].dedupe_key and notes[0].params["until"] == "2026-03-01 16:15"
        # after the lock the right password works
        user = attempt(t0 + timedelta(minutes=40), TEST_PASSWORD)
        assert isinstance(user, User) and user.id == user_id
        db.session.rollback()


def test_security_notices_are_a_notification_kind_with_email_by_default():
    from marketplace.models.notifications import NOTIFICATION_KINDS
    from marketplace.services.notifications import DEFAULTS, KIND_LABELS, MESSAGES
    assert "security" in NOTIFICATION_KINDS and "security" in KIND_LABELS and "account_locked" in MESSAGES
    assert DEFAULTS[("security", "site")] and DEFAULTS[("security", "email")]


# --- open redirects -----------------------------------------------------------------------------------

EVIL_TARGETS = ["//evil.com", "https://evil.com", "http://evil.com/x", "/\\evil.com", "\\\\evil.com",
                "javascript:alert(1)", "JavaScript:alert(1)", "/\t/evil.com", " //evil.com", "/\x0b/evil.com",
                "https:/evil.com", "http:evil.com", "evil.com", "data:text/html,hi", "//evil.com/%2F.."]


@pytest.mark.parametrize("target", EVIL_TARGETS)
def test_login_next_never_leaves_the_site(client, make, target):
    make.user("nexter@example.com")
    response = client.post("/login", query_string={"next": target},
                           data={"email": "nexter@example.com", "password": TEST_PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/"


def test_login_next_follows_a_path_on_this_site(client, make):
    make.user("nexter2@example.com")
    response = client.post("/login", query_string={"next": "/offers/?q=robot"},
                           data={"email": "nexter2@example.com", "password": TEST_PASSWORD})
    assert response.headers["Location"] == "/offers/?q=robot"


@pytest.mark.parametrize("target", ["//evil.com", "/\\evil.com", "/\t/evil.com", "https://evil.com"])
def test_language_switch_and_form_next_stay_on_the_site(client, make, target):
    assert client.get("/lang/en", query_string={"next": target}).headers["Location"] == "/"
    _org_id, _user_id, email = make.member()
    login(client, email)
    response = client.post("/account/saved-searches", data={"q": "robot", "scope": "offers", "next": target})
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/saved-searches"


def test_safe_next_url_unit(app):
    from marketplace.security import safe_next_url
    with app.test_request_context("/", base_url="https://techbridge.example"):
        for target in EVIL_TARGETS + [None, "", "   "]:
            assert safe_next_url(target, "/fallback") == "/fallback", target
        assert safe_next_url("/needs/3?tab=matches#top", "/fallback") == "/needs/3?tab=matches#top"
        assert safe_next_url("/.//evil.com", "/fallback") == "/.//evil.com"  # a path on this host
