"""Time intervals (talks given, meetings at other events) to the meeting slots they block."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Iterable


def busy_slots(slot_starts: Iterable[datetime], minutes: int,
               intervals: Iterable[tuple[datetime, datetime]]) -> set[int]:
    """Indices of the slots (each ``minutes`` long from its start) that overlap any ``(start, end)`` interval.

    Touching is not overlapping: a talk ending at 10:00 leaves the 10:00 slot free. Times must be all aware
    (stored UTC) or all naive; an interval whose end is not after its start blocks nothing.
    """
    length = timedelta(minutes=minutes)
    spans = [(start, end) for start, end in intervals if start is not None and end is not None and end > start]
    return {index for index, start in enumerate(slot_starts)
            if any(begin < start + length and start < end for begin, end in spans)}
