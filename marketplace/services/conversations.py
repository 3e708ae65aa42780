"""The conversation of an introduction: messages between the two organisations, their broker and operators.

Only those people ever see a thread; it opens once both sides accepted and stays open through the pipeline
(closed for declined and expired requests). Messages are plain text (escaped when shown), with at most one
file each under the upload rules. New messages are told in batches: one notification per reader until they
open the thread again. Services only flush.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from marketplace.extensions import db
from marketplace.models import Introduction, IntroductionMessage, IntroductionReadMarker, Membership
from marketplace.models.brokering import PIPELINE_STAGES
from marketplace.models.docking import MESSAGE_MAX_CHARS
from marketplace.services import access, audit, brokering, notifications, uploads
from marketplace.services.cleaning import plain_text
from marketplace.services.errors import Conflict, NotFound, ValidationFailed

HTML_TAG = re.compile(r"<\s*/?\s*[a-zA-Z][a-zA-Z0-9-]*(\s[^<>]*)?/?\s*>")
PAGE_SIZE = 50


def _now() -> datetime:
    return datetime.now(timezone.utc)


def may_read(user, intro: Introduction) -> bool:
    """The two organisations' members, the introduction's broker and operators."""
    if not getattr(user, "is_authenticated", False):
        return False
    return (access.is_staff(user) or intro.broker_id == user.id or bool(brokering.sides_of(user, intro)))


def require_thread(user, intro: Introduction | None) -> Introduction:
    """The introduction whose thread ``user`` may read, else NotFound (its existence stays hidden)."""
    if intro is None or not may_read(user, intro):
        raise NotFound(_l("This introduction does not exist or is not visible to you."))
    return intro


def is_open(intro: Introduction) -> bool:
    """Talking starts when both sides accepted and goes on through the pipeline."""
    return intro.stage in PIPELINE_STAGES


def side_of(user, intro: Introduction) -> str:
    sides = brokering.sides_of(user, intro)
    return sides[0] if len(sides) == 1 else "platform"


def check_body(body, has_file: bool) -> str:
    """The message text or a ValidationFailed saying what to change."""
    text = plain_text(body)
    if not text and not has_file:
        raise ValidationFailed(_l("Write a message or attach a file."), field_errors={"body": _l("This field is required.")})
    if len(text) > MESSAGE_MAX_CHARS:
        raise ValidationFailed(_l("At most %(n)d characters.", n=MESSAGE_MAX_CHARS),
                               field_errors={"body": _l("Too long.")})
    if HTML_TAG.search(text):
        raise ValidationFailed(_l("Messages are plain text: please remove the HTML tags."),
                               field_errors={"body": _l("Plain text only.")})
    return text


def post(user, intro: Introduction, body, *, store=None, filename: str = "", data: bytes = b"") -> IntroductionMessage:
    """Add a message (and optionally one file) to the thread; the other participants are told."""
    require_thread(user, intro)
    if not is_open(intro):
        if intro.stage == "proposed":
            raise Conflict(_l("The conversation opens once both sides have accepted the introduction."))
        raise Conflict(_l("This introduction is closed: no more messages."))
    has_file = bool(data or filename)
    text = check_body(body, has_file)
    attachment = None
    if has_file:
        checked = uploads.check_file("attachment", filename, data, store)
        attachment = uploads.store_file(user, checked, "message", _owner_org(user, intro), store)
    message = IntroductionMessage(introduction_id=intro.id, author_id=user.id, side=side_of(user, intro),
                                  body=text, attachment=attachment, created_at=_now())
    db.session.add(message)
    db.session.flush()
    brokering.record(intro, user, "message", from_stage=intro.stage, to_stage=intro.stage,
                     reason=text[:200] or (attachment.original_name if attachment else ""),
                     side=message.side if message.side != "platform" else "")
    mark_read(user, intro, message.id)
    _tell_readers(user, intro)
    return message


def _owner_org(user, intro: Introduction) -> int:
    """The organisation a message file is filed under: the author's side, else the need side's."""
    side = side_of(user, intro)
    return intro.offer_organization_id if side == "offer" else intro.need_organization_id


def participants(intro: Introduction) -> set[int]:
    """Everybody who reads the thread: both organisations' members and the broker."""
    members = set(db.session.scalars(select(Membership.user_id).where(Membership.organization_id.in_(
        (intro.need_organization_id, intro.offer_organization_id)))))
    return members | ({intro.broker_id} if intro.broker_id else set())


def _tell_readers(author, intro: Introduction) -> None:
    """One notification per reader until they read the thread again (e-mail follows each reader's choice)."""
    base = notifications.introduction_params(intro)
    need_members = notifications.members_of(intro.need_organization_id)
    offer_members = notifications.members_of(intro.offer_organization_id)
    for user_id in participants(intro) - {author.id}:
        seen = db.session.scalar(select(IntroductionReadMarker.last_read_message_id).where(
            IntroductionReadMarker.introduction_id == intro.id, IntroductionReadMarker.user_id == user_id)) or 0
        if user_id in need_members:
            other = base["offer_org"]
        elif user_id in offer_members:
            other = base["need_org"]
        else:  # the broker hears from both sides
            other = {lang: f"{base['need_org'][lang]} / {base['offer_org'][lang]}" for lang in ("zh", "en")}
        notifications.notify([user_id], "message", "message_new", dict(base, other_org=other),
                             notifications.introduction_link(intro) + "#conversation",
                             dedupe_key=f"message:{intro.id}:{seen}")


def messages(user, intro: Introduction, *, after_id: int = 0, limit: int = PAGE_SIZE) -> list[IntroductionMessage]:
    """Messages oldest first, after ``after_id`` (for paging and for polling new ones)."""
    require_thread(user, intro)
    return list(db.session.scalars(select(IntroductionMessage).where(
        IntroductionMessage.introduction_id == intro.id, IntroductionMessage.id > max(0, int(after_id or 0)))
        .order_by(IntroductionMessage.id).limit(max(1, min(limit, 200)))))


def count(intro: Introduction) -> int:
    return db.session.scalar(select(func.count(IntroductionMessage.id)).where(
        IntroductionMessage.introduction_id == intro.id)) or 0


def mark_read(user, intro: Introduction, up_to_id: int | None = None) -> int:
    """Remember that ``user`` has read the thread up to ``up_to_id`` (default: its last message)."""
    require_thread(user, intro)
    last = db.session.scalar(select(func.max(IntroductionMessage.id)).where(
        IntroductionMessage.introduction_id == intro.id)) or 0
    target = min(last, up_to_id) if up_to_id else last
    key = (IntroductionReadMarker.introduction_id == intro.id) & (IntroductionReadMarker.user_id == user.id)
    if db.session.get(IntroductionReadMarker, (intro.id, user.id)) is None:
        try:  # two tabs of the same person may read at once: the second insert loses and updates instead
            with db.session.begin_nested():
                db.session.add(IntroductionReadMarker(introduction_id=intro.id, user_id=user.id,
                                                      last_read_message_id=0, read_at=_now()))
        except IntegrityError:
            pass
    # Only ever forward, in SQL, so concurrent readers never move the marker back.
    db.session.execute(update(IntroductionReadMarker).where(key, IntroductionReadMarker.last_read_message_id < target)
                       .values(last_read_message_id=target, read_at=_now()).execution_options(
                           synchronize_session=False))
    db.session.flush()
    return db.session.scalar(select(IntroductionReadMarker.last_read_message_id).where(key)) or 0


def unread_by_introduction(user, intro_ids) -> dict[int, int]:
    """Unread messages (by others) per introduction for ``user``."""
    intro_ids = list(intro_ids)
    if not intro_ids or not getattr(user, "is_authenticated", False):
        return {}
    marker = select(IntroductionReadMarker.last_read_message_id).where(
        IntroductionReadMarker.introduction_id == IntroductionMessage.introduction_id,
        IntroductionReadMarker.user_id == user.id).scalar_subquery()
    rows = db.session.execute(select(IntroductionMessage.introduction_id, func.count(IntroductionMessage.id)).where(
        IntroductionMessage.introduction_id.in_(intro_ids), IntroductionMessage.author_id != user.id,
        IntroductionMessage.id > func.coalesce(marker, 0)).group_by(IntroductionMessage.introduction_id)).all()
    return {intro_id: n for intro_id, n in rows}


def get_message(user, message_id) -> IntroductionMessage:
    """A message of a thread ``user`` may read, else NotFound."""
    try:
        message = db.session.get(IntroductionMessage, int(message_id))
    except (TypeError, ValueError, OverflowError):
        message = None
    if message is None or not may_read(user, message.introduction):
        raise NotFound(_l("This message does not exist."))
    return message


def report(user, message: IntroductionMessage, reason) -> IntroductionMessage:
    """A participant reports a message to the operators (abuse, spam, fraud)."""
    if message.author_id == getattr(user, "id", None):
        raise ValidationFailed(_l("You cannot report your own message."))
    reason = plain_text(reason)
    if not reason:
        raise ValidationFailed(_l("Say what is wrong with this message."), field_errors={"reason": _l("This field is required.")})
    if len(reason) > 1000:
        raise ValidationFailed(_l("At most %(n)d characters.", n=1000), field_errors={"reason": _l("Too long.")})
    if message.reported_at is not None:
        raise Conflict(_l("This message has already been reported; the operators are looking at it."))
    message.reported_at, message.reported_by_id, message.report_reason = _now(), user.id, reason
    audit.record(db.session, actor_id=user.id, action="docking", object_type="introduction",
                 object_id=message.introduction_id, summary=f"reported message {message.id}",
                 details={"message_id": message.id, "reason": reason[:500]})
    notifications.notify(notifications.operators(), "message", "message_reported",
                         dict(notifications.introduction_params(message.introduction), reason=reason),
                         notifications.introduction_link(message.introduction) + "#conversation",
                         dedupe_key=f"report:{message.id}")
    db.session.flush()
    return message


def attachment_of(user, message_id, store):
    """(stored file, path) of a message's file, for a reader of the thread."""
    message = get_message(user, message_id)
    if message.attachment is None:
        raise NotFound(_l("This file does not exist."))
    path = uploads.path_of(message.attachment, store)
    if not path.is_file():
        raise NotFound(_l("This file does not exist."))
    return message.attachment, path
