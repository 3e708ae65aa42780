"""The funnel's stage counts are kept per stage, not counted per page: after every kind of change that moves a
patent in, out of or across the funnel they equal the count taken from the records, also when two sessions
change the same patents at the same time."""
from __future__ import annotations

import threading

from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import Offer, PatentDetail, PatentStageTally, User, UserRole
from marketplace.services import curation, funnel_counts
from tests.marketplace.test_patents import patent


def _counts(app) -> dict[str, int]:
    with app.app_context():
        kept = funnel_counts.stage_counts()
        assert kept == funnel_counts.counted_from_records()
        return kept


def _as_staff(app, email: str, action) -> None:
    with app.test_request_context("/"):
        user = db.session.scalar(select(User).where(User.email == email))
        action(user)
        db.session.commit()


def test_counts_follow_every_move_and_every_change_of_membership(make, app):
    org, owner_id, _ = make.member("university")
    screened = [patent(make, app, org, score=float(s)) for s in (10, 20, 30, 40, 50)]
    patent(make, app, org, status="archived")  # outside the funnel from the start
    _, email = make.staff()
    assert _counts(app) == {"screened": 5, "shortlisted": 0, "high_value": 0}

    _as_staff(app, email, lambda u: curation.shortlist(u, screened[:2]))
    assert _counts(app) == {"screened": 3, "shortlisted": 2, "high_value": 0}
    _as_staff(app, email, lambda u: curation.unshortlist(u, screened[:1]))
    assert _counts(app) == {"screened": 4, "shortlisted": 1, "high_value": 0}
    _as_staff(app, email, lambda u: curation.shortlist_top(u, 2))  # a bulk statement
    assert _counts(app) == {"screened": 2, "shortlisted": 3, "high_value": 0}
    _as_staff(app, email, lambda u: curation.publish_top_shortlisted(u, 2))
    assert _counts(app) == {"screened": 2, "shortlisted": 1, "high_value": 2}

    # The offer's status moves it out of and back into the funnel.
    with app.app_context():
        db.session.get(Offer, screened[0]).status = "rejected"
        db.session.commit()
    assert _counts(app)["screened"] == 1
    with app.app_context():
        db.session.get(Offer, screened[0]).status = "submitted"
        db.session.commit()
    assert _counts(app)["screened"] == 2

    # A member's draft is private until its creator is staff: granting and taking the role moves it.
    draft = patent(make, app, org, status="draft")
    with app.app_context():
        db.session.get(Offer, draft).created_by_id = owner_id
        db.session.commit()
    assert _counts(app)["screened"] == 2
    with app.app_context():
        owner = db.session.get(User, owner_id)
        owner.roles.append(UserRole(role="operator"))
        db.session.commit()
    assert _counts(app)["screened"] == 3
    with app.app_context():
        owner = db.session.get(User, owner_id)
        owner.roles.clear()
        db.session.commit()
    assert _counts(app)["screened"] == 2

    # A deleted patent leaves its stage; a rolled-back change leaves the counts as they were.
    with app.app_context():
        db.session.delete(db.session.get(Offer, screened[-1]))
        db.session.commit()
    assert _counts(app) == {"screened": 2, "shortlisted": 1, "high_value": 1}
    with app.app_context():
        db.session.get(PatentDetail, screened[1]).curation_stage = "screened"
        db.session.flush()
        db.session.rollback()
    assert _counts(app) == {"screened": 2, "shortlisted": 1, "high_value": 1}


def test_many_small_changes_are_folded_into_few_rows_with_the_same_sums(make, app, monkeypatch):
    monkeypatch.setattr(funnel_counts, "FOLD_ABOVE", 4)
    org = make.org("university")
    ids = [patent(make, app, org) for _ in range(6)]
    _, email = make.staff()
    for offer_id in ids:
        _as_staff(app, email, lambda u, offer_id=offer_id: curation.shortlist(u, [offer_id]))
    assert _counts(app) == {"screened": 0, "shortlisted": 6, "high_value": 0}
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(PatentStageTally)) <= 4 + 2


def test_a_rebuild_from_the_records_repairs_direct_inserts(make, app):
    org = make.org("university")
    patent(make, app, org)
    with app.app_context():
        db.session.execute(PatentStageTally.__table__.delete())
        db.session.commit()
        assert funnel_counts.stage_counts()["screened"] == 0
        funnel_counts.recount_all()
        db.session.commit()
    assert _counts(app) == {"screened": 1, "shortlisted": 0, "high_value": 0}


def test_two_sessions_moving_and_withdrawing_the_same_patents_at_once_leave_true_counts(make, app):
    org = make.org("university")
    ids = [patent(make, app, org, score=float(n)) for n in range(4)]
    _, email = make.staff()
    moved = threading.Event()
    errors = []

    def shortlist_and_hold():
        try:
            with app.test_request_context("/"):
                user = db.session.scalar(select(User).where(User.email == email))
                curation.shortlist(user, ids)
                moved.set()  # the other session now changes the same offers while this one is open
                done.wait(timeout=1)  # it may be waiting on our row locks: commit either way
                db.session.commit()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
            moved.set()

    def withdraw():
        try:
            moved.wait(timeout=30)
            with app.app_context():
                for offer_id in ids[:2]:
                    db.session.get(Offer, offer_id).status = "archived"
                db.session.commit()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            done.set()

    done = threading.Event()
    threads = [threading.Thread(target=shortlist_and_hold), threading.Thread(target=withdraw)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert _counts(app) == {"screened": 0, "shortlisted": 2, "high_value": 0}


def test_counts_read_inside_the_transaction_that_moved_patents_include_the_move(make, app):
    org = make.org("university")
    ids = [patent(make, app, org) for _ in range(3)]
    _, email = make.staff()
    with app.test_request_context("/"):
        user = db.session.scalar(select(User).where(User.email == email))
        curation.shortlist(user, ids[:2])
        assert curation.stage_counts() == {"screened": 1, "shortlisted": 2, "high_value": 0}
        db.session.rollback()
    assert _counts(app) == {"screened": 3, "shortlisted": 0, "high_value": 0}
