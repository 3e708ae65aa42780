"""The entry side of idempotent submissions (``services/idempotency.py``), for site forms and the API alike.

Before a creating request runs, its key is looked up: a replay is answered with the first result (pages:
a message and a redirect to what was created; API: the stored response, ``Idempotent-Replayed: true``).
Otherwise the key is armed for the request's unit of work. After the request the key is disarmed and, if a
commit recorded it, the response is stored for later replays.
"""
from __future__ import annotations

import logging
import uuid

from flask import current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup, escape

from marketplace.api.problems import is_api_request, problem
from marketplace.extensions import db
from marketplace.security import safe_next_url
from marketplace.services import api_tokens, idempotency
from marketplace.services.unit_of_work import unit_of_work

log = logging.getLogger(__name__)

FORM_FIELD = "submission_key"
HEADER = "Idempotency-Key"
CREATING_METHODS = ("POST", "PUT", "PATCH")


def init_submissions(app) -> None:
    """Install the hooks. Call after ``security.init_login``: after-request hooks run in reverse order, and
    the key must be disarmed before any later unit of work of the request (the session's "last seen")."""
    app.before_request(check_submission)
    app.after_request(finish_submission)
    app.jinja_env.globals["submission_key_field"] = submission_key_field


def submission_key_field() -> Markup:
    """The hidden one-time key of a creating form (``{{ submission_key_field() }}`` next to the CSRF token).

    A form shown again after refused input keeps the key it was sent with: nothing was saved under it yet.
    """
    sent = request.form.get(FORM_FIELD, "") if request.method in CREATING_METHODS else ""
    key = sent if idempotency.valid_key(sent) else uuid.uuid4().hex
    return Markup(f'<input type="hidden" name="{FORM_FIELD}" value="{escape(key)}">')


def current_submission() -> idempotency.Submission | None:
    """The submission key this request carries (form field or API header), with its caller's scope."""
    if request.method not in CREATING_METHODS:
        return None
    if is_api_request():
        key = request.headers.get(HEADER)
        if key is None:
            return None
        secret = request.headers.get("Authorization", "").partition(" ")[2].strip()
        scope = "token:" + api_tokens.hash_secret(secret)[:32] if secret else "anon"
    else:
        key = request.form.get(FORM_FIELD)
        if not key:
            return None
        scope = f"user:{current_user.id}" if current_user.is_authenticated else "anon"
    return idempotency.Submission(scope=scope, key=key.strip(), method=request.method, path=request.path)


def check_submission():
    """Before the view: answer a replay, or arm the key for this request's commit."""
    submission = current_submission()
    if submission is None:
        return None
    if not idempotency.valid_key(submission.key):
        if is_api_request():
            return problem(400, _("Bad request"), _("The Idempotency-Key header must be 8 to 80 letters, digits, "
                                                    "'-' or '_'."))
        return None  # a mangled hidden field: the form still works, only without the protection
    earlier = idempotency.find(submission)
    if earlier is None:
        idempotency.arm(db.session, submission)
        return None
    return replay(earlier)


def replay(earlier):
    """Answer as the first request was answered (or, while it is still running, say it was sent)."""
    message = str(idempotency.AlreadySubmitted().message)
    if is_api_request():
        if earlier.response_status is None:
            return problem(409, _("Conflict"), message)
        response = current_app.response_class(earlier.response_body or "", status=earlier.response_status,
                                               mimetype="application/json")
        if earlier.response_location:
            response.headers["Location"] = earlier.response_location
        response.headers["Idempotent-Replayed"] = "true"
        return response
    flash(message, "info")
    return redirect(earlier_location(earlier))


def earlier_location(earlier) -> str:
    """Where the first request sent the user, else back where they came from."""
    fallback = url_for("main.home")
    if earlier is not None and earlier.response_location:
        return safe_next_url(earlier.response_location, fallback)
    referrer = request.referrer or ""
    if referrer.startswith(request.host_url):
        referrer = "/" + referrer[len(request.host_url):]
    return safe_next_url(referrer, fallback)


def finish_submission(response):
    """After the view: disarm the key. A recorded submission's response is stored for later replays; a page
    request that lost to an identical copy sent at the same time is sent on to what the copy created."""
    if not db.session.registry.has():
        return response  # the request never opened a database session, so it armed no key (a cached page)
    outcome, submission = idempotency.disarm(db.session)
    if outcome in (idempotency.LOST, idempotency.UNRECORDED) and not is_api_request() \
            and not 300 <= response.status_code < 400:
        # A copy that ran while an identical one committed is refused (by the key, or by the rule the first
        # copy now satisfies, "already registered"): send it on to what the first one created.
        earlier = idempotency.find(submission)
        if earlier is not None:
            message = str(idempotency.AlreadySubmitted().message)
            if message not in [text for _category, text in session.get("_flashes", [])]:
                flash(message, "info")
            return redirect(earlier_location(earlier))
    if outcome != idempotency.RECORDED or response.status_code >= 400:
        return response
    body = None
    if is_api_request() and response.is_json and not response.direct_passthrough:
        body = response.get_data(as_text=True)
    try:
        with unit_of_work():
            idempotency.store_response(submission, response.status_code, response.headers.get("Location", ""), body)
    except Exception:  # the submission is recorded either way; a replay then says "already sent" without the link
        log.warning("could not store the response of submission %s", submission.key, exc_info=True)
    return response
