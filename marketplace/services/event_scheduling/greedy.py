"""Heuristic for instances too large for the integer programme: greedy placement, then one round of repair.

Requests are taken by weight (heaviest first), then the fewest usable slots first (the hardest to place), and
each goes to its usable slot with the fewest meetings so far (spreading the tables). Then each request left out
tries once more: the one or two meetings that block it in a slot (holding one of its people, or the last table)
are moved to another slot they may use, if there is one. The result is always conflict-free; it is not proven
optimal (``Schedule.exact`` is False).
"""
from __future__ import annotations

from collections import defaultdict

from marketplace.services.event_scheduling.model import Instance, MeetingRequest


class _Board:
    """Who is where: the free requests placed so far, on top of what the instance already holds."""

    def __init__(self, instance: Instance):
        self.instance = instance
        self.slot_of: dict[int, int] = {}
        self.in_slot = defaultdict(set)      # slot -> request ids
        self.person_at: dict[tuple, int] = {}  # (person, slot) -> request id
        self.load = defaultdict(int)

    def fits(self, r: MeetingRequest, s: int) -> bool:
        """``r`` may go in ``s`` now: a usable slot, a table left, both people free there."""
        return (s in self.instance.options[r.id] and len(self.in_slot[s]) < self.instance.free_tables(s)
                and all((v, s) not in self.person_at for v in r.people))

    def has_capacity(self, r: MeetingRequest) -> bool:
        return all(self.load[v] < self.instance.remaining(v) for v in r.people)

    def put(self, r: MeetingRequest, s: int) -> None:
        self.slot_of[r.id] = s
        self.in_slot[s].add(r.id)
        for v in r.people:
            self.person_at[(v, s)] = r.id
            self.load[v] += 1

    def take(self, r: MeetingRequest) -> int:
        s = self.slot_of.pop(r.id)
        self.in_slot[s].discard(r.id)
        for v in r.people:
            del self.person_at[(v, s)]
            self.load[v] -= 1
        return s


def solve(instance: Instance) -> dict[int, int]:
    """``{request id: slot}`` for the requests placed."""
    board = _Board(instance)
    order = sorted(instance.free, key=lambda r: (-r.weight, len(instance.options[r.id]), r.id))
    left_out = []
    for r in order:
        fitting = [s for s in instance.options[r.id] if board.fits(r, s)] if board.has_capacity(r) else []
        if fitting:
            board.put(r, min(fitting, key=lambda s: (len(board.in_slot[s]), s)))
        else:
            left_out.append(r)
    for r in left_out:
        if board.has_capacity(r):
            _repair(board, r)
    return dict(board.slot_of)


def _repair(board: _Board, r: MeetingRequest) -> bool:
    """Place ``r`` by moving the meetings that block it in one of its slots elsewhere."""
    instance = board.instance
    by_id = instance.by_id
    for s in instance.options[r.id]:
        blockers = {board.person_at[(v, s)] for v in r.people if (v, s) in board.person_at}
        if len(board.in_slot[s] - blockers) >= instance.free_tables(s):
            # the slot is full even without them: also move one other meeting out
            others = sorted(board.in_slot[s] - blockers)
            if blockers or not others:
                continue
            blockers = {others[0]}
        moved = [by_id[i] for i in sorted(blockers)]
        saved = [(m, board.take(m)) for m in moved]
        targets: list[tuple[MeetingRequest, int]] = []
        for m in moved:
            spot = next((t for t in instance.options[m.id] if t != s and board.fits(m, t)), None)
            if spot is None:
                break
            board.put(m, spot)
            targets.append((m, spot))
        if len(targets) == len(moved) and board.fits(r, s):
            board.put(r, s)
            return True
        for m, _ in targets:  # undo
            board.take(m)
        for m, old in saved:
            board.put(m, old)
    return False
