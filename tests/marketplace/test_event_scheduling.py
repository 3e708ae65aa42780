"""The 1:1 meeting scheduler against a brute-force optimum on random small instances."""
from __future__ import annotations

import itertools
import random

import pytest

from datetime import datetime, timedelta, timezone

from marketplace.services.event_scheduling import (
    MeetingRequest,
    Placement,
    Schedule,
    busy_slots,
    conflicts,
    schedule_meetings,
)


def _feasible(subset, slots, tables, caps) -> bool:
    """Can these requests all be placed? (backtracking over slots)"""
    load = {}
    for r in subset:
        load[r.presenter] = load.get(r.presenter, 0) + 1
        if load[r.presenter] > caps.get(r.presenter, slots):
            return False
    if len(subset) > slots * tables:
        return False
    busy = [set() for _ in range(slots)]
    count = [0] * slots

    def place(i):
        if i == len(subset):
            return True
        r = subset[i]
        for s in range(slots):
            if count[s] < tables and r.requester not in busy[s] and r.presenter not in busy[s]:
                busy[s] |= {r.requester, r.presenter}
                count[s] += 1
                if place(i + 1):
                    return True
                busy[s] -= {r.requester, r.presenter}
                count[s] -= 1
        return False

    return place(0)


def brute_force_best(requests, slots, tables, caps) -> int:
    best = 0
    for k in range(len(requests), 0, -1):
        for subset in itertools.combinations(requests, k):
            weight = sum(r.weight for r in subset)
            if weight > best and _feasible(list(subset), slots, tables, caps):
                best = weight
    return best


def _random_instance(rng, *, bipartite: bool):
    slots, tables = rng.randint(1, 3), rng.randint(1, 3)
    people = list(range(6))
    presenters = people[:rng.randint(1, 3)]
    requesters = [p for p in people if p not in presenters] if bipartite else people
    requests = []
    for i in range(rng.randint(1, 8)):
        p = rng.choice(presenters)
        a = rng.choice([x for x in requesters if x != p])
        requests.append(MeetingRequest(id=i + 1, requester=f"u{a}", presenter=f"u{p}", weight=rng.randint(1, 5)))
    caps = {f"u{p}": rng.randint(0, 3) for p in presenters if rng.random() < 0.6}
    return requests, slots, tables, caps


@pytest.mark.parametrize("seed", range(150))
def test_bipartite_instances_are_optimal_and_conflict_free(seed):
    rng = random.Random(seed)
    requests, slots, tables, caps = _random_instance(rng, bipartite=True)
    schedule = schedule_meetings(requests, slots, tables, caps)
    assert schedule.exact
    assert conflicts(requests, schedule, slots, tables, caps) == []
    assert schedule.total_weight == brute_force_best(requests, slots, tables, caps)
    assert sorted([p.request_id for p in schedule.placements] + schedule.unplaced) == [r.id for r in requests]


@pytest.mark.parametrize("seed", range(100))
def test_people_in_both_roles_still_get_a_conflict_free_schedule(seed):
    rng = random.Random(1000 + seed)
    requests, slots, tables, caps = _random_instance(rng, bipartite=False)
    schedule = schedule_meetings(requests, slots, tables, caps)
    assert conflicts(requests, schedule, slots, tables, caps) == []
    assert schedule.total_weight <= brute_force_best(requests, slots, tables, caps)


def test_most_wanted_meetings_win_over_more_meetings():
    # one slot: the presenter can meet only one person; the weight-5 request wins over two weight-2 ones
    requests = [MeetingRequest(1, "a", "p", 2), MeetingRequest(2, "b", "p", 5), MeetingRequest(3, "a", "q", 2)]
    schedule = schedule_meetings(requests, slots=1, tables=5)
    placed = {p.request_id for p in schedule.placements}
    assert placed == {2, 3} and schedule.total_weight == 7
    # weight beats cardinality: a's request to p (10) over a->q plus b->p (1 + 1)
    requests = [MeetingRequest(1, "a", "p", 10), MeetingRequest(2, "b", "p", 1), MeetingRequest(3, "a", "q", 1)]
    schedule = schedule_meetings(requests, slots=1, tables=5)
    assert {p.request_id for p in schedule.placements} == {1}


def test_tables_and_capacity_limit_the_schedule():
    requests = [MeetingRequest(i, f"r{i}", "p" if i % 2 else "q", 1) for i in range(1, 9)]
    schedule = schedule_meetings(requests, slots=2, tables=3, presenter_capacity={"p": 1})
    assert conflicts(requests, schedule, 2, 3, {"p": 1}) == []
    assert len(schedule.placements) == 3  # p: 1 meeting; q: 2 slots
    assert all(p.table <= 3 for p in schedule.placements)


def test_balanced_slots_when_tables_are_tight():
    # 6 requesters x 2 presenters, 3 slots, 4 tables: 6 meetings fit only if spread 2/2/2 or similar
    requests = [MeetingRequest(i, f"r{i}", "p" if i <= 3 else "q", 1) for i in range(1, 7)]
    schedule = schedule_meetings(requests, slots=3, tables=2)
    assert len(schedule.placements) == 6 and conflicts(requests, schedule, 3, 2) == []


def test_degenerate_inputs():
    assert schedule_meetings([], 3, 3) == Schedule()
    assert schedule_meetings([MeetingRequest(1, "a", "p")], 0, 3).unplaced == [1]
    with pytest.raises(ValueError):
        schedule_meetings([MeetingRequest(1, "a", "a")], 1, 1)


def test_scheduler_package_does_not_import_flask_or_the_app():
    import ast
    from pathlib import Path

    import marketplace.services.event_scheduling as package
    for path in Path(package.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text())
        modules = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names} | {
            n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        outside = {m for m in modules if m.split(".")[0] in {"flask", "flask_babel", "sqlalchemy", "marketplace"}
                   and not m.startswith("marketplace.services.event_scheduling")}
        assert not outside, (path.name, outside)


def test_a_triangle_of_people_is_placed_exactly():
    # a meets b, b meets c, c meets a: not bipartite; three slots fit all three meetings
    requests = [MeetingRequest(1, "a", "b"), MeetingRequest(2, "b", "c"), MeetingRequest(3, "c", "a")]
    schedule = schedule_meetings(requests, slots=3, tables=1)
    assert schedule.unplaced == [] and schedule.exact and schedule.method == "milp"
    assert conflicts(requests, schedule, 3, 1) == []
    assert len({p.slot for p in schedule.placements}) == 3


def test_availability_busy_slots_and_fixed_meetings_are_respected():
    requests = [MeetingRequest(1, "a", "b"), MeetingRequest(2, "a", "c"), MeetingRequest(3, "b", "c")]
    available = {"a": {0, 1}, "b": {1, 2}}
    busy = {"c": {2}}  # c gives a talk in slot 2
    fixed = [Placement(3, 1, 2)]  # b and c already meet in slot 1 at table 2
    schedule = schedule_meetings(requests, 3, 2, available=available, busy=busy, fixed=fixed)
    by_request = schedule.by_request()
    assert by_request[3] == Placement(3, 1, 2)
    # a-b: common slot 1 only, but b is held there by the fixed meeting -> unplaced; a-c: slot 0
    assert schedule.unplaced == [1] and by_request[2].slot == 0
    assert conflicts(requests, schedule, 3, 2, available=available, busy=busy, fixed=fixed) == []


def test_a_fixed_meeting_without_a_table_gets_a_free_one_and_uses_up_capacity():
    requests = [MeetingRequest(1, "a", "b"), MeetingRequest(2, "a", "c")]
    schedule = schedule_meetings(requests, 2, 1, {"a": 1}, fixed=[Placement(1, 0)])
    assert schedule.placements == [Placement(1, 0, 1)] and schedule.unplaced == [2]
    with pytest.raises(ValueError):
        schedule_meetings(requests, 2, 1, fixed=[Placement(9, 0)])


def test_capacity_applies_to_every_person_whatever_their_role():
    requests = [MeetingRequest(1, "a", "b"), MeetingRequest(2, "c", "a"), MeetingRequest(3, "a", "d")]
    schedule = schedule_meetings(requests, slots=3, tables=3, default_capacity=2)
    assert len(schedule.placements) == 2
    assert conflicts(requests, schedule, 3, 3, default_capacity=2) == []


def test_large_events_use_the_heuristic_and_stay_conflict_free_and_close_to_the_optimum(monkeypatch):
    import random

    from marketplace.services.event_scheduling import exact
    rng = random.Random(8)
    people = [f"u{i}" for i in range(60)]
    requests = [MeetingRequest(i + 1, *rng.sample(people, 2), rng.randint(1, 3)) for i in range(240)]
    available = {p: set(rng.sample(range(12), 8)) for p in people}
    optimum = schedule_meetings(requests, 12, 20, default_capacity=6, available=available)
    assert optimum.exact and optimum.method == "milp"
    monkeypatch.setattr(exact, "MAX_VARIABLES", 100)
    schedule = schedule_meetings(requests, 12, 20, default_capacity=6, available=available)
    assert not schedule.exact and schedule.method == "greedy"
    assert conflicts(requests, schedule, 12, 20, default_capacity=6, available=available) == []
    assert schedule.total_weight >= 0.9 * optimum.total_weight


def test_a_solver_stopped_by_its_time_limit_still_gives_a_valid_schedule(monkeypatch):
    import random

    from marketplace.services.event_scheduling import exact
    rng = random.Random(3)
    people = [f"u{i}" for i in range(40)]
    requests = [MeetingRequest(i + 1, *rng.sample(people, 2), rng.randint(1, 3)) for i in range(120)]
    available = {p: set(rng.sample(range(8), 5)) for p in people}
    monkeypatch.setattr(exact, "TIME_LIMIT_SECONDS", 1e-9)
    schedule = schedule_meetings(requests, 8, 6, default_capacity=5, available=available)
    assert not schedule.exact and schedule.method in ("milp", "greedy")
    assert conflicts(requests, schedule, 8, 6, default_capacity=5, available=available) == []
    assert schedule.placements


def test_busy_slots_turn_talks_and_other_meetings_into_blocked_slots():
    start = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
    slot_starts = [start + timedelta(minutes=15 * i) for i in range(6)]  # 09:00 .. 10:15
    talk = (datetime(2026, 3, 2, 9, 20, tzinfo=timezone.utc), datetime(2026, 3, 2, 9, 45, tzinfo=timezone.utc))
    other_event = (datetime(2026, 3, 2, 10, 15, tzinfo=timezone.utc), datetime(2026, 3, 2, 11, 0, tzinfo=timezone.utc))
    touching = (datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc), start)  # ends when the first slot starts
    assert busy_slots(slot_starts, 15, [talk, other_event, touching]) == {1, 2, 5}
    assert busy_slots(slot_starts, 15, []) == set()
    assert busy_slots(slot_starts, 15, [(talk[1], talk[0])]) == set()  # an empty interval blocks nothing
