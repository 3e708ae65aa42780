"""Search jobs: relay the outbox to the backend, drain it, rebuild indexes."""
from __future__ import annotations

import logging
from datetime import datetime, timezone

from marketplace import jobs, search_index, search_outbox
from marketplace.search_outbox import DELIVERY_ERRORS, RELAY_CHUNK, RELAY_JOB
from marketplace.services.unit_of_work import unit_of_work

log = logging.getLogger(__name__)
MAX_ROUNDS = 20  # rounds of one relay call: a steady stream of writes must not keep one job running forever


@jobs.job(RELAY_JOB)
def relay(limit: int = RELAY_CHUNK, ignore_backoff: bool = False) -> dict:
    """Deliver due outbox entries; each is marked done only after the backend confirmed its write.

    Claims round after round until nothing is left to claim or a delivery fails: an entry skipped because
    another relay was delivering its document at that moment is taken by whichever relay finishes last.
    """
    total = {"delivered": 0, "failed": 0}
    for _ in range(MAX_ROUNDS):
        step = _relay_once(limit, ignore_backoff)
        total = {k: total[k] + step[k] for k in total}
        if not step["delivered"] or step["failed"]:
            break
    return total


def _relay_once(limit: int, ignore_backoff: bool) -> dict:
    """One round in four steps, each its own unit: claim the due entries, read their documents (ending the
    read transaction before the backend writes, as SQLite allows one writer at a time), write to the
    backend, record the outcome. A round that stops half-way gives its claim back."""
    with unit_of_work():
        token = search_outbox.claim_due(limit, ignore_backoff)
    delivered: list[int] = []
    failures: list[tuple[list[int], BaseException]] = []
    try:
        with unit_of_work():
            deliveries = search_outbox.claimed_deliveries(token)
        for delivery in deliveries:
            ok, failed = _deliver(delivery)
            delivered += ok
            failures += failed
        with unit_of_work():
            if delivered:
                search_outbox.record_delivered(delivered)
            for entry_ids, exc in failures:
                search_outbox.record_failed(entry_ids, exc)
    except BaseException:
        with unit_of_work():
            search_outbox.release(token)
        raise
    return {"delivered": len(delivered), "failed": sum(len(ids) for ids, _ in failures)}


def _deliver(delivery) -> tuple[list[int], list[tuple[list[int], BaseException]]]:
    """Write one delivery; a refused batch is retried document by document so only refused ones fail."""
    try:
        try:
            search_outbox.deliver(delivery)
        except DELIVERY_ERRORS as exc:
            if not search_outbox.is_refusal(exc):
                raise
            return search_outbox.deliver_each(delivery)
        return delivery.entry_ids, []
    except DELIVERY_ERRORS as exc:
        log.warning("search relay: %s entries for %s not delivered: %s", len(delivery.entry_ids),
                    delivery.index_name, exc)
        return [], [(delivery.entry_ids, exc)]


def drain(ignore_backoff: bool = False) -> dict:
    """Relay chunk after chunk until nothing is due or a delivery fails (the one draining loop)."""
    total = {"delivered": 0, "failed": 0}
    while True:
        step = relay(ignore_backoff=ignore_backoff)
        total = {k: total[k] + step[k] for k in total}
        if step["delivered"] < RELAY_CHUNK * MAX_ROUNDS or step["failed"]:
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
