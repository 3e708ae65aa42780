"""The import job: claim a queued run, import its file in one unit of work, record the outcome.

Three units of work: the claim (so a second worker given the same run does nothing), the import itself (all
rows and the run's "done" commit together), and, when the import is refused, recording why. Progress goes
through a connection of its own so the page polling the run sees it while the import's transaction is open;
SQLite allows one writer at a time, so there the run shows its progress only when it ends.
"""
from __future__ import annotations

import logging

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from marketplace import jobs
from marketplace.extensions import db
from marketplace.services.errors import DomainError
from marketplace.services.imports import ImportRejected, ReadLimits
from marketplace.services.imports import runs as import_runs
from marketplace.services.unit_of_work import unit_of_work

log = logging.getLogger(__name__)


def _progress_writer(run_id: int):
    if db.engine.dialect.name == "sqlite":
        return None

    def write(done: int, total: int) -> None:
        try:
            with db.engine.begin() as connection:
                connection.execute(import_runs.progress_statement(run_id, done, total))
        except Exception as exc:  # progress is a courtesy: it must never stop the import
            log.warning("import run %s: progress not recorded (%s)", run_id, exc)
    return write


def _fail(run_id: int, message, row_errors=()) -> None:
    with unit_of_work():
        import_runs.fail_run(run_id, message, row_errors)


@jobs.job(import_runs.IMPORT_JOB)
def run(run_id: int) -> str:
    """Import the file of run ``run_id``; returns the run's final status (or "skipped" when not claimed)."""
    with unit_of_work():
        if not import_runs.claim_run(run_id):
            return "skipped"
        entity = import_runs.entity_of(run_id)
    limits = ReadLimits.for_entity(current_app.config, entity)
    time_limit = current_app.config.get("IMPORT_PATENT_MAX_SECONDS" if entity == "patents" else "IMPORT_MAX_SECONDS")
    try:
        with unit_of_work():
            import_runs.execute_run(run_id, limits=limits, progress=_progress_writer(run_id),
                                    time_limit_seconds=float(time_limit) if time_limit else None)
    except ImportRejected as exc:
        _fail(run_id, exc.message, exc.row_errors)
        return "failed"
    except DomainError as exc:
        _fail(run_id, exc.message)
        return "failed"
    except IntegrityError:
        # another import saved the same records (same keys or patent numbers) while this one ran
        _fail(run_id, _l("Another import changed the same records at the same time; nothing was imported. "
                         "Import the file again."))
        return "failed"
    except Exception:
        _fail(run_id, _l("The import failed unexpectedly; nothing was imported. Try again later."))
        raise
    return "done"
