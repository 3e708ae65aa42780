"""Tiered confidentiality (issue 6, item 4): teaser items show only a summary until the owner approves an access
request; an NDA set by the owner must be accepted first; acceptances and views are logged for the owner only."""
from decimal import Decimal
from types import SimpleNamespace

import pytest
from flask_login import AnonymousUserMixin
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import AccessRequest, DetailAccessLog, NdaAcceptance, Need, Notification, Offer, User
from tests.conftest import csrf_token_from, login

SECRET = "独家配方细节SECRET-DETAIL"
LONG = "公开开头" + "甲" * 150 + "BUDGET-HIDDEN-TAIL"


@pytest.fixture
def world(app, make):
    owner_org, owner_user, owner_email = make.member("firm")
    third_org, third_user, third_email = make.member("hospital")
    _fourth_org, fourth_user, fourth_email = make.member("firm")
    broker_user = make.user("broker-conf@example.com", roles=("broker",))
    offer = make.offer(owner_org, title_zh="预告产品", summary_zh="公开摘要SUMMARY", description_zh=SECRET,
                       price_rmb=Decimal("123456.00"), capacity="CAPACITY-HIDDEN", visibility="teaser")
    need = make.need(owner_org, title_zh="预告需求", description_zh=LONG, visibility="teaser",
                     budget_max_rmb=Decimal(987654), quantity=77, unit="台")
    clients = {}
    for name, email in (("owner", owner_email), ("third", third_email), ("fourth", fourth_email),
                        ("broker", "broker-conf@example.com")):
        clients[name] = app.test_client()
        login(clients[name], email)
    return SimpleNamespace(owner_org=owner_org, owner_user=owner_user, third_org=third_org, third_user=third_user,
                           fourth_user=fourth_user, broker_user=broker_user, offer=offer, need=need,
                           visitor=app.test_client(), **clients)


def _logs(app, item_id, item_type="offer"):
    with app.app_context():
        return [(e.user_id, e.kind) for e in db.session.scalars(
            select(DetailAccessLog).where(DetailAccessLog.item_type == item_type, DetailAccessLog.item_id == item_id)
            .order_by(DetailAccessLog.id))]


def _request_id(app, user_id):
    with app.app_context():
        return db.session.scalar(select(AccessRequest.id).where(AccessRequest.requester_id == user_id))


def test_visitor_and_third_organisation_see_only_the_teaser(world):
    for client in (world.visitor, world.third):
        html = client.get(f"/offers/{world.offer}").get_data(as_text=True)
        assert "预告产品" in html and "公开摘要SUMMARY" in html
        assert SECRET not in html and "123,456" not in html and "123456" not in html and "CAPACITY-HIDDEN" not in html
        assert 'id="teaser-notice"' in html
        need_html = client.get(f"/needs/{world.need}").get_data(as_text=True)
        assert "预告需求" in need_html and "公开开头" in need_html
        assert "BUDGET-HIDDEN-TAIL" not in need_html and "987,654" not in need_html and "77 台" not in need_html
    assert 'id="request-access-form"' not in world.visitor.get(f"/offers/{world.offer}").get_data(as_text=True)
    assert 'id="request-access-form"' in world.third.get(f"/offers/{world.offer}").get_data(as_text=True)
    owner_html = world.owner.get(f"/offers/{world.offer}").get_data(as_text=True)
    assert SECRET in owner_html and 'id="access-log-link"' in owner_html


def test_request_approve_then_requester_sees_details_and_views_are_logged(app, world):
    r = world.third.post(f"/confidentiality/offer/{world.offer}/request", data={"message": "想了解细节"})
    assert r.status_code == 302
    assert 'id="access-pending"' in world.third.get(f"/offers/{world.offer}").get_data(as_text=True)
    # A second request is refused.
    world.third.post(f"/confidentiality/offer/{world.offer}/request", data={"message": "again"})
    with app.app_context():
        assert db.session.query(AccessRequest).count() == 1
        told = list(db.session.scalars(select(Notification).where(Notification.user_id == world.owner_user)))
        assert [(n.kind, n.message_key) for n in told] == [("access", "access_requested")]
    req_id = _request_id(app, world.third_user)

    # Neither the requester nor another organisation nor a broker may approve it.
    for client in (world.third, world.fourth, world.broker):
        assert client.post(f"/confidentiality/requests/{req_id}/decide",
                           data={"decision": "approve"}).status_code == 404
    assert world.visitor.post(f"/confidentiality/requests/{req_id}/decide",
                              data={"decision": "approve"}).status_code == 302  # to the login page
    assert SECRET not in world.third.get(f"/offers/{world.offer}").get_data(as_text=True)

    log_page = world.owner.get(f"/confidentiality/offer/{world.offer}/log").get_data(as_text=True)
    assert "想了解细节" in log_page and f'data-request="{req_id}"' in log_page
    assert world.owner.post(f"/confidentiality/requests/{req_id}/decide",
                            data={"decision": "approve"}).status_code == 302
    with app.app_context():
        req = db.session.get(AccessRequest, req_id)
        assert (req.status, req.decided_by_id) == ("approved", world.owner_user) and req.decided_at is not None
        assert db.session.scalar(select(Notification.message_key).where(
            Notification.user_id == world.third_user)) == "access_approved"
    # Answered requests cannot be answered again.
    world.owner.post(f"/confidentiality/requests/{req_id}/decide", data={"decision": "decline"})
    assert make_status(app, req_id) == "approved"

    html = world.third.get(f"/offers/{world.offer}").get_data(as_text=True)
    assert SECRET in html and "CAPACITY-HIDDEN" in html
    # Approval is personal: the fourth organisation still sees only the teaser.
    assert SECRET not in world.fourth.get(f"/offers/{world.offer}").get_data(as_text=True)
    world.owner.get(f"/offers/{world.offer}")  # the owner's own views are not logged
    assert _logs(app, world.offer) == [(world.third_user, "view")]

    # The log is the owner's only.
    for client in (world.third, world.fourth, world.broker):
        assert client.get(f"/confidentiality/offer/{world.offer}/log").status_code == 403
    assert world.visitor.get(f"/confidentiality/offer/{world.offer}/log").status_code == 302
    page = world.owner.get(f"/confidentiality/offer/{world.offer}/log").get_data(as_text=True)
    assert page.count('class="access-log-entry"') == 1


def make_status(app, req_id):
    with app.app_context():
        return db.session.get(AccessRequest, req_id).status


def test_nda_must_be_accepted_before_details_and_acceptance_is_logged(app, world):
    assert world.third.get(f"/confidentiality/offer/{world.offer}/nda").status_code == 403
    assert world.third.post(f"/confidentiality/offer/{world.offer}/nda",
                            data={"nda_text_zh": "篡改"}).status_code == 403
    assert world.owner.post(f"/confidentiality/offer/{world.offer}/nda",
                            data={"nda_text_zh": "保密协议正文NDA", "nda_text_en": "NDA body"}).status_code == 302
    world.third.post(f"/confidentiality/offer/{world.offer}/request", data={"message": ""})
    req_id = _request_id(app, world.third_user)
    # Accepting an NDA before approval is refused.
    assert world.third.post(f"/confidentiality/offer/{world.offer}/nda/accept", data={"agree": "1"}).status_code == 403
    world.owner.post(f"/confidentiality/requests/{req_id}/decide", data={"decision": "approve"})

    html = world.third.get(f"/offers/{world.offer}").get_data(as_text=True)
    assert SECRET not in html and "保密协议正文NDA" in html and 'id="accept-nda-form"' in html
    assert _logs(app, world.offer) == []
    # Without ticking the box nothing is accepted.
    world.third.post(f"/confidentiality/offer/{world.offer}/nda/accept", data={})
    assert SECRET not in world.third.get(f"/offers/{world.offer}").get_data(as_text=True)
    assert world.third.post(f"/confidentiality/offer/{world.offer}/nda/accept", data={"agree": "1"}).status_code == 302
    assert SECRET in world.third.get(f"/offers/{world.offer}").get_data(as_text=True)
    assert _logs(app, world.offer) == [(world.third_user, "nda_accept"), (world.third_user, "view")]
    page = world.owner.get(f"/confidentiality/offer/{world.offer}/log").get_data(as_text=True)
    assert page.count('class="access-log-entry"') == 2

    # A changed text has to be accepted again.
    world.owner.post(f"/confidentiality/offer/{world.offer}/nda", data={"nda_text_zh": "新版协议", "nda_text_en": ""})
    html = world.third.get(f"/offers/{world.offer}").get_data(as_text=True)
    assert SECRET not in html and "新版协议" in html
    with app.app_context():
        assert db.session.query(NdaAcceptance).count() == 1


def test_brokers_accept_the_nda_of_confidential_items_and_their_views_are_logged(app, make, world):
    hidden = make.need(world.owner_org, title_zh="保密需求", description_zh="CONFIDENTIAL-BODY",
                       visibility="confidential")
    assert world.visitor.get(f"/needs/{hidden}").status_code == 404
    assert world.third.get(f"/needs/{hidden}").status_code == 404
    assert world.third.post(f"/confidentiality/need/{hidden}/request").status_code == 404
    # Without an NDA the broker sees the details, logged.
    assert "CONFIDENTIAL-BODY" in world.broker.get(f"/needs/{hidden}").get_data(as_text=True)
    assert _logs(app, hidden, "need") == [(world.broker_user, "view")]
    world.owner.post(f"/confidentiality/need/{hidden}/nda", data={"nda_text_zh": "经纪人须签署", "nda_text_en": ""})
    html = world.broker.get(f"/needs/{hidden}").get_data(as_text=True)
    assert "CONFIDENTIAL-BODY" not in html and "经纪人须签署" in html
    world.broker.post(f"/confidentiality/need/{hidden}/nda/accept", data={"agree": "1"})
    assert "CONFIDENTIAL-BODY" in world.broker.get(f"/needs/{hidden}").get_data(as_text=True)
    assert _logs(app, hidden, "need") == [(world.broker_user, "view"), (world.broker_user, "nda_accept"),
                                          (world.broker_user, "view")]
    assert world.broker.get(f"/confidentiality/need/{hidden}/log").status_code == 403


def test_teaser_need_request_and_decline(app, world):
    world.third.post(f"/confidentiality/need/{world.need}/request", data={"message": "need details"})
    req_id = _request_id(app, world.third_user)
    world.owner.post(f"/confidentiality/requests/{req_id}/decide", data={"decision": "decline"})
    html = world.third.get(f"/needs/{world.need}").get_data(as_text=True)
    assert "BUDGET-HIDDEN-TAIL" not in html and 'id="access-declined"' in html
    with app.app_context():
        assert db.session.scalar(select(Notification.message_key).where(
            Notification.user_id == world.third_user)) == "access_declined"
    requests_page = world.owner.get("/confidentiality/requests").get_data(as_text=True)
    assert "need details" in requests_page


def test_public_items_are_not_logged_and_have_no_request_form(app, make, world):
    public = make.offer(world.owner_org, description_zh="PUBLIC-BODY")
    html = world.third.get(f"/offers/{public}").get_data(as_text=True)
    assert "PUBLIC-BODY" in html and 'id="confidentiality-panel"' not in html
    assert world.third.post(f"/confidentiality/offer/{public}/request").status_code == 302
    with app.app_context():
        assert db.session.query(AccessRequest).count() == 0
    assert _logs(app, public) == []


def test_forms_are_csrf_protected(world, csrf_app):
    assert world.third.post(f"/confidentiality/offer/{world.offer}/request", data={"message": "x"}).status_code == 400
    html = world.third.get(f"/offers/{world.offer}").get_data(as_text=True)
    token = csrf_token_from(html[html.index('id="request-access-form"'):])
    r = world.third.post(f"/confidentiality/offer/{world.offer}/request", data={"message": "x", "csrf_token": token})
    assert r.status_code == 302


def test_search_documents_and_exports_hold_only_the_teaser(app, world):
    from marketplace import search_index
    from marketplace.services import exports
    with app.app_context():
        offer = db.session.get(Offer, world.offer)
        need = db.session.get(Need, world.need)
        doc = search_index.offer_document(offer)
        assert SECRET not in doc["body_zh"] and doc["summary_zh"] == "公开摘要SUMMARY"
        assert "BUDGET-HIDDEN-TAIL" not in search_index.need_document(need)["description_zh"]

        anonymous = AnonymousUserMixin()
        offers_csv = b"".join(exports.csv_chunks(exports.export_offers(anonymous))).decode("utf-8-sig")
        assert SECRET not in offers_csv and "123456" not in offers_csv and "预告产品" in offers_csv
        needs_csv = b"".join(exports.csv_chunks(exports.export_needs(anonymous))).decode("utf-8-sig")
        assert "BUDGET-HIDDEN-TAIL" not in needs_csv and "987654" not in needs_csv and "公开开头" in needs_csv
        owner = db.session.get(User, world.owner_user)
        owner_csv = b"".join(exports.csv_chunks(exports.export_needs(owner))).decode("utf-8-sig")
        assert "BUDGET-HIDDEN-TAIL" in owner_csv


def test_offer_form_sets_the_nda_text(app, make, world):
    html = world.owner.get("/offers/new?kind=technology").get_data(as_text=True)
    assert 'name="nda_text_zh"' in html
    r = world.owner.post("/offers/new?kind=technology", data={
        "kind": "technology", "title_zh": "带协议技术", "summary_zh": "摘要", "visibility": "teaser",
        "nda_text_zh": "表单协议", "field_codes": "D1.ivd", "action": "save"})
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    offer_id = int(r.headers["Location"].rsplit("/", 1)[1])
    with app.app_context():
        from marketplace.services import confidentiality
        nda = confidentiality.nda_for(db.session.get(Offer, offer_id))
        assert nda is not None and nda.text_zh == "表单协议"
    assert "表单协议" in world.owner.get(f"/offers/{offer_id}/edit").get_data(as_text=True)


def test_event_and_access_notification_kinds_are_known():
    from marketplace.models.notifications import NOTIFICATION_KINDS
    from marketplace.services import notifications
    assert {"event", "access"} <= set(NOTIFICATION_KINDS)
    for key in ("event_cancelled", "event_promoted", "event_reminder", "event_schedule", "access_requested",
                "access_approved", "access_declined"):
        assert key in notifications.MESSAGES
