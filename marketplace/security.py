"""Login manager wiring, redirect safety, security headers (CSP & co.) and rate-limit helpers.

Headers come from Flask-Talisman with the policy in ``CONTENT_SECURITY_POLICY``: scripts and styles only
from this site (no inline code; a per-request nonce is available as ``csp_nonce()`` for the rare page that
cannot avoid one), no framing, no plugins. A page that needs more (the Swagger UI reference, say) asks for
it explicitly, either for one view with ``@csp_allow(style_src="'unsafe-inline'")`` or for a whole
blueprint with ``CSP_BLUEPRINT_ALLOW = {"api_docs": {"style-src": "'unsafe-inline'"}}``; additions are
appended to the directive (or to ``default-src`` when the directive was not set).
"""
from __future__ import annotations

import logging
import math
import time
from urllib.parse import urljoin, urlparse

from flask import current_app, g, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_user
from flask_talisman import Talisman

from marketplace.extensions import limiter

log = logging.getLogger(__name__)


def init_login(app, login_manager) -> None:
    """Flask-Login over server-side sessions: the session and the remember-me cookie carry the id of a
    ``user_sessions`` row (see ``User.get_id``), so log-out, a password change or the account's session list
    end them; a cookie naming a revoked, expired or unknown session is an anonymous visitor."""
    from marketplace.queries import sessions as sessions_q
    from marketplace.services import sessions

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to continue.")
    login_manager.login_message_category = "warning"
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(session_id: str):
        row = sessions_q.find_active(session_id, max_age=current_app.config["REMEMBER_COOKIE_DURATION"])
        if row is None:
            return None
        user = row.user
        user.session_token, user.current_session_id = session_id, row.id
        if sessions.needs_touch(row):
            g.touch_session_id = row.id
        return user

    @app.after_request
    def touch_session(response):
        """"Last seen" of the request's session, at most once a minute, in its own unit of work."""
        session_id = g.pop("touch_session_id", None)
        if session_id is not None:
            from marketplace.services.unit_of_work import unit_of_work
            try:
                with unit_of_work():
                    sessions.touch(session_id)
            except Exception:  # a busy database must not fail the page; the next request tries again
                log.warning("could not record the session's last use", exc_info=True)
        return response


def log_in(user, session_row, session_token: str, *, remember: bool = False) -> None:
    """Log ``user`` in with the server-side session ``services.sessions.start`` gave (row and id)."""
    user.session_token, user.current_session_id = session_token, session_row.id
    login_user(user, remember=remember)


def client_details() -> dict:
    """The browser and address a new session is recorded with (shown in the account's session list)."""
    return {"user_agent": request.headers.get("User-Agent", ""), "remote_addr": request.remote_addr or ""}


# --- redirects ----------------------------------------------------------------------------------------

def safe_next_url(target: str | None, fallback: str) -> str:
    """Only same-host paths are followed after login, a language switch or a form's ``next``.

    Refused: other hosts (``https://evil.com``), scheme-relative ``//evil.com``, backslashes (``/\\evil.com``,
    which browsers read as ``//``), any scheme (``javascript:``) and control characters or spaces, which
    browsers drop (``/\\t/evil.com`` would become ``//evil.com``).
    """
    if not target:
        return fallback
    target = target.strip()
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return fallback
    if any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in target):
        return fallback
    host = urlparse(request.host_url)
    resolved = urlparse(urljoin(request.host_url, target))
    if resolved.scheme not in ("http", "https") or resolved.netloc != host.netloc:
        return fallback
    return target


# --- security headers ---------------------------------------------------------------------------------

def csp_allow(**directives: str):
    """View decorator: extra CSP sources for this view only, e.g. ``@csp_allow(img_src="https://x.example")``.

    Keyword names are directives with ``_`` for ``-``; values are space-separated sources.
    """
    extra = {name.replace("_", "-"): value for name, value in directives.items()}

    def decorate(view):
        view.csp_allow = {**getattr(view, "csp_allow", {}), **extra}
        return view
    return decorate


def merge_csp(policy: dict, extra: dict) -> dict:
    """``policy`` with the sources in ``extra`` appended per directive (a new dict)."""
    merged = dict(policy)
    for directive, sources in extra.items():
        base = merged.get(directive, merged.get("default-src", ""))
        added = [s for s in str(sources).split() if s not in str(base).split()]
        merged[directive] = " ".join([str(base), *added]).strip()
    return merged


def _additions() -> dict:
    """CSP additions for the current request: its blueprint (and parents) from config, then its view."""
    extra: dict = {}
    by_blueprint = current_app.config.get("CSP_BLUEPRINT_ALLOW") or {}
    if request.blueprint:
        parts = request.blueprint.split(".")
        for i in range(1, len(parts) + 1):
            for directive, sources in (by_blueprint.get(".".join(parts[:i])) or {}).items():
                extra[directive] = f"{extra.get(directive, '')} {sources}".strip()
    view = current_app.view_functions.get(request.endpoint or "")
    for directive, sources in (getattr(view, "csp_allow", None) or {}).items():
        extra[directive] = f"{extra.get(directive, '')} {sources}".strip()
    return extra


class SiteTalisman(Talisman):
    """Talisman with per-blueprint/per-view CSP additions and https-exempt endpoints (health checks)."""

    def _get_local_options(self):
        options = dict(super()._get_local_options())
        extra = _additions()
        if extra and options.get("content_security_policy"):
            options["content_security_policy"] = merge_csp(options["content_security_policy"], extra)
        if request.endpoint in (current_app.config.get("FORCE_HTTPS_EXEMPT_ENDPOINTS") or ()):
            options["force_https"] = False
        return options


def _flag(value) -> bool:
    """Config switches may come from the environment as text ("0", "false", "no", "off")."""
    if isinstance(value, str):
        return value.strip().lower() not in ("", "0", "false", "no", "off")
    return bool(value)


def init_headers(app) -> SiteTalisman:
    """Security headers on every response: CSP, frame and sniffing protection, referrer and permissions
    policies; HSTS and the https redirect only where the config asks for them (production)."""
    config = app.config
    # per app, never the config class's shared dict
    config["CSP_BLUEPRINT_ALLOW"] = {name: dict(extra)
                                     for name, extra in (config.get("CSP_BLUEPRINT_ALLOW") or {}).items()}
    talisman = SiteTalisman()
    talisman.init_app(
        app,
        force_https=_flag(config.get("FORCE_HTTPS")),
        strict_transport_security=_flag(config.get("HSTS_ENABLED")),
        strict_transport_security_max_age=int(config.get("HSTS_MAX_AGE", 31536000)),
        strict_transport_security_include_subdomains=_flag(config.get("HSTS_INCLUDE_SUBDOMAINS")),
        content_security_policy=dict(config["CONTENT_SECURITY_POLICY"]),
        content_security_policy_nonce_in=["script-src"],
        frame_options="DENY",
        referrer_policy=config.get("REFERRER_POLICY", "strict-origin-when-cross-origin"),
        permissions_policy=dict(config.get("PERMISSIONS_POLICY") or {}),
        # Talisman would force these on; the config classes decide (Secure only in production).
        session_cookie_secure=_flag(config.get("SESSION_COOKIE_SECURE")),
        session_cookie_http_only=_flag(config.get("SESSION_COOKIE_HTTPONLY", True)),
        session_cookie_samesite=config.get("SESSION_COOKIE_SAMESITE", "Lax"),
    )

    @app.after_request
    def isolate_browsing_context(response):
        # Pages we open in a new tab cannot reach back into ours through window.opener.
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        return response

    app.extensions["talisman"] = talisman
    return talisman


# --- rate limits --------------------------------------------------------------------------------------

def limit_from_config(key: str, *, methods: list[str] | None = None):
    """Flask-Limiter decorator whose limit (e.g. ``"10 per minute"``) is ``app.config[key]``, read per
    request so tests and operators can change it without a restart of the limiter."""
    return limiter.limit(lambda: current_app.config[key], methods=methods)


def retry_after_seconds() -> int:
    """Seconds until the limit hit by this request lets the client in again (at least 1)."""
    current = limiter.current_limit
    if current is None:
        return 60
    return max(1, math.ceil(current.reset_at - time.time()))


def too_many_requests(headers: dict) -> tuple[str, dict]:
    """Description and headers of a 429 from Flask-Limiter, in the user's language, with Retry-After."""
    headers = dict(headers)
    given = str(headers.get("Retry-After") or "")
    wait = int(given) if given.isascii() and given.isdigit() and len(given) < 7 else retry_after_seconds()
    headers["Retry-After"] = str(wait)
    message = _("You sent too many requests in a short time. Please wait %(n)d seconds and try again.", n=wait)
    return message, headers
