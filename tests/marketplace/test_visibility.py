"""One visibility rule, three forms (SQL clause, predicate, search tokens), and the safe view of an item: leaks of
teaser details through pages, the API, exports, search and match reasons."""
import io
from decimal import Decimal
from itertools import product
from types import SimpleNamespace

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from marketplace import search_index, visibility
from marketplace.extensions import db
from marketplace.models import MatchSuggestion, Need, Offer, PatentDetail, User
from marketplace.tasks import search as search_tasks
from search import SearchQuery
from tests.factories import valid_patent_number

VIEWERS = ("anonymous", "owner", "other", "broker", "operator")
OFFER_STATUSES = ("draft", "published")
NEED_STATUSES = ("draft", "open")
VISIBILITIES = ("public", "teaser", "confidential")
SECRET = "SECRETFORMULA"


def _expected_open(viewer: str, status: str, vis: str, posted: str) -> bool:
    """The rules as the domain states them (independent of the implementation)."""
    if viewer in ("owner", "operator"):
        return True
    if status != posted and not (posted == "open" and status != "draft"):
        return False
    return viewer == "broker" or vis != "confidential"


@pytest.fixture
def people(make, app):
    owner_org, owner, _ = make.member("firm")
    _other_org, other, _ = make.member("hospital")
    broker = make.user(roles=("broker",))
    operator, _ = make.staff()
    return SimpleNamespace(owner_org=owner_org, ids={"owner": owner, "other": other, "broker": broker,
                                                     "operator": operator})


def _users(people):
    users = {"anonymous": None}
    users.update({name: db.session.get(User, uid) for name, uid in people.ids.items()})
    return users


def test_three_forms_agree_on_the_offer_and_need_matrix(app, make, people):
    offers = {(s, v): make.offer(people.owner_org, status=s, visibility=v) for s, v in product(OFFER_STATUSES,
                                                                                             VISIBILITIES)}
    needs = {(s, v): make.need(people.owner_org, status=s, visibility=v) for s, v in product(NEED_STATUSES,
                                                                                           VISIBILITIES)}
    with app.app_context():
        users = _users(people)
        for name, user in users.items():
            held = set(visibility.viewer_tokens(user))
            for model, items, rule, detail, posted in ((Offer, offers, visibility.OFFER_OPEN, visibility.OFFER_DETAIL,
                                                         "published"),
                                                        (Need, needs, visibility.NEED_OPEN, visibility.NEED_DETAIL,
                                                         "open")):
                listed = set(db.session.scalars(select(model.id).where(rule.clause(user))))
                detailed = set(db.session.scalars(select(model.id).where(detail.clause(user))))
                for (status, vis), item_id in items.items():
                    item = db.session.get(model, item_id)
                    expected = _expected_open(name, status, vis, posted)
                    by_tokens = bool(held & set(rule.tokens(item)))
                    assert rule.allows(user, item) is expected, (name, model.__name__, status, vis)
                    assert (item_id in listed) is expected, (name, model.__name__, status, vis)
                    assert by_tokens is expected, (name, model.__name__, status, vis)
                    # Details without asking: public items, the owner organisation, operators.
                    shown = vis == "public" or name in ("owner", "operator")
                    assert detail.allows(user, item) is shown and (item_id in detailed) is shown
                    assert bool(held & set(detail.tokens(item))) is shown
                # The search documents carry the same tokens.
                build = search_index.offer_document if model is Offer else search_index.need_document
                for item_id in items.values():
                    assert build(db.session.get(model, item_id))["visibility"] == rule.tokens(
                        db.session.get(model, item_id))


def test_old_access_names_are_aliases_of_the_rule(app, make, people):
    from marketplace.services import access
    offer_id = make.offer(people.owner_org, status="published", visibility="confidential")
    with app.app_context():
        users = _users(people)
        offer = db.session.get(Offer, offer_id)
        for user in users.values():
            assert access.can_view_offer(user, offer) is visibility.OFFER_OPEN.allows(user, offer)
            assert str(access.offer_visibility_clause(user)) == str(visibility.OFFER_OPEN.clause(user))


def test_safe_view_masks_details_and_patent_data(app, make, people):
    offer_id = make.offer(people.owner_org, kind="patent", visibility="teaser", price_rmb=Decimal(4321),
                          description_zh=SECRET)
    with app.app_context():
        offer = db.session.get(Offer, offer_id)
        offer.patent.applicants, offer.patent.inventors, offer.patent.ipc_classes = ["申请人甲"], ["发明人乙"], ["A61B"]
        view = visibility.static_view(None, offer)
        assert view.title_zh == offer.title_zh and view.details_shown is False
        assert view.price_rmb is None and view.description_zh == "" and view.text("description") == ""
        p = view.patent
        assert (p.application_number, p.legal_status, p.claims_count, p.applicants, p.inventors, p.ipc_classes) == \
            (None, None, None, [], [], [])
        assert p.as_dict()["applicants"] is None and "value_score" in p.as_dict()
        owner_view = visibility.static_view(db.session.get(User, people.ids["owner"]), offer)
        assert owner_view.price_rmb == Decimal(4321) and owner_view.patent.applicants == ["申请人甲"]
        db.session.rollback()


# --- leaks ----------------------------------------------------------------------------------------------

@pytest.fixture
def teaser_patent(app, make, people):
    """A published high-value teaser patent with a price, and a public one."""
    number = valid_patent_number(9876)
    offer_id = make.offer(people.owner_org, kind="patent", visibility="teaser", price_rmb=Decimal(4321),
                          title_en="Teaser patent", description_zh=SECRET)
    public_id = make.offer(people.owner_org, kind="patent", title_en="Public patent")
    with app.app_context():
        for oid in (offer_id, public_id):
            detail = db.session.get(PatentDetail, oid)
            detail.curation_stage, detail.value_score = "high_value", 80.0
            detail.applicants, detail.inventors, detail.ipc_classes = ["APPLICANT-X"], ["INVENTOR-Y"], ["G16H"]
        db.session.get(PatentDetail, offer_id).application_number = number
        db.session.commit()
        public_number = db.session.get(PatentDetail, public_id).application_number
    return SimpleNamespace(id=offer_id, number=number, public_id=public_id, public_number=public_number)


HIDDEN = ("APPLICANT-X", "INVENTOR-Y", "G16H", SECRET)


def test_teaser_offer_page_hides_the_price_from_visitors(client, teaser_patent):
    html = client.get(f"/offers/{teaser_patent.id}").get_data(as_text=True)
    assert "Teaser patent" in html or "专利" in html
    assert "4,321" not in html and teaser_patent.number not in html
    assert not any(h in html for h in HIDDEN)
    assert "None" not in html.split('id="patent-details"')[1].split("</dl>")[0]  # public indicators only


def test_api_hides_teaser_patent_details(client, teaser_patent):
    for url in (f"/api/v1/offers/{teaser_patent.id}", f"/api/v1/patents/{teaser_patent.id}"):
        body = client.get(url).get_json()
        assert body["details_visible"] is False and body["price_rmb"] is None
        patent = body["patent"]
        assert all(patent[k] is None for k in ("application_number", "applicants", "inventors", "ipc_classes",
                                                "legal_status", "claims_count")), url
        assert patent["value_score"] == 80.0
    listed = client.get("/api/v1/patents/").get_json()["items"]
    by_id = {item["id"]: item for item in listed}
    assert by_id[teaser_patent.id]["patent"]["applicants"] is None
    assert by_id[teaser_patent.public_id]["patent"]["applicants"] == ["APPLICANT-X"]
    # Filters on patent details do not find teaser patents either.
    for query in (f"q={teaser_patent.number}", "ipc=G16H", "legal_status=granted"):
        ids = {i["id"] for i in client.get(f"/api/v1/patents/?{query}").get_json()["items"]}
        assert teaser_patent.id not in ids, query


def test_high_value_list_and_exports_hide_teaser_patent_details(client, app, make, teaser_patent):
    html = client.get("/patents/high-value").get_data(as_text=True)
    assert "Teaser patent" in html or teaser_patent.id
    assert teaser_patent.number not in html and teaser_patent.public_number in html
    with app.app_context():
        from marketplace.models import Batch
        batch = Batch(number=77, kind="high_value", title_zh="第77批")
        db.session.add(batch)
        db.session.flush()
        for oid in (teaser_patent.id, teaser_patent.public_id):
            db.session.get(Offer, oid).batch_id = batch.id
        db.session.commit()
    for url in ("/transfer/export/patents.csv", "/transfer/export/batch/77.csv", "/transfer/export/offers.csv"):
        text = client.get(url).get_data().decode("utf-8-sig")
        rows = [line for line in text.splitlines() if teaser_patent.number in line or "APPLICANT-X" in line]
        assert teaser_patent.number not in text, url
        assert "4321" not in text and SECRET not in text, url
        assert all(str(teaser_patent.public_id) in line or teaser_patent.public_number in line for line in rows), url
    book = load_workbook(io.BytesIO(client.get("/transfer/export/patents.xlsx").get_data()))
    cells = [str(c.value) for row in book.active.iter_rows() for c in row if c.value is not None]
    assert teaser_patent.number not in cells and "G16H" in ", ".join(cells)


def test_search_does_not_find_teaser_patents_by_hidden_number(app, client, make, teaser_patent):
    with app.app_context():
        search_tasks.drain(ignore_backoff=True)
        hidden = search_index.search("offers", SearchQuery(q=teaser_patent.number), None)
        public = search_index.search("offers", SearchQuery(q=teaser_patent.public_number), None)
        doc = search_index.offer_document(db.session.get(Offer, teaser_patent.id))
    assert str(teaser_patent.id) not in hidden.ids and str(teaser_patent.public_id) in public.ids
    assert doc["application_number"] == "" and SECRET not in doc["body_zh"]


def test_match_reasons_hide_teaser_price_hidden_budget_and_terms(app, client, make, people, teaser_patent):
    # The shared term occurs only in the hidden parts of both sides (an oracle if it were echoed).
    need_id = make.need(people.owner_org, visibility="teaser", description_zh="公开开头" + "甲" * 150 + SECRET,
                        budget_max_rmb=Decimal(987654))
    reasons = [
        {"type": "rule", "rule": "budget", "met": True, "zh": "价格 4321 在预算 987654 以内",
         "en": "price 4321 within budget 987654", "text": "价格 4321 在预算 987654 以内"},
        {"type": "terms", "terms": [SECRET], "zh": f"共同关键词：{SECRET}", "en": f"shared terms: {SECRET}",
         "text": f"共同关键词：{SECRET}"},
        {"type": "rule", "rule": "kind", "met": True, "zh": "类型匹配：专利可满足采购需求",
         "en": "kind fits", "text": "类型匹配：专利可满足采购需求"},
    ]
    with app.app_context():
        db.session.add(MatchSuggestion(need_id=need_id, offer_id=teaser_patent.id, rank=1, score=0.9, parts={},
                                       reasons=reasons))
        db.session.commit()
    html = client.get(f"/needs/{need_id}").get_data(as_text=True)
    assert "类型匹配" in html
    assert "987654" not in html and "4321" not in html and SECRET not in html
    body = client.get(f"/api/v1/needs/{need_id}/matches").get_json()
    texts = " ".join(r["text"] for item in body["items"] for r in item["reasons"])
    assert "类型匹配" in texts and "987654" not in texts and "4321" not in texts and SECRET not in texts
    # The owner of both sides reads them all.
    from marketplace.services import match_reasons
    with app.app_context():
        owner = db.session.get(User, people.ids["owner"])
        shown = match_reasons.safe_reasons(owner, db.session.get(Need, need_id),
                                           db.session.get(Offer, teaser_patent.id), reasons)
        assert [r.get("rule") or r["type"] for r in shown] == ["budget", "terms", "kind"]


def test_taken_patent_number_does_not_reveal_another_organisations_draft(app, make, people):
    from marketplace.services import offers as offer_service
    from marketplace.services.errors import ValidationFailed
    number = valid_patent_number(4242)
    draft = make.offer(people.owner_org, kind="patent", status="draft")
    other_org, other_user, _ = make.member("university")
    with app.test_request_context("/api/v1/offers/?lang=en"):  # messages are translated lazily, here in English
        db.session.get(PatentDetail, draft).application_number = number
        db.session.commit()
        user = db.session.get(User, other_user)
        data = {"title_zh": "抢注", "summary_zh": "摘要", "application_number": number, "field_codes": ["D1.ivd"]}
        with pytest.raises(ValidationFailed) as caught:
            offer_service.create_offer(user, other_org, "patent", data)
        message = str(caught.value.field_errors.get("application_number"))
        assert "already listed" not in message and "cannot be registered" in message
        db.session.rollback()
        # The owner organisation, who may see its draft, is told plainly.
        owner = db.session.get(User, people.ids["owner"])
        with pytest.raises(ValidationFailed) as caught:
            offer_service.create_offer(owner, people.owner_org, "patent", data)
        assert "already listed" in str(caught.value.field_errors.get("application_number"))
        db.session.rollback()


def test_events_and_introductions_follow_their_rules(app, make, people):
    from datetime import UTC, datetime, timedelta

    from marketplace.models import Event, Introduction
    organiser = make.user(roles=("organiser",))
    with app.app_context():
        start = datetime.now(UTC) + timedelta(days=3)
        draft = Event(title_zh="草稿活动", kind="roadshow", status="draft", organiser_id=organiser,
                      starts_at=start, ends_at=start + timedelta(hours=2))
        db.session.add(draft)
        db.session.commit()
        users = _users(people)
        users["organiser"] = db.session.get(User, organiser)
        visible = {name for name, user in users.items() if visibility.can_open(user, draft)}
        assert visible == {"operator", "organiser"}
        for name, user in users.items():
            ids = set(db.session.scalars(select(Event.id).where(visibility.open_clause(user, Event))))
            assert (draft.id in ids) is (name in visible)
        assert str(visibility.open_clause(None, Introduction)) == str(visibility.INTRODUCTION_OPEN.clause(None))
