"""Property tests of the meeting scheduler on random small events, checked against brute force.

Each instance has meetings between any two people (the graph is generally not bipartite), availability,
busy slots (own talks, other events), meetings already fixed, tables and per-person capacities. The brute force
tries every assignment of the free requests to a slot or to nothing and keeps the best valid one.
"""
from __future__ import annotations

import itertools
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marketplace.services import event_scheduling
from marketplace.services.event_scheduling import MeetingRequest, Placement, conflicts, schedule_meetings

PROPERTY_SETTINGS = settings(max_examples=100, deadline=None, derandomize=True, database=None,
                             suppress_health_check=[HealthCheck.too_slow])


def _draw_instance(data) -> dict:
    people = [f"u{i}" for i in range(data.draw(st.integers(2, 5)))]
    slots, tables = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3))
    pairs = st.lists(st.sampled_from(people), min_size=2, max_size=2, unique=True)
    requests = [MeetingRequest(i + 1, a, b, data.draw(st.integers(0, 4)))
                for i, (a, b) in enumerate(data.draw(st.lists(pairs, max_size=6)))]
    some_slots = st.sets(st.integers(0, slots - 1))
    capacity = data.draw(st.dictionaries(st.sampled_from(people), st.integers(0, 3)))
    default_capacity = data.draw(st.none() | st.integers(0, 3))
    available = data.draw(st.none() | st.dictionaries(st.sampled_from(people), some_slots))
    busy = data.draw(st.none() | st.dictionaries(st.sampled_from(people), some_slots))
    fixed = []
    held, per_slot, load = set(), [0] * slots, {}
    for r in requests:  # fix a few requests where they fit, as earlier runs or accepted times would have
        if not data.draw(st.booleans()) or not data.draw(st.booleans()):
            continue
        s = data.draw(st.integers(0, slots - 1))
        limits = [_limit(capacity, default_capacity, slots, v) for v in r.people]
        if per_slot[s] < tables and not held & {(v, s) for v in r.people} and all(
                load.get(v, 0) < limit for v, limit in zip(r.people, limits)):
            table = data.draw(st.none() | st.sampled_from([t for t in range(1, tables + 1)
                                                           if all(f.table != t or f.slot != s for f in fixed)]))
            fixed.append(Placement(r.id, s, table))
            held |= {(v, s) for v in r.people}
            per_slot[s] += 1
            for v in r.people:
                load[v] = load.get(v, 0) + 1
    return {"requests": requests, "slots": slots, "tables": tables, "capacity": capacity,
            "default_capacity": default_capacity, "available": available, "busy": busy, "fixed": fixed}


def _limit(capacity, default_capacity, slots, person) -> int:
    value = capacity.get(person, default_capacity)
    return slots if value is None else value


def _valid(inst, assignment: dict[int, int]) -> bool:
    """Independent check of ``{request id: slot}`` for the free requests, on top of the fixed meetings."""
    by_id = {r.id: r for r in inst["requests"]}
    at = set()
    per_slot = [0] * inst["slots"]
    load: dict = {}
    for rid, s in [(p.request_id, p.slot) for p in inst["fixed"]] + list(assignment.items()):
        for v in by_id[rid].people:
            if (v, s) in at:
                return False
            at.add((v, s))
            load[v] = load.get(v, 0) + 1
        per_slot[s] += 1
    for rid, s in assignment.items():
        for v in by_id[rid].people:
            if inst["available"] and v in inst["available"] and s not in inst["available"][v]:
                return False
            if inst["busy"] and s in inst["busy"].get(v, ()):
                return False
    return (all(n <= inst["tables"] for n in per_slot)
            and all(n <= _limit(inst["capacity"], inst["default_capacity"], inst["slots"], v)
                    for v, n in load.items()))


def brute_force(inst) -> tuple[int, int]:
    """(best total weight, most meetings at that weight) over every assignment of the free requests."""
    fixed_ids = {p.request_id for p in inst["fixed"]}
    free = [r for r in inst["requests"] if r.id not in fixed_ids]
    best = (0, 0)
    for choice in itertools.product([None, *range(inst["slots"])], repeat=len(free)):
        assignment = {r.id: s for r, s in zip(free, choice) if s is not None}
        value = (sum(r.weight for r, s in zip(free, choice) if s is not None), len(assignment))
        if value > best and _valid(inst, assignment):
            best = value
    return best


def _run(inst):
    return schedule_meetings(inst["requests"], inst["slots"], inst["tables"], inst["capacity"],
                             inst["default_capacity"], available=inst["available"], busy=inst["busy"],
                             fixed=inst["fixed"])


def _free_placed(inst, schedule) -> dict[int, int]:
    fixed_ids = {p.request_id for p in inst["fixed"]}
    return {p.request_id: p.slot for p in schedule.placements if p.request_id not in fixed_ids}


@PROPERTY_SETTINGS
@given(st.data())
def test_random_events_no_conflicts_capacities_kept_and_optimal(data):
    inst = _draw_instance(data)
    schedule = _run(inst)
    assert conflicts(inst["requests"], schedule, inst["slots"], inst["tables"], inst["capacity"],
                     inst["default_capacity"], available=inst["available"], busy=inst["busy"],
                     fixed=inst["fixed"]) == []
    placed = _free_placed(inst, schedule)
    assert _valid(inst, placed)
    assert sorted([p.request_id for p in schedule.placements] + schedule.unplaced) == sorted(
        r.id for r in inst["requests"])
    assert schedule.exact
    by_id = {r.id: r for r in inst["requests"]}
    best_weight, best_count = brute_force(inst)
    assert (sum(by_id[i].weight for i in placed), len(placed)) == (best_weight, best_count)


@PROPERTY_SETTINGS
@given(st.data())
def test_every_request_is_placed_when_brute_force_places_them_all(data):
    inst = _draw_instance(data)
    fixed_ids = {p.request_id for p in inst["fixed"]}
    free = [r for r in inst["requests"] if r.id not in fixed_ids]
    complete = any(_valid(inst, {r.id: s for r, s in zip(free, choice)})
                   for choice in itertools.product(range(inst["slots"]), repeat=len(free)))
    schedule = _run(inst)
    assert (schedule.unplaced == []) == complete


@PROPERTY_SETTINGS
@given(st.data())
def test_the_heuristic_beyond_the_exact_size_is_conflict_free(data):
    inst = _draw_instance(data)
    with mock.patch.object(event_scheduling.exact, "MAX_VARIABLES", -1):
        schedule = _run(inst)
    assert conflicts(inst["requests"], schedule, inst["slots"], inst["tables"], inst["capacity"],
                     inst["default_capacity"], available=inst["available"], busy=inst["busy"],
                     fixed=inst["fixed"]) == []
    assert _valid(inst, _free_placed(inst, schedule))
    assert schedule.method != "milp"



@PROPERTY_SETTINGS
@given(st.data())
def test_meetings_never_overlap_a_persons_talks_or_meetings_at_other_events(data):
    """Times end to end: talks and other events' meetings (intervals) -> busy slots -> no placed meeting overlaps."""
    from datetime import datetime, timedelta, timezone

    from marketplace.services.event_scheduling import busy_slots
    start = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
    minutes = data.draw(st.sampled_from([10, 15, 20]))
    slots = data.draw(st.integers(1, 5))
    slot_starts = [start + timedelta(minutes=minutes * i) for i in range(slots)]
    people = [f"u{i}" for i in range(data.draw(st.integers(2, 5)))]
    moment = st.integers(-30, minutes * slots + 30).map(lambda m: start + timedelta(minutes=m))
    interval = st.tuples(moment, st.integers(5, 60)).map(lambda t: (t[0], t[0] + timedelta(minutes=t[1])))
    elsewhere = {p: data.draw(st.lists(interval, max_size=3)) for p in people}
    pairs = st.lists(st.sampled_from(people), min_size=2, max_size=2, unique=True)
    requests = [MeetingRequest(i + 1, a, b) for i, (a, b) in enumerate(data.draw(st.lists(pairs, max_size=6)))]
    busy = {p: busy_slots(slot_starts, minutes, spans) for p, spans in elsewhere.items()}
    schedule = schedule_meetings(requests, slots, data.draw(st.integers(1, 3)), busy=busy)
    by_id = {r.id: r for r in requests}
    for p in schedule.placements:
        begin = slot_starts[p.slot]
        end = begin + timedelta(minutes=minutes)
        for person in by_id[p.request_id].people:
            assert not any(b < end and begin < e for b, e in elsewhere[person]), (person, p)
