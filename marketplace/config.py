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
    MAX_CONTENT_LENGTH = 16 * 1024 * 1024
    LOGIN_MAX_FAILURES = 5
    LOGIN_LOCKOUT_MINUTES = 15
    PASSWORD_MIN_LENGTH = 12
    PER_PAGE = 20
    INTRODUCTION_EXPIRY_DAYS = 14
    INTRODUCTION_REMINDER_DAYS = 3
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
    RATELIMIT_ENABLED = True
    RATELIMIT_STORAGE_URI = "memory://"  # Redis (REDIS_URL) when set, so gunicorn workers share counters
    RATELIMIT_HEADERS_ENABLED = True
    # Redis down: count in this process's memory until it answers again, and never fail a request over a limit.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_SWALLOW_ERRORS = True
    API_RATE_LIMIT = "300 per minute"  # per token, or per address without one
    # Uploads live outside the static folder (default <INSTANCE_DIR>/uploads) and are served by a view that checks
    # access; sizes per purpose (logo, attachment).
    UPLOAD_FOLDER: str | None = None
    UPLOAD_MAX_BYTES = {"logo": 2 * 1024 * 1024, "attachment": 10 * 1024 * 1024}
    UPLOAD_RATE_LIMIT = "30 per minute"  # per user
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
    WTF_CSRF_ENABLED = False
    LOGIN_MAX_FAILURES = 5
    # Limits stay switched on in tests (Flask-Limiter only sets up its storage when enabled) but are generous;
    # tests that check a limit lower it in app.config for a moment (limits are read from config per request).
    RATELIMIT_ENABLED = True
    API_RATE_LIMIT = "100000 per minute"
    LOGIN_RATE_LIMIT = REGISTER_RATE_LIMIT = SEARCH_RATE_LIMIT = SUGGEST_RATE_LIMIT = "100000 per minute"
    UPLOAD_RATE_LIMIT = "100000 per minute"


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
}


def normalise_database_url(url: str) -> str:
    """Use the psycopg 3 driver for plain postgres URLs (Heroku-style ``postgres://`` too)."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


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
    if not settings.get("SQLALCHEMY_DATABASE_URI"):
        instance = Path(settings["INSTANCE_DIR"])
        instance.mkdir(parents=True, exist_ok=True)
        settings["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{instance / 'techbridge.sqlite'}"
    settings["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(settings["SQLALCHEMY_DATABASE_URI"])
    settings["UPLOAD_FOLDER"] = settings.get("UPLOAD_FOLDER") or str(Path(settings["INSTANCE_DIR"]) / "uploads")
    settings["UPLOAD_MAX_BYTES"] = dict(settings["UPLOAD_MAX_BYTES"])  # per app, never the shared class attribute
    if name == "production" and not settings.get("SECRET_KEY"):
        raise ConfigError("production needs SECRET_KEY set in the environment")
    return settings
