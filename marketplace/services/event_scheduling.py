"""1:1 meeting scheduler: place accepted meeting requests in time slots and virtual tables.

Pure functions on plain data (no Flask, no database) so the algorithm can be tested on its own.

Problem
-------
Given requests ``r = (requester a, presenter p, weight w)``, ``S`` slots, ``T`` virtual tables per slot and a
meeting capacity ``cap(p)`` per presenter, choose a set of requests and give each a (slot, table) so that

* nobody is in two meetings in the same slot (as requester or as presenter),
* a slot holds at most ``T`` meetings (one per table),
* presenter ``p`` has at most ``cap(p)`` meetings,

maximising the total weight of the placed requests (ties: the most meetings).

Formulation (exact when requesters and presenters are different people)
-----------------------------------------------------------------------
If nobody is both a requester and a presenter, the requests form a bipartite multigraph (requesters x
presenters). By König's edge-colouring theorem a bipartite multigraph can be coloured with ``S`` colours (=
slots) iff its maximum degree is at most ``S``; by de Werra's theorem the colouring can be made *equitable*
(colour classes differ in size by at most one), so every slot holds at most ``ceil(|E| / S)`` meetings. Hence a
set of requests is schedulable **iff**

    deg(a) <= S for every requester, deg(p) <= min(S, cap(p)) for every presenter, and |E| <= S * T.

That is a degree-constrained subgraph (b-matching) with one extra global cardinality bound, which is a
min-cost flow:

    source --(cap S)--> requester a --(cap 1, cost -w')--> presenter p --(cap min(S, cap p))--> collector
    collector --(cap S*T)--> sink,          source --(cap |R|, cost 0)--> sink   (bypass: "leave unplaced")

with supply ``|R|`` at the source and demand ``|R|`` at the sink. ``w' = w * (|R| + 1) + 1`` so that maximum
weight comes first and, among maximum-weight choices, more meetings. The bypass arc makes the flow maximise
weight rather than cardinality. Integral capacities give an integral optimum (networkx network simplex).

Step two turns the chosen edges into slots: pad the multigraph to an ``S``-regular bipartite multigraph with
dummy vertices and edges, peel off ``S`` perfect matchings (Hopcroft-Karp; a regular bipartite multigraph always
has one), then balance the colour classes by swapping colours along alternating paths (de Werra) until each
slot has at most ``T`` meetings. Tables are numbered 1..k inside each slot.

When somebody is both a requester and a presenter the graph is not bipartite and the two-sided constraint is
NP-hard in general; the flow then still bounds each role separately and step two colours slot by slot with a
maximum-weight matching (networkx ``max_weight_matching``) on the remaining chosen requests, so the result is
always conflict-free but not guaranteed optimal (``Schedule.exact`` is False).
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

import networkx as nx
from networkx.algorithms import bipartite


@dataclass(frozen=True)
class MeetingRequest:
    id: int
    requester: object
    presenter: object
    weight: int = 1


@dataclass(frozen=True)
class Placement:
    request_id: int
    slot: int      # 0-based slot index
    table: int     # 1-based table number within the slot


@dataclass
class Schedule:
    placements: list[Placement] = field(default_factory=list)
    unplaced: list[int] = field(default_factory=list)
    total_weight: int = 0
    exact: bool = True

    def by_request(self) -> dict[int, Placement]:
        return {p.request_id: p for p in self.placements}


def schedule_meetings(requests: list[MeetingRequest], slots: int, tables: int,
                      presenter_capacity: dict | None = None, default_capacity: int | None = None) -> Schedule:
    """Assign requests to (slot, table); see the module docstring for the formulation."""
    requests = sorted(requests, key=lambda r: r.id)
    if slots <= 0 or tables <= 0 or not requests:
        return Schedule(unplaced=[r.id for r in requests])
    for r in requests:
        if r.requester == r.presenter:
            raise ValueError(f"request {r.id}: a person cannot meet themselves")
        if int(r.weight) != r.weight or r.weight < 0:
            raise ValueError(f"request {r.id}: weights are non-negative integers")
    caps = presenter_capacity or {}

    def cap(p) -> int:
        value = caps.get(p, default_capacity if default_capacity is not None else slots)
        return max(0, min(slots, int(value)))

    chosen = _select(requests, slots, tables, cap)
    requesters = {r.requester for r in requests}
    presenters = {r.presenter for r in requests}
    exact = not (requesters & presenters)
    if exact:
        classes = _colour_bipartite(chosen, slots)
        classes = _balance(classes, tables)
    else:
        classes = _colour_by_matching(chosen, slots, tables)
    placements = []
    for slot, members in enumerate(classes):
        for table, r in enumerate(sorted(members, key=lambda r: (-r.weight, r.id)), start=1):
            placements.append(Placement(r.id, slot, table))
    placed = {p.request_id for p in placements}
    by_id = {r.id: r for r in requests}
    return Schedule(placements=sorted(placements, key=lambda p: (p.slot, p.table)),
                    unplaced=[r.id for r in requests if r.id not in placed],
                    total_weight=sum(by_id[i].weight for i in placed), exact=exact)


# --- step one: which requests (min-cost flow) -----------------------------------------------------------

def _select(requests: list[MeetingRequest], slots: int, tables: int, cap) -> list[MeetingRequest]:
    n = len(requests)
    g = nx.DiGraph()
    src, sink, collector = ("src",), ("sink",), ("collector",)
    g.add_node(src, demand=-n)
    g.add_node(sink, demand=n)
    g.add_edge(src, sink, capacity=n, weight=0)
    g.add_edge(collector, sink, capacity=slots * tables, weight=0)
    for a in {r.requester for r in requests}:
        g.add_edge(src, ("a", a), capacity=slots, weight=0)
    for p in {r.presenter for r in requests}:
        g.add_edge(("p", p), collector, capacity=cap(p), weight=0)
    # A multigraph edge per request: route each through its own node so parallel requests stay distinct.
    for r in requests:
        g.add_edge(("a", r.requester), ("r", r.id), capacity=1, weight=-(int(r.weight) * (n + 1) + 1))
        g.add_edge(("r", r.id), ("p", r.presenter), capacity=1, weight=0)
    flow = nx.min_cost_flow(g)
    return [r for r in requests if flow[("a", r.requester)][("r", r.id)] == 1]


# --- step two (bipartite): König colouring by perfect matchings, then de Werra balancing -----------------

def _colour_bipartite(chosen: list[MeetingRequest], slots: int) -> list[list[MeetingRequest]]:
    """Split the chosen requests into ``slots`` matchings (every person at most once per slot)."""
    left = sorted({("a", r.requester) for r in chosen}, key=repr)
    right = sorted({("p", r.presenter) for r in chosen}, key=repr)
    # Edge multiset: key -> list of request (or None for padding edges).
    edges: dict[tuple, list] = defaultdict(list)
    degree: dict = defaultdict(int)
    for r in chosen:
        edges[(("a", r.requester), ("p", r.presenter))].append(r)
        degree[("a", r.requester)] += 1
        degree[("p", r.presenter)] += 1
    # Pad both sides to the same size, then add dummy edges until every vertex has degree ``slots``.
    size = max(len(left), len(right))
    left += [("da", i) for i in range(size - len(left))]
    right += [("dp", i) for i in range(size - len(right))]
    li = ri = 0
    while True:
        while li < size and degree[left[li]] >= slots:
            li += 1
        while ri < size and degree[right[ri]] >= slots:
            ri += 1
        if li >= size or ri >= size:
            break
        edges[(left[li], right[ri])].append(None)
        degree[left[li]] += 1
        degree[right[ri]] += 1
    classes: list[list[MeetingRequest]] = []
    for _ in range(slots):
        g = nx.Graph()
        g.add_nodes_from(left, bipartite=0)
        g.add_nodes_from(right, bipartite=1)
        g.add_edges_from(k for k, v in edges.items() if v)
        matching = bipartite.hopcroft_karp_matching(g, top_nodes=left) if g.number_of_edges() else {}
        members = []
        for u in left:
            v = matching.get(u)
            if v is None:
                continue
            item = edges[(u, v)].pop()
            if item is not None:
                members.append(item)
        classes.append(members)
    assert not any(v for v in edges.values()), "a regular bipartite multigraph decomposes into perfect matchings"
    return classes


def _balance(classes: list[list[MeetingRequest]], tables: int) -> list[list[MeetingRequest]]:
    """Swap colours on alternating paths until no slot holds more than ``tables`` meetings (de Werra)."""
    total = sum(len(c) for c in classes)
    target = max(math.ceil(total / len(classes)), 0)
    assert target <= tables, "the flow bounds the number of meetings by slots x tables"
    while True:
        big = max(range(len(classes)), key=lambda i: len(classes[i]))
        small = min(range(len(classes)), key=lambda i: len(classes[i]))
        if len(classes[big]) <= target or len(classes[big]) - len(classes[small]) <= 1:
            return classes
        classes[big], classes[small] = _swap_on_path(classes[big], classes[small])


def _swap_on_path(big: list[MeetingRequest], small: list[MeetingRequest]):
    """In the union of two matchings, a component with more ``big`` edges is a path; swap its colours."""
    g = nx.MultiGraph()
    for colour, members in (("big", big), ("small", small)):
        for r in members:
            g.add_edge(("a", r.requester), ("p", r.presenter), key=(colour, r.id), request=r, colour=colour)
    for component in nx.connected_components(g):
        sub = g.subgraph(component)
        counts = defaultdict(int)
        for _, _, data in sub.edges(data=True):
            counts[data["colour"]] += 1
        if counts["big"] > counts["small"]:
            moved = {data["request"].id for _, _, data in sub.edges(data=True)}
            new_big = [r for r in big if r.id not in moved] + [r for r in small if r.id in moved]
            new_small = [r for r in small if r.id not in moved] + [r for r in big if r.id in moved]
            return new_big, new_small
    raise AssertionError("a larger matching always has an augmenting component")  # pragma: no cover


# --- step two (general graph): slot by slot maximum-weight matching --------------------------------------

def _colour_by_matching(chosen: list[MeetingRequest], slots: int, tables: int) -> list[list[MeetingRequest]]:
    remaining = list(chosen)
    classes: list[list[MeetingRequest]] = []
    for _ in range(slots):
        g = nx.Graph()
        best: dict[frozenset, MeetingRequest] = {}
        for r in remaining:
            key = frozenset((r.requester, r.presenter))
            if key not in best or (r.weight, -r.id) > (best[key].weight, -best[key].id):
                best[key] = r
        for key, r in best.items():
            g.add_edge(("u", r.requester), ("u", r.presenter), weight=r.weight * 1000 + 1, request=r)
        matching = nx.max_weight_matching(g)
        members = sorted((g.edges[u, v]["request"] for u, v in matching), key=lambda r: (-r.weight, r.id))[:tables]
        classes.append(members)
        ids = {r.id for r in members}
        remaining = [r for r in remaining if r.id not in ids]
    return classes


# --- checking -------------------------------------------------------------------------------------------

def conflicts(requests: list[MeetingRequest], schedule: Schedule, slots: int, tables: int,
              presenter_capacity: dict | None = None, default_capacity: int | None = None) -> list[str]:
    """Every broken rule of a schedule, as readable strings (empty when the schedule is valid)."""
    by_id = {r.id: r for r in requests}
    problems = []
    seen_ids = set()
    busy: dict[tuple, int] = {}
    table_use: set[tuple] = set()
    per_slot = defaultdict(int)
    per_presenter = defaultdict(int)
    for p in schedule.placements:
        if p.request_id in seen_ids:
            problems.append(f"request {p.request_id} placed twice")
        seen_ids.add(p.request_id)
        r = by_id[p.request_id]
        if not (0 <= p.slot < slots):
            problems.append(f"request {r.id} in slot {p.slot} outside 0..{slots - 1}")
        if not (1 <= p.table <= tables):
            problems.append(f"request {r.id} at table {p.table} outside 1..{tables}")
        if (p.slot, p.table) in table_use:
            problems.append(f"table {p.table} double-booked in slot {p.slot}")
        table_use.add((p.slot, p.table))
        for person in (r.requester, r.presenter):
            if (person, p.slot) in busy:
                problems.append(f"{person!r} twice in slot {p.slot}")
            busy[(person, p.slot)] = r.id
        per_slot[p.slot] += 1
        per_presenter[r.presenter] += 1
    caps = presenter_capacity or {}
    for person, n in per_presenter.items():
        limit = caps.get(person, default_capacity if default_capacity is not None else slots)
        if n > limit:
            problems.append(f"presenter {person!r} has {n} meetings, capacity {limit}")
    return problems
