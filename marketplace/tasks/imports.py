"""The import job: claim a queued run, check every row, import the rows a chunk at a time, record the outcome.

Units of work: the claim (so a second worker given the same run does nothing), the check of the whole file
(nothing written; a file with an invalid row imports nothing), one per chunk of ``IMPORT_CHUNK_ROWS`` rows (the
rows and the run's count of rows done commit together, so the page shows progress on every database and a run
cut short resumes after its last chunk), and, when the import is refused, recording why. Progress is only what
has committed: ``rows_done`` is also where a resumed run starts, so nothing may count rows a rollback could undo.

Without Redis the job runs on a background thread of the process that queued it (``jobs.job(background=True)``),
never inside the upload request; ``resume_stalled`` (part of ``flask brokering sweep``, or ``flask imports
resume``) runs again the runs whose worker or thread is gone.
"""
from __future__ import annotations

import time

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from marketplace import jobs
from marketplace.services.errors import DomainError
from marketplace.services.imports import ImportRejected, ImportTimedOut, ReadLimits
from marketplace.services.imports import runs as import_runs
from marketplace.services.unit_of_work import unit_of_work

RUN_TIMEOUT_SECONDS = 3 * 3600  # on the RQ queue: above IMPORT_PATENT_MAX_SECONDS, so the run's own limit speaks
DEFAULT_CHUNK_ROWS = 1000
DEFAULT_STALE_SECONDS = 600


def _fail(run_id: int, message, row_errors=()) -> None:
    with unit_of_work():
        import_runs.fail_run(run_id, message, row_errors)


def _stopped_after(done: int):
    return _l("The import stopped after %(n)d rows; import the file again to import the rest (rows already "
              "imported are updated, not repeated).", n=done)


def _timed_out_after(done: int):
    return _l("The import took longer than its time limit and was stopped after %(n)d rows; import the file "
              "again to import the rest (rows already imported are updated, not repeated).", n=done)


def _stop(run_id: int, message, row_errors=(), partial=_stopped_after) -> None:
    """Fail the run with ``message``, or, when earlier chunks committed rows, say how many (``partial``)."""
    with unit_of_work():
        done = import_runs.rows_done(run_id)
    _fail(run_id, partial(done) if done else message, row_errors)


def _import(run_id: int, entity: str, resumed_after: int) -> None:
    config = current_app.config
    limits = ReadLimits.for_entity(config, entity)
    time_limit = config.get("IMPORT_PATENT_MAX_SECONDS" if entity == "patents" else "IMPORT_MAX_SECONDS")
    time_limit = float(time_limit) if time_limit else None
    deadline = time.monotonic() + time_limit if time_limit is not None else None
    chunk_rows = int(config.get("IMPORT_CHUNK_ROWS") or DEFAULT_CHUNK_ROWS)
    with unit_of_work():
        table = import_runs.read_run_table(run_id, limits=limits)
        if not resumed_after:  # a resumed run passed its check before its first chunk committed
            import_runs.check_run(run_id, table, deadline=deadline, time_limit_seconds=time_limit)
    finished = False
    while not finished:
        with unit_of_work():
            finished = import_runs.import_chunk(run_id, table, chunk_rows, deadline=deadline,
                                                time_limit_seconds=time_limit)


@jobs.job(import_runs.IMPORT_JOB, background=True, timeout_seconds=RUN_TIMEOUT_SECONDS)
def run(run_id: int) -> str:
    """Import the file of run ``run_id``; returns the run's final status (or "skipped" when not claimed)."""
    with unit_of_work():
        if not import_runs.claim_run(run_id):
            return "skipped"
        entity, resumed_after = import_runs.entity_of(run_id), import_runs.rows_done(run_id)
    try:
        _import(run_id, entity, resumed_after)
    except ImportTimedOut as exc:
        _stop(run_id, exc.message, partial=_timed_out_after)
        return "failed"
    except ImportRejected as exc:
        _stop(run_id, exc.message, exc.row_errors)
        return "failed"
    except DomainError as exc:
        _stop(run_id, exc.message)
        return "failed"
    except IntegrityError:
        # another import saved the same records (same keys or patent numbers) while this one ran
        _stop(run_id, _l("Another import changed the same records at the same time; nothing was imported. "
                         "Import the file again."))
        return "failed"
    except Exception:
        _stop(run_id, _l("The import failed unexpectedly; nothing was imported. Try again later."))
        raise
    return "done"


@jobs.job(import_runs.RESUME_JOB, timeout_seconds=RUN_TIMEOUT_SECONDS)
def resume_stalled(stale_seconds: float | None = None) -> dict:
    """Run again, here, the imports whose worker or thread is gone (queued or running with nothing recorded
    for ``IMPORT_STALE_SECONDS``): each continues after the rows it committed. Part of the sweep."""
    if stale_seconds is None:
        stale_seconds = float(current_app.config.get("IMPORT_STALE_SECONDS") or DEFAULT_STALE_SECONDS)
    with unit_of_work():
        run_ids = import_runs.requeue_stalled(stale_seconds)
    outcomes = [run(run_id=run_id) for run_id in run_ids]
    return {"import_runs_resumed": sum(1 for outcome in outcomes if outcome != "skipped"),
            "import_runs_done": outcomes.count("done")}
