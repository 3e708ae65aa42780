"""1:1 meeting scheduler: place accepted meeting requests between any two participants in slots and tables.

Pure functions on plain data (no Flask, no database) so the algorithm can be tested on its own.

Problem
-------
Given requests ``r = (person a, person b, weight w)`` (any two participants), ``S`` slots, ``T`` tables (or
video rooms) per slot, a meeting capacity per person, the slots each person is available in, the slots each
person is busy in (their own talk, meetings at other events at overlapping times: ``busy_slots`` turns time
intervals into slot indices) and meetings already fixed at a slot, choose a set of the other requests and give
each a (slot, table) so that

* nobody is in two places in one slot (requests, fixed meetings and busy slots together),
* nobody meets in a slot they are not available in,
* a slot holds at most ``T`` meetings (one per table), fixed ones included,
* person ``v`` has at most ``cap(v)`` meetings, fixed ones included,

maximising the total weight of the placed requests, then the number of meetings. Since weights are never
negative, **every request is placed whenever a placement of all of them exists**.

Methods (``Schedule.method``)
-----------------------------
* ``flow`` — exact, any size: nothing but tables and capacities limits the meetings and the meeting graph is
  bipartite (min-cost flow, then König / de Werra edge colouring; see ``flow.py``).
* ``milp`` — exact, up to ``exact.MAX_VARIABLES`` request-slot pairs: a 0/1 integer programme (``exact.py``).
* ``greedy`` — beyond that size (or if the solver stops at its time limit with a worse answer): greedy placement
  and repair (``greedy.py``), always conflict-free, ``Schedule.exact`` False.

Fixed meetings are kept as they are (a fixed meeting given without a table gets a free one); their
``request_id`` must be one of the requests. Tables are numbered 1..T inside each slot.
"""
from __future__ import annotations

from marketplace.services.event_scheduling import exact, flow, greedy
from marketplace.services.event_scheduling.model import Instance, MeetingRequest, Placement, Schedule, conflicts
from marketplace.services.event_scheduling.slots import busy_slots

__all__ = ["MeetingRequest", "Placement", "Schedule", "busy_slots", "conflicts", "schedule_meetings"]


def schedule_meetings(requests: list[MeetingRequest], slots: int, tables: int,
                      presenter_capacity: dict | None = None, default_capacity: int | None = None, *,
                      available: dict | None = None, busy: dict | None = None,
                      fixed: list[Placement] | None = None) -> Schedule:
    """Assign requests to (slot, table); see the package docstring for the rules and the methods.

    ``presenter_capacity`` maps a person to their maximum meetings (any role); everyone else has
    ``default_capacity`` (None: one per slot). ``available`` maps a person to the slots they are free in
    (missing or None: all); ``busy`` to slots they cannot meet in; ``fixed`` lists meetings already placed.
    """
    instance = Instance(requests, slots, tables, presenter_capacity, default_capacity, available, busy, fixed)
    if not instance.requests:
        return Schedule()
    chosen, is_exact, method = _choose(instance)
    return _with_tables(instance, chosen, is_exact, method)


def _choose(instance: Instance) -> tuple[dict[int, int], bool, str]:
    """``({request id: slot} for the free requests, proven optimal, method)``."""
    if not instance.free or instance.slots <= 0 or instance.tables <= 0:
        return {}, True, "flow"
    if instance.unrestricted():
        side = flow.sides(instance)
        if side is not None:
            classes = flow.solve(instance, side)
            return {r.id: s for s, members in enumerate(classes) for r in members}, True, "flow"
    pairs = sum(len(options) for options in instance.options.values())
    if pairs <= exact.MAX_VARIABLES:
        solved = exact.solve(instance)
        if solved is not None and solved[1]:
            return solved[0], True, "milp"
        fallback = greedy.solve(instance)
        if solved is not None and _value(instance, solved[0]) >= _value(instance, fallback):
            return solved[0], False, "milp"
        return fallback, False, "greedy"
    return greedy.solve(instance), False, "greedy"


def _value(instance: Instance, chosen: dict[int, int]) -> int:
    return sum(instance.weight_key(instance.by_id[i]) for i in chosen)


def _with_tables(instance: Instance, chosen: dict[int, int], is_exact: bool, method: str) -> Schedule:
    """Fixed meetings keep their tables; the others (and fixed ones without a table) take the lowest free ones."""
    taken: dict[int, set[int]] = {}
    placements = []
    waiting: dict[int, list] = {}
    for p in instance.fixed.values():
        if p.table is not None:
            placements.append(p)
            taken.setdefault(p.slot, set()).add(p.table)
        else:
            waiting.setdefault(p.slot, []).append((0, 0, p.request_id))
    for rid, s in chosen.items():
        waiting.setdefault(s, []).append((1, -instance.by_id[rid].weight, rid))
    for s, queue in waiting.items():
        used = taken.setdefault(s, set())
        table = 1
        for _, _, rid in sorted(queue):
            while table in used:
                table += 1
            used.add(table)
            placements.append(Placement(rid, s, table))
    placed = {p.request_id for p in placements}
    return Schedule(placements=sorted(placements, key=lambda p: (p.slot, p.table, p.request_id)),
                    unplaced=[r.id for r in instance.requests if r.id not in placed],
                    total_weight=sum(instance.by_id[i].weight for i in placed), exact=is_exact, method=method)
