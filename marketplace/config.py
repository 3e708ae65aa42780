"""Configuration classes; environment variables override the defaults.

Nothing here touches the environment at import time: `load_config` reads it when the
app factory asks for a configuration.
"""
from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(RuntimeError):
    """Raised when the configuration cannot run the app safely."""


# --- the secret key -------------------------------------------------------------------------------------
# One definition of a strong key, used by the app factory (refuse to serve) and by `flask check`.

KNOWN_WEAK_KEYS = frozenset({
    "dev-only-not-secret", "testing-only-not-secret", "change-me", "changeme", "change-this", "secret",
    "secret-key", "secretkey", "my-secret-key", "your-secret-key", "super-secret", "supersecret", "development",
    "dev", "test", "testing", "password", "flask", "techbridge", "please-change-me", "replace-me", "default",
})
MIN_SECRET_LENGTH = 32
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
_KEY_FIX = "set SECRET_KEY to a long random value: python -c 'import secrets; print(secrets.token_hex(32))'"


def secret_key_problem(key: str | None) -> str | None:
    """Why ``key`` cannot sign sessions safely, or None when it is strong (long and not a known placeholder)."""
    key = key or ""
    if not key:
        return "SECRET_KEY is not set"
    if key.strip().lower() in KNOWN_WEAK_KEYS:
        return "SECRET_KEY is a well-known placeholder"
    if len(key) < MIN_SECRET_LENGTH:
        return f"SECRET_KEY has {len(key)} characters, fewer than {MIN_SECRET_LENGTH}"
    return None


def is_loopback(host: str | None) -> bool:
    """True for addresses only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    host = (host or "").strip().lower()
    return host in LOOPBACK_HOSTS or host.startswith("127.")


def require_serving_key(settings: dict, *, serves: bool = True, host: str | None = None) -> None:
    """Refuse to serve requests with a weak SECRET_KEY (anyone could forge sessions and remember cookies).

    Exempt: the testing settings, commands that serve nothing (``flask db upgrade``, ``flask check``, which
    reports the key) and the development server bound to a loopback address (``make run``). ``host`` is the
    address ``flask run`` binds to; a WSGI server (gunicorn) passes None: its address is unknown here.
    """
    name = settings.get("ENV_NAME")
    if name == "testing" or not serves:
        return
    problem = secret_key_problem(settings.get("SECRET_KEY"))
    if problem is None or (name == "development" and host is not None and is_loopback(host)):
        return
    where = f"on {host}" if host else "through a WSGI server"
    raise ConfigError(f"refusing to serve with the {name} settings {where}: {problem}. {_KEY_FIX} "
                      "(only the development server on 127.0.0.1, as `make run` starts it, may use the built-in "
                      "development key; a deployment also needs TECHBRIDGE_ENV=production)")


class BaseConfig:
    """Defaults shared by every environment (the embedded, single-machine setup)."""

    ENV_NAME = "base"
    SECRET_KEY: str | None = None
    SQLALCHEMY_DATABASE_URI: str | None = None
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    MEILI_URL: str | None = None
    MEILI_MASTER_KEY: str | None = None
    MEILI_INDEX_PREFIX = "tb_"
    REDIS_URL: str | None = None
    BABEL_DEFAULT_LOCALE = "zh"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    LANGUAGES = ("zh", "en")
    BOOTSTRAP_SERVE_LOCAL = True  # the site works offline: Bootstrap comes from the package
    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = None
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = False
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    # "Keep me logged in" lasts this long at most; the server-side session (user_sessions) ends with it.
    REMEMBER_COOKIE_DURATION = timedelta(days=30)
    MAX_CONTENT_LENGTH = 16 * 1024 * 1024
    LOGIN_MAX_FAILURES = 5
    LOGIN_LOCKOUT_MINUTES = 15
    PASSWORD_MIN_LENGTH = 12
    PER_PAGE = 20
    INTRODUCTION_EXPIRY_DAYS = 14
    INTRODUCTION_REMINDER_DAYS = 3
    INVITATION_EXPIRY_DAYS = 7
    # Submission keys answer a form or API call sent again; after this many days nobody resends, so the
    # sweep deletes them.
    SUBMISSION_KEY_DAYS = 7  # how long a link inviting a colleague into an organisation works
    # False: only organisations an operator verified may request introductions.
    UNVERIFIED_MAY_REQUEST_INTRODUCTIONS = True
    # Notifications and e-mail: without MAIL_SERVER, messages are written as .eml files to MAIL_FOLDER
    # (default <instance>/mail) instead of being sent.
    MAIL_SERVER: str | None = None
    MAIL_PORT = 25
    MAIL_USE_TLS = False
    MAIL_USE_SSL = False
    MAIL_USERNAME: str | None = None
    MAIL_PASSWORD: str | None = None
    MAIL_DEFAULT_SENDER = "TechBridge <noreply@techbridge.local>"
    MAIL_FOLDER: str | None = None
    SITE_URL = "http://localhost:5000"  # absolute links in e-mails
    FOLLOWUP_RATING_MONTHS = 3  # ask both sides to rate the follow-up this long after signature or loss
    STRONG_MATCH_THRESHOLD = 1.2  # a need's new top suggestion at or above this score is announced
    SAVED_SEARCH_MAX_RESULTS = 100  # results compared per saved search run
    INSTANCE_DIR = str(PROJECT_ROOT / "instance")
    TRUSTED_PROXIES = 0  # reverse proxies in front (X-Forwarded-For/-Proto/-Host trusted from this many hops)
    HOME_FIGURES_TTL = 30  # seconds the home page's counts are reused (per process); 0 computes them every time
    # Anonymous visitors' pages (home, catalogue, offer and need pages, search) kept this many seconds, shared
    # through Redis when REDIS_URL is set (marketplace/page_cache.py); PAGE_CACHE=off serves every page fresh.
    PAGE_CACHE = "on"
    # Without Redis: "file" shares the pages between the workers of the machine (a SQLite file in INSTANCE_DIR,
    # marketplace/page_cache_file.py); "memory" keeps them per process (an INSTANCE_DIR on a network disk).
    PAGE_CACHE_STORE = "file"
    PAGE_CACHE_TTL = 5
    # An offer's or a need's page: a change empties the cache in every worker at once (the generation stamp), so
    # this bounds only what the commit listener cannot see.
    PAGE_CACHE_ITEM_TTL = 60
    PAGE_CACHE_FRAGMENT_TTL = 30  # parts shared by many pages (the catalogue's facet counts), also emptied on a change
    # Popular searches are counted per process and written together after this many seconds
    # (marketplace/search_counts.py): cached search pages count too, without a write per visit.
    SEARCH_COUNT_INTERVAL = 10
    # The words behind "did you mean" are written to INSTANCE_DIR for the other workers (queries/search_help.py).
    SEARCH_VOCABULARY_SHARED = True
    RATELIMIT_ENABLED = True
    RATELIMIT_STORAGE_URI = "memory://"  # Redis (REDIS_URL) when set, so gunicorn workers share counters
    RATELIMIT_HEADERS_ENABLED = True
    # Redis down: count in this process's memory until it answers again, and never fail a request over a limit.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_SWALLOW_ERRORS = True
    API_RATE_LIMIT = "300 per minute"  # per token, or per address without one
    # Uploads live outside the static folder (default <INSTANCE_DIR>/uploads) and are served by a view that checks
    # access; sizes per purpose (logo, attachment, business licence).
    UPLOAD_FOLDER: str | None = None
    UPLOAD_MAX_BYTES = {"logo": 2 * 1024 * 1024, "attachment": 10 * 1024 * 1024, "licence": 10 * 1024 * 1024}
    UPLOAD_RATE_LIMIT = "30 per minute"  # per user
    # Imports (marketplace/services/imports): what an uploaded .xlsx / .csv may make the server do. A workbook's
    # zip is checked before parsing (parts, unpacked sizes, compression ratio, shared strings); reading stops
    # after IMPORT_BLANK_ROWS_STOP blank rows in a row; the job stops after IMPORT_MAX_SECONDS.
    IMPORT_MAX_BYTES = 5 * 1024 * 1024
    IMPORT_MAX_ROWS = 2000
    IMPORT_MAX_COLUMNS = 200
    IMPORT_MAX_ZIP_ENTRIES = 200
    IMPORT_MAX_ENTRY_BYTES = 50 * 1024 * 1024
    IMPORT_MAX_UNCOMPRESSED_BYTES = 120 * 1024 * 1024
    IMPORT_MAX_COMPRESSION_RATIO = 200
    IMPORT_MAX_SHARED_STRINGS = 200_000
    IMPORT_BLANK_ROWS_STOP = 100
    IMPORT_MAX_CELL_CHARS = 32767
    IMPORT_MAX_SECONDS = 300
    IMPORT_CHUNK_ROWS = 1000  # rows per committed chunk of an import job (its progress, and where it resumes)
    IMPORT_STALE_SECONDS = 600  # a queued or running import untouched this long lost its worker: the sweep resumes it
    # Long jobs run in-process (no REDIS_URL) go on a thread of their own, never inside the request:
    # "thread"; "inline" runs them at once (tests); "deferred" leaves them to the sweep.
    BACKGROUND_JOBS = "thread"
    # Patents come by the hundred thousand (a park screens 100,000+ to publish 50): a patent file may hold more
    # rows, be larger (still within MAX_CONTENT_LENGTH) and run longer; the workbook checks above still apply.
    IMPORT_PATENT_MAX_ROWS = 100_000
    IMPORT_PATENT_MAX_BYTES = 16 * 1024 * 1024
    IMPORT_PATENT_MAX_SECONDS = 3600
    # Rate limits per client address (Flask-Limiter syntax, several joined by ";"), read on each request.
    LOGIN_RATE_LIMIT = "10 per minute; 100 per hour"  # log-in posts (guessing is also locked per account)
    REGISTER_RATE_LIMIT = "5 per minute; 30 per hour"  # registration form posts
    SEARCH_RATE_LIMIT = "60 per minute"  # site search result pages
    SUGGEST_RATE_LIMIT = "120 per minute"  # suggestions as you type
    # Security headers (Flask-Talisman; see marketplace/security.py). No inline scripts or styles anywhere:
    # a page that needs more adds it with @csp_allow(...) or CSP_BLUEPRINT_ALLOW below.
    CONTENT_SECURITY_POLICY = {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": "'self' data:",  # Bootstrap draws checkboxes, selects and the navbar icon as data: SVGs
        "font-src": "'self'",
        "connect-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }
    CSP_BLUEPRINT_ALLOW: dict = {}  # blueprint name -> {directive: extra sources}, e.g. for a docs page
    REFERRER_POLICY = "strict-origin-when-cross-origin"
    PERMISSIONS_POLICY = {"camera": "()", "microphone": "()", "geolocation": "()", "payment": "()",
                          "usb": "()", "browsing-topics": "()"}
    FORCE_HTTPS = False  # redirect http:// to https:// (production; FORCE_HTTPS=0 if the proxy already does)
    FORCE_HTTPS_EXEMPT_ENDPOINTS = ("main.healthz",)  # load balancers probe over plain http
    HSTS_ENABLED = False  # Strict-Transport-Security on https responses (production)
    HSTS_MAX_AGE = 365 * 24 * 3600
    HSTS_INCLUDE_SUBDOMAINS = False  # other hosts of the park's domain may not all speak https


class DevelopmentConfig(BaseConfig):
    ENV_NAME = "development"
    SECRET_KEY = "dev-only-not-secret"


class TestingConfig(BaseConfig):
    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "testing-only-not-secret"
    HOME_FIGURES_TTL = 0  # tests read the figures right after changing the data
    PAGE_CACHE = "off"  # tests read pages right after changing the data; tests/marketplace/test_page_cache*.py turn it on
    SEARCH_VOCABULARY_SHARED = False  # each test builds the words of its own data
    SEARCH_COUNT_INTERVAL = 0  # counted searches are written at once
    WTF_CSRF_ENABLED = False
    LOGIN_MAX_FAILURES = 5
    # Limits stay switched on in tests (Flask-Limiter only sets up its storage when enabled) but are generous;
    # tests that check a limit lower it in app.config for a moment (limits are read from config per request).
    RATELIMIT_ENABLED = True
    API_RATE_LIMIT = "100000 per minute"
    LOGIN_RATE_LIMIT = REGISTER_RATE_LIMIT = SEARCH_RATE_LIMIT = SUGGEST_RATE_LIMIT = "100000 per minute"
    UPLOAD_RATE_LIMIT = "100000 per minute"
    BACKGROUND_JOBS = "inline"  # an upload's import runs before the response; test_import_resume.py changes it


class ProductionConfig(BaseConfig):
    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"
    FORCE_HTTPS = True  # behind a TLS-terminating proxy set TRUSTED_PROXIES so X-Forwarded-Proto counts
    HSTS_ENABLED = True


CONFIGS = {c.ENV_NAME: c for c in (DevelopmentConfig, TestingConfig, ProductionConfig)}

# Environment variable -> config key; read once, in load_config.
ENV_OVERRIDES = {
    "SECRET_KEY": "SECRET_KEY",
    "DATABASE_URL": "SQLALCHEMY_DATABASE_URI",
    "MEILI_URL": "MEILI_URL",
    "MEILI_MASTER_KEY": "MEILI_MASTER_KEY",
    "MEILI_INDEX_PREFIX": "MEILI_INDEX_PREFIX",
    "REDIS_URL": "REDIS_URL",
    "PAGE_CACHE": "PAGE_CACHE",
    "PAGE_CACHE_TTL": "PAGE_CACHE_TTL",
    "PAGE_CACHE_ITEM_TTL": "PAGE_CACHE_ITEM_TTL",
    "PAGE_CACHE_STORE": "PAGE_CACHE_STORE",
    "SEARCH_COUNT_INTERVAL": "SEARCH_COUNT_INTERVAL",
    "MAIL_SERVER": "MAIL_SERVER",
    "MAIL_PORT": "MAIL_PORT",
    "MAIL_USERNAME": "MAIL_USERNAME",
    "MAIL_PASSWORD": "MAIL_PASSWORD",
    "MAIL_DEFAULT_SENDER": "MAIL_DEFAULT_SENDER",
    "MAIL_FOLDER": "MAIL_FOLDER",
    "SITE_URL": "SITE_URL",
    "INSTANCE_DIR": "INSTANCE_DIR",
    "TRUSTED_PROXIES": "TRUSTED_PROXIES",
    "FORCE_HTTPS": "FORCE_HTTPS",
    "UPLOAD_FOLDER": "UPLOAD_FOLDER",
    "UNVERIFIED_MAY_REQUEST_INTRODUCTIONS": "UNVERIFIED_MAY_REQUEST_INTRODUCTIONS",
    "LOGIN_RATE_LIMIT": "LOGIN_RATE_LIMIT",
    "REGISTER_RATE_LIMIT": "REGISTER_RATE_LIMIT",
    "SEARCH_RATE_LIMIT": "SEARCH_RATE_LIMIT",
    "SUGGEST_RATE_LIMIT": "SUGGEST_RATE_LIMIT",
    "API_RATE_LIMIT": "API_RATE_LIMIT",
    "UPLOAD_RATE_LIMIT": "UPLOAD_RATE_LIMIT",
    "RATELIMIT_STORAGE_URI": "RATELIMIT_STORAGE_URI",
    "REMEMBER_COOKIE_DAYS": "REMEMBER_COOKIE_DURATION",
}


def normalise_database_url(url: str) -> str:
    """Use the psycopg 3 driver for plain postgres URLs (Heroku-style ``postgres://`` too)."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def _duration(value) -> timedelta:
    """A timedelta as is; a number (from the environment: ``REMEMBER_COOKIE_DAYS``) counts days."""
    if isinstance(value, timedelta):
        return value
    try:
        return timedelta(days=float(value))
    except (TypeError, ValueError):
        raise ConfigError(f"REMEMBER_COOKIE_DAYS must be a number of days, not {value!r}") from None


def load_config(name: str | None = None, overrides: dict | None = None, environ=None) -> dict:
    """Build the settings dict for ``name`` (``TECHBRIDGE_ENV``, default development).

    Raises ConfigError when production has no secret key.
    """
    environ = os.environ if environ is None else environ
    name = name or environ.get("TECHBRIDGE_ENV", "development")
    if name not in CONFIGS:
        raise ConfigError(f"unknown TECHBRIDGE_ENV {name!r}; use one of {sorted(CONFIGS)}")
    cls = CONFIGS[name]
    settings = {k: getattr(cls, k) for k in dir(cls) if k.isupper()}
    for env_key, conf_key in ENV_OVERRIDES.items():
        if environ.get(env_key):
            settings[conf_key] = environ[env_key]
    if settings.get("REDIS_URL") and settings.get("RATELIMIT_STORAGE_URI") == "memory://":
        settings["RATELIMIT_STORAGE_URI"] = settings["REDIS_URL"]
    settings.update(overrides or {})
    settings["REMEMBER_COOKIE_DURATION"] = _duration(settings["REMEMBER_COOKIE_DURATION"])
    if not settings.get("SQLALCHEMY_DATABASE_URI"):
        instance = Path(settings["INSTANCE_DIR"])
        instance.mkdir(parents=True, exist_ok=True)
        settings["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{instance / 'techbridge.sqlite'}"
    settings["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(settings["SQLALCHEMY_DATABASE_URI"])
    settings["UPLOAD_FOLDER"] = settings.get("UPLOAD_FOLDER") or str(Path(settings["INSTANCE_DIR"]) / "uploads")
    settings["UPLOAD_MAX_BYTES"] = dict(settings["UPLOAD_MAX_BYTES"])  # per app, never the shared class attribute
    if name == "production" and not settings.get("SECRET_KEY"):
        raise ConfigError(f"production needs SECRET_KEY set in the environment: {_KEY_FIX}")
    return settings
