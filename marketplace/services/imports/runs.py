"""Import runs: an uploaded file becomes a queued ``ImportRun``, and the import job (``tasks/imports.py``)
claims it, checks every row, imports the rows a chunk at a time and records the outcome on it.

Each chunk commits with the run's count of rows done, so a run whose worker died (a restart, a lost thread)
is taken up again by the sweep (``requeue_stalled``) from the first row not committed: no row twice.

One submission, one run: a run's ``active_key`` (user, entity, organisation and the file's SHA-256) is unique
while the run is queued or running, and the user's latest run, when it is of the same submission and less than
``RESUBMIT_SECONDS`` old, is returned instead of a new one, so a double click, a second tab or two workers
never import a file twice at once.
"""
from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime, timedelta

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from marketplace import jobs
from marketplace.extensions import db
from marketplace.models import ImportRun, User
from marketplace.models.base import utcnow
from marketplace.services.errors import ValidationFailed
from marketplace.services.imports.files import read_table
from marketplace.services.imports.rows import ImportResult, check_table, import_rows
from marketplace.services.imports.safe_read import ReadLimits
from marketplace.services.imports.table import ImportTable

IMPORT_JOB = "imports.run"
RESUBMIT_SECONDS = 60  # the same file sent again this soon after is the same submission (double click, reload)
STALE_SECONDS = 3600  # a run untouched this long lost its worker and no sweep took it up: it no longer blocks
RESUME_JOB = "imports.resume_stalled"


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
        if _aware(active.updated_at or active.created_at) > utcnow() - timedelta(seconds=STALE_SECONDS):
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
                                 .values(status="running",
                                         started_at=func.coalesce(ImportRun.started_at, utcnow())))
    return claimed.rowcount == 1


def entity_of(run_id: int) -> str:
    """What a run imports (its limits depend on it)."""
    return db.session.get(ImportRun, run_id).entity


def rows_done(run_id: int) -> int:
    """Rows of the run already committed (a resumed run starts after them)."""
    return db.session.get(ImportRun, run_id).rows_done or 0


def read_run_table(run_id: int, *, limits: ReadLimits) -> ImportTable:
    """The rows of a run's file (read once per attempt; the chunks are imported from it)."""
    run = db.session.get(ImportRun, run_id)
    return read_table(run.entity, run.filename, run.content or b"", limits=limits)


def check_run(run_id: int, table: ImportTable, *, deadline: float | None = None,
              time_limit_seconds: float | None = None) -> None:
    """Check every row of the run's file before anything is written (``rows.check_table``): a file with any
    invalid row imports nothing."""
    run = db.session.get(ImportRun, run_id)
    check_table(db.session.get(User, run.user_id), run.entity, table, organization_id=run.organization_id,
                deadline=deadline, time_limit_seconds=time_limit_seconds)


def import_chunk(run_id: int, table: ImportTable, size: int, *, progress=None, deadline: float | None = None,
                 time_limit_seconds: float | None = None) -> bool:
    """Import the next ``size`` rows of a checked run and add them to the run's record (rows done, ids,
    skipped rows), in the caller's unit of work: the rows and the count commit together. True once the last
    row is in (the run is then "done")."""
    run = db.session.get(ImportRun, run_id)
    start = run.rows_done or 0
    stop = min(start + max(1, size), len(table.rows))
    result = import_rows(db.session.get(User, run.user_id), run.entity, table, start, stop,
                         organization_id=run.organization_id, weights=run.weights, progress=progress,
                         deadline=deadline, time_limit_seconds=time_limit_seconds)
    run.rows_total, run.rows_done = len(table.rows), stop
    run.created_count = (run.created_count or 0) + result.created
    run.updated_count = (run.updated_count or 0) + result.updated
    # JSON columns: assign new lists so the change is seen
    run.created_ids = list(run.created_ids or []) + list(result.created_ids)
    run.updated_ids = list(run.updated_ids or []) + list(result.updated_ids)
    run.skipped_rows = list(run.skipped_rows or []) + list(result.skipped_rows)
    finished = stop >= len(table.rows)
    if finished:
        run.status, run.active_key, run.content, run.finished_at = "done", None, None, utcnow()
    db.session.flush()
    return finished


def execute_run(run_id: int, *, limits: ReadLimits, progress=None,
                time_limit_seconds: float | None = None) -> ImportResult:
    """Import a claimed run's whole file in the caller's unit of work (all rows and the run's outcome commit
    together) and return what it did. Raises what ``read_table`` / ``check_table`` / ``import_rows`` raise."""
    deadline = time.monotonic() + time_limit_seconds if time_limit_seconds is not None else None
    table = read_run_table(run_id, limits=limits)
    check_run(run_id, table, deadline=deadline, time_limit_seconds=time_limit_seconds)
    run = db.session.get(ImportRun, run_id)
    created, updated = len(run.created_ids or []), len(run.updated_ids or [])
    import_chunk(run_id, table, len(table.rows), progress=progress, deadline=deadline,
                 time_limit_seconds=time_limit_seconds)
    return ImportResult(entity=run.entity, created=run.created_count, updated=run.updated_count,
                        skipped_rows=list(run.skipped_rows), created_ids=list(run.created_ids[created:]),
                        updated_ids=list(run.updated_ids[updated:]))


def requeue_stalled(stale_seconds: float) -> list[int]:
    """Runs whose worker is gone: queued, or running, with nothing recorded for ``stale_seconds`` (a chunk
    commits far more often). Running ones go back to "queued", keeping the rows they committed; returns the
    ids to run again (``claim_run`` still lets one worker at a time take each)."""
    cutoff = utcnow() - timedelta(seconds=stale_seconds)
    candidates = db.session.execute(select(ImportRun.id, ImportRun.status).where(
        ImportRun.status.in_(("queued", "running")), ImportRun.updated_at <= cutoff).order_by(ImportRun.id)).all()
    run_ids = []
    for run_id, status in candidates:
        if status == "running":
            moved = db.session.execute(update(ImportRun).where(
                ImportRun.id == run_id, ImportRun.status == "running", ImportRun.updated_at <= cutoff)
                .values(status="queued"))
            if moved.rowcount != 1:
                continue  # its worker recorded progress meanwhile, or another sweep took it
        run_ids.append(run_id)
    return run_ids


def fail_run(run_id: int, message, row_errors=()) -> None:
    """Record why a run stopped: the summary and every problem by row, in the language of the person who
    uploaded the file (the job has no request to take it from). Rows committed by earlier chunks stay listed."""
    run = db.session.get(ImportRun, run_id)
    if run is None:
        return
    with force_locale(run.locale or "zh"):
        run.message = str(message)
        run.row_errors = [[e.row, e.column, str(e.message)] for e in row_errors]
    run.status, run.active_key, run.content, run.finished_at = "failed", None, None, utcnow()
    db.session.flush()
