"""The one transaction boundary: a request or command commits or rolls back here, nowhere else.

Two requests can pass every check at the same instant and then collide on a unique or foreign key
(the same address registered twice, the same form sent from two tabs). The database refuses the second;
here that refusal becomes a :class:`~marketplace.services.errors.Conflict` with a neutral message in the
user's language, so the entry points answer it like any other business rule (a flash, a 409), never a 500,
and nothing of the losing request is kept.
"""
from __future__ import annotations

from contextlib import contextmanager

from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from marketplace import jobs
from marketplace.extensions import db
from marketplace.services import idempotency
from marketplace.services.errors import Conflict


def violated_constraint(exc: IntegrityError) -> str:
    """The name of the violated constraint (PostgreSQL), or SQLite's description of it
    ("UNIQUE constraint failed: users.email"); empty when the driver does not say."""
    diag = getattr(exc.orig, "diag", None)
    name = getattr(diag, "constraint_name", None)
    return name or str(exc.orig or "")


def conflict_from(exc: IntegrityError) -> Conflict:
    """The domain error for a write the database refused because another request got there first."""
    try:
        if idempotency.is_replay(violated_constraint(exc)):
            return idempotency.AlreadySubmitted()
        return Conflict(_l("Someone else changed this at the same moment, or it already exists. "
                           "Please reload the page and check before trying again."))
    except RuntimeError:  # a job or command: no request, so no language to word the message in
        return Conflict(f"conflicting write refused by the database ({violated_constraint(exc)})")


@contextmanager
def unit_of_work(commit_despite: tuple[type[BaseException], ...] = ()):
    """Commit when the block succeeds, roll back on any exception (and re-raise it).

    ``commit_despite`` lists domain errors whose recorded facts must still be kept, such as a failed
    login attempt that the throttle has to count. Jobs enqueued during the block run after the commit.
    A unique or foreign-key conflict, in the block or at the commit, rolls back and raises ``Conflict``.
    A submission key left in the session by the entry point (see ``services/idempotency.py``) is recorded
    in the same commit as what the block created, so a replay of the same form creates nothing.
    """
    session = db.session
    try:
        yield session
    except commit_despite:
        _commit(session, record_submission=False)
        raise
    except IntegrityError as exc:
        _roll_back(session)
        raise conflict_from(exc) from exc
    except BaseException:
        _roll_back(session)
        raise
    else:
        _commit(session, record_submission=True)


def _commit(session, *, record_submission: bool) -> None:
    submission = idempotency.take_armed(session) if record_submission else None
    try:
        if submission is not None:
            idempotency.record(session, submission)
        session.commit()
    except IntegrityError as exc:
        _roll_back(session)
        error = conflict_from(exc)
        if submission is not None:
            lost = isinstance(error, idempotency.AlreadySubmitted)
            idempotency.settle(session, submission, idempotency.LOST if lost else idempotency.UNRECORDED)
        raise error from exc
    if submission is not None:
        idempotency.settle(session, submission, idempotency.RECORDED)
    jobs.dispatch_pending(session)


def _roll_back(session) -> None:
    session.rollback()
    jobs.discard_pending(session)
