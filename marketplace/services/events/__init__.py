"""Online roadshows and Spark events: scheduling, agendas, registration with a waiting list, calendars,
reminders, 1:1 meetings, interests that become tracked follow-ups, event reports and series totals.

Services take plain data, check access, validate, raise DomainError subclasses and only flush; the caller's
unit of work commits. Times are stored in UTC; each event keeps the IANA time zone it is shown in.

One module per part: ``common`` (labels, access, time zones), ``manage``, ``agenda``, ``registration``,
``calendars``, ``windows`` (meeting slots), ``participants`` (profiles, availability), ``booking`` (free and busy
slots, tables, locks), ``meetings`` (requests, answers, moves, lapses, the scheduler run), ``meeting_news``
(telling the other side), ``on_the_day`` (check-in, no-shows, notes, video links, interests after a meeting),
``follow_ups``; the names below are the public API used by views and the API.
"""
from __future__ import annotations

from marketplace.services.events.common import (  # noqa: F401
    DEFAULT_TZ, REMINDER_JOB, REMINDER_HOURS, KIND_LABELS, STATUS_LABELS, AUDIENCE_LABELS,
    REGISTRATION_LABELS, MEETING_LABELS, PRIORITY_LABELS, INTEREST_LABELS, FOLLOW_UP_LABELS, utc_now, aware,
    user_id_of, require_login, to_int, tell, is_organiser, can_manage, can_view, require_view, require_manage,
    get, get_item, visible_events, zone, local, parse_local,
)
from marketplace.services.events.manage import (  # noqa: F401
    create_series, all_series, create_event, update_event, event_form_data, publish, cancel, finish,
)
from marketplace.services.events.agenda import (  # noqa: F401
    catalogue_candidates, add_item, remove_item, presenter_choices, attendance_suggestions,
)
from marketplace.services.events.registration import (  # noqa: F401
    registration_of, confirmed_count, register, cancel_registration, promote_waiting, waiting_position,
    my_registrations, registrants, is_attendee, may_see_meeting_link, send_reminders,
)
from marketplace.services.events.calendars import (  # noqa: F401
    calendar_token, user_for_token, ics, feed_events,
)
from marketplace.services.events.windows import (  # noqa: F401
    windows, slot_times, slot_count, meeting_time, meeting_end, add_window, remove_window,
)
from marketplace.services.events.participants import (  # noqa: F401
    participant_ids, is_participant, may_see_participants, require_participants_view, profile_of,
    profile_form_data, field_choices, save_profile, free_slots, set_availability, meets,
)
from marketplace.services.events.booking import busy_slots, open_slots, common_slots  # noqa: F401
from marketplace.services.events.meetings import (  # noqa: F401
    EXPIRY_JOB, request_meeting, request_person, answer_meeting, reschedule, cancel_meeting, expire_requests,
    get_meeting, my_meetings, all_meetings, run_scheduler,
)
from marketplace.services.events.on_the_day import (  # noqa: F401
    NO_SHOW_JOB, check_in, check_in_meeting, record_no_shows, video_link, note_of, save_note, other_side,
    interest_offers, mark_meeting_interest,
)
from marketplace.services.events.follow_ups import (  # noqa: F401
    mark_interest, can_handle_follow_up, interest_offer_id, interest_title, get_interest, follow_ups, claim, close_follow_up, interest_needs,
    to_introduction, report, series_summary,
)
