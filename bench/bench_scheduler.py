"""Meeting scheduler: time and meetings placed by each method on synthetic events, the greedy heuristic beside
the exact optimum as baseline.

    .venv/bin/python bench/bench_scheduler.py                    # 60 / 150 / 300 / 600 participants
    .venv/bin/python bench/bench_scheduler.py --people 500 --requests-per-person 4 --seed 3

Each event has ``people`` participants, ``requests-per-person`` accepted requests per person between random pairs
(not bipartite), 12 slots of which each person is free in 8, ``tables`` tables (one per 5 people) and at
most 6 meetings per person.
Every row solves the same instance twice: exactly (integer programme, or the heuristic past the exact size) and
with the heuristic forced. Figures come from one run on one machine: compare them with each other only.
"""
from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from marketplace.services.event_scheduling import MeetingRequest, conflicts, exact, schedule_meetings  # noqa: E402


def instance(people: int, per_person: int, seed: int):
    rng = random.Random(seed)
    names = list(range(people))
    requests = [MeetingRequest(i + 1, *rng.sample(names, 2), rng.randint(1, 3)) for i in range(people * per_person // 2)]
    available = {p: set(rng.sample(range(12), 8)) for p in names}
    return requests, available


def run(requests, available, tables: int):
    started = time.perf_counter()
    schedule = schedule_meetings(requests, 12, tables, default_capacity=6, available=available)
    seconds = time.perf_counter() - started
    assert conflicts(requests, schedule, 12, tables, default_capacity=6, available=available) == []
    return schedule, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, nargs="*", default=[60, 150, 300, 600])
    parser.add_argument("--requests-per-person", type=int, default=4)
    parser.add_argument("--tables", type=int, default=0, help="tables per slot (default: one per 5 people)")
    parser.add_argument("--seed", type=int, default=8)
    args = parser.parse_args()
    print(f"{'people':>6} {'requests':>8} | {'method':>6} {'exact':>5} {'placed':>6} {'weight':>6} {'seconds':>8} | "
          f"{'greedy placed':>13} {'weight':>6} {'seconds':>8}")
    for people in args.people:
        requests, available = instance(people, args.requests_per_person, args.seed)
        tables = args.tables or max(1, people // 5)
        best, best_s = run(requests, available, tables)
        with mock.patch.object(exact, "MAX_VARIABLES", -1):
            greedy, greedy_s = run(requests, available, tables)
        print(f"{people:>6} {len(requests):>8} | {best.method:>6} {str(best.exact):>5} {len(best.placements):>6} "
              f"{best.total_weight:>6} {best_s:>8.2f} | {len(greedy.placements):>13} {greedy.total_weight:>6} "
              f"{greedy_s:>8.2f}")


if __name__ == "__main__":
    main()
