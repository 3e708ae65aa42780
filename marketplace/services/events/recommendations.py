"""Whom each participant of an event should meet, and why: the matching engine's pairings between them.

A pairing is one stored match suggestion (a need of one organisation, an offer of another, its calibrated
strength and its reasons). Two participants are worth a meeting when the engine paired a need of one's
organisation with an offer of the other's, in either direction. People of the same organisation or of the same
declared group of organisations are never recommended to each other (as in the matches themselves).

``recommend_meetings`` is pure (plain data in, plain data out); ``queries.event_recommendations.for_viewer``
loads the inputs a viewer may see and keeps the viewer's own list.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

DEFAULT_LIMIT = 8
DEFAULT_STRENGTH = 50   # a pairing stored before the first calibration counts as a middling one


@dataclass(frozen=True)
class Attendee:
    person: int
    organization_ids: frozenset = frozenset()


@dataclass(frozen=True)
class Pairing:
    """One engine pairing: ``need_org`` needs what ``offer_org`` offers."""

    need_org: int
    offer_org: int
    need_id: int
    offer_id: int
    need_title: dict = field(default_factory=dict)    # {"zh": …, "en": …}
    offer_title: dict = field(default_factory=dict)
    strength: int | None = None
    reasons: tuple = ()                                # engine reasons the viewer may read


@dataclass
class Recommendation:
    """Meet ``participant``; ``reasons`` say which of their offers fit your needs (``they_offer``) and which of
    your offers fit theirs (``you_offer``), strongest first; ``score`` is 0-100."""

    participant: object
    score: int
    reasons: list[dict]


def _score(strengths: list[int]) -> int:
    """The strongest pairing, plus a little for each further one (several reasons beat one), at most 100."""
    ordered = sorted(strengths, reverse=True)
    return min(100, ordered[0] + 5 * (len(ordered) - 1))


def recommend_meetings(attendees: list[Attendee], pairings: list[Pairing], groups: dict | None = None, *,
                       limit: int = DEFAULT_LIMIT, exclude: dict | None = None) -> dict[int, list[Recommendation]]:
    """Per participant, the others they should meet, best first (at most ``limit``).

    ``groups`` maps an organisation id (as text, like ``match_records.org_groups``) to the top of its group;
    ``exclude`` maps a person to people not to recommend (already asked, already met).
    """
    groups, exclude = groups or {}, exclude or {}

    def family(org_ids) -> set:
        return {groups.get(str(o), str(o)) for o in org_ids}

    by_org: dict[int, list[Attendee]] = defaultdict(list)
    for a in attendees:
        for org in a.organization_ids:
            by_org[org].append(a)
    found: dict[tuple[int, int], list[tuple[int, dict]]] = defaultdict(list)
    for p in pairings:
        strength = DEFAULT_STRENGTH if p.strength is None else p.strength
        for seeker in by_org.get(p.need_org, ()):
            for provider in by_org.get(p.offer_org, ()):
                if seeker.person == provider.person or family(seeker.organization_ids) & family(
                        provider.organization_ids):
                    continue
                shared = {"need": p.need_title, "offer": p.offer_title, "need_id": p.need_id,
                          "offer_id": p.offer_id, "strength": strength, "engine": list(p.reasons)}
                found[(seeker.person, provider.person)].append((strength, {**shared, "direction": "they_offer"}))
                found[(provider.person, seeker.person)].append((strength, {**shared, "direction": "you_offer"}))
    result: dict[int, list[Recommendation]] = {a.person: [] for a in attendees}
    for (person, other), items in found.items():
        if other in exclude.get(person, ()):
            continue
        items.sort(key=lambda item: (-item[0], item[1]["need_id"], item[1]["offer_id"]))
        result.setdefault(person, []).append(Recommendation(other, _score([s for s, _ in items]),
                                                            [reason for _, reason in items]))
    for person, recs in result.items():
        recs.sort(key=lambda r: (-r.score, -len(r.reasons), str(r.participant)))
        del recs[limit:]
    return result

