"""Notifications: in-site inbox and e-mail, each person's choices, and the events that produce them.

A notification stores a message key and parameters, never rendered text: the inbox renders it in the
reader's current language and the e-mail job in the recipient's saved language. Notifications are created
in the same unit of work as the event that causes them (services only flush); e-mails are sent by a job
that runs after the commit, or gathered into the daily digest for those who chose it. What kinds and messages
exist, and their defaults, is the registry in ``services.notification_kinds``.

Follow-ups that are due and the ratings asked for after a deal live in ``services.followups``.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.orm import selectinload

from marketplace import jobs, visibility
from marketplace.extensions import db
from marketplace.links import path_for
from marketplace.models import (
    Introduction,
    Membership,
    Notification,
    NotificationPreference,
    User,
    UserRole,
)
from marketplace.models.notifications import CHANNELS, NOTIFICATION_KINDS
from marketplace.services.notification_kinds import (  # noqa: F401  (the registry, re-exported for callers)
    CHANNEL_LABELS,
    DEFAULTS,
    DIGEST_SUBJECT,
    KIND_LABELS,
    KINDS,
    MESSAGES,
    format_text,
)
from marketplace.services.errors import NotFound, PermissionDenied, ValidationFailed
from marketplace.vocabulary import INTRODUCTION_STAGE_LABELS, OFFER_KIND_LABELS, REQUEST_PURPOSE_LABELS

log = logging.getLogger(__name__)

EMAIL_JOB = "notifications.send_email"
DIGEST_JOB = "notifications.send_digest"

RATING_LABELS = {"no_contact": _l("No further contact"), "negotiating": _l("In negotiation"),
                 "agreement": _l("Agreement reached")}


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _uid(user) -> int | None:
    return getattr(user, "id", None) if getattr(user, "is_authenticated", False) else None


# --- rendering ----------------------------------------------------------------------------------------

class _Params(dict):
    def __missing__(self, key):
        return ""


def _label_groups() -> dict:
    return {"stage": INTRODUCTION_STAGE_LABELS, "rating": RATING_LABELS, "purpose": REQUEST_PURPOSE_LABELS,
            "offer_kind": OFFER_KIND_LABELS}


def _resolve(value, lang: str) -> str:
    if isinstance(value, dict):
        if "label" in value:
            return str(_label_groups().get(value["label"], {}).get(value.get("code"), value.get("code") or ""))
        first, second = ("en", "zh") if lang == "en" else ("zh", "en")
        return value.get(first) or value.get(second) or ""
    return "" if value is None else str(value)


def render(notification: Notification, lang: str) -> tuple[str, str]:
    """(title, body) in the current locale; ``lang`` picks the language of bilingual parameters."""
    title, body = MESSAGES.get(notification.message_key, (notification.message_key, ""))
    params = _Params({k: _resolve(v, lang) for k, v in (notification.params or {}).items()})
    return format_text(title, params), format_text(body, params).strip()


def digest_subject(count: int) -> str:
    """The daily digest's e-mail subject for ``count`` notifications, in the current locale."""
    return format_text(DIGEST_SUBJECT, {"count": count})


def bilingual(obj, stem: str) -> dict:
    return {"zh": getattr(obj, f"{stem}_zh", "") or "", "en": getattr(obj, f"{stem}_en", "") or ""}


# --- preferences --------------------------------------------------------------------------------------

def preferences(user) -> dict[tuple[str, str], bool]:
    """Every (kind, channel) with the user's choice or the default."""
    prefs = dict(DEFAULTS)
    for row in db.session.scalars(select(NotificationPreference).where(NotificationPreference.user_id == user.id)):
        prefs[(row.kind, row.channel)] = row.enabled
    return prefs


def save_preferences(user, chosen) -> dict[tuple[str, str], bool]:
    """``chosen``: the ``"<channel>:<kind>"`` keys that are switched on; everything else is off.

    E-mail at once and the daily digest exclude each other: a kind with both is refused.
    """
    if _uid(user) is None:
        raise PermissionDenied(_l("Log in to choose your notifications."))
    chosen = set(chosen or ())
    both = [kind for kind in NOTIFICATION_KINDS if {f"email:{kind}", f"digest:{kind}"} <= chosen]
    if both:
        raise ValidationFailed(_l("Choose e-mail at once or the daily digest, not both: %(kinds)s",
                                  kinds="; ".join(str(KIND_LABELS[k]) for k in both)))
    existing = {(r.kind, r.channel): r for r in db.session.scalars(
        select(NotificationPreference).where(NotificationPreference.user_id == user.id))}
    for kind in NOTIFICATION_KINDS:
        for channel in CHANNELS:
            enabled = f"{channel}:{kind}" in chosen
            row = existing.get((kind, channel))
            if row is None:
                db.session.add(NotificationPreference(user_id=user.id, kind=kind, channel=channel, enabled=enabled))
            else:
                row.enabled = enabled
    db.session.flush()
    return preferences(user)


# --- creating -----------------------------------------------------------------------------------------

@dataclass
class Message:
    """One message of a kind to some people: its parameters and link, a dedupe key, and the item it is about."""

    user_ids: Iterable[int]
    params: dict
    link: str = ""
    dedupe_key: str | None = None
    about: object = None


def notify(user_ids, kind: str, key: str, params: dict, link: str = "", *, dedupe_key: str | None = None,
           exclude=(), about=None) -> list[Notification]:
    """Tell each (active) user once about an event, on the channels they chose; only flushes.

    With ``dedupe_key`` a user who was already told about it (whatever the channels) is skipped. With
    ``about`` (an offer, need, organisation, introduction or event) only people who may open it are told.
    """
    return notify_each(kind, key, [Message(user_ids, params, link, dedupe_key, about)], exclude=exclude)


def notify_each(kind: str, key: str, messages: list[Message], *, exclude=()) -> list[Notification]:
    """Several messages of one kind, each to its own people, in a few queries whatever their number."""
    if kind not in NOTIFICATION_KINDS or key not in MESSAGES:
        raise ValueError(f"unknown notification {kind}/{key}")
    excluded = {i for i in exclude if i}
    wanted = [{i for i in m.user_ids if i} - excluded for m in messages]
    all_ids = set().union(*wanted)
    if not all_ids:
        return []
    users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(all_ids), User.active.is_(True)))}
    keys = {m.dedupe_key for m in messages if m.dedupe_key}
    told = set(db.session.execute(select(Notification.user_id, Notification.dedupe_key).where(
        Notification.user_id.in_(all_ids), Notification.dedupe_key.in_(keys))).tuples()) if keys else set()
    chosen = {(r.user_id, r.channel): r.enabled for r in db.session.scalars(
        select(NotificationPreference).where(NotificationPreference.user_id.in_(list(users)),
                                             NotificationPreference.kind == kind))} if users else {}
    created = []
    for message, ids in zip(messages, wanted):
        for user in (users[i] for i in sorted(ids) if i in users):
            if (user.id, message.dedupe_key) in told or (
                    message.about is not None and not visibility.can_open(user, message.about)):
                continue
            site = chosen.get((user.id, "site"), DEFAULTS[(kind, "site")])
            email_state = "none"
            if user.email and chosen.get((user.id, "email"), DEFAULTS[(kind, "email")]):
                email_state = "pending"
            elif user.email and chosen.get((user.id, "digest"), DEFAULTS[(kind, "digest")]):
                email_state = "digest"
            note = Notification(user_id=user.id, kind=kind, message_key=key, params=message.params,
                                link=message.link[:500], dedupe_key=message.dedupe_key, in_site=site,
                                email_state=email_state, created_at=_now())
            db.session.add(note)
            created.append(note)
    if not created:
        return []
    db.session.flush()
    if any(n.email_state == "pending" for n in created):
        jobs.enqueue(db.session, EMAIL_JOB)
    return created


def members_by_organization(org_ids) -> dict[int, set[int]]:
    """The user ids of the members of each of the given organisations, in one query."""
    found: dict[int, set[int]] = {}
    rows = db.session.execute(select(Membership.organization_id, Membership.user_id).where(
        Membership.organization_id.in_([o for o in org_ids if o]))) if org_ids else []
    for org_id, user_id in rows:
        found.setdefault(org_id, set()).add(user_id)
    return found


def members_of(*org_ids) -> set[int]:
    """The user ids of the members of the given organisations."""
    org_ids = [o for o in org_ids if o]
    if not org_ids:
        return set()
    return set(db.session.scalars(select(Membership.user_id).where(Membership.organization_id.in_(org_ids))))


def operators() -> set[int]:
    """The user ids of the platform's operators and admins."""
    return set(db.session.scalars(select(UserRole.user_id).where(UserRole.role.in_(visibility.STAFF_ROLES))))


def owners_of(org_id: int) -> set[int]:
    """The user ids of the organisation's owners."""
    return set(db.session.scalars(select(Membership.user_id).where(Membership.organization_id == org_id,
                                                                   Membership.role == "owner")))


# --- brokering events (called from services.brokering in the same unit of work) -----------------------

HIDDEN_ORGANIZATION = {"zh": "一家经平台居间的机构", "en": "an organisation mediated by the platform"}


def organization_name(intro: Introduction, side: str) -> dict:
    """A side's name, or a neutral phrase while a "mediated only" organisation has not accepted."""
    if intro.identity_hidden(side):
        return dict(HIDDEN_ORGANIZATION)
    return bilingual(intro.organization_of(side), "name")


def introduction_params(intro: Introduction) -> dict:
    subject = intro.offer if intro.offer is not None else intro.need
    return {"need": bilingual(intro.need, "title"), "offer": bilingual(intro.offer, "title"),
            "subject": bilingual(subject, "title") if subject is not None else organization_name(intro, "offer"),
            "need_org": organization_name(intro, "need"), "offer_org": organization_name(intro, "offer"),
            "broker": intro.broker.display_name if intro.broker else ""}


def introduction_requested(intro: Introduction, actor, other_side: str) -> list[Notification]:
    """The other side's members are asked to answer a member's request."""
    params = dict(introduction_params(intro), requester_org=organization_name(intro, intro.requester_side),
                  purpose={"label": "purpose", "code": intro.purpose}, message=intro.message[:300])
    return notify(members_of(intro.organization_of(other_side).id), "introduction", "introduction_requested",
                  params, introduction_link(intro), exclude=[_uid(actor)])


def introduction_link(intro: Introduction) -> str:
    return path_for("brokering.detail", intro_id=intro.id)


def introduction_proposed(intro: Introduction, actor) -> list[Notification]:
    return notify(members_of(intro.need_organization_id, intro.offer_organization_id), "introduction",
                  "introduction_proposed", introduction_params(intro), introduction_link(intro), exclude=[_uid(actor)])


def introduction_answered(intro: Introduction, actor, side: str, decision: str) -> list[Notification]:
    """The broker and the other side hear about an answer; everybody when both sides accepted."""
    params = introduction_params(intro)
    everybody = members_of(intro.need_organization_id, intro.offer_organization_id) | {intro.broker_id}
    if intro.stage == "accepted":
        return notify(everybody, "reply", "introduction_open", params, introduction_link(intro), exclude=[_uid(actor)])
    other = "offer" if side == "need" else "need"
    params.update(org=params[f"{side}_org"], reason=getattr(intro, f"{side}_reason") or "")
    recipients = members_of(getattr(intro, f"{other}_organization_id")) | {intro.broker_id}
    key = "introduction_declined" if decision == "declined" else "introduction_accepted"
    return notify(recipients, "reply", key, params, introduction_link(intro), exclude=[_uid(actor)])


def introduction_stage_changed(intro: Introduction, actor, from_stage: str, to_stage: str,
                               reason: str = "") -> list[Notification]:
    params = dict(introduction_params(intro), stage={"label": "stage", "code": to_stage},
                  from_stage={"label": "stage", "code": from_stage}, reason=reason or "")
    recipients = members_of(intro.need_organization_id, intro.offer_organization_id) | {intro.broker_id}
    return notify(recipients, "stage", "stage_changed", params, introduction_link(intro), exclude=[_uid(actor)])


def introduction_reminded(intro: Introduction) -> list[Notification]:
    waiting = [intro.need_organization_id if s == "need" else intro.offer_organization_id
               for s in ("need", "offer") if getattr(intro, f"{s}_response") == "pending"]
    expires = intro.expires_at.date().isoformat() if intro.expires_at else ""
    return notify(members_of(*waiting), "introduction", "introduction_reminder",
                  dict(introduction_params(intro), expires=expires), introduction_link(intro),
                  dedupe_key=f"intro:{intro.id}:reminder")


def introduction_expired(intro: Introduction) -> list[Notification]:
    recipients = members_of(intro.need_organization_id, intro.offer_organization_id) | {intro.broker_id}
    return notify(recipients, "stage", "introduction_expired", introduction_params(intro), introduction_link(intro),
                  dedupe_key=f"intro:{intro.id}:expired")


# --- verification, publication and 1:1 meetings (called from their services in the same unit of work) ----

REVIEW_KEYS = {"approve": "offer_approved", "request_changes": "offer_changes_requested", "reject": "offer_rejected"}


def offer_reviewed(offer, decision: str, reason: str = "") -> list[Notification]:
    """The submitting organisation hears that an operator approved, sent back or rejected its offer."""
    return notify(members_of(offer.organization_id), "review", REVIEW_KEYS[decision],
                  {"offer": bilingual(offer, "title"), "reason": reason}, path_for("catalogue.detail", offer_id=offer.id),
                  about=offer)


def offer_submitted(offer, actor) -> list[Notification]:
    """Operators hear of a new submission waiting in the verification queue."""
    params = {"offer": bilingual(offer, "title"), "org": bilingual(offer.organization, "name"),
              "kind": {"label": "offer_kind", "code": offer.kind}}
    return notify(operators(), "submission", "offer_submitted", params, path_for("operator.review", offer_id=offer.id),
                  exclude=[_uid(actor)], about=offer)


def verification_requested(request, org, actor) -> list[Notification]:
    """Operators hear that an organisation sent its credit code and licence for verification."""
    return notify(operators(), "submission", "organization_submitted", {"org": bilingual(org, "name")},
                  path_for("operator.organization_review", request_id=request.id), exclude=[_uid(actor)])


def batch_released(batch, offers) -> list[Notification]:
    """Each organisation with offers in the batch hears once, with the titles of its own offers."""
    by_org: dict[int, list] = {}
    for offer in offers:
        by_org.setdefault(offer.organization_id, []).append(offer)
    members = members_by_organization(list(by_org))
    link = path_for("catalogue.batch", number=batch.number)
    messages = [Message(members.get(org_id, set()), {
        "number": batch.number, "count": len(own), "batch": bilingual(batch, "title"),
        "offers": {"zh": "、".join(o.title_zh or o.title_en for o in own),
                   "en": "; ".join(o.title_en or o.title_zh for o in own)}}, link, f"batch:{batch.id}:{org_id}")
        for org_id, own in sorted(by_org.items())]
    return notify_each("review", "offers_published", messages)


def _meeting_params(meeting) -> dict:
    event, item = meeting.event, meeting.item
    return {"title": {"zh": event.title("zh"), "en": event.title("en")},
            "item": {"zh": item.title("zh"), "en": item.title("en")},
            "requester": meeting.requester.display_name if meeting.requester else "",
            "presenter": meeting.presenter.display_name if meeting.presenter else "",
            "reason": meeting.reason if meeting.status == "pending" else meeting.answer_reason}


def meeting_requested(meeting) -> list[Notification]:
    """The presenter is asked to answer a 1:1 meeting request."""
    return notify([meeting.presenter_id], "meeting", "meeting_requested", _meeting_params(meeting),
                  f"/events/{meeting.event_id}/meetings", about=meeting.event)


def meeting_answered(meeting) -> list[Notification]:
    """The person who asked hears whether the presenter accepted."""
    return notify([meeting.requester_id], "meeting", f"meeting_{meeting.status}", _meeting_params(meeting),
                  f"/events/{meeting.event_id}/meetings", about=meeting.event)


def presenter_assigned(item, actor) -> list[Notification]:
    """A person put on an agenda hears what and when they present (never when they put themselves there)."""
    event = item.event
    starts = item.starts_at.strftime("%Y-%m-%d %H:%M") + " UTC" if item.starts_at else ""
    params = {"title": {"zh": event.title("zh"), "en": event.title("en")},
              "item": {"zh": item.title("zh"), "en": item.title("en")}, "starts": starts}
    return notify([item.presenter_id], "meeting", "presenter_assigned", params, f"/events/{event.id}",
                  exclude=[_uid(actor)], about=event, dedupe_key=f"presenter:{item.id}:{item.presenter_id}")


def presenters_on_published(event, actor) -> list[Notification]:
    """Presenters put on a draft's agenda hear once it is published (they could not open the draft)."""
    return [note for item in event.items if item.presenter_id for note in presenter_assigned(item, actor)]


# --- inbox --------------------------------------------------------------------------------------------

def _mine(user):
    if _uid(user) is None:
        raise PermissionDenied(_l("Log in to see your notifications."))
    return select(Notification).where(Notification.user_id == user.id, Notification.in_site.is_(True))


def inbox(user, page: int = 1, per_page: int = 20) -> tuple[list[Notification], int]:
    query = _mine(user)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    items = list(db.session.scalars(query.order_by(Notification.created_at.desc(), Notification.id.desc())
                                    .offset((page - 1) * per_page).limit(per_page)))
    return items, total


def unread_count(user) -> int:
    if _uid(user) is None:
        return 0
    return db.session.scalar(select(func.count(Notification.id)).where(
        Notification.user_id == user.id, Notification.in_site.is_(True), Notification.read_at.is_(None))) or 0


def get_own(user, notification_id: int) -> Notification:
    note = db.session.get(Notification, notification_id)
    if note is None or _uid(user) is None or note.user_id != user.id or not note.in_site:
        raise NotFound(_l("This notification does not exist."))
    return note


def mark_read(user, notification_id: int) -> Notification:
    note = get_own(user, notification_id)
    if note.read_at is None:
        note.read_at = _now()
        db.session.flush()
    return note


def mark_all_read(user) -> int:
    if _uid(user) is None:
        raise PermissionDenied(_l("Log in to see your notifications."))
    result = db.session.execute(update(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None)).values(read_at=_now()))
    db.session.flush()
    return result.rowcount or 0


def safe_link(link: str) -> str:
    """Only site paths are followed from a notification."""
    if link and link.startswith("/") and not link.startswith("//") and "\\" not in link:
        return link
    return path_for("notifications.inbox")


# --- e-mail (sent by the job in marketplace.tasks.notifications) ------------------------------------------

def user_language(user: User, languages, default: str) -> str:
    """The language a person's e-mails are written in: their saved choice, else the site's default."""
    return user.locale if user.locale in languages else default


def pending_email(limit: int) -> list[Notification]:
    """Notifications waiting for their e-mail, locked so parallel senders skip each other's rows."""
    return list(db.session.scalars(select(Notification).where(Notification.email_state == "pending")
                                   .options(selectinload(Notification.user)).order_by(Notification.id)
                                   .limit(limit).with_for_update(skip_locked=True)))


def mark_emailed(note: Notification, state: str) -> None:
    """Record the outcome of one e-mail: ``sent``, ``failed`` or ``none`` (nobody to send it to)."""
    note.email_state = state
    if state == "sent":
        note.emailed_at = _now()


def digest_due(limit: int) -> dict[int, list[Notification]]:
    """Notifications waiting for the daily digest, per user, locked so parallel senders skip each other's rows."""
    rows = db.session.scalars(select(Notification).where(Notification.email_state == "digest")
                              .options(selectinload(Notification.user)).order_by(Notification.user_id, Notification.id)
                              .limit(limit).with_for_update(skip_locked=True))
    by_user: dict[int, list[Notification]] = {}
    for note in rows:
        by_user.setdefault(note.user_id, []).append(note)
    return by_user

