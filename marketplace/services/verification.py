"""Operators' verification queue and numbered batch releases."""
from __future__ import annotations

from datetime import date, datetime, timezone

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, text, update

from marketplace import jobs, vocabulary
from marketplace.extensions import db
from marketplace.models import Batch, Offer, ReviewDecision
from marketplace.services import access, audit, locks, notifications
from marketplace.services.cleaning import Cleaner
from marketplace.services.errors import Conflict, PermissionDenied, ValidationFailed
from marketplace.services.matching import REBUILD_JOB


def require_operator(user) -> None:
    if not access.is_staff(user):
        raise PermissionDenied(_l("Only platform operators may do this."))


def queue(user) -> list[Offer]:
    """Submitted offers, oldest first (first come, first verified)."""
    require_operator(user)
    return list(db.session.scalars(select(Offer).where(Offer.status == "submitted")
                                   .order_by(Offer.submitted_at.asc().nulls_last(), Offer.id)))


def approved_pool(user) -> list[Offer]:
    """Approved offers waiting for the next batch release."""
    require_operator(user)
    return list(db.session.scalars(select(Offer).where(Offer.status == "approved").order_by(Offer.id)))


def decide(user, offer: Offer, decision: str, reason: str = "", *, remote_addr: str = "") -> ReviewDecision:
    """Approve, reject or send back a submitted offer. Rejecting or asking for changes needs a reason."""
    require_operator(user)
    # Another operator may be deciding the same offer: lock, re-read, and only one decision is recorded.
    offer = locks.lock_instance(offer)
    if offer.status != "submitted":
        raise Conflict(_l("This offer is no longer waiting for verification (now: %(status)s); someone else may "
                          "have just decided it. Your decision was not recorded.",
                          status=vocabulary.OFFER_STATUS_LABELS.get(offer.status, offer.status)))
    reason = (reason or "").strip()
    if decision in ("reject", "request_changes") and not reason:
        raise ValidationFailed(_l("Give the submitter a reason."), field_errors={"reason": _l("This field is required.")})
    if len(reason) > 2000:
        raise ValidationFailed(_l("At most %(n)d characters.", n=2000), field_errors={"reason": _l("Too long.")})
    new_status = {"approve": "approved", "reject": "rejected", "request_changes": "changes_requested"}.get(decision)
    if new_status is None:
        raise ValidationFailed(_l("Unknown decision."))
    offer.status = new_status
    offer.review_note = reason
    record = ReviewDecision(offer_id=offer.id, reviewer_id=user.id, decision=decision, reason=reason)
    db.session.add(record)
    db.session.flush()
    audit.record(db.session, actor_id=user.id, action="verification", object_type="offer", object_id=offer.id,
                 organization_id=offer.organization_id, summary=f"{decision}: submitted -> {new_status}",
                 details={"decision": decision, "from": "submitted", "to": new_status, "reason": reason[:500],
                          "review_id": record.id}, remote_addr=remote_addr)
    notifications.offer_reviewed(offer, decision, reason)
    return record


def next_batch_number() -> int:
    """The number the next batch will get (read under :func:`lock_batch_numbering` when releasing)."""
    return (db.session.scalar(select(func.max(Batch.number))) or 0) + 1


def lock_batch_numbering() -> None:
    """Serialise batch releases until the unit of work ends, so numbers stay gapless and unique.

    Two operators releasing at once would both read the same highest number and the same approved offers.
    PostgreSQL: a table lock on ``batches`` that conflicts with itself (and with inserts), so the second
    release waits for the first to commit and then sees its batch and its published offers. SQLite: any
    write takes the database's write lock, which the second release waits for (``busy_timeout``).
    """
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("LOCK TABLE batches IN SHARE ROW EXCLUSIVE MODE"))
    else:
        db.session.execute(update(Batch).where(Batch.id.is_(None)).values(number=Batch.number))


def release_batch(user, data: dict, offer_ids: list[int] | None = None, today: date | None = None, *,
                  remote_addr: str = "") -> Batch:
    """Publish approved offers (all, or the given ids) as the next numbered batch with a release note."""
    require_operator(user)
    c = Cleaner(data)
    c.text("title_zh", max_length=200)
    c.text("title_en", max_length=200)
    c.text("note_zh", max_length=5000)
    c.text("note_en", max_length=5000)
    if c.errors:
        raise ValidationFailed(_l("Please correct the highlighted fields."), field_errors=c.errors)
    lock_batch_numbering()  # before reading the pool: a release running now has published its offers
    query = select(Offer).where(Offer.status == "approved")
    if offer_ids:
        query = query.where(Offer.id.in_(offer_ids))
    offers = list(db.session.scalars(query.order_by(Offer.id).with_for_update()))
    if not offers:
        raise Conflict(_l("There are no approved offers left to publish: they may have just been released "
                          "in another batch."))
    number = next_batch_number()
    count = len(offers)
    batch = Batch(number=number, kind="regular", published_on=today or date.today(), released_by_id=user.id,
                  title_zh=c.values["title_zh"] or f"第{number}批：{count}项新技术、新产品、新服务",
                  title_en=c.values["title_en"] or f"Batch {number}: {count} " + (
                      "technology, product or service" if count == 1 else "technologies, products and services"),
                  note_zh=c.values["note_zh"], note_en=c.values["note_en"])
    db.session.add(batch)
    now = datetime.now(timezone.utc)
    for offer in offers:
        offer.status = "published"
        offer.batch = batch
        offer.published_at = now
    db.session.flush()
    audit.record(db.session, actor_id=user.id, action="verification", object_type="batch", object_id=batch.id,
                 summary=f"published batch {number} with {count} offers",
                 details={"decision": "publish", "number": number, "offer_ids": [o.id for o in offers]},
                 remote_addr=remote_addr)
    jobs.enqueue(db.session, REBUILD_JOB)  # new offers change every need's ranking
    notifications.batch_released(batch, offers)
    return batch


def history(offer: Offer) -> list[ReviewDecision]:
    return list(db.session.scalars(select(ReviewDecision).where(ReviewDecision.offer_id == offer.id)
                                   .order_by(ReviewDecision.decided_at)))
