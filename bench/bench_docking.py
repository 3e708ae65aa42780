"""Docking loop benchmark: what each step of request → accept → message costs, beside a baseline page.

    .venv/bin/python bench/bench_docking.py                # the demo data plus 2,000 introductions, 30 rounds
    .venv/bin/python bench/bench_docking.py --rounds 5     # quicker

Builds the app on a scratch SQLite database (or --database-url), loads the demo data and adds background
introductions with conversations so the lists are not empty, then walks the whole loop with the test client
(a hospital requests an introduction to an offer, the maker accepts, both exchange messages, the page polls),
counting SQL statements and timing each step. The offer page is measured in the same run as the baseline:
every docking page should stay within a small multiple of it.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import event, select

PASSWORD = "bench-password-9"


def seed(app, n_intros: int) -> dict:
    """Demo data, two members of different organisations, and background introductions with messages."""
    from werkzeug.security import generate_password_hash

    from marketplace.demo.loader import load_demo
    from marketplace.extensions import db
    from marketplace.models import Introduction, IntroductionMessage, Membership, Offer, Organization, User
    from marketplace.reference.taxonomy import load_taxonomy
    from marketplace.services.unit_of_work import unit_of_work
    with app.app_context():
        db.create_all()
        with unit_of_work() as session:
            load_taxonomy(session)
            load_demo(session)
        offer = db.session.scalar(select(Offer).where(Offer.status == "published").order_by(Offer.id))
        hospital = db.session.scalar(select(Organization).where(Organization.kind == "hospital",
                                                                Organization.id != offer.organization_id))
        people = {}
        for key, org_id in (("hospital", hospital.id), ("maker", offer.organization_id)):
            user = User(email=f"bench-{key}@example.com", display_name=key, password_hash=generate_password_hash(PASSWORD))
            db.session.add(user)
            db.session.flush()
            db.session.add(Membership(user_id=user.id, organization_id=org_id, role="owner"))
            people[key] = user.email
        others = db.session.scalars(select(Organization.id).where(
            Organization.id.notin_((hospital.id, offer.organization_id)))).all()
        now = __import__("datetime").datetime.now(__import__("datetime").timezone.utc)
        for i in range(n_intros):  # the maker's other introductions, half of them talking
            other = others[i % len(others)]
            intro = Introduction(need_organization_id=other, offer_organization_id=offer.organization_id,
                                 offer_id=offer.id, source="request", requester_side="need", purpose="purchase",
                                 need_response="accepted", offer_response="accepted" if i % 2 else "pending",
                                 stage="accepted" if i % 2 else "proposed", message="背景对接",
                                 stage_changed_at=now, expires_at=now.replace(year=now.year + 1))
            db.session.add(intro)
            if i % 2:
                db.session.flush()
                db.session.add_all([IntroductionMessage(introduction_id=intro.id, side="need", body=f"消息 {k}")
                                    for k in range(3)])
        db.session.commit()
        return {"offer": offer.id, **people}


class QueryCounter:
    """Counts the SQL statements the app's engine runs."""

    def __init__(self, engine):
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._one)

    def _one(self, *args):
        self.count += 1


def measure(counter, call, rounds: int) -> tuple[float, float, int]:
    """(median ms, p95 ms, statements per call) of ``call``."""
    times, statements = [], []
    for _ in range(rounds):
        before = counter.count
        started = time.perf_counter()
        response = call()
        times.append((time.perf_counter() - started) * 1000)
        statements.append(counter.count - before)
        assert response.status_code < 400, (response.status_code, response.get_data(as_text=True)[:300])
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))], round(statistics.median(statements))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--introductions", type=int, default=2000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    from marketplace import create_app
    from marketplace.extensions import db
    workdir = Path(tempfile.mkdtemp(prefix="bench-docking-"))
    url = args.database_url or f"sqlite:///{workdir / 'bench.sqlite'}"
    app = create_app("testing", overrides={"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_DIR": str(workdir),
                                           "MEILI_URL": None, "REDIS_URL": None, "RATELIMIT_ENABLED": False})
    ids = seed(app, args.introductions)
    with app.app_context():
        counter = QueryCounter(db.engine)
    hospital, maker = app.test_client(), app.test_client()
    for client, email in ((hospital, ids["hospital"]), (maker, ids["maker"])):
        assert client.post("/login", data={"email": email, "password": PASSWORD}).status_code == 302

    offer = ids["offer"]
    rows = [("offer page (baseline)", lambda: hospital.get(f"/offers/{offer}"))]
    rows.append(("request form", lambda: hospital.get(f"/docking/request?offer_id={offer}")))
    first = hospital.post("/docking/request", data={"offer_id": offer, "purpose": "purchase", "message": "请联系"})
    intro = int(first.headers["Location"].rsplit("/", 1)[1])
    rows.append(("my docking (maker, %d introductions)" % args.introductions, lambda: maker.get("/docking/")))
    maker.post(f"/brokering/{intro}/respond", data={"decision": "accepted"})
    rows.append(("introduction page with conversation", lambda: hospital.get(f"/brokering/{intro}")))
    rows.append(("send a message", lambda: hospital.post(f"/docking/introductions/{intro}/messages",
                                                         data={"body": "报价单请见附件"})))
    rows.append(("poll for new messages", lambda: maker.get(f"/docking/introductions/{intro}/messages.json?after=0")))
    rows.append(("any page (navigation count)", lambda: maker.get("/")))

    print(f"docking loop, {args.rounds} rounds per step, {url.split(':', 1)[0]}", flush=True)
    print(f"{'step':<44}{'median ms':>10}{'p95 ms':>9}{'SQL':>6}{'x baseline':>12}")
    baseline = None
    for name, call in rows:
        median, p95, statements = measure(counter, call, args.rounds)
        baseline = baseline or median
        print(f"{name:<44}{median:>10.1f}{p95:>9.1f}{statements:>6}{median / baseline:>12.2f}")


if __name__ == "__main__":
    main()
