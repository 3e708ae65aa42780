"""Search relays running at the same time (the relay loop, workers, in-request relays) neither fail nor leave a
stale document counted as delivered: in the end the index holds exactly what the database holds."""
from __future__ import annotations

import threading

from sqlalchemy import func, select

from marketplace import search_index
from marketplace.extensions import db
from marketplace.models import Offer, SearchOutboxEntry
from marketplace.services.unit_of_work import unit_of_work
from marketplace.tasks import search as search_tasks
from search import SearchQuery

OFFERS = 24
ROUNDS = 12
RELAYS = 4


def _indexed_titles(app) -> dict[str, str]:
    with app.app_context():
        result = search_index.backend().search("offers", SearchQuery(q="", per_page=100))
        return {hit.id: hit.document.get("title_en") for hit in result.hits}


def test_concurrent_relays_leave_the_index_equal_to_the_database(app, make):
    org = make.org("firm")
    ids = [make.offer(org, title_zh=f"并发产品{i}", title_en=f"offer {i} round start") for i in range(OFFERS)]
    errors: list[BaseException] = []
    relayed = []
    stop = threading.Event()

    def relay_loop():
        with app.app_context():
            try:
                while not stop.is_set():
                    relayed.append(search_tasks.relay(ignore_backoff=True))
            except BaseException as exc:  # noqa: BLE001 (counted, then asserted on)
                errors.append(exc)
            finally:
                db.session.remove()

    def write_rounds():
        with app.app_context():
            try:
                for round_no in range(ROUNDS):
                    with unit_of_work():  # its commit relays in-process too (no REDIS_URL): one more relay
                        for offer in db.session.scalars(select(Offer).where(Offer.id.in_(ids))):
                            offer.title_en = f"offer {offer.id} round {round_no}"
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)
            finally:
                db.session.remove()

    relays = [threading.Thread(target=relay_loop) for _ in range(RELAYS)]
    writer = threading.Thread(target=write_rounds)
    for thread in relays + [writer]:
        thread.start()
    writer.join(timeout=300)
    stop.set()
    for thread in relays:
        thread.join(timeout=60)
    assert not errors, errors
    with app.app_context():
        failed = db.session.scalar(select(func.count(SearchOutboxEntry.id)).where(SearchOutboxEntry.attempts > 0))
        search_tasks.drain(ignore_backoff=True)
        expected = {str(o.id): o.title_en for o in db.session.scalars(select(Offer).where(Offer.id.in_(ids)))}
        pending = db.session.scalar(select(func.count(SearchOutboxEntry.id)).where(SearchOutboxEntry.done_at.is_(None)))
    indexed = _indexed_titles(app)
    stale = {k: (indexed.get(k), v) for k, v in expected.items() if indexed.get(k) != v}
    assert (len(relayed) > RELAYS, failed, pending, stale) == (True, 0, 0, {})
    assert all(v.endswith(f"round {ROUNDS - 1}") for v in indexed.values())
