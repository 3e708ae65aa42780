"""Idempotent submissions: the same form or API call sent twice creates one thing.

Every creating form carries a one-time key (``templates/_submission.html``); API callers may send an
``Idempotency-Key`` header. The entry layer (``views/submissions.py``) looks the key up before the view runs
and answers a replay with the first result; otherwise it leaves the key in the session (:func:`arm`) and the
unit of work writes it (:func:`record`) in the same commit as what the request created. Two copies running
at the same instant both get that far, but the unique constraint on (scope, key) lets only one commit: the
other is rolled back whole and told :class:`AlreadySubmitted`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select, update

from marketplace.extensions import db
from marketplace.models import SubmissionKey
from marketplace.services.errors import Conflict

ARMED = "submission"  # session.info: the key of this request, until the unit of work records it
OUTCOME = "submission_outcome"  # session.info: (RECORDED or LOST, submission) once a commit tried to record it
RECORDED, LOST, UNRECORDED = "recorded", "lost", "unrecorded"
PRUNE_JOB = "submissions.prune_keys"
KEY_PATTERN = re.compile(r"^[A-Za-z0-9_-]{8,80}$")
CONSTRAINT = "uq_submission_keys_scope_key"
MAX_STORED_BODY = 64 * 1024


class AlreadySubmitted(Conflict):
    """The same submission was already carried out (or is being carried out right now)."""

    def __init__(self, message=None):
        super().__init__(message or _l("This was already sent and saved once; it was not saved a second time."))


@dataclass(frozen=True)
class Submission:
    """One submission key of one caller, plus where it was sent (for the record)."""

    scope: str
    key: str
    method: str = "POST"
    path: str = ""


def valid_key(key: str | None) -> bool:
    """Keys are 8 to 80 letters, digits, '-' or '_' (a UUID fits)."""
    return bool(key) and bool(KEY_PATTERN.match(key))


def find(submission: Submission) -> SubmissionKey | None:
    """The record of an earlier submission with this key, if one was committed."""
    return db.session.scalar(select(SubmissionKey).where(SubmissionKey.scope == submission.scope,
                                                         SubmissionKey.key == submission.key))


def arm(session, submission: Submission) -> None:
    """Have the next successful commit of ``session`` record ``submission``."""
    session.info[ARMED] = submission


def disarm(session) -> tuple[str, Submission] | tuple[None, None]:
    """Forget the key of this request (at its end); return what became of it: (RECORDED, submission) when a
    commit recorded it, (LOST, submission) when a copy sent at the same time was recorded first,
    (UNRECORDED, submission) when nothing was committed, and (None, None) without a key."""
    armed = session.info.pop(ARMED, None)
    outcome, submission = session.info.pop(OUTCOME, (None, None))
    if outcome is None and armed is not None:
        return UNRECORDED, armed
    return outcome, submission


def take_armed(session) -> Submission | None:
    """The key armed for this request, taken so that only one commit records it."""
    return session.info.pop(ARMED, None)


def record(session, submission: Submission) -> None:
    """Called by the unit of work just before it commits: write the key into the same transaction. A copy
    committed first makes this flush (or the commit) fail on the unique constraint."""
    session.add(SubmissionKey(scope=submission.scope, key=submission.key, method=submission.method[:8],
                              path=submission.path[:300]))
    session.flush()


def settle(session, submission: Submission, outcome: str) -> None:
    """Note whether the commit recorded ``submission`` (RECORDED) or lost it to an identical copy (LOST)."""
    session.info[OUTCOME] = (outcome, submission)


def store_response(submission: Submission, status: int, location: str = "", body: str | None = None) -> None:
    """Remember how the first request was answered, so a replay can answer the same way. Only flushes."""
    if body is not None and len(body) > MAX_STORED_BODY:
        body = None
    db.session.execute(update(SubmissionKey).where(SubmissionKey.scope == submission.scope,
                                                   SubmissionKey.key == submission.key)
                       .values(response_status=status, response_location=(location or "")[:500],
                               response_body=body).execution_options(synchronize_session=False))
    db.session.flush()


def is_replay(constraint: str) -> bool:
    """Whether a violated constraint (as ``unit_of_work.violated_constraint`` names it) is the key's own."""
    return constraint == CONSTRAINT or "submission_keys.scope" in constraint


def prune(keep_days: int, now: datetime | None = None) -> int:
    """Delete the keys older than ``keep_days`` (a replay that late is not expected); return how many."""
    cutoff = (now or datetime.now(timezone.utc)) - timedelta(days=keep_days)
    result = db.session.execute(delete(SubmissionKey).where(SubmissionKey.created_at < cutoff)
                                .execution_options(synchronize_session=False))
    db.session.flush()
    return result.rowcount or 0
