"""Notification jobs: send the e-mails waiting and the daily digests, each in its recipient's language."""
from __future__ import annotations

import logging

from flask import render_template
from flask_babel import force_locale

from marketplace import mail
from marketplace.links import path_for
from marketplace.services import notifications
from marketplace.services.notifications import DIGEST_JOB, EMAIL_JOB
from marketplace.settings import current_settings
from marketplace.tasks.base import task

log = logging.getLogger(__name__)
EMAIL_BATCH = 500
DIGEST_BATCH = 5000


@task(EMAIL_JOB)
def send_pending_email(limit: int = EMAIL_BATCH) -> dict:
    """Send the e-mails waiting for people who chose e-mail; one bad address never stops the others."""
    settings = current_settings()
    sent = failed = 0
    for note in notifications.pending_email(limit):
        user = note.user
        if not user.active or not user.email:
            notifications.mark_emailed(note, "none")
            continue
        lang = notifications.user_language(user, settings.languages, settings.default_locale)
        try:
            with force_locale(lang):
                title, body = notifications.render(note, "en" if lang.startswith("en") else "zh")
                text = render_template(
                    "notifications/email.txt", user=user, title=title, body=body,
                    link=settings.site_url + notifications.safe_link(note.link),
                    preferences_link=settings.site_url + path_for("notifications.preferences"))
            mail.send(user.email, title, text)
        except Exception:  # one bad address must not stop the others
            log.exception("e-mail for notification %s failed", note.id)
            notifications.mark_emailed(note, "failed")
            failed += 1
        else:
            notifications.mark_emailed(note, "sent")
            sent += 1
    return {"sent": sent, "failed": failed}


@task(DIGEST_JOB)
def send_daily_digest(limit: int = DIGEST_BATCH) -> dict:
    """Send each person who chose the daily digest one e-mail with everything gathered since the last one."""
    settings = current_settings()
    sent = failed = 0
    for notes in notifications.digest_due(limit).values():
        user = notes[0].user
        if not user.active or not user.email:
            for note in notes:
                notifications.mark_emailed(note, "none")
            continue
        lang = notifications.user_language(user, settings.languages, settings.default_locale)
        try:
            with force_locale(lang):
                items = [(*notifications.render(note, "en" if lang.startswith("en") else "zh"),
                          settings.site_url + notifications.safe_link(note.link)) for note in notes]
                subject = notifications.digest_subject(len(notes))
                text = render_template(
                    "notifications/digest.txt", user=user, items=items,
                    inbox_link=settings.site_url + path_for("notifications.inbox"),
                    preferences_link=settings.site_url + path_for("notifications.preferences"))
            mail.send(user.email, subject, text)
        except Exception:  # one bad address must not stop the others
            log.exception("digest for user %s failed", user.id)
            state = "failed"
            failed += 1
        else:
            state = "sent"
            sent += 1
        for note in notes:
            notifications.mark_emailed(note, state)
    return {"sent": sent, "failed": failed}
