"""Notifications: in-site inbox and e-mail, each person's choices, and the events that produce them.

A notification stores a message key and parameters, never rendered text: the inbox renders it in the
reader's current language and the e-mail job in the recipient's saved language. Notifications are created
in the same unit of work as the event that causes them (services only flush); e-mails are sent by a job
that runs after the commit.

Follow-ups that are due and the ratings asked for after a deal live in ``services.followups``.
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.orm import selectinload

from marketplace import jobs
from marketplace.extensions import db
from marketplace.links import path_for
from marketplace.models import (
    Introduction,
    Membership,
    Notification,
    NotificationPreference,
    User,
)
from marketplace.models.notifications import CHANNELS, NOTIFICATION_KINDS
from marketplace.services.errors import NotFound, PermissionDenied
from marketplace.vocabulary import INTRODUCTION_STAGE_LABELS, REQUEST_PURPOSE_LABELS

log = logging.getLogger(__name__)

EMAIL_JOB = "notifications.send_email"

KIND_LABELS = {
    "introduction": _l("New introductions and reminders to answer"),
    "reply": _l("Answers to introductions (accepted, declined)"),
    "stage": _l("Stage changes of introductions"),
    "followup_due": _l("Follow-ups that are due"),
    "strong_match": _l("New strong matches for my needs"),
    "rating_request": _l("Requests to rate a follow-up"),
    "saved_search": _l("New results of my saved searches"),
    "access": _l("Requests to see confidential details, and their answers"),
    "event": _l("Events I registered for (cancellations, places, reminders, meetings)"),
    "security": _l("Security of my account (locked after failed log-ins)"),
    "message": _l("New messages in my introductions"),
    "organization": _l("My organisation: verification decisions"),
}
CHANNEL_LABELS = {"site": _l("On the site"), "email": _l("By e-mail")}
# What a person receives before choosing: everything on the site; e-mail for what needs an answer or action.
DEFAULTS = {(kind, "site"): True for kind in NOTIFICATION_KINDS}
EMAIL_BY_DEFAULT = ("introduction", "reply", "followup_due", "rating_request", "saved_search", "strong_match",
                    "access", "event", "security", "message", "organization")
DEFAULTS.update({(kind, "email"): kind in EMAIL_BY_DEFAULT for kind in NOTIFICATION_KINDS})

# message key -> (title, body); parameters are filled in at reading time, in the reader's language.
MESSAGES = {
    "introduction_proposed": (
        _l("New introduction proposed"),
        _l("%(broker)s proposes that %(need_org)s and %(offer_org)s talk: need \"%(need)s\", offer \"%(offer)s\". "
           "Please accept or decline.")),
    "introduction_requested": (
        _l("%(requester_org)s asks to be introduced"),
        _l("%(requester_org)s asks your organisation for an introduction (%(purpose)s) about \"%(subject)s\". "
           "Message: %(message)s Please accept or decline.")),
    "message_new": (
        _l("New messages from %(other_org)s"),
        _l("There are new messages in your introduction with %(other_org)s about \"%(subject)s\".")),
    "message_reported": (
        _l("A message was reported"),
        _l("A message in the introduction between %(need_org)s and %(offer_org)s was reported: %(reason)s")),
    "introduction_reminder": (
        _l("An introduction is waiting for your answer"),
        _l("The introduction of need \"%(need)s\" and offer \"%(offer)s\" expires on %(expires)s. "
           "Please accept or decline before then.")),
    "introduction_accepted": (
        _l("%(org)s accepted the introduction"),
        _l("Need \"%(need)s\", offer \"%(offer)s\": the other side has not answered yet.")),
    "introduction_declined": (
        _l("%(org)s declined the introduction"),
        _l("Need \"%(need)s\", offer \"%(offer)s\". Reason: %(reason)s")),
    "introduction_open": (
        _l("Both sides accepted the introduction"),
        _l("Need \"%(need)s\", offer \"%(offer)s\": the deal pipeline starts now.")),
    "introduction_expired": (
        _l("An introduction request expired"),
        _l("Nobody answered in time for need \"%(need)s\" and offer \"%(offer)s\".")),
    "stage_changed": (
        _l("Introduction moved to: %(stage)s"),
        _l("Need \"%(need)s\", offer \"%(offer)s\": from %(from_stage)s to %(stage)s. %(reason)s")),
    "followup_due": (
        _l("Follow-up due: %(title)s"),
        _l("Due on %(due)s, on the introduction of need \"%(need)s\" and offer \"%(offer)s\".")),
    "followup_overdue": (
        _l("Follow-up overdue: %(title)s"),
        _l("It was due on %(due)s (owner: %(owner)s), on the introduction of need \"%(need)s\" "
           "and offer \"%(offer)s\".")),
    "strong_match": (
        _l("A strong new match for your need"),
        _l("\"%(offer)s\" (%(offer_org)s) is now the best match for your need \"%(need)s\".")),
    "rating_request": (
        _l("How did the introduction go?"),
        _l("The introduction of need \"%(need)s\" and offer \"%(offer)s\" ended as \"%(outcome)s\" "
           "some months ago. Please tell us what has become of it.")),
    "saved_search": (
        _l("New results for your saved search"),
        _l("%(count)s new results for \"%(name)s\".")),
    "access_requested": (
        _l("%(org)s asks to see the details of \"%(title)s\""),
        _l("%(user)s (%(org)s) asks for access to the details. Message: %(message)s")),
    "access_approved": (
        _l("Access granted: \"%(title)s\""),
        _l("%(org)s approved your request to see the details.")),
    "access_declined": (
        _l("Access declined: \"%(title)s\""),
        _l("%(org)s declined your request to see the details.")),
    "event_cancelled": (
        _l("Event cancelled: %(title)s"),
        _l("The event \"%(title)s\" you registered for is cancelled. %(reason)s")),
    "event_promoted": (
        _l("You have a place: %(title)s"),
        _l("A place became free at \"%(title)s\" and your registration moved from the waiting list.")),
    "event_reminder": (
        _l("Reminder: %(title)s"),
        _l("The event \"%(title)s\" you registered for is coming soon.")),
    "event_schedule": (
        _l("Meeting schedule: %(title)s"),
        _l("The schedule of one-to-one meetings at \"%(title)s\" is ready.")),
    "verification_approved": (
        _l("%(org)s is now verified"),
        _l("A platform operator checked the credit code and business licence of %(org)s. The organisation now "
           "shows the verified badge.")),
    "verification_rejected": (
        _l("Verification of %(org)s was not approved"),
        _l("A platform operator could not verify %(org)s. Reason: %(reason)s You may send a corrected request.")),
    "account_locked": (
        _l("Your account was locked after failed log-ins"),
        _l("Someone tried to log in to your account %(attempts)s times with a wrong password (last from "
           "address %(address)s). To protect it, the account is locked until %(until)s (%(zone)s). If this "
           "was not you, tell the platform operator.")),
    "registration_attempt": (
        _l("Someone tried to register with your e-mail address"),
        _l("Someone tried to create a new TechBridge account with your e-mail address. You already have an "
           "account: log in with it (your password is unchanged). If this was not you, you can ignore this "
           "message.")),
}
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
    return {"stage": INTRODUCTION_STAGE_LABELS, "rating": RATING_LABELS, "purpose": REQUEST_PURPOSE_LABELS}


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
    return str(title) % params, (str(body) % params).strip()


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
    """``chosen``: the ``"<channel>:<kind>"`` keys that are switched on; everything else is off."""
    if _uid(user) is None:
        raise PermissionDenied(_l("Log in to choose your notifications."))
    chosen = set(chosen or ())
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

def notify(user_ids, kind: str, key: str, params: dict, link: str = "", *, dedupe_key: str | None = None,
           exclude=()) -> list[Notification]:
    """Tell each (active) user once about an event, on the channels they chose; only flushes.

    With ``dedupe_key`` a user who was already told about it (whatever the channels) is skipped.
    """
    if kind not in NOTIFICATION_KINDS or key not in MESSAGES:
        raise ValueError(f"unknown notification {kind}/{key}")
    ids = {i for i in user_ids if i} - {i for i in exclude if i}
    if not ids:
        return []
    users = list(db.session.scalars(select(User).where(User.id.in_(ids), User.active.is_(True))))
    if dedupe_key:
        told = set(db.session.scalars(select(Notification.user_id).where(
            Notification.user_id.in_(ids), Notification.dedupe_key == dedupe_key)))
        users = [u for u in users if u.id not in told]
    if not users:
        return []
    chosen = {(r.user_id, r.channel): r.enabled for r in db.session.scalars(
        select(NotificationPreference).where(NotificationPreference.user_id.in_([u.id for u in users]),
                                             NotificationPreference.kind == kind))}
    created = []
    for user in sorted(users, key=lambda u: u.id):
        site = chosen.get((user.id, "site"), DEFAULTS[(kind, "site")])
        email = chosen.get((user.id, "email"), DEFAULTS[(kind, "email")]) and bool(user.email)
        note = Notification(user_id=user.id, kind=kind, message_key=key, params=params, link=link[:500],
                            dedupe_key=dedupe_key, in_site=site, email_state="pending" if email else "none",
                            created_at=_now())
        db.session.add(note)
        created.append(note)
    db.session.flush()
    if any(n.email_state == "pending" for n in created):
        jobs.enqueue(db.session, EMAIL_JOB)
    return created


def members_of(*org_ids) -> set[int]:
    """The user ids of the members of the given organisations."""
    org_ids = [o for o in org_ids if o]
    if not org_ids:
        return set()
    return set(db.session.scalars(select(Membership.user_id).where(Membership.organization_id.in_(org_ids))))


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
