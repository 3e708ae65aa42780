"""Personal calendar feeds (iCalendar) with their private tokens."""
from __future__ import annotations

import secrets
from datetime import datetime, timezone

from marketplace.services.events.common import aware, require_login, utc_now
from marketplace.services.events.meetings import my_meetings
from marketplace.services.events.on_the_day import video_link
from marketplace.services.events.windows import meeting_end, meeting_time
from sqlalchemy import or_, select

from marketplace.extensions import db
from marketplace.models import (
    CalendarToken,
    Event,
    MeetingRequest,
    Registration,
    User,
)

# --- calendars ----------------------------------------------------------------------------------------

def calendar_token(user) -> str:
    require_login(user)
    row = db.session.scalar(select(CalendarToken).where(CalendarToken.user_id == user.id))
    if row is None:
        row = CalendarToken(user_id=user.id, token=secrets.token_urlsafe(24))
        db.session.add(row)
        db.session.flush()
    return row.token


def user_for_token(token: str) -> User | None:
    row = db.session.scalar(select(CalendarToken).where(CalendarToken.token == (token or "")[:64]))
    return db.session.get(User, row.user_id) if row else None


def _ics_text(value: str) -> str:
    return (value or "").replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\r", "") \
        .replace("\n", "\\n")


def _ics_time(value: datetime) -> str:
    return aware(value).astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def _fold(line: str) -> list[str]:
    """RFC 5545: lines of at most 75 octets, continuation lines start with a space."""
    out, current = [], ""
    for ch in line:
        if len((current + ch).encode()) > (75 if not out else 74):
            out.append(current)
            current = ch
        else:
            current += ch
    out.append(current)
    return [out[0]] + [" " + part for part in out[1:]]


def _meeting_subject(meeting: MeetingRequest, viewer_id: int | None, lang: str) -> str:
    """An agenda item's title, else the other person's name."""
    if meeting.item is not None:
        return meeting.item.title(lang)
    other = meeting.presenter if viewer_id == meeting.requester_id else meeting.requester
    return other.display_name if other else ""


def ics(events: list[tuple[Event, list[MeetingRequest]]], host: str, lang: str = "zh", name: str = "",
        *, links: bool = True, viewer_id: int | None = None) -> str:
    """An iCalendar document with one VEVENT per event (and one per scheduled 1:1 meeting); ``links=False``
    leaves out the online meeting link (for people who may not see it, see ``may_see_meeting_link``)."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//TechBridge//Events//EN", "CALSCALE:GREGORIAN",
             "METHOD:PUBLISH"]
    if name:
        lines.append(f"X-WR-CALNAME:{_ics_text(name)}")
    stamp = _ics_time(utc_now())
    for event, meetings in events:
        status = "CANCELLED" if event.status == "cancelled" else "CONFIRMED"
        lines += ["BEGIN:VEVENT", f"UID:event-{event.id}@{host}", f"DTSTAMP:{stamp}",
                  f"DTSTART:{_ics_time(event.starts_at)}", f"DTEND:{_ics_time(event.ends_at)}",
                  f"SEQUENCE:{event.ics_sequence or 0}", f"STATUS:{status}",
                  f"SUMMARY:{_ics_text(event.title(lang))}",
                  f"DESCRIPTION:{_ics_text(event.description(lang))}"]
        if event.meeting_url and links:
            lines += [f"URL:{event.meeting_url}", f"LOCATION:{_ics_text(event.meeting_url)}"]
        lines.append("END:VEVENT")
        for m in meetings:
            start = meeting_time(event, m.slot)
            if start is None:
                continue
            lines += ["BEGIN:VEVENT", f"UID:meeting-{m.id}@{host}", f"DTSTAMP:{stamp}",
                      f"DTSTART:{_ics_time(start)}", f"DTEND:{_ics_time(meeting_end(event, m.slot))}",
                      f"SEQUENCE:{event.ics_sequence or 0}",
                      f"SUMMARY:{_ics_text('1:1 ' + _meeting_subject(m, viewer_id, lang))}",
                      f"DESCRIPTION:{_ics_text(m.reason)}"]
            if m.table_number:
                lines.append(f"LOCATION:{_ics_text(f'#{m.table_number}')}")
            if links and video_link(event, m):
                lines.append(f"URL:{video_link(event, m)}")
            lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return "\r\n".join(part for line in lines for part in _fold(line)) + "\r\n"


def feed_events(user) -> list[tuple[Event, list[MeetingRequest]]]:
    """The user's registered (not cancelled) events, and events where they have a booked meeting (presenters
    need not register), each with the user's booked meetings, for the personal feed."""
    registered = set(db.session.scalars(select(Registration.event_id).where(
        Registration.user_id == user.id, Registration.status == "confirmed")))
    meeting_events = set(db.session.scalars(select(MeetingRequest.event_id).where(
        or_(MeetingRequest.requester_id == user.id, MeetingRequest.presenter_id == user.id),
        MeetingRequest.status == "accepted", MeetingRequest.slot.isnot(None))))
    out = []
    for event in db.session.scalars(select(Event).where(Event.id.in_(registered | meeting_events))
                                    .order_by(Event.starts_at)):
        if event.status == "draft":
            continue
        out.append((event, my_meetings(user, event, scheduled_only=True)))
    return out
