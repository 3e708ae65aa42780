"""How many patents each stage of the curation funnel holds, kept up to date instead of counted per page.

Counting the funnel on every page read the whole of ``patent_details`` joined to ``offers`` (100,000+ rows). The
counts are kept instead, in the same transaction as every change that moves a patent in, out of or across the
funnel, so they equal the records after any commit:

* each patent detail notes the stage it is counted under (``counted_stage``; NULL when outside the funnel);
* ``patent_stage_tallies`` holds signed numbers per stage; a stage's count is their sum. A transaction adds at
  most one row per stage (and then updates its own row), so concurrent writers never wait on a shared counter
  row; old rows are folded together now and then, skipping rows another transaction holds.

At the commit (or before the counts are read inside the transaction), the patents whose stage, offer status or
creator changed since the last recount (or whose creator's staff roles changed) are locked, their place in the
funnel read again from the records, and the tallies corrected by the difference from ``counted_stage``. Reading
under the lock, in a statement that starts after it, makes the result right whatever another worker changes at
the same moment: whichever of two transactions locks the row second sees the first one's committed change and
corrects the count.

Statements that bypass the ORM call :func:`recount` with the ids they changed, or move patents with
:func:`bulk_move` (the stage and the counted stage in one UPDATE); :func:`recount_all` rebuilds everything from the
records (after a direct insert, or to repair).
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from sqlalchemy import and_, case, delete, event, exists, func, insert, inspect, or_, select, update
from sqlalchemy.orm import Session

from marketplace.extensions import db
from marketplace.models import Offer, PatentDetail, PatentStageTally, User, UserRole
from marketplace.models.catalogue import CURATION_STAGES
from marketplace.visibility import STAFF_ROLES

# Offers that left the pipeline take no part in curation; members' unsubmitted drafts stay private to them
# (only drafts that operators imported themselves enter the funnel before submission).
INACTIVE_STATUSES = ("rejected", "archived")
PRIVATE_STATUSES = ("draft", "changes_requested")
FOLD_ABOVE = 64  # tally rows past which a writer folds the committed ones together
LOCK_CHUNK = 1000  # ids per locking statement
_ROWS_KEY = "funnel_tally_rows"  # session.info: this transaction's own tally row per stage
_PENDING_KEY = "funnel_recount"  # session.info: patents and staff users changed since the last recount


def in_funnel():
    """SQL condition: the patent offer takes part in curation (active, and submitted or staff-created)."""
    # A correlated EXISTS rather than IN (staff ids): PostgreSQL charged the hashed IN list to every row of a
    # nested loop and so sorted the whole stage for a numbered page past the first few.
    staff_creator = exists().where(UserRole.user_id == Offer.created_by_id, UserRole.role.in_(STAFF_ROLES))
    return and_(Offer.status.not_in(INACTIVE_STATUSES), or_(Offer.status.not_in(PRIVATE_STATUSES), staff_creator))


def stage_counts(session=None) -> dict[str, int]:
    """Number of patents at each funnel stage (one small grouped read of the tallies)."""
    session = session or db.session
    if session.info.get(_PENDING_KEY):  # this transaction moved patents: count them in
        settle(session)
    rows = session.execute(select(PatentStageTally.stage, func.sum(PatentStageTally.patents))
                           .group_by(PatentStageTally.stage)).all()
    counts = {stage: 0 for stage in CURATION_STAGES}
    counts.update({stage: int(n or 0) for stage, n in rows if stage in counts})
    return counts


def counted_from_records(session=None) -> dict[str, int]:
    """The same counts computed from the records (the full scan the tallies avoid; for checks and repairs)."""
    session = session or db.session
    rows = session.execute(select(PatentDetail.curation_stage, func.count(PatentDetail.offer_id))
                           .join(Offer, Offer.id == PatentDetail.offer_id).where(in_funnel())
                           .group_by(PatentDetail.curation_stage)).all()
    counts = {stage: 0 for stage in CURATION_STAGES}
    counts.update({stage: n for stage, n in rows})
    return counts


def recount(session: Session, offer_ids: Iterable[int]) -> None:
    """Correct the tallies for these patents from their records (locks their details first)."""
    ids = sorted(set(offer_ids))
    if not ids:
        return
    conn = session.connection()
    deltas: Counter = Counter()
    truth = case((in_funnel(), PatentDetail.curation_stage), else_=None)
    for start in range(0, len(ids), LOCK_CHUNK):
        chunk = ids[start:start + LOCK_CHUNK]
        # Lock first, then read in a new statement: it sees what a transaction we waited for committed.
        conn.execute(select(PatentDetail.offer_id).where(PatentDetail.offer_id.in_(chunk))
                     .order_by(PatentDetail.offer_id).with_for_update())
        rows = conn.execute(select(PatentDetail.offer_id, PatentDetail.counted_stage, truth)
                            .join(Offer, Offer.id == PatentDetail.offer_id)
                            .where(PatentDetail.offer_id.in_(chunk))).all()
        moved: dict[str | None, list[int]] = {}
        for offer_id, counted, stage in rows:
            if counted != stage:
                moved.setdefault(stage, []).append(offer_id)
                if counted is not None:
                    deltas[counted] -= 1
                if stage is not None:
                    deltas[stage] += 1
        for stage, moved_ids in moved.items():
            conn.execute(update(PatentDetail.__table__).where(PatentDetail.offer_id.in_(moved_ids))
                         .values(counted_stage=stage))
    _add(session, deltas)


def bulk_move(session: Session, chosen, from_stage: str, to_stage: str) -> list[int]:
    """Move the patents ``chosen`` (a select of offer ids) at ``from_stage`` to ``to_stage`` in one UPDATE that also
    sets the stage they are counted under; returns the moved ids. For moves of hundreds of patents at once."""
    settle(session)  # this transaction's earlier changes counted first, so ``counted_stage`` is current
    conn = session.connection()
    counted = dict(conn.execute(
        select(PatentDetail.offer_id, PatentDetail.counted_stage)
        .where(PatentDetail.offer_id.in_(chosen), PatentDetail.curation_stage == from_stage)
        .order_by(PatentDetail.offer_id).with_for_update()).all())
    if not counted:
        return []
    # Read after the lock, in the UPDATE itself: the offer's place in the funnel as now committed.
    member = exists().where(Offer.id == PatentDetail.offer_id, in_funnel())
    moved = conn.execute(
        update(PatentDetail.__table__)
        .where(PatentDetail.offer_id.in_(list(counted)), PatentDetail.curation_stage == from_stage)
        .values(curation_stage=to_stage, counted_stage=case((member, to_stage), else_=None))
        .returning(PatentDetail.offer_id, PatentDetail.counted_stage)).all()
    deltas: Counter = Counter()
    for offer_id, stage in moved:
        if counted[offer_id] is not None:
            deltas[counted[offer_id]] -= 1
        if stage is not None:
            deltas[stage] += 1
    _add(session, deltas)
    return [offer_id for offer_id, _ in moved]


def recount_all(session=None) -> None:
    """Rebuild every patent's ``counted_stage`` and the tallies from the records (e.g. after direct inserts)."""
    session = session or db.session
    conn = session.connection()
    conn.execute(update(PatentDetail.__table__).values(counted_stage=None))
    conn.execute(update(PatentDetail.__table__)
                 .where(PatentDetail.offer_id.in_(select(Offer.id).where(Offer.kind == "patent", in_funnel())))
                 .values(counted_stage=PatentDetail.curation_stage))
    conn.execute(delete(PatentStageTally))
    session.info.pop(_ROWS_KEY, None)
    session.info.pop(_PENDING_KEY, None)
    counts = counted_from_records(session)
    conn.execute(insert(PatentStageTally), [{"stage": s, "patents": n} for s, n in counts.items()])


def _add(session: Session, deltas: Counter) -> None:
    """Add ``deltas`` to this transaction's own tally rows (creating them once), then fold if there are many."""
    conn = session.connection()
    own = session.info.setdefault(_ROWS_KEY, {})
    created = False
    for stage in sorted(s for s, d in deltas.items() if d):
        row_id = own.get(stage)
        if row_id is not None and conn.execute(
                update(PatentStageTally).where(PatentStageTally.id == row_id)
                .values(patents=PatentStageTally.patents + deltas[stage])).rowcount:
            continue
        # No row yet, or ours went with a rolled-back savepoint or a fold.
        own[stage] = conn.execute(insert(PatentStageTally).values(stage=stage, patents=deltas[stage])
                                  .returning(PatentStageTally.id)).scalar_one()
        created = True
    if created and conn.execute(select(func.count()).select_from(PatentStageTally)).scalar_one() > FOLD_ABOVE:
        _fold(session)


def _fold(session: Session) -> None:
    """Replace the tally rows no other transaction holds by one row per stage (same sums)."""
    conn = session.connection()
    free = select(PatentStageTally.id)
    if conn.dialect.name == "postgresql":
        free = free.with_for_update(skip_locked=True)  # never wait: another writer's rows stay as they are
    gone = conn.execute(delete(PatentStageTally).where(PatentStageTally.id.in_(free))
                        .returning(PatentStageTally.stage, PatentStageTally.patents)).all()
    sums: Counter = Counter()
    for stage, patents in gone:
        sums[stage] += patents
    session.info.pop(_ROWS_KEY, None)
    if sums:
        conn.execute(insert(PatentStageTally), [{"stage": s, "patents": n} for s, n in sorted(sums.items())])


def _changed(state, *names: str) -> bool:
    return any(state.attrs[name].history.has_changes() for name in names)


def _pending(session: Session) -> dict[str, set]:
    return session.info.setdefault(_PENDING_KEY, {"ids": set(), "users": set()})


def _before_flush(session: Session, _flush_context, _instances) -> None:
    """Patents leaving through a delete are taken off their stage before their rows go."""
    gone, creators = set(), set()
    for obj in session.deleted:
        if isinstance(obj, PatentDetail):
            gone.add(obj.offer_id)
        elif isinstance(obj, Offer):
            gone.add(obj.id)
        elif isinstance(obj, User):
            creators.add(obj.id)  # their drafts lose their staff creator (SET NULL): find them while they have it
    if creators:
        _pending(session)["ids"].update(session.connection().execute(
            select(Offer.id).where(Offer.created_by_id.in_(creators), Offer.kind == "patent")).scalars())
    gone.discard(None)
    if gone:
        conn = session.connection()
        conn.execute(select(PatentDetail.offer_id).where(PatentDetail.offer_id.in_(gone)).with_for_update())
        deltas: Counter = Counter()
        for (stage,) in conn.execute(select(PatentDetail.counted_stage).where(PatentDetail.offer_id.in_(gone),
                                                                                PatentDetail.counted_stage.is_not(None))):
            deltas[stage] -= 1
        conn.execute(update(PatentDetail.__table__).where(PatentDetail.offer_id.in_(gone)).values(counted_stage=None))
        _add(session, deltas)


def _after_flush(session: Session, _flush_context) -> None:
    """Note the patents this flush moved in, out of or across the funnel; they are recounted once, at the commit
    (a loop that autoflushes per row would otherwise recount per row)."""
    pending = _pending(session)
    ids, users = pending["ids"], pending["users"]
    for obj in session.new:
        if isinstance(obj, PatentDetail):
            ids.add(obj.offer_id)
        elif isinstance(obj, UserRole):
            users.add(obj.user_id)
    for obj in session.dirty:
        if isinstance(obj, PatentDetail):
            if _changed(inspect(obj), "curation_stage"):
                ids.add(obj.offer_id)
        elif isinstance(obj, Offer):
            if obj.kind == "patent" and _changed(inspect(obj), "status", "created_by_id"):
                ids.add(obj.id)
        elif isinstance(obj, User) and _changed(inspect(obj), "roles"):  # a role taken away is an orphan deleted
            users.add(obj.id)                                                 # in the flush, not listed before it
        elif isinstance(obj, UserRole) and _changed(inspect(obj), "role", "user_id"):
            users.add(obj.user_id)
            users.update(inspect(obj).attrs.user_id.history.deleted or ())
    for obj in session.deleted:
        if isinstance(obj, UserRole):
            users.add(obj.user_id)
    if not ids and not users:
        session.info.pop(_PENDING_KEY, None)


def settle(session=None) -> None:
    """Flush, then recount the patents changed since the last recount (at each commit, and before a read of the
    counts inside a transaction that changed some)."""
    session = session or db.session
    session.flush()
    pending = session.info.pop(_PENDING_KEY, None)
    if not pending:
        return
    ids, users = pending["ids"], pending["users"]
    users.discard(None)
    if users:
        ids.update(session.connection().execute(
            select(Offer.id).where(Offer.created_by_id.in_(users), Offer.kind == "patent")).scalars())
    ids.discard(None)
    recount(session, ids)


def _before_commit(session: Session) -> None:
    if session.info.get(_PENDING_KEY) or session.new or session.dirty or session.deleted:
        settle(session)


def _end_of_transaction(session: Session, transaction) -> None:
    if transaction.parent is None:  # the outermost one: a savepoint's end keeps what the transaction noted
        session.info.pop(_ROWS_KEY, None)
        session.info.pop(_PENDING_KEY, None)


def install_funnel_count_listener() -> None:
    """Keep the funnel's stage counts on every session of the app's SQLAlchemy (idempotent)."""
    from flask_sqlalchemy.session import Session as FlaskSession
    for name, listener in (("before_flush", _before_flush), ("after_flush", _after_flush),
                           ("before_commit", _before_commit), ("after_transaction_end", _end_of_transaction)):
        if not event.contains(FlaskSession, name, listener):
            event.listen(FlaskSession, name, listener)
