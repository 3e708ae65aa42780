"""The brokering funnel: pairings shown -> introductions proposed -> accepted -> meetings -> NDAs -> signed.

Counted per publication batch, per technology manager and per key support direction (of the offer), with
the conversion from each step to the next and the median time between steps, taken from the timestamps of
``introduction_events``. A figure the records cannot support is ``None`` (shown as "—"):

* pairings shown per technology manager: suggestions are not shown to one broker in particular;
* the time from a pairing being shown to its proposal: suggestions are recomputed, their first showing
  is not kept;
* a conversion rate with nothing to convert from, a median with no introduction that made both steps.

"Reached a step" means reached that pipeline stage or a later one (an introduction moved straight from
contacted to signed counts as having had its meeting and NDA). Times between steps only use events that
moved to exactly that stage: a skipped stage has no time of its own, so that introduction is left out of
the medians next to it rather than counted as zero days.
Technology managers see their own introductions; operators everybody's.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from statistics import median

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from marketplace.extensions import db
from marketplace.models import Batch, Field, Introduction, IntroductionEvent, MatchSuggestion, Offer, User
from marketplace.services import access
from marketplace.services.errors import PermissionDenied

STEPS = ("shown", "proposed", "accepted", "meeting", "nda", "signed")
STEP_LABELS = {"shown": _l("Pairings shown"), "proposed": _l("Introductions proposed"), "accepted": _l("Accepted"),
               "meeting": _l("Meetings"), "nda": _l("NDAs"), "signed": _l("Signed")}
DIMENSIONS = ("batch", "broker", "field")
DIMENSION_LABELS = {"batch": _l("By batch"), "broker": _l("By technology manager"), "field": _l("By field")}
# Pipeline order; a step is reached when a stage at or after its threshold is reached.
STAGE_ORDER = {"accepted": 0, "contacted": 1, "meeting_held": 2, "nda_signed": 3, "pilot": 4, "negotiation": 5,
               "signed": 6}
STEP_THRESHOLD = {"accepted": 0, "meeting": 2, "nda": 3, "signed": 6}
STEP_STAGE = {"accepted": "accepted", "meeting": "meeting_held", "nda": "nda_signed", "signed": "signed"}
NONE_KEY = "none"


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


@dataclass
class FunnelRow:
    key: str
    label: object
    counts: dict = field(default_factory=dict)       # step -> int or None (not supported)
    rates: dict = field(default_factory=dict)        # step -> conversion from the previous step, or None
    medians: dict = field(default_factory=dict)      # step -> median timedelta from the previous step, or None
    durations: dict = field(default_factory=lambda: defaultdict(list))
    shown_proposed: int | None = 0                   # pairings shown that have an introduction

    def chart_steps(self) -> list[tuple]:
        """(label, count, conversion from the step before) per step, for the funnel chart."""
        return [(STEP_LABELS[step], self.counts.get(step), self.rates.get(step)) for step in STEPS]

    def finish(self) -> FunnelRow:
        previous = None
        for step in STEPS:
            count = self.counts.get(step)
            if previous is None:
                self.rates[step] = None
            elif step == "proposed":
                shown = self.counts.get("shown")
                self.rates[step] = (self.shown_proposed / shown) if shown and self.shown_proposed is not None \
                    else None
            else:
                before = self.counts.get(previous)
                self.rates[step] = (count / before) if before and count is not None else None
            values = self.durations.get(step) or []
            self.medians[step] = timedelta(seconds=median(values)) if values else None
            previous = step
        return self


def _timeline(intro: Introduction, events: list[IntroductionEvent]) -> tuple[set[str], dict[str, datetime]]:
    """The steps the introduction reached, and when it first moved to exactly each step's stage."""
    reached = {"proposed"}
    times = {"proposed": _aware(intro.created_at)}
    stage_events = [e for e in events if e.kind == "stage" and e.to_stage in STAGE_ORDER]
    for event in events:
        if event.kind == "proposed":
            times["proposed"] = _aware(event.created_at)
    for step, threshold in STEP_THRESHOLD.items():
        if any(STAGE_ORDER[e.to_stage] >= threshold for e in stage_events):
            reached.add(step)
        exact = [_aware(e.created_at) for e in stage_events if e.to_stage == STEP_STAGE[step]]
        if exact:
            times[step] = min(exact)
    return reached, times


def _add(row: FunnelRow, timeline: tuple[set[str], dict[str, datetime]]) -> None:
    reached, times = timeline
    previous = None
    for step in STEPS[1:]:
        if step in reached:
            row.counts[step] = row.counts.get(step, 0) + 1
            if previous in times and step in times and times[step] >= times[previous]:
                row.durations[step].append((times[step] - times[previous]).total_seconds())
        previous = step


def _direction(code: str) -> str:
    return code.split(".")[0]


def funnel(user) -> dict:
    """``{"total": FunnelRow, "batch": [...], "broker": [...], "field": [...]}`` for the user's scope."""
    if not access.is_broker(user):
        raise PermissionDenied(_l("Only technology managers and operators see the funnel."))
    own_only = not access.is_staff(user)
    query = select(Introduction).options(selectinload(Introduction.events), selectinload(Introduction.broker),
                                         selectinload(Introduction.offer).selectinload(Offer.fields))
    if own_only:
        query = query.where(Introduction.broker_id == user.id)
    intros = list(db.session.scalars(query))

    directions = {f.code: f for f in db.session.scalars(select(Field).where(Field.parent_id.is_(None)))}
    batches = {b.id: b for b in db.session.scalars(select(Batch))}
    suggestions = db.session.execute(select(MatchSuggestion.need_id, MatchSuggestion.offer_id, Offer.batch_id)
                                     .join(Offer, Offer.id == MatchSuggestion.offer_id)).all()
    offer_dirs: dict[int, set[str]] = defaultdict(set)
    suggested_offers = {s.offer_id for s in suggestions}
    if suggested_offers:
        for offer in db.session.scalars(select(Offer).where(Offer.id.in_(suggested_offers))
                                        .options(selectinload(Offer.fields))):
            offer_dirs[offer.id] = {_direction(f.code) for f in offer.fields}
    introduced = {(i.need_id, i.offer_id) for i in intros}

    total = FunnelRow("total", _l("All introductions"))
    groups: dict[str, dict[str, FunnelRow]] = {d: {} for d in DIMENSIONS}

    def row(dimension: str, key, label) -> FunnelRow:
        key = NONE_KEY if key is None else str(key)
        if key not in groups[dimension]:
            groups[dimension][key] = FunnelRow(key, label)
        return groups[dimension][key]

    def batch_label(batch_id):
        batch = batches.get(batch_id)
        return batch if batch is not None else _l("No batch")

    def direction_label(code):
        return directions.get(code) or _l("No field")

    # pairings shown (not per broker: nobody in particular was shown a suggestion)
    total.counts["shown"] = len(suggestions)
    total.shown_proposed = sum(1 for s in suggestions if (s.need_id, s.offer_id) in introduced)
    for s in suggestions:
        hit = 1 if (s.need_id, s.offer_id) in introduced else 0
        b = row("batch", s.batch_id, batch_label(s.batch_id))
        b.counts["shown"] = b.counts.get("shown", 0) + 1
        b.shown_proposed += hit
        for code in offer_dirs.get(s.offer_id) or {None}:
            f = row("field", code, direction_label(code))
            f.counts["shown"] = f.counts.get("shown", 0) + 1
            f.shown_proposed += hit

    for intro in intros:
        times = _timeline(intro, intro.events)
        _add(total, times)
        # Requests from an organisation's page and challenge awards name no offer: no batch, no field.
        batch_id = intro.offer.batch_id if intro.offer is not None else None
        _add(row("batch", batch_id, batch_label(batch_id)), times)
        broker = row("broker", intro.broker_id, intro.broker or _l("No technology manager"))
        _add(broker, times)
        for code in {_direction(f.code) for f in (intro.offer.fields if intro.offer is not None else [])} or {None}:
            _add(row("field", code, direction_label(code)), times)

    for r in groups["broker"].values():
        r.counts["shown"], r.shown_proposed = None, None
    for dimension in DIMENSIONS:
        for r in groups[dimension].values():
            for step in STEPS[1:]:
                r.counts.setdefault(step, 0)
            r.counts.setdefault("shown", 0 if dimension != "broker" else None)
    for step in STEPS[1:]:
        total.counts.setdefault(step, 0)

    def order(r: FunnelRow):
        return (r.key == NONE_KEY, -(r.counts.get("proposed") or 0), r.key)

    return {"total": total.finish(), "own_only": own_only,
            **{d: sorted((r.finish() for r in groups[d].values()), key=order) for d in DIMENSIONS}}


def label_of(value, lang: str) -> str:
    """Display text of a row label (a batch, a field, a user, or a lazy string)."""
    if isinstance(value, Batch):
        return value.title(lang)
    if isinstance(value, Field):
        return value.name(lang)
    if isinstance(value, User):
        return value.display_name
    return str(value)
