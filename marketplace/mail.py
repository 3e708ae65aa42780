"""Outgoing e-mail through Flask-Mail, or a folder of .eml files when no mail server is configured.

In development and tests ``MAIL_SERVER`` is unset: every message is written to ``MAIL_FOLDER`` (default
``<instance>/mail``) as an RFC 822 file that any mail client opens, and nothing leaves the machine.
"""
from __future__ import annotations

import re
import uuid
from datetime import datetime, timezone
from pathlib import Path

from flask import Flask, current_app
from flask_mail import Mail, Message

mail = Mail()


def init_app(app: Flask) -> None:
    """Bind Flask-Mail (idempotent); the port may come from the environment as text."""
    if "mail" in app.extensions:
        return
    if app.config.get("MAIL_PORT") is not None:
        app.config["MAIL_PORT"] = int(app.config["MAIL_PORT"])
    mail.init_app(app)


def mail_folder() -> Path:
    folder = current_app.config.get("MAIL_FOLDER") or str(Path(current_app.config["INSTANCE_DIR"]) / "mail")
    return Path(folder)


def uses_folder() -> bool:
    return not current_app.config.get("MAIL_SERVER")


_LINE_BREAKS = re.compile(r"[\r\n\v\f\x1c-\x1e\x85\u2028\u2029]+")


def header_safe(value) -> str:
    """``value`` for a mail header: line breaks (which would start new headers) become one space."""
    return _LINE_BREAKS.sub(" ", str(value or "")).strip()


def send(to: str, subject: str, body: str, html: str | None = None) -> Path | None:
    """Send one message; returns the file written when the folder backend is in use.

    Everything that goes into a header (recipient, subject, sender) loses its line breaks first: a title or
    an organisation name with CR/LF must not add headers (Bcc: ...) to the message.
    """
    init_app(current_app._get_current_object())
    message = Message(subject=header_safe(subject), recipients=[header_safe(to)], body=body, html=html,
                      sender=header_safe(current_app.config.get("MAIL_DEFAULT_SENDER")) or None)
    if not uses_folder():
        mail.send(message)
        return None
    folder = mail_folder()
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%f")
    path = folder / f"{stamp}-{uuid.uuid4().hex[:8]}.eml"
    path.write_bytes(message.as_bytes())
    return path
