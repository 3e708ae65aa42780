"""Participant profiles per event (who they are, what they offer and look for), availability, and who may
meet whom."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import Field, Need, Offer, Organization
from marketplace.models.events import AgendaItem, Event, Participant, Registration
from marketplace.models.organizations import ORG_KINDS
from marketplace.services import versions
from marketplace.services.cleaning import Cleaner
from marketplace.services.errors import PermissionDenied, ValidationFailed
from marketplace.services.events.common import can_manage, require_login, require_view, user_id_of
from marketplace.services.events.windows import slot_count
from marketplace.services.locks import lock_instance
from marketplace.vocabulary import REQUEST_PURPOSE_LABELS, TIMEZONE_LABELS

PREFILL_TITLES = 5  # offers and needs named in a pre-filled profile


def participant_ids(event: Event) -> set[int]:
    """Everybody taking part: confirmed registrants and the agenda's presenters."""
    registered = set(db.session.scalars(select(Registration.user_id).where(
        Registration.event_id == event.id, Registration.status == "confirmed")))
    presenters = set(db.session.scalars(select(AgendaItem.presenter_id).where(
        AgendaItem.event_id == event.id, AgendaItem.presenter_id.isnot(None))))
    return registered | presenters


def is_participant(user, event: Event) -> bool:
    """A confirmed registrant or a presenter of the event."""
    uid = user_id_of(user)
    return uid is not None and uid in participant_ids(event)


def may_see_participants(user, event: Event) -> bool:
    """The participant list is for participants and the event's managers."""
    return user_id_of(user) is not None and (can_manage(user, event) or is_participant(user, event))


def require_participants_view(user, event: Event) -> None:
    require_login(user)
    require_view(user, event)
    if not may_see_participants(user, event):
        raise PermissionDenied(_l("The participant list is open to registered participants and the organiser."))


def profile_of(event: Event, user_id: int | None) -> Participant | None:
    """The stored profile of ``user_id`` at ``event`` (None before they save one)."""
    if user_id is None:
        return None
    return db.session.scalar(select(Participant).where(Participant.event_id == event.id,
                                                       Participant.user_id == user_id))


def _main_org(user) -> Organization | None:
    ids = getattr(user, "org_ids", set()) or set()
    return db.session.get(Organization, min(ids)) if ids else None


def profile_defaults(user, event: Event) -> dict:
    """A new profile pre-filled from the person's organisation: its published offers and open needs, kind
    and fields."""
    org = _main_org(user)
    data = {"headline": "", "offers_text": "", "looks_for_text": "", "kind": "", "fields": [],
            "looking_for": [], "meetings_opt_in": True, "timezone": ""}
    if org is None:
        return data
    offers = db.session.scalars(select(Offer).where(Offer.organization_id == org.id, Offer.status == "published")
                                .order_by(Offer.id.desc()).limit(PREFILL_TITLES))
    needs = db.session.scalars(select(Need).where(Need.organization_id == org.id, Need.status == "open")
                               .order_by(Need.id.desc()).limit(PREFILL_TITLES))
    data.update(headline=org.name("zh")[:200],
                offers_text="\n".join(o.title("zh") for o in offers),
                looks_for_text="\n".join(n.title("zh") for n in needs),
                kind=org.kind, fields=sorted({(f.parent.code if f.parent else f.code) for f in org.fields}))
    return data


def profile_form_data(user, event: Event) -> dict:
    """The profile as the form shows it: the saved one, else the pre-filled defaults."""
    row = profile_of(event, user_id_of(user))
    if row is None:
        data = profile_defaults(user, event)
        data["version"] = ""
        return data
    return {"headline": row.headline, "offers_text": row.offers_text, "looks_for_text": row.looks_for_text,
            "kind": row.kind, "fields": list(row.fields or []), "looking_for": list(row.looking_for or []),
            "meetings_opt_in": row.meetings_opt_in, "timezone": row.timezone, "version": row.version}


def field_choices() -> list[Field]:
    """The top of the field taxonomy (the five key support directions and their siblings)."""
    return list(db.session.scalars(select(Field).where(Field.parent_id.is_(None)).order_by(Field.sort_order)))


def _own_profile(user, event: Event) -> Participant:
    require_login(user)
    require_view(user, event)
    if not is_participant(user, event):
        raise PermissionDenied(_l("Register for the event first."))
    row = profile_of(event, user.id)
    if row is None:
        defaults = profile_defaults(user, event)
        org = _main_org(user)
        row = Participant(event_id=event.id, user_id=user.id, organization_id=org.id if org else None,
                          **{k: defaults[k] for k in ("headline", "offers_text", "looks_for_text", "kind",
                                                      "fields", "looking_for", "meetings_opt_in", "timezone")})
        db.session.add(row)
        db.session.flush()
    return row


def save_profile(user, event: Event, data: dict, *, expected_version=None) -> Participant:
    """Save the person's profile for the event (a stale form is refused, see ``versions.claim``)."""
    row = _own_profile(user, event)
    c = Cleaner(data)
    c.text("headline", max_length=200)
    c.text("offers_text", max_length=4000)
    c.text("looks_for_text", max_length=4000)
    c.choice("kind", ORG_KINDS)
    codes = {f.code for f in field_choices()}
    c.choices("fields", sorted(codes))
    c.choices("looking_for", list(REQUEST_PURPOSE_LABELS))
    c.choice("timezone", list(TIMEZONE_LABELS))
    opt_in = c.boolean("meetings_opt_in")
    if not (c.values["headline"] or c.values["offers_text"] or c.values["looks_for_text"]):
        c.error("headline", _l("Say in a few words who you are or what you look for."))
    if c.errors:
        raise ValidationFailed(_l("Please correct the highlighted fields."), field_errors=c.errors)
    row = versions.claim(row, expected_version or None)
    for key in ("headline", "offers_text", "looks_for_text", "fields", "looking_for"):
        setattr(row, key, c.values[key])
    row.kind, row.timezone, row.meetings_opt_in = c.values["kind"] or "", c.values["timezone"] or "", opt_in
    db.session.flush()
    return row


def free_slots(event: Event, user_id: int) -> set[int]:
    """The slots ``user_id`` said they are free in (every slot when they said nothing)."""
    every = set(range(slot_count(event)))
    row = profile_of(event, user_id)
    if row is None or row.free_slots is None:
        return every
    return every & {s for s in row.free_slots if isinstance(s, int)}


def set_availability(user, event: Event, slots) -> Participant:
    """The person ticks the slots they are free in; all ticked is stored as "every slot" so windows added
    later count as free too."""
    row = lock_instance(_own_profile(user, event))
    total = slot_count(event)
    chosen = set()
    for value in slots or []:
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise ValidationFailed(_l("Unknown meeting slot.")) from None
        if not 0 <= number < total:
            raise ValidationFailed(_l("Unknown meeting slot."))
        chosen.add(number)
    row.free_slots = None if chosen == set(range(total)) else sorted(chosen)
    db.session.flush()
    return row


def meets(event: Event, user_id: int) -> bool:
    """Whether the person accepts meeting requests at this event (yes unless they opted out)."""
    row = profile_of(event, user_id)
    return row is None or row.meetings_opt_in
