"""Brokering: introductions between a need's and an offer's organisations, the deal pipeline and follow-ups.

A technology manager (broker) proposes an introduction for a pairing; each side accepts or declines (a
decline needs a reason). Unanswered requests get a reminder and then expire. An accepted introduction moves
through the pipeline to signed or lost; every change lands in ``introduction_events``. Signed and lost deals
are fed back to the matching engine as feedback on the pairing.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from marketplace import jobs, vocabulary
from marketplace.extensions import db
from marketplace.models import (Introduction, IntroductionEvent, IntroductionTask, MatchFeedback, MatchSuggestion,
                                Membership, Need, Offer, User)
from marketplace.models.brokering import OPEN_PIPELINE_STAGES, PIPELINE_STAGES
from marketplace.services import access, audit, followups, locks, notifications, versions
from marketplace.services.matching import REBUILD_JOB
from marketplace.services.cleaning import Cleaner
from marketplace.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from marketplace.visibility import INTRODUCTION_OPEN

SWEEP_JOB = "brokering.expire_and_remind"
OPEN_NEED_STATUSES = ("open", "matched")
BOARD_STAGES = ("proposed",) + PIPELINE_STAGES + ("declined", "expired")
MOVE_TARGETS = tuple(s for s in PIPELINE_STAGES if s != "accepted")


def _now() -> datetime:
    return datetime.now(timezone.utc)


def aware(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


# --- access -------------------------------------------------------------------------------------------

def _uid(user) -> int | None:
    return getattr(user, "id", None) if getattr(user, "is_authenticated", False) else None


def can_view(user, intro: Introduction) -> bool:
    """The broker who proposed it, members of either organisation, and operators (``visibility``)."""
    return INTRODUCTION_OPEN.allows(user, intro)


def can_manage(user, intro: Introduction) -> bool:
    """Moving stages, the deal value: the introduction's broker and operators."""
    return _uid(user) is not None and (access.is_staff(user) or (access.is_broker(user)
                                                                 and intro.broker_id == user.id))


def require_view(user, intro: Introduction | None) -> Introduction:
    """Return the introduction or raise NotFound (its existence is hidden from everybody else)."""
    if intro is None or not can_view(user, intro):
        raise NotFound(_l("This introduction does not exist or is not visible to you."))
    return intro


def require_manage(user, intro: Introduction | None) -> Introduction:
    intro = require_view(user, intro)
    if not can_manage(user, intro):
        raise PermissionDenied(_l("Only the introduction's technology manager or an operator may do this."))
    return intro


def visibility_clause(user):
    """SQL condition selecting the introductions ``user`` may see."""
    return INTRODUCTION_OPEN.clause(user)


def sides_of(user, intro: Introduction) -> list[str]:
    """Which sides (``need``, ``offer``) the user answers for as a member."""
    sides = []
    if access.is_member_of(user, intro.need_organization_id):
        sides.append("need")
    if access.is_member_of(user, intro.offer_organization_id):
        sides.append("offer")
    return sides


def pending_sides(user, intro: Introduction) -> list[str]:
    """Sides the user could still answer for, while the request is open."""
    if intro.stage != "proposed" or is_past_expiry(intro):
        return []
    return [s for s in sides_of(user, intro) if getattr(intro, f"{s}_response") == "pending"]


def is_past_expiry(intro: Introduction, now: datetime | None = None) -> bool:
    return aware(intro.expires_at) <= (now or _now())


# --- history ------------------------------------------------------------------------------------------

def record(intro: Introduction, actor, kind: str, *, from_stage=None, to_stage=None, reason: str = "",
           side: str = "", value=None) -> IntroductionEvent:
    """Add one entry to the introduction's history."""
    event = IntroductionEvent(introduction=intro, actor_id=_uid(actor), kind=kind, from_stage=from_stage,
                              to_stage=to_stage, reason=reason or "", side=side, value_rmb=value,
                              created_at=_now())
    db.session.add(event)
    return event


def _set_stage(intro: Introduction, actor, to_stage: str, reason: str = "", side: str = "",
               remote_addr: str = "") -> None:
    record(intro, actor, "stage", from_stage=intro.stage, to_stage=to_stage, reason=reason, side=side)
    audit.record(db.session, actor_id=_uid(actor), action="stage_change", object_type="introduction",
                 object_id=intro.id, summary=f"{intro.stage} -> {to_stage}",
                 details={"from": intro.stage, "to": to_stage, "reason": (reason or "")[:500], "side": side,
                          "need_id": intro.need_id, "offer_id": intro.offer_id}, remote_addr=remote_addr)
    intro.stage = to_stage
    intro.stage_changed_at = _now()


def changed(intro: Introduction) -> None:
    """Flush and run the expiry / reminder sweep opportunistically after the commit."""
    db.session.flush()
    jobs.enqueue(db.session, SWEEP_JOB)
    followups.schedule_due_work()  # due follow-ups and rating requests, also after the commit


def history(user, intro: Introduction) -> list[IntroductionEvent]:
    require_view(user, intro)
    return list(db.session.scalars(select(IntroductionEvent).where(IntroductionEvent.introduction_id == intro.id)
                                   .options(selectinload(IntroductionEvent.actor))
                                   .order_by(IntroductionEvent.created_at, IntroductionEvent.id)))


# --- proposing and answering --------------------------------------------------------------------------

def _clean_message(message) -> str:
    message = (message or "").strip()
    if not message:
        raise ValidationFailed(_l("Write a message to both sides."),
                               field_errors={"message": _l("This field is required.")})
    if len(message) > 5000:
        raise ValidationFailed(_l("At most %(n)d characters.", n=5000), field_errors={"message": _l("Too long.")})
    return message


def propose(user, need_id, offer_id, message: str, *, expiry_days: int, source: str = "manual") -> Introduction:
    """A broker proposes that the need's organisation and the offer's organisation talk.

    The request expires after ``expiry_days`` without both answers (``INTRODUCTION_EXPIRY_DAYS``).
    """
    if not access.is_broker(user):
        raise PermissionDenied(_l("Only technology managers and operators propose introductions."))
    try:
        need_id, offer_id = int(need_id), int(offer_id)
    except (TypeError, ValueError):
        raise ValidationFailed(_l("Give a need number and an offer number."),
                               field_errors={"need_id": _l("Enter a whole number."),
                                             "offer_id": _l("Enter a whole number.")}) from None
    need = access.require_need_view(user, db.session.get(Need, need_id))
    offer = access.require_offer_view(user, db.session.get(Offer, offer_id))
    if need.status not in OPEN_NEED_STATUSES:
        raise Conflict(_l("This need is no longer open."))
    if offer.status != "published":
        raise Conflict(_l("Only published offers can be introduced."))
    if need.organization_id == offer.organization_id:
        raise ValidationFailed(_l("The need and the offer belong to the same organisation."))
    message = _clean_message(message)
    live = db.session.scalar(select(Introduction).where(
        Introduction.need_id == need.id, Introduction.offer_id == offer.id,
        Introduction.stage.in_(("proposed",) + OPEN_PIPELINE_STAGES)))
    if live is not None:
        raise Conflict(_l("These two sides already have an introduction in progress."))
    now = _now()
    intro = Introduction(need_id=need.id, offer_id=offer.id, need_organization_id=need.organization_id,
                         offer_organization_id=offer.organization_id, broker_id=user.id, source=source,
                         message=message, stage="proposed", stage_changed_at=now,
                         expires_at=now + timedelta(days=expiry_days))
    db.session.add(intro)
    record(intro, user, "proposed", to_stage="proposed", reason=message)
    changed(intro)
    notifications.introduction_proposed(intro, user)
    return intro


def propose_from_suggestion(user, suggestion_id, message: str, *, expiry_days: int) -> Introduction:
    """Propose the introduction of a suggested pairing (see ``propose``)."""
    try:
        suggestion = db.session.get(MatchSuggestion, int(suggestion_id))
    except (TypeError, ValueError):
        suggestion = None
    if suggestion is None:
        raise NotFound(_l("This pairing is no longer suggested."))
    return propose(user, suggestion.need_id, suggestion.offer_id, message, expiry_days=expiry_days,
                   source="suggestion")


def respond(user, intro: Introduction, decision: str, reason: str = "", side: str | None = None, *,
            remote_addr: str = "") -> Introduction:
    """A member of one side accepts or declines; both accepting opens the pipeline, one decline ends it."""
    require_view(user, intro)
    sides = sides_of(user, intro)
    if not sides:
        raise PermissionDenied(_l("Only members of the two organisations answer an introduction."))
    if side:
        if side not in sides:
            raise PermissionDenied(_l("You do not answer for this side."))
    elif len(sides) == 1:
        side = sides[0]
    else:
        raise ValidationFailed(_l("Say which side you answer for."))
    # The other side or the expiry job may be changing it at this instant: wait for them,
    # then decide on what they wrote (otherwise both accepts see "pending" and nobody opens the pipeline).
    intro = locks.lock_instance(intro)
    if intro.stage != "proposed":
        raise Conflict(_l("This introduction is no longer waiting for an answer."))
    if is_past_expiry(intro):
        raise Conflict(_l("This introduction request has expired."))
    if getattr(intro, f"{side}_response") != "pending":
        raise Conflict(_l("Your side has already answered."))
    if decision not in ("accepted", "declined"):
        raise ValidationFailed(_l("Unknown decision."))
    reason = (reason or "").strip()
    if decision == "declined" and not reason:
        raise ValidationFailed(_l("Tell the other side and the technology manager why you decline."),
                               field_errors={"reason": _l("This field is required.")})
    if len(reason) > 2000:
        raise ValidationFailed(_l("At most %(n)d characters.", n=2000), field_errors={"reason": _l("Too long.")})
    setattr(intro, f"{side}_response", decision)
    setattr(intro, f"{side}_reason", reason)
    setattr(intro, f"{side}_responded_by_id", user.id)
    setattr(intro, f"{side}_responded_at", _now())
    record(intro, user, "response", from_stage="proposed", to_stage=decision, reason=reason, side=side)
    if decision == "declined":
        _set_stage(intro, user, "declined", reason, side=side, remote_addr=remote_addr)
    elif intro.need_response == "accepted" and intro.offer_response == "accepted":
        _set_stage(intro, user, "accepted", side=side, remote_addr=remote_addr)
    changed(intro)
    notifications.introduction_answered(intro, user, side, decision)
    return intro


# --- pipeline -----------------------------------------------------------------------------------------

def _feedback(intro: Introduction, actor, decision: str, reason: str) -> None:
    """Tell the matching engine how the pairing ended (feedback in the broker's name), when it was one."""
    if intro.need_id is None or intro.offer_id is None:
        return
    user_id = intro.broker_id or _uid(actor)
    feedback = db.session.scalar(select(MatchFeedback).where(
        MatchFeedback.need_id == intro.need_id, MatchFeedback.offer_id == intro.offer_id,
        MatchFeedback.user_id == user_id))
    if feedback is None:
        db.session.add(MatchFeedback(need_id=intro.need_id, offer_id=intro.offer_id, user_id=user_id,
                                     decision=decision, reason=reason[:1000], created_at=_now()))
    else:
        feedback.decision, feedback.reason, feedback.created_at = decision, reason[:1000], _now()
    jobs.enqueue(db.session, REBUILD_JOB)


def moved_by_someone_else(stage: str) -> Conflict:
    """The refusal of a move decided on a stage that is no longer current."""
    return Conflict(_l("This introduction was already moved to \"%(stage)s\" by someone else; check it and "
                       "move it again if needed.", stage=vocabulary.INTRODUCTION_STAGE_LABELS.get(stage, stage)))


def move(user, intro: Introduction, to_stage: str, reason: str = "", *, from_stage: str | None = None,
         remote_addr: str = "") -> Introduction:
    """Move an accepted introduction to another pipeline stage; lost needs a reason.

    ``from_stage`` is the stage the mover saw (the form carries it): when another move landed first, this
    one is refused instead of silently overwriting it.
    """
    require_manage(user, intro)
    intro = locks.lock_instance(intro)  # two movers at once: the second reads what the first wrote
    if from_stage and from_stage != intro.stage:
        raise moved_by_someone_else(intro.stage)
    if intro.stage not in OPEN_PIPELINE_STAGES:
        raise Conflict(_l("Only accepted introductions that are still open move through the pipeline."))
    if to_stage not in MOVE_TARGETS:
        raise ValidationFailed(_l("Unknown stage."), field_errors={"to_stage": _l("Unknown stage.")})
    if to_stage == intro.stage:
        raise ValidationFailed(_l("The introduction is already at this stage."))
    reason = (reason or "").strip()
    if to_stage == "lost" and not reason:
        raise ValidationFailed(_l("Say why the deal was lost."), field_errors={"reason": _l("This field is required.")})
    if len(reason) > 2000:
        raise ValidationFailed(_l("At most %(n)d characters.", n=2000), field_errors={"reason": _l("Too long.")})
    from_stage = intro.stage
    _set_stage(intro, user, to_stage, reason, remote_addr=remote_addr)
    if to_stage == "lost":
        intro.lost_reason = reason
        _feedback(intro, user, "dismissed", reason)
    elif to_stage == "signed":
        _feedback(intro, user, "signed", reason)
    changed(intro)
    notifications.introduction_stage_changed(intro, user, from_stage, to_stage, reason)
    return intro


def set_deal_value(user, intro: Introduction, value, *, expected_version=None) -> Introduction:
    """Record the (expected or signed) deal value in RMB; blank clears it.

    A value entered on a page opened before another change of the introduction (``expected_version``) is
    refused rather than overwriting it.
    """
    require_manage(user, intro)
    intro = versions.claim(intro, expected_version)
    c = Cleaner({"deal_value_rmb": value})
    amount = c.decimal("deal_value_rmb")
    if c.errors:
        raise ValidationFailed(_l("Please correct the highlighted fields."), field_errors=c.errors)
    if amount is not None:
        amount = amount.quantize(Decimal("0.01"))
    if amount == intro.deal_value_rmb:
        return intro
    intro.deal_value_rmb = amount
    record(intro, user, "value", from_stage=intro.stage, to_stage=intro.stage, value=amount)
    changed(intro)
    return intro


# --- follow-up tasks ----------------------------------------------------------------------------------

def possible_owners(intro: Introduction) -> list[User]:
    """Members of both organisations and the broker, the people a follow-up can be given to."""
    members = select(Membership.user_id).where(Membership.organization_id.in_(
        (intro.need_organization_id, intro.offer_organization_id)))
    ids = set(db.session.scalars(members))
    if intro.broker_id:
        ids.add(intro.broker_id)
    if not ids:
        return []
    return list(db.session.scalars(select(User).where(User.id.in_(ids), User.active.is_(True))
                                   .order_by(User.display_name, User.id)))


def add_task(user, intro: Introduction, data: dict) -> IntroductionTask:
    """Anyone who sees the introduction may log a follow-up for one of its people."""
    require_view(user, intro)
    intro = locks.lock_instance(intro)
    if intro.stage in ("declined", "expired"):
        raise Conflict(_l("This introduction has ended."))
    c = Cleaner(data)
    c.text("title", required=True, max_length=300)
    c.date("due_on", required=True)
    owner_id = c.integer("owner_id", required=True)
    if owner_id is not None and owner_id not in {u.id for u in possible_owners(intro)}:
        c.error("owner_id", _l("Choose a member of either side or the technology manager."))
    if c.errors:
        raise ValidationFailed(_l("Please correct the highlighted fields."), field_errors=c.errors)
    task = IntroductionTask(introduction=intro, title=c.values["title"], due_on=c.values["due_on"],
                            owner_id=owner_id, created_by_id=user.id)
    db.session.add(task)
    record(intro, user, "task", from_stage=intro.stage, to_stage=intro.stage, reason=task.title)
    changed(intro)
    return task


def complete_task(user, task: IntroductionTask | None) -> IntroductionTask:
    """The owner, the broker or an operator marks a follow-up done."""
    if task is None:
        raise NotFound(_l("This introduction does not exist or is not visible to you."))
    intro = require_view(user, task.introduction)
    if not (task.owner_id == user.id or can_manage(user, intro)):
        raise PermissionDenied(_l("Only the follow-up's owner or the technology manager may close it."))
    task = locks.lock_instance(task)  # two people closing it at once record it once
    if task.done_at is not None:
        raise Conflict(_l("This follow-up is already done."))
    task.done_at, task.done_by_id = _now(), user.id
    record(intro, user, "task_done", from_stage=intro.stage, to_stage=intro.stage, reason=task.title)
    changed(intro)
    return task


def overdue(user, today: date | None = None) -> list[IntroductionTask]:
    """Open follow-ups past their due date: a broker's own introductions, or every one for operators."""
    if not access.is_broker(user):
        raise PermissionDenied(_l("Only technology managers and operators see overdue follow-ups."))
    query = (select(IntroductionTask).join(Introduction)
             .where(IntroductionTask.done_at.is_(None), IntroductionTask.due_on < (today or date.today()))
             .options(selectinload(IntroductionTask.introduction).selectinload(Introduction.need),
                      selectinload(IntroductionTask.introduction).selectinload(Introduction.offer),
                      selectinload(IntroductionTask.owner))
             .order_by(IntroductionTask.due_on, IntroductionTask.id))
    if not access.is_staff(user):
        query = query.where(Introduction.broker_id == user.id)
    return list(db.session.scalars(query))


# --- lists --------------------------------------------------------------------------------------------

def _list_options():
    return (selectinload(Introduction.need), selectinload(Introduction.offer),
            selectinload(Introduction.need_organization), selectinload(Introduction.offer_organization),
            selectinload(Introduction.broker))


def board(user) -> dict[str, list[Introduction]]:
    """A broker's introductions by stage (operators see everybody's)."""
    if not access.is_broker(user):
        raise PermissionDenied(_l("Only technology managers and operators have a pipeline board."))
    query = select(Introduction).where(Introduction.stage.in_(BOARD_STAGES)).options(*_list_options())
    if not access.is_staff(user):
        query = query.where(Introduction.broker_id == user.id)
    grouped: dict[str, list[Introduction]] = {stage: [] for stage in BOARD_STAGES}
    for intro in db.session.scalars(query.order_by(Introduction.stage_changed_at.desc(), Introduction.id.desc())):
        grouped[intro.stage].append(intro)
    return grouped


def involving_my_organizations(user) -> list[Introduction]:
    """Introductions where one of the user's organisations is a side, newest first."""
    orgs = user.org_ids if _uid(user) is not None else set()
    if not orgs:
        return []
    query = (select(Introduction).where(or_(Introduction.need_organization_id.in_(orgs),
                                            Introduction.offer_organization_id.in_(orgs)))
             .options(*_list_options()).order_by(Introduction.updated_at.desc(), Introduction.id.desc()))
    return list(db.session.scalars(query))


def get(user, intro_id: int) -> Introduction:
    return require_view(user, db.session.get(Introduction, intro_id))


def get_task(user, intro_id: int, task_id: int) -> IntroductionTask:
    """A task of an introduction the user may see (NotFound otherwise, also for a task of another one)."""
    intro = get(user, intro_id)
    task = db.session.get(IntroductionTask, task_id)
    if task is None or task.introduction_id != intro.id:
        raise NotFound(_l("This introduction does not exist or is not visible to you."))
    return task


def pipeline_totals(grouped: dict[str, list[Introduction]]) -> dict[str, Decimal]:
    return {stage: sum((i.deal_value_rmb or Decimal(0) for i in items), Decimal(0))
            for stage, items in grouped.items()}


# --- expiry and reminders (job) -----------------------------------------------------------------------

def expire_and_remind(reminder_days: int, now: datetime | None = None) -> dict:
    """Expire unanswered requests past their time and remind the sides of those about to expire."""
    now = now or _now()
    candidates = db.session.scalars(select(Introduction.id).where(
        Introduction.stage == "proposed", Introduction.expires_at <= now)).all()
    expired = []
    for intro_id in candidates:
        # A side may be answering right now: lock, then expire only what is still waiting.
        intro = locks.lock(Introduction, intro_id)
        if intro is None or intro.stage != "proposed" or not is_past_expiry(intro, now):
            continue
        _set_stage(intro, None, "expired", side="")
        notifications.introduction_expired(intro)
        expired.append(intro)
    candidates = db.session.scalars(select(Introduction.id).where(
        Introduction.stage == "proposed", Introduction.reminded_at.is_(None), Introduction.expires_at > now,
        Introduction.expires_at <= now + timedelta(days=reminder_days))).all()
    due = []
    for intro_id in candidates:
        intro = locks.lock(Introduction, intro_id)
        if intro is None or intro.stage != "proposed" or intro.reminded_at is not None:
            continue
        due.append(intro)
        intro.reminded_at = now
        waiting = [s for s in ("need", "offer") if getattr(intro, f"{s}_response") == "pending"]
        record(intro, None, "reminder", from_stage="proposed", to_stage="proposed",
                side=waiting[0] if len(waiting) == 1 else "")
        notifications.introduction_reminded(intro)
    db.session.flush()
    return {"expired": len(expired), "reminded": len(due)}
