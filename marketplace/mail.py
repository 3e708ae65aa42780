"""Outgoing e-mail through Flask-Mail, or a folder of .eml files when no mail server is configured.

In development and tests ``MAIL_SERVER`` is unset: every message is written to ``MAIL_FOLDER`` (default
``<instance>/mail``) as an RFC 822 file that any mail client opens, and nothing leaves the machine.
"""
from __future__ import annotations

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


def send(to: str, subject: str, body: str, html: str | None = None) -> Path | None:
    """Send one message; returns the file written when the folder backend is in use."""
    init_app(current_app._get_current_object())
    message = Message(subject=subject, recipients=[to], body=body, html=html,
                      sender=current_app.config.get("MAIL_DEFAULT_SENDER"))
    if not uses_folder():
        mail.send(message)
        return None
    folder = mail_folder()
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%f")
    path = folder / f"{stamp}-{uuid.uuid4().hex[:8]}.eml"
    path.write_bytes(message.as_bytes())
    return path
