"""Reads for import runs: a run for the person who started it (operators see every run), their recent runs,
and the records a run created or updated, for the row report's links."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from marketplace import visibility
from marketplace.extensions import db
from marketplace.models import ImportRun, Need, Offer
from marketplace.services.errors import NotFound

MAX_LINKS = 500  # links listed under a run; the counts say how many there are in all


def run_for(user, run_id: int) -> ImportRun:
    """The run, if ``user`` started it or is staff; NotFound otherwise (other people's runs are not confirmed)."""
    run = db.session.get(ImportRun, run_id)
    if run is None or not (run.user_id == getattr(user, "id", None) or visibility.viewer_of(user).is_staff):
        raise NotFound(_l("This import does not exist."))
    return run


def recent_runs(user, limit: int = 5) -> list[ImportRun]:
    """The user's latest runs, newest first."""
    return list(db.session.scalars(select(ImportRun).where(ImportRun.user_id == user.id)
                                   .order_by(ImportRun.id.desc()).limit(limit)))


def records_of(run: ImportRun) -> dict[str, list[tuple[int, str]]]:
    """``{"created": [(id, title)], "updated": [...]}`` for the records the run saved, in row order (records
    deleted since are left out)."""
    model = Need if run.entity == "needs" else Offer
    out = {}
    for name, ids in (("created", run.created_ids or []), ("updated", run.updated_ids or [])):
        ids = [int(i) for i in ids[:MAX_LINKS]]
        titles = {}
        if ids:
            rows = db.session.execute(select(model.id, model.title_zh, model.title_en).where(model.id.in_(ids)))
            titles = {row.id: row.title_zh or row.title_en or f"#{row.id}" for row in rows}
        out[name] = [(i, titles[i]) for i in ids if i in titles]
    return out
