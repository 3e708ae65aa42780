"""Telling the other side about a 1:1 meeting: asked, accepted (with its time), moved, cancelled, lapsed."""
from __future__ import annotations

from marketplace.models.events import MeetingRequest
from marketplace.services import notifications
from marketplace.services.events.common import local
from marketplace.services.events.windows import meeting_time


def _when(meeting: MeetingRequest) -> str:
    start = meeting_time(meeting.event, meeting.slot if meeting.slot is not None else meeting.proposed_slot)
    if start is None:
        return ""
    # The offset, not the zone's name: names are codes (Asia/Shanghai), an offset reads the same in any language.
    moment = local(start, meeting.event.timezone)
    offset = moment.strftime("%z")
    return f"{moment:%Y-%m-%d %H:%M} (UTC{offset[:3]}:{offset[3:]})"


def _params(meeting: MeetingRequest, actor_id: int | None = None) -> dict:
    event = meeting.event
    item = meeting.item
    who = meeting.requester if actor_id in (None, meeting.requester_id) else meeting.presenter
    return {"title": {"zh": event.title("zh"), "en": event.title("en")},
            "item": {"zh": item.title("zh"), "en": item.title("en")} if item else "",
            "requester": meeting.requester.display_name if meeting.requester else "",
            "presenter": meeting.presenter.display_name if meeting.presenter else "",
            "who": who.display_name if who else "", "when": _when(meeting),
            "reason": meeting.reason if meeting.status == "pending" else meeting.answer_reason}


def _link(meeting: MeetingRequest) -> str:
    return f"/events/{meeting.event_id}/my-agenda"


def requested(meeting: MeetingRequest) -> None:
    """The person asked hears of the request (about an agenda item: the existing message)."""
    if meeting.item is not None:
        notifications.meeting_requested(meeting)
        return
    notifications.notify([meeting.presenter_id], "meeting", "meeting_asked", _params(meeting), _link(meeting),
                         about=meeting.event)


def answered(meeting: MeetingRequest) -> None:
    """The person who asked hears the answer (with the time when one was chosen)."""
    if meeting.status == "accepted" and meeting.slot is not None:
        notifications.notify([meeting.requester_id], "meeting", "meeting_booked", _params(meeting),
                             _link(meeting), about=meeting.event)
    elif meeting.item is not None:
        notifications.meeting_answered(meeting)
    else:
        key = "meeting_accepted_untimed" if meeting.status == "accepted" else "meeting_turned_down"
        notifications.notify([meeting.requester_id], "meeting", key, _params(meeting), _link(meeting),
                             about=meeting.event)


def changed(meeting: MeetingRequest, actor_id: int, key: str) -> None:
    """The other side hears that ``actor_id`` moved (``meeting_moved``) or cancelled (``meeting_cancelled``)."""
    other = meeting.presenter_id if actor_id == meeting.requester_id else meeting.requester_id
    notifications.notify([other], "meeting", key, _params(meeting, actor_id), _link(meeting), about=meeting.event)


def placed(meeting: MeetingRequest) -> None:
    """Both sides hear the time the scheduler gave their meeting."""
    notifications.notify([meeting.requester_id, meeting.presenter_id], "meeting", "meeting_booked",
                         _params(meeting), _link(meeting), about=meeting.event,
                         dedupe_key=f"meeting-placed:{meeting.id}:{meeting.slot}")


def expired(meeting: MeetingRequest) -> None:
    """The person who asked hears their request lapsed unanswered."""
    notifications.notify([meeting.requester_id], "meeting", "meeting_expired", _params(meeting), _link(meeting),
                         about=meeting.event)
