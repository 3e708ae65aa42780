"""The event report for organisers and operators, participants' ratings after the event, outcomes months later.

The report adds to the follow-up figures (``follow_ups.report``) what the day and the months after it gave:
attendance (check-ins), meetings requested / accepted / held / missed, ratings and recorded outcomes. Check-in
columns belong to the meetings part of events; they are read with ``getattr`` so the report also works on
records without them (attendance is then unknown and a scheduled meeting of a finished event counts as held).
"""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from marketplace.extensions import db
from marketplace.models import Event, EventFeedback, EventOutcome, MeetingRequest, Organization, Registration
from marketplace.models.event_feedback import OUTCOME_KINDS
from marketplace.services import notifications
from marketplace.services.cleaning import Cleaner, parse_id
from marketplace.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from marketplace.services.exports import ExportColumn, ExportTable
from marketplace.services.events.common import (
    REGISTRATION_LABELS,
    aware,
    require_login,
    require_manage,
    utc_now,
)
from marketplace.services.events.follow_ups import report as follow_up_figures

FEEDBACK_JOB = "event_feedback.request_feedback"
FEEDBACK_REQUEST_DAYS = 14   # ask for ratings during this many days after an event ends
OUTCOME_LABELS = {"introduction": _l("Introduction"), "deal": _l("Deal signed"), "investment": _l("Investment"),
                  "other": _l("Other outcome")}
RATING_VALUES = (1, 2, 3, 4, 5)
assert set(OUTCOME_LABELS) == set(OUTCOME_KINDS)


# --- who took part -----------------------------------------------------------------------------------

def _checked_in(registration: Registration) -> bool | None:
    """Whether the person checked in at the event; None when the records do not say."""
    if not hasattr(registration, "checked_in_at"):
        return None
    return registration.checked_in_at is not None


def _meeting_held(meeting: MeetingRequest, event_ended: bool) -> bool:
    """Both sides checked in; without check-in records, a scheduled meeting of an event that has ended."""
    if meeting.status != "accepted" or meeting.slot is None:
        return False
    if hasattr(meeting, "requester_checked_in_at"):
        return meeting.requester_checked_in_at is not None and meeting.presenter_checked_in_at is not None
    return event_ended


def has_ended(event, now: datetime | None = None) -> bool:
    """The event took place (published or finished) and its end has passed."""
    return event.status in ("published", "finished") and aware(event.ends_at) <= (now or utc_now())


def attendees(event) -> list[Registration]:
    """Confirmed registrants; only those who checked in once anyone did (the others did not come)."""
    regs = list(db.session.scalars(select(Registration).where(Registration.event_id == event.id,
                                                              Registration.status == "confirmed")))
    came = [r for r in regs if _checked_in(r)]
    return came or regs


# --- ratings -----------------------------------------------------------------------------------------

def feedback_open(user, event, now: datetime | None = None) -> bool:
    """The rating form is open to this person: the event has ended and they were a confirmed participant."""
    uid = getattr(user, "id", None) if getattr(user, "is_authenticated", False) else None
    return uid is not None and has_ended(event, now) and any(r.user_id == uid for r in attendees(event))


def my_feedback(user, event) -> EventFeedback | None:
    """This person's rating of the event, if any."""
    if not getattr(user, "is_authenticated", False):
        return None
    return db.session.scalar(select(EventFeedback).where(EventFeedback.event_id == event.id,
                                                         EventFeedback.user_id == user.id))


def give_feedback(user, event, data: dict, now: datetime | None = None) -> EventFeedback:
    """Record (or replace) this person's rating of the event: sending the same form twice keeps one rating."""
    require_login(user)
    if not has_ended(event, now):
        raise Conflict(_l("You can rate the event once it has ended."))
    if not feedback_open(user, event, now):
        raise PermissionDenied(_l("Only the event's participants rate it."))
    c = Cleaner(data)
    rating = c.choice("rating", [str(v) for v in RATING_VALUES])
    if rating is None or "rating" in c.errors:
        c.errors["rating"] = _l("Choose a rating from 1 to 5.")
    comment = c.text("comment", max_length=2000)
    if c.errors:
        raise ValidationFailed(_l("Please correct the highlighted fields."), field_errors=c.errors)
    feedback = my_feedback(user, event)
    if feedback is None:
        feedback = EventFeedback(event_id=event.id, user_id=user.id)
        db.session.add(feedback)
    feedback.rating, feedback.comment = int(rating), comment
    db.session.flush()
    return feedback


def request_feedback(now: datetime | None = None, days: int = FEEDBACK_REQUEST_DAYS) -> dict:
    """Ask the participants of events that ended in the last ``days`` to rate them (each person once)."""
    now = now or utc_now()
    events = list(db.session.scalars(select(Event).where(Event.status.in_(("published", "finished")),
                                                         Event.ends_at <= now,
                                                         Event.ends_at > now - timedelta(days=days))))
    asked = 0
    for event in events:
        rated = set(db.session.scalars(select(EventFeedback.user_id).where(EventFeedback.event_id == event.id)))
        people = [r.user_id for r in attendees(event) if r.user_id not in rated]
        asked += len(notifications.notify(
            people, "event", "event_feedback_request", {"title": {"zh": event.title("zh"), "en": event.title("en")}},
            f"/events/{event.id}/feedback", dedupe_key=f"event_feedback:{event.id}", about=event))
    return {"events": len(events), "asked": asked}


# --- outcomes ----------------------------------------------------------------------------------------

def record_outcome(user, event, data: dict) -> EventOutcome:
    """The organiser or an operator records what the event led to (an organisation, a kind, an amount)."""
    require_manage(user, event)
    c = Cleaner(data)
    kind = c.choice("kind", OUTCOME_KINDS, required=True)
    org_id = parse_id(data.get("organization_id"))
    if not _blank_value(data.get("organization_id")) and (
            org_id is None or db.session.get(Organization, org_id) is None):
        c.error("organization_id", _l("Choose an organisation from the list."))
    amount = c.decimal("amount_rmb")
    happened_on = c.date("happened_on")
    note = c.text("note", max_length=2000)
    if c.errors:
        raise ValidationFailed(_l("Please correct the highlighted fields."), field_errors=c.errors)
    outcome = EventOutcome(event_id=event.id, organization_id=org_id, kind=kind, amount_rmb=amount,
                           happened_on=happened_on, note=note, recorded_by_id=user.id)
    db.session.add(outcome)
    db.session.flush()
    return outcome


def _blank_value(value) -> bool:
    return value is None or not str(value).strip()


def remove_outcome(user, event, outcome_id) -> None:
    """Delete a wrongly recorded outcome (organiser or operators)."""
    require_manage(user, event)
    outcome = db.session.get(EventOutcome, parse_id(outcome_id) or 0)
    if outcome is None or outcome.event_id != event.id:
        raise NotFound(_l("This outcome does not exist."))
    db.session.delete(outcome)
    db.session.flush()


# --- the report --------------------------------------------------------------------------------------

def event_report(user, event, now: datetime | None = None) -> dict:
    """Every figure of the report page and its export (organiser and operators only)."""
    data = follow_up_figures(user, event)
    ended = has_ended(event, now)
    regs = list(db.session.scalars(select(Registration).where(Registration.event_id == event.id)
                                   .options(selectinload(Registration.user))))
    confirmed = [r for r in regs if r.status == "confirmed"]
    check_ins = [_checked_in(r) for r in confirmed]
    meetings = list(db.session.scalars(select(MeetingRequest).where(MeetingRequest.event_id == event.id)))
    statuses = Counter(m.status for m in meetings)
    feedback = list(db.session.scalars(select(EventFeedback).where(EventFeedback.event_id == event.id)
                                       .order_by(EventFeedback.created_at.desc(), EventFeedback.id.desc())))
    outcomes = list(db.session.scalars(select(EventOutcome).where(EventOutcome.event_id == event.id)
                                       .options(selectinload(EventOutcome.organization),
                                                selectinload(EventOutcome.recorded_by))
                                       .order_by(EventOutcome.happened_on.desc().nulls_last(),
                                                 EventOutcome.id.desc())))
    ratings = Counter(f.rating for f in feedback)
    data.update({
        "ended": ended,
        "waitlisted": sum(1 for r in regs if r.status == "waitlisted"),
        "attended": None if None in check_ins else sum(check_ins),
        "meetings_accepted": sum(1 for m in meetings if m.status == "accepted"),
        "meetings_declined": statuses.get("declined", 0),
        "meetings_pending": statuses.get("pending", 0),
        "meetings_held": sum(1 for m in meetings if _meeting_held(m, ended)),
        "meetings_no_show": sum(1 for m in meetings if getattr(m, "no_show_id", None) is not None),
        "ratings_count": len(feedback),
        "rating_average": round(sum(f.rating for f in feedback) / len(feedback), 1) if feedback else None,
        "ratings": {value: ratings.get(value, 0) for value in RATING_VALUES},
        "comments": [f for f in feedback if f.comment],
        "outcomes": outcomes,
        "outcomes_by_kind": {k: sum(1 for o in outcomes if o.kind == k) for k in OUTCOME_KINDS},
        "outcome_amounts": {k: sum((o.amount_rmb for o in outcomes if o.kind == k and o.amount_rmb), 0)
                            for k in OUTCOME_KINDS},
        "participants": confirmed,
    })
    return data


# --- export ------------------------------------------------------------------------------------------

def _yes_no(value: bool | None) -> str:
    return "—" if value is None else str(_l("Yes") if value else _l("No"))


def export_report(user, event, locale: str = "zh", now: datetime | None = None) -> list[ExportTable]:
    """The report as workbook sheets: figures, participants, outcomes and (unsigned) ratings."""
    data = event_report(user, event, now)
    meetings = list(db.session.scalars(select(MeetingRequest).where(MeetingRequest.event_id == event.id)))
    accepted, held = Counter(), Counter()
    for m in meetings:
        for person in (m.requester_id, m.presenter_id):
            accepted[person] += m.status == "accepted"
            held[person] += _meeting_held(m, data["ended"])
    figures = [(_l("Registered"), data["registered"]), (_l("On the waiting list"), data["waitlisted"]),
               (_l("Checked in"), "—" if data["attended"] is None else data["attended"]),
               (_l("Meetings requested"), data["meetings_requested"]),
               (_l("Meetings accepted"), data["meetings_accepted"]), (_l("Meetings held"), data["meetings_held"]),
               (_l("Meetings missed (no-show)"), data["meetings_no_show"]),
               (_l("Ratings"), data["ratings_count"]),
               (_l("Average rating"), "—" if data["rating_average"] is None else data["rating_average"]),
               (_l("Introductions from follow-ups"), data["introductions"]), (_l("Deals signed"), data["signed"])]
    figures += [(OUTCOME_LABELS[k], n) for k, n in data["outcomes_by_kind"].items()]

    def org_names(user_row) -> str:
        return "; ".join(o.name(locale) for o in user_row.organizations)

    return [
        ExportTable("figures", (ExportColumn("指标", "Figure", lambda row: str(row[0])),
                                ExportColumn("数值", "Value", lambda row: row[1])), figures),
        ExportTable("participants", (
            ExportColumn("姓名", "Name", lambda r: r.user.display_name),
            ExportColumn("机构", "Organisation", lambda r: org_names(r.user)),
            ExportColumn("报名状态", "Registration", lambda r: str(REGISTRATION_LABELS.get(r.status, ""))),
            ExportColumn("已签到", "Checked in", lambda r: _yes_no(_checked_in(r))),
            ExportColumn("已接受的洽谈", "Meetings accepted", lambda r: accepted[r.user_id]),
            ExportColumn("已举行的洽谈", "Meetings held", lambda r: held[r.user_id])), data["participants"]),
        ExportTable("outcomes", (
            ExportColumn("日期", "Date", lambda o: o.happened_on),
            ExportColumn("机构", "Organisation", lambda o: o.organization.name(locale) if o.organization else ""),
            ExportColumn("结果", "Outcome", lambda o: str(OUTCOME_LABELS[o.kind])),
            ExportColumn("金额（元）", "Amount (RMB)", lambda o: o.amount_rmb),
            ExportColumn("说明", "Note", lambda o: o.note),
            ExportColumn("记录人", "Recorded by", lambda o: o.recorded_by.display_name if o.recorded_by else "")),
            data["outcomes"]),
        ExportTable("ratings", (ExportColumn("评分", "Rating", lambda f: f.rating),
                                ExportColumn("意见", "Comment", lambda f: f.comment),
                                ExportColumn("日期", "Date", lambda f: aware(f.created_at).date())),
                    list(db.session.scalars(select(EventFeedback).where(EventFeedback.event_id == event.id)
                                            .order_by(EventFeedback.id)))),
    ]
