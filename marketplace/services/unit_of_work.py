"""The one transaction boundary: a request or command commits or rolls back here, nowhere else."""
from __future__ import annotations

from contextlib import contextmanager

from marketplace import jobs
from marketplace.extensions import db


@contextmanager
def unit_of_work(commit_despite: tuple[type[BaseException], ...] = ()):
    """Commit when the block succeeds, roll back on any exception (and re-raise it).

    ``commit_despite`` lists domain errors whose recorded facts must still be kept, such as a failed
    login attempt that the throttle has to count. Jobs enqueued during the block run after the commit.
    """
    try:
        yield db.session
    except commit_despite:
        db.session.commit()
        jobs.dispatch_pending(db.session)
        raise
    except BaseException:
        db.session.rollback()
        jobs.discard_pending(db.session)
        raise
    else:
        db.session.commit()
        jobs.dispatch_pending(db.session)
