"""``flask worker``: an RQ worker running every job inside this process's one app context."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from marketplace import jobs
from marketplace.extensions import db


@click.command("worker")
@click.option("--burst", is_flag=True, help="Exit when the queue is empty.")
@with_appcontext
def worker(burst: bool) -> None:
    """Run an RQ worker for the job queue (needs REDIS_URL)."""
    from redis import Redis
    from rq import Queue, SimpleWorker

    class AppContextWorker(SimpleWorker):
        """Runs jobs in this process (no fork per job) and starts each with a fresh database session."""

        def execute_job(self, job, queue):
            try:
                return super().execute_job(job, queue)
            finally:
                db.session.remove()

    url = current_app.config.get("REDIS_URL")
    if not url:
        raise click.ClickException("REDIS_URL is not set: jobs run in-process, no worker is needed.")
    connection = Redis.from_url(url)
    AppContextWorker([Queue(jobs.QUEUE_NAME, connection=connection)], connection=connection).work(burst=burst)
