"""Search jobs: relay the outbox to the backend, drain it, rebuild indexes."""
from __future__ import annotations

import logging
from datetime import datetime, timezone

from marketplace import jobs, search_index, search_outbox
from marketplace.search_outbox import DELIVERY_ERRORS, RELAY_CHUNK, RELAY_JOB
from marketplace.services.unit_of_work import unit_of_work

log = logging.getLogger(__name__)


@jobs.job(RELAY_JOB)
def relay(limit: int = RELAY_CHUNK, ignore_backoff: bool = False) -> dict:
    """Deliver due outbox entries; each is marked done only after the backend confirmed its write.

    Three steps, each its own unit: read the due rows (ending the read transaction before the backend
    writes, as SQLite allows one writer at a time), write to the backend, record the outcome.
    """
    with unit_of_work():
        deliveries = search_outbox.due_deliveries(limit, ignore_backoff)
    delivered: list[int] = []
    failures: list[tuple[list[int], BaseException]] = []
    for delivery in deliveries:
        try:
            try:
                search_outbox.deliver(delivery)
            except DELIVERY_ERRORS as exc:
                if not search_outbox.is_refusal(exc):
                    raise
                ok, refused = search_outbox.deliver_each(delivery)  # set aside only the refused documents
                delivered += ok
                failures += refused
            else:
                delivered += delivery.entry_ids
        except DELIVERY_ERRORS as exc:
            failures.append((delivery.entry_ids, exc))
            log.warning("search relay: %s entries for %s not delivered: %s", len(delivery.entry_ids),
                        delivery.index_name, exc)
    with unit_of_work():
        if delivered:
            search_outbox.record_delivered(delivered)
        for entry_ids, exc in failures:
            search_outbox.record_failed(entry_ids, exc)
    return {"delivered": len(delivered), "failed": sum(len(ids) for ids, _ in failures)}


def drain(ignore_backoff: bool = False) -> dict:
    """Relay chunk after chunk until nothing is due or a delivery fails (the one draining loop)."""
    total = {"delivered": 0, "failed": 0}
    while True:
        step = relay(ignore_backoff=ignore_backoff)
        total = {k: total[k] + step[k] for k in total}
        if step["delivered"] < RELAY_CHUNK or step["failed"]:
            return total


def reindex(index_name: str | None = None) -> dict[str, int]:
    """Rebuild indexes from the database with no gap in service (shadow index, then swap).

    Writes relayed while the shadow copy was being built went to the old copy and vanish at the swap,
    so the outbox entries since the start are replayed afterwards: nothing is lost.
    """
    counts = {}
    for name in ([index_name] if index_name else list(search_index.SPECS)):
        started = datetime.now(timezone.utc)
        with unit_of_work():  # the documents are read in one fresh transaction
            counts[name] = search_index.backend().reindex(search_index.SPECS[name],
                                                          search_index.all_documents(name))
        with unit_of_work():
            search_outbox.replay_since(name, started)
    drain()
    return counts
