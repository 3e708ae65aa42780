"""Unique rules hit by simultaneous requests (the same address registered twice, two tabs sending the same
request) answer with a clear message, never a 500, and keep one row."""
from __future__ import annotations

from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import AccessRequest, Introduction, User
from tests.concurrency.conftest import fire, statuses

COPIES = 8


def test_same_address_registered_at_once_makes_one_account(app, live):
    clients = [live.client() for _ in range(COPIES)]
    form = {"display_name": "张三", "email": "twice@example.com", "password": "a-long-passphrase-42",
            "confirm": "a-long-passphrase-42"}
    responses = fire(lambda c=c: c.post("/register", data=form) for c in clients)
    assert set(statuses(responses)) <= {302, 303}, statuses(responses)
    with app.app_context():
        assert db.session.scalar(select(func.count(User.id)).where(User.email == "twice@example.com")) == 1
    # one is welcome; the others hear the neutral words used for any taken address, on the login page
    assert sum(r.headers["Location"] == "/account/" for r in responses) == 1
    assert {r.headers["Location"] for r in responses if r.headers["Location"] != "/account/"} <= {"/login"}


def test_two_tabs_asking_for_access_at_once_leave_one_pending_request(app, make, live):
    owner_org, _owner, _ = make.member("hospital")
    need = make.need(owner_org, visibility="teaser")
    _org, _user, email = make.member("firm")
    client = live.client().login(email)
    responses = fire(lambda: client.post(f"/confidentiality/need/{need}/request", data={"message": "想了解细节"})
                     for _ in range(COPIES))
    assert set(statuses(responses)) <= {302, 303}, statuses(responses)
    with app.app_context():
        assert db.session.scalar(select(func.count(AccessRequest.id)).where(AccessRequest.item_id == need)) == 1


def test_two_tabs_proposing_the_same_introduction_at_once_make_one(app, make, live):
    hospital, _u, _e = make.member("hospital")
    firm, _u2, _e2 = make.member("firm")
    need, offer = make.need(hospital), make.offer(firm)
    _broker, broker_email = make.staff("broker")
    client = live.client().login(broker_email)
    # no submission key: two separately opened forms; the partial unique index keeps one live introduction
    responses = fire(lambda: client.post("/brokering/propose", data={"need_id": need, "offer_id": offer,
                                                                     "message": "请两位聊聊"})
                     for _ in range(COPIES))
    codes = statuses(responses)
    assert set(codes) <= {302, 400}, codes
    assert codes.count(302) == 1
    with app.app_context():
        assert db.session.scalar(select(func.count(Introduction.id)).where(Introduction.need_id == need)) == 1


def test_two_invitations_to_one_organisation_accepted_at_once_give_one_membership(app, make, live):
    from datetime import datetime, timedelta, timezone
    import secrets

    from marketplace.models import Membership, OrganizationInvitation
    org, owner, _ = make.member("hospital")
    user = make.user(email="invitee@example.com")
    with app.app_context():  # two owners invited the same address; both invitations show on the account page
        rows = [OrganizationInvitation(organization_id=org, email="invitee@example.com", role="member",
                                       token_hash=secrets.token_hex(32), invited_by_id=owner,
                                       expires_at=datetime.now(timezone.utc) + timedelta(days=7))
                for _ in range(2)]
        db.session.add_all(rows)
        db.session.commit()
        ids = [row.id for row in rows]
    client = live.client().login("invitee@example.com")
    responses = fire(lambda i=i: client.post(f"/account/invitations/{i}/accept") for i in ids * 3)
    assert set(statuses(responses)) <= {302, 303}, statuses(responses)
    with app.app_context():
        assert db.session.scalar(select(func.count(Membership.id)).where(Membership.user_id == user)) == 1


def test_two_separately_opened_request_forms_sent_at_once_make_one_request(app, make, live):
    """Two tabs with their own submission keys ask for the same introduction at the same instant: the
    requesting organisation is locked while the rule "one open request about this" is checked, so one request
    is made and the other tab is told about it."""
    hospital, _u, email = make.member("hospital")
    firm, _u2, _e2 = make.member("firm")
    offer = make.offer(firm)
    client = live.client().login(email)
    forms = [{"offer_id": offer, "purpose": "purchase", "message": "我院需要，请联系。",
              "submission_key": f"docking-tab-{i:04d}"} for i in range(COPIES)]
    responses = fire(lambda form=form: client.post("/docking/request", data=form) for form in forms)
    assert set(statuses(responses)) <= {200, 302, 303, 409}, statuses(responses)
    with app.app_context():
        assert db.session.scalar(select(func.count(Introduction.id)).where(
            Introduction.offer_id == offer, Introduction.need_organization_id == hospital)) == 1
