"""Errors of the API as RFC 9457 problem details (``application/problem+json``) in the requested language."""
from __future__ import annotations

from flask import current_app, json, request
from flask_babel import get_locale

PROBLEM_MIME = "application/problem+json"


def problem(status: int, title: str, detail: str | None = None, *, errors: dict | None = None,
            headers: dict | None = None):
    """A problem+json response; ``errors`` maps input fields to messages."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail or title,
            "instance": request.path}
    if errors:
        body["errors"] = {str(k): _message_text(v) for k, v in errors.items()}
    response = current_app.response_class(json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM_MIME)
    response.headers["Content-Language"] = str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def _message_text(value) -> str:
    """webargs gives lists (or nested dicts) of messages per field; services give one lazy string."""
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_message_text(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return " ".join(_message_text(v) for v in value)
    return str(value)


def is_api_request() -> bool:
    return request.path.startswith("/api/")
