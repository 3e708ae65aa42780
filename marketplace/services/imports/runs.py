"""Import runs: an uploaded file becomes a queued ``ImportRun``, and the import job (``tasks/imports.py``)
claims it, imports its rows and records the outcome on it.

One submission, one run: a run's ``active_key`` (user, entity, organisation and the file's SHA-256) is unique
while the run is queued or running, and the user's latest run, when it is of the same submission and less than
``RESUBMIT_SECONDS`` old, is returned instead of a new one, so a double click, a second tab or two workers
never import a file twice at once.
"""
from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from marketplace import jobs
from marketplace.extensions import db
from marketplace.models import ImportRun, User
from marketplace.models.base import utcnow
from marketplace.services.errors import ValidationFailed
from marketplace.services.imports.files import read_table
from marketplace.services.imports.rows import ImportResult, import_table
from marketplace.services.imports.safe_read import ReadLimits

IMPORT_JOB = "imports.run"
RESUBMIT_SECONDS = 60  # the same file sent again this soon after is the same submission (double click, reload)
STALE_SECONDS = 3600  # a run still "running" after this long lost its worker: it no longer blocks the file


def submission_key(user_id: int, entity: str, organization_id: int | None, file_sha256: str) -> str:
    """What makes two uploads the same submission: who, what kind, into which organisation, which bytes."""
    return hashlib.sha256(f"{user_id}|{entity}|{organization_id or ''}|{file_sha256}".encode()).hexdigest()


def _aware(moment: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes; they were stored as UTC."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


def _same_submission(user_id: int, entity: str, organization_id: int | None, file_sha: str,
                     key: str) -> ImportRun | None:
    active = db.session.scalar(select(ImportRun).where(ImportRun.active_key == key))
    if active is not None:
        if _aware(active.created_at) > utcnow() - timedelta(seconds=STALE_SECONDS):
            return active
        active.status, active.active_key, active.content = "failed", None, None
        active.message = str(_l("The import was interrupted; import the file again."))
        active.finished_at = utcnow()
        db.session.flush()
        return None
    # A finished run is the same submission only if it is the user's latest and recent: sending file A, then B,
    # then A again is a deliberate re-import.
    latest = db.session.scalar(select(ImportRun).where(ImportRun.user_id == user_id)
                               .order_by(ImportRun.id.desc()).limit(1))
    if (latest is not None and (latest.entity, latest.organization_id, latest.file_sha256)
            == (entity, organization_id, file_sha)
            and _aware(latest.created_at) >= utcnow() - timedelta(seconds=RESUBMIT_SECONDS)):
        return latest
    return None


def start_import(user, entity: str, filename: str, content: bytes, *, organization_id: int | None,
                 locale: str, limits: ReadLimits, weights: dict | None = None) -> tuple[ImportRun, bool]:
    """Check the file now (format, size, limits, header row: problems with the file itself are reported at
    once) and queue its import as a job. Returns ``(run, True)`` for a new run, or ``(run, False)`` with the
    run of the same submission when it is still running or has just finished."""
    rows_total = len(read_table(entity, filename, content, limits=limits).rows)
    file_sha = hashlib.sha256(content).hexdigest()
    key = submission_key(user.id, entity, organization_id, file_sha)
    existing = _same_submission(user.id, entity, organization_id, file_sha, key)
    if existing is not None:
        return existing, False
    run = ImportRun(user_id=user.id, organization_id=organization_id, entity=entity, filename=filename[:255],
                    file_sha256=file_sha, locale=(locale or "zh")[:8], status="queued", active_key=key,
                    content=content, weights=weights, rows_total=rows_total, rows_done=0, created_count=0,
                    updated_count=0, created_ids=[], updated_ids=[], skipped_rows=[], row_errors=[])
    try:
        with db.session.begin_nested():
            db.session.add(run)
    except IntegrityError:
        # another request inserted the same submission between our check and our insert
        existing = db.session.scalar(select(ImportRun).where(ImportRun.active_key == key))
        if existing is None:
            raise ValidationFailed(_l("This file is already being imported; wait for that import to finish.")) \
                from None
        return existing, False
    jobs.enqueue(db.session, IMPORT_JOB, run_id=run.id)
    return run, True


def claim_run(run_id: int) -> bool:
    """Mark a queued run as running; False when another worker claimed it first (or it is no longer queued)."""
    claimed = db.session.execute(update(ImportRun).where(ImportRun.id == run_id, ImportRun.status == "queued")
                                 .values(status="running", started_at=utcnow()))
    return claimed.rowcount == 1


def entity_of(run_id: int) -> str:
    """What a run imports (its limits depend on it)."""
    return db.session.get(ImportRun, run_id).entity


def execute_run(run_id: int, *, limits: ReadLimits, progress=None,
                time_limit_seconds: float | None = None) -> ImportResult:
    """Import a claimed run's file and record the result on it, in the caller's unit of work (all rows and
    the run's outcome commit together). Raises what ``read_table`` / ``import_table`` raise."""
    run = db.session.get(ImportRun, run_id)
    user = db.session.get(User, run.user_id)
    table = read_table(run.entity, run.filename, run.content or b"", limits=limits)
    result = import_table(user, run.entity, table, organization_id=run.organization_id, weights=run.weights,
                          progress=progress, time_limit_seconds=time_limit_seconds)
    run.status, run.active_key, run.content, run.finished_at = "done", None, None, utcnow()
    run.rows_total = run.rows_done = len(table.rows)
    run.created_count, run.updated_count = result.created, result.updated
    run.created_ids, run.updated_ids = list(result.created_ids), list(result.updated_ids)
    run.skipped_rows = list(result.skipped_rows)
    db.session.flush()
    return result


def fail_run(run_id: int, message, row_errors=()) -> None:
    """Record why a run imported nothing: the summary and every problem by row, in the language of the person
    who uploaded the file (the job has no request to take it from)."""
    run = db.session.get(ImportRun, run_id)
    if run is None:
        return
    with force_locale(run.locale or "zh"):
        run.message = str(message)
        run.row_errors = [[e.row, e.column, str(e.message)] for e in row_errors]
    run.status, run.active_key, run.content, run.finished_at = "failed", None, None, utcnow()
    db.session.flush()


def progress_statement(run_id: int, done: int, total: int):
    """The UPDATE recording a run's progress; the job runs it on a connection of its own so that pages polling
    the run see it before the import's transaction commits."""
    return update(ImportRun).where(ImportRun.id == run_id).values(rows_done=done, rows_total=total)
