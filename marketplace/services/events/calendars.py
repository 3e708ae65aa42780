"""Personal calendar feeds (iCalendar) with their private tokens."""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta, timezone

from marketplace.services.events.common import aware, require_login, utc_now
from marketplace.services.events.meetings import meeting_time, my_meetings
from sqlalchemy import select

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


def ics(events: list[tuple[Event, list[MeetingRequest]]], host: str, lang: str = "zh", name: str = "",
        *, links: bool = True) -> str:
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
                      f"DTSTART:{_ics_time(start)}",
                      f"DTEND:{_ics_time(start + timedelta(minutes=event.meeting_minutes))}",
                      f"SUMMARY:{_ics_text('1:1 ' + m.item.title(lang))}",
                      f"DESCRIPTION:{_ics_text(m.reason)}", "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return "\r\n".join(part for line in lines for part in _fold(line)) + "\r\n"


def feed_events(user) -> list[tuple[Event, list[MeetingRequest]]]:
    """The user's registered (not cancelled) events and their scheduled meetings, for the personal feed."""
    regs = db.session.scalars(select(Registration).where(Registration.user_id == user.id,
                                                         Registration.status == "confirmed"))
    out = []
    for reg in regs:
        event = reg.event
        if event.status == "draft":
            continue
        out.append((event, my_meetings(user, event, scheduled_only=True)))
    return out
