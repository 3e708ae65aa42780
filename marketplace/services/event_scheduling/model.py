"""The scheduler's plain data: requests, placements, the schedule, the normalised instance, and a checker."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field


@dataclass(frozen=True)
class MeetingRequest:
    """A meeting between two people; ``presenter`` is simply the other participant (any two people may meet)."""

    id: int
    requester: object
    presenter: object
    weight: int = 1

    @property
    def people(self) -> tuple:
        return (self.requester, self.presenter)


@dataclass(frozen=True)
class Placement:
    request_id: int
    slot: int                 # 0-based slot index
    table: int | None = None  # 1-based table number within the slot (a fixed meeting may come without one)


@dataclass
class Schedule:
    placements: list[Placement] = field(default_factory=list)
    unplaced: list[int] = field(default_factory=list)
    total_weight: int = 0
    exact: bool = True        # proven optimal (the most weight, then the most meetings)
    method: str = ""          # "flow", "milp" or "greedy"

    def by_request(self) -> dict[int, Placement]:
        return {p.request_id: p for p in self.placements}


class Instance:
    """Validated inputs in one place: which slots each request may use, what is left of tables and capacity.

    A person's usable slots are those they are available in, minus their busy slots, minus the slots where a
    fixed meeting already holds them; a slot's free tables are ``tables`` minus its fixed meetings; a person's
    remaining capacity is their capacity minus their fixed meetings.
    """

    def __init__(self, requests, slots: int, tables: int, capacity: dict | None, default_capacity: int | None,
                 available: dict | None, busy: dict | None, fixed: list[Placement] | None):
        self.requests = sorted(requests, key=lambda r: r.id)
        self.slots, self.tables = max(0, int(slots)), max(0, int(tables))
        self.by_id = {}
        for r in self.requests:
            if r.requester == r.presenter:
                raise ValueError(f"request {r.id}: a person cannot meet themselves")
            if int(r.weight) != r.weight or r.weight < 0:
                raise ValueError(f"request {r.id}: weights are non-negative integers")
            if r.id in self.by_id:
                raise ValueError(f"request {r.id} appears twice")
            self.by_id[r.id] = r
        self._capacity, self._default = capacity or {}, default_capacity
        self._available, self._busy = available or {}, busy or {}
        self.fixed: dict[int, Placement] = {}
        for p in fixed or ():
            if p.request_id not in self.by_id:
                raise ValueError(f"fixed meeting {p.request_id} is not among the requests")
            if p.request_id in self.fixed:
                raise ValueError(f"fixed meeting {p.request_id} appears twice")
            self.fixed[p.request_id] = p
        self.free = [r for r in self.requests if r.id not in self.fixed]
        self.fixed_count = defaultdict(int)     # slot -> fixed meetings in it
        self.fixed_people = defaultdict(set)    # slot -> people held by fixed meetings
        self.fixed_load = defaultdict(int)      # person -> fixed meetings
        for p in self.fixed.values():
            r = self.by_id[p.request_id]
            self.fixed_count[p.slot] += 1
            self.fixed_people[p.slot].update(r.people)
            for person in r.people:
                self.fixed_load[person] += 1
        self.people = sorted({x for r in self.requests for x in r.people}, key=repr)
        self._usable = {person: self._usable_slots(person) for person in self.people}
        self.options = {r.id: [s for s in range(self.slots) if self.free_tables(s) > 0
                               and s in self._usable[r.requester] and s in self._usable[r.presenter]]
                        for r in self.free}

    def capacity(self, person) -> int:
        """Meetings this person may have in all (fixed ones included), at most one per slot."""
        value = self._capacity.get(person, self._default)
        return self.slots if value is None else max(0, min(self.slots, int(value)))

    def remaining(self, person) -> int:
        return max(0, self.capacity(person) - self.fixed_load[person])

    def free_tables(self, slot: int) -> int:
        return max(0, self.tables - self.fixed_count[slot])

    def _usable_slots(self, person) -> set[int]:
        open_slots = self._available.get(person)
        usable = set(range(self.slots)) if open_slots is None else {s for s in open_slots if 0 <= s < self.slots}
        usable -= set(self._busy.get(person, ()))
        return {s for s in usable if person not in self.fixed_people[s]}

    def unrestricted(self) -> bool:
        """Nothing but tables and capacities limits the free requests (the case the flow method solves)."""
        everything = set(range(self.slots))
        return not self.fixed and all(self._usable[p] == everything for p in self.people)

    def weight_key(self, r: MeetingRequest) -> int:
        """Integer objective: the most weight first, then (``+1`` each) the most meetings."""
        return int(r.weight) * (len(self.free) + 1) + 1


# --- checking -------------------------------------------------------------------------------------------

def conflicts(requests: list[MeetingRequest], schedule: Schedule, slots: int, tables: int,
              presenter_capacity: dict | None = None, default_capacity: int | None = None, *,
              available: dict | None = None, busy: dict | None = None,
              fixed: list[Placement] | None = None) -> list[str]:
    """Every broken rule of a schedule, as readable strings (empty when the schedule is valid).

    Fixed meetings must be kept where they were; every other meeting must fall in a slot both people are
    available in and neither is busy in.
    """
    by_id = {r.id: r for r in requests}
    kept = {p.request_id: p for p in fixed or ()}
    problems = []
    seen_ids = set()
    held: dict[tuple, int] = {}
    table_use: set[tuple] = set()
    load = defaultdict(int)
    for p in schedule.placements:
        if p.request_id in seen_ids:
            problems.append(f"request {p.request_id} placed twice")
        seen_ids.add(p.request_id)
        r = by_id[p.request_id]
        if not (0 <= p.slot < slots):
            problems.append(f"request {r.id} in slot {p.slot} outside 0..{slots - 1}")
        if p.table is None or not (1 <= p.table <= tables):
            problems.append(f"request {r.id} at table {p.table} outside 1..{tables}")
        if (p.slot, p.table) in table_use:
            problems.append(f"table {p.table} double-booked in slot {p.slot}")
        table_use.add((p.slot, p.table))
        for person in r.people:
            if (person, p.slot) in held:
                problems.append(f"{person!r} twice in slot {p.slot}")
            held[(person, p.slot)] = r.id
            load[person] += 1
            if r.id in kept:
                continue
            if available and available.get(person) is not None and p.slot not in available[person]:
                problems.append(f"{person!r} is not available in slot {p.slot}")
            if busy and p.slot in busy.get(person, ()):
                problems.append(f"{person!r} is busy in slot {p.slot}")
    for rid, p in kept.items():
        placed = schedule.by_request().get(rid)
        if placed is None or placed.slot != p.slot or (p.table is not None and placed.table != p.table):
            problems.append(f"fixed meeting {rid} moved or dropped")
    caps = presenter_capacity or {}
    for person, n in load.items():
        limit = caps.get(person, default_capacity)
        if limit is not None and n > limit:
            problems.append(f"{person!r} has {n} meetings, capacity {limit}")
    return problems
