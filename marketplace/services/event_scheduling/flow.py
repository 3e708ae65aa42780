"""Exact method when only tables and capacities limit the meetings: min-cost flow, then edge colouring.

If the people and requests form a bipartite (multi)graph — nobody can be split so that every meeting joins
the two sides, e.g. visitors meeting presenters — then by König's edge-colouring theorem the chosen requests
fit in ``S`` slots iff every person has at most ``S`` of them, and by de Werra's theorem the colouring can be
made *equitable* (slot sizes differ by at most one), so every slot holds at most ``ceil(|E| / S)`` meetings.
Hence a set of requests is schedulable **iff**

    deg(v) <= min(S, cap(v)) for every person v, and |E| <= S * T.

That is a degree-constrained subgraph with one global cardinality bound, a min-cost flow:

    source --(cap min(S, cap a))--> left person a --(cap 1, cost -w')--> request --> right person p
    right person p --(cap min(S, cap p))--> collector --(cap S*T)--> sink,
    source --(cap |R|, cost 0)--> sink   (bypass: "leave unplaced")

``w'`` is ``Instance.weight_key`` (the most weight first, then the most meetings). Integral capacities give an
integral optimum (networkx network simplex). Step two pads the chosen multigraph to an ``S``-regular one with
dummy edges, peels off ``S`` perfect matchings (Hopcroft-Karp), then balances the slots by swapping colours on
alternating paths (de Werra) until no slot holds more than ``T`` meetings.

Availability, busy slots and fixed meetings turn the colouring into list edge-colouring (NP-hard), so those
instances go to the integer programme in ``exact.py`` instead.
"""
from __future__ import annotations

import math
from collections import defaultdict

import networkx as nx
from networkx.algorithms import bipartite

from marketplace.services.event_scheduling.model import Instance, MeetingRequest


def sides(instance: Instance) -> dict | None:
    """Person -> 0/1 when the meeting graph is bipartite, else None."""
    g = nx.Graph()
    g.add_nodes_from(instance.people)
    g.add_edges_from(r.people for r in instance.free)
    if not nx.is_bipartite(g):
        return None
    return bipartite.color(g)


def solve(instance: Instance, side: dict) -> list[list[MeetingRequest]]:
    """Optimal meetings per slot (exact) for an unrestricted bipartite instance."""
    oriented = [r if side[r.requester] == 0 else MeetingRequest(r.id, r.presenter, r.requester, r.weight)
                for r in instance.free]
    chosen = _select(instance, oriented)
    classes = _balance(_colour_bipartite(chosen, instance.slots), instance.tables)
    by_id = instance.by_id
    return [[by_id[r.id] for r in members] for members in classes]


# --- step one: which requests (min-cost flow) -----------------------------------------------------------

def _select(instance: Instance, requests: list[MeetingRequest]) -> list[MeetingRequest]:
    n = len(requests)
    slots, tables = instance.slots, instance.tables
    g = nx.DiGraph()
    src, sink, collector = ("src",), ("sink",), ("collector",)
    g.add_node(src, demand=-n)
    g.add_node(sink, demand=n)
    g.add_edge(src, sink, capacity=n, weight=0)
    g.add_edge(collector, sink, capacity=slots * tables, weight=0)
    for a in {r.requester for r in requests}:
        g.add_edge(src, ("a", a), capacity=instance.capacity(a), weight=0)
    for p in {r.presenter for r in requests}:
        g.add_edge(("p", p), collector, capacity=instance.capacity(p), weight=0)
    # A multigraph edge per request: route each through its own node so parallel requests stay distinct.
    for r in requests:
        g.add_edge(("a", r.requester), ("r", r.id), capacity=1, weight=-instance.weight_key(r))
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


