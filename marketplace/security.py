"""Login manager wiring and redirect safety."""
from __future__ import annotations

from urllib.parse import urljoin, urlparse

from flask import request
from flask_babel import lazy_gettext as _l

from marketplace.extensions import db


def init_login(app, login_manager) -> None:
    from marketplace.models import User

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to continue.")
    login_manager.login_message_category = "warning"
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(user_id: str):
        if not user_id.isdigit():
            return None
        return db.session.get(User, int(user_id))


def safe_next_url(target: str | None, fallback: str) -> str:
    """Only same-host relative targets are followed after login or a language switch."""
    if not target:
        return fallback
    target = target.strip()
    if target.startswith("//") or "\\" in target:
        return fallback
    host = urlparse(request.host_url)
    resolved = urlparse(urljoin(request.host_url, target))
    if resolved.scheme not in ("http", "https") or resolved.netloc != host.netloc:
        return fallback
    return target if target.startswith("/") else fallback
