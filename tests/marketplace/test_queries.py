"""The read side (marketplace.queries): paging, filters, visibility, and search hits turned into rows."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from marketplace.extensions import db
from marketplace.models import Need, Offer, User
from marketplace.queries import brokering as brokering_q
from marketplace.queries import catalogue as catalogue_q
from marketplace.queries import needs as needs_q
from marketplace.queries import organizations as organizations_q
from marketplace.queries import patents as patents_q
from marketplace.queries.hits import rows_for_hits
from marketplace.queries.paging import Page, api_per_page, site_per_page, slice_page
from marketplace.services.errors import NotFound
from search import Hit
from search.meili_backend import MeiliBackend


def _user(user_id: int) -> User:
    return db.session.get(User, user_id)


def _published_at(days_ago: int) -> datetime:
    return datetime.now(timezone.utc) - timedelta(days=days_ago)


@pytest.fixture
def ctx(app):
    """A request context (domain errors translate their message when raised) with the app's session."""
    with app.test_request_context():
        yield db.session
        db.session.rollback()


@pytest.fixture
def search_down(app):
    """The app's search engine replaced by a server nobody listens on (restored afterwards)."""
    ext = app.extensions
    saved = ext.get("tb_search")
    ext["tb_search"] = MeiliBackend("http://127.0.0.1:9", None, request_timeout=0.5)
    yield
    ext["tb_search"] = saved


# --- paging -------------------------------------------------------------------------------------------

def test_page_size_settings_come_from_the_config(app):
    with app.app_context():
        saved = dict(app.config)
        try:
            app.config["PER_PAGE"] = 7
            assert site_per_page() == 7
            assert api_per_page(None) == 7 and api_per_page(30) == 30
            app.config["API_MAX_PER_PAGE"] = 25
            assert api_per_page(80) == 25 and api_per_page(0) == 7
        finally:
            app.config.clear()
            app.config.update(saved)


def test_pages_count_and_slice(make, ctx):
    org = make.org()
    for n in range(5):
        make.need(org, title_en=f"Need {n}")
    first = needs_q.list_needs(None, page=1, per_page=2)
    last = needs_q.list_needs(None, page=3, per_page=2)
    beyond = needs_q.list_needs(None, page=4, per_page=2)
    assert (first.total, first.pages, len(first.items)) == (5, 3, 2)
    assert len(last.items) == 1 and beyond.items == [] and beyond.total == 5
    seen = [n.id for n in first.items] + [n.id for n in needs_q.list_needs(None, page=2, per_page=2).items]
    assert len(set(seen + [n.id for n in last.items])) == 5  # newest first, no row on two pages
    sliced = slice_page(list(range(7)), 2, 3)
    assert isinstance(sliced, Page) and sliced.items == [3, 4, 5] and sliced.pages == 3


# --- filters and visibility -------------------------------------------------------------------------------

def test_offer_listing_filters_and_orders_from_the_database(make, ctx):
    org, other = make.org(), make.org()
    old = make.offer(org, kind="product", published_at=_published_at(5), title_en="Rapid PCR kit")
    new = make.offer(org, kind="technology", published_at=_published_at(1), title_en="Ventilator control")
    theirs = make.offer(other, kind="product", published_at=_published_at(3), title_en="Mask line",
                        field_codes=("D2.ai_diagnosis",), regulatory_statuses=["nmpa"])
    listing = catalogue_q.list_offers(None, page=1, per_page=10)
    assert [o.id for o in listing.items] == [new, theirs, old] and not listing.degraded
    assert [o.id for o in catalogue_q.list_offers(None, filters={"kind": ["product"]}, page=1,
                                                  per_page=10).items] == [theirs, old]
    assert [o.id for o in catalogue_q.list_offers(None, filters={"org_id": other}, page=1,
                                                  per_page=10).items] == [theirs]
    assert [o.id for o in catalogue_q.list_offers(None, filters={"direction": ["D1"]}, page=1,
                                                  per_page=10).items] == [new, old]
    assert [o.id for o in catalogue_q.list_offers(None, filters={"field": ["D1.ivd"], "kind": "technology"},
                                                  page=1, per_page=10).items] == [new]
    assert [o.id for o in catalogue_q.list_offers(None, filters={"regulatory": ["nmpa"]}, page=1,
                                                  per_page=10).items] == [theirs]
    assert [o.id for o in catalogue_q.list_offers(None, q="ventilator", page=1, per_page=10).items] == [new]
    assert [o.id for o in catalogue_q.list_offers(None, sort="title", page=1, per_page=10).items] == [
        theirs, old, new]
    assert catalogue_q.list_offers(None, filters={"unknown": ["x"]}, page=1, per_page=10).total == 3


def test_offer_listing_applies_visibility(make, ctx):
    org, owner_id, _email = make.member()
    public = make.offer(org)
    confidential = make.offer(org, visibility="confidential")
    draft = make.offer(org, status="draft")
    broker_id = make.user(roles=("broker",))
    anonymous = {o.id for o in catalogue_q.list_offers(None, page=1, per_page=10).items}
    assert anonymous == {public}
    assert {o.id for o in catalogue_q.list_offers(_user(broker_id), page=1, per_page=10).items} == {
        public, confidential}
    owner = _user(owner_id)
    assert [o.id for o in catalogue_q.list_offers(owner, status="draft", page=1, per_page=10).items] == [draft]
    assert catalogue_q.list_offers(None, status="draft", page=1, per_page=10).total == 0
    assert catalogue_q.get_offer(owner, draft).id == draft
    for hidden in (draft, confidential, 10**12, 0):
        with pytest.raises(NotFound):
            catalogue_q.get_offer(None, hidden)
    assert [o.id for o in catalogue_q.published_offers_of(None, org)] == [public]
    assert {o.id for o in catalogue_q.offers_of_organizations({org})} == {public, confidential, draft}


def test_needs_visibility_and_lookups(make, ctx):
    org, owner_id, _email = make.member()
    open_need = make.need(org)
    make.need(org, status="matched")
    secret = make.need(org, visibility="confidential")
    draft = make.need(org, status="draft")
    assert needs_q.list_needs(None, page=1, per_page=10).total == 2  # open and matched, public only
    assert needs_q.list_needs(None, statuses=("open",), page=1, per_page=10).total == 1
    assert needs_q.list_needs(_user(owner_id), statuses=("draft",), page=1, per_page=10).items[0].id == draft
    assert [n.id for n in needs_q.open_needs_of(None, org)] == [open_need]
    with pytest.raises(NotFound):
        needs_q.get_need(None, secret)
    assert needs_q.get_need(_user(owner_id), secret).id == secret


def test_organizations_and_introductions_lookups(make, ctx):
    org = make.org(name_en="Harbour Diagnostics")
    make.org(name_en="Other Labs")
    assert organizations_q.get_organization(org).id == org
    with pytest.raises(NotFound):
        organizations_q.get_organization(10**12)
    found = organizations_q.list_organizations(q="harbour", page=1, per_page=10)
    assert [o.id for o in found.items] == [org]
    assert brokering_q.list_introductions(None, page=1, per_page=10).total == 0  # visitors see none
    with pytest.raises(NotFound):
        brokering_q.get_introduction(None, 1)


def test_patent_lists_apply_visibility(make, ctx):
    org = make.org()
    patent = make.offer(org, kind="patent")
    make.offer(org, kind="patent", status="draft")
    make.offer(org)
    found = patents_q.list_patents(None, page=1, per_page=10)
    assert [o.id for o in found.items] == [patent]
    assert patents_q.get_patent(None, patent).id == patent
    with pytest.raises(NotFound):
        patents_q.get_patent(None, make.offer(org))


# --- search hits to rows ----------------------------------------------------------------------------------

def test_hits_become_rows_in_search_order_without_hidden_ones(make, ctx):
    org = make.org()
    a, b, c = make.offer(org), make.offer(org), make.offer(org)
    hidden = make.offer(org, status="draft")
    hits = [Hit(id=str(c), document={}, highlights={"title_en": "<mark>c</mark>"}),
            Hit(id=str(hidden), document={}), Hit(id="not-a-number", document={}),
            Hit(id=str(a), document={}), Hit(id="999999", document={}), Hit(id=str(b), document={})]
    rows = rows_for_hits(None, "offers", hits)
    assert [row.id for row, _hl in rows] == [c, a, b]
    assert rows[0][1] == {"title_en": "<mark>c</mark>"} and isinstance(rows[0][0], Offer)
    staff_id, _email = make.staff()
    assert [row.id for row, _hl in rows_for_hits(_user(staff_id), "offers", hits)] == [c, hidden, a, b]
    need = make.need(org)
    assert [(type(r), r.id) for r, _hl in rows_for_hits(None, "needs", [Hit(id=str(need), document={})])] == [
        (Need, need)]
    assert rows_for_hits(None, "organizations", []) == []


def test_listing_uses_the_search_engine_for_words_and_facets(make, ctx):
    org = make.org()
    pcr = make.offer(org, title_en="Rapid PCR kit", title_zh="核酸检测试剂盒", published_at=_published_at(2))
    make.offer(org, title_en="Ventilator", title_zh="呼吸机", published_at=_published_at(1))
    make.offer(org, title_en="PCR secret", title_zh="核酸检测保密", visibility="confidential")
    listing = catalogue_q.list_offers(None, q="PCR", page=1, per_page=10)
    assert [o.id for o in listing.items] == [pcr] and listing.total == 1
    faceted = catalogue_q.list_offers(None, facets=("kind",), page=1, per_page=10)
    assert faceted.facets["kind"] == {"product": 2} and faceted.total == 2


def test_listing_falls_back_to_the_database_when_search_is_down(make, ctx, search_down):
    org = make.org()
    kit = make.offer(org, title_en="Rapid PCR kit", kind="product")
    make.offer(org, title_en="PCR technology", kind="technology")
    make.offer(org, title_en="Ventilator", kind="product")
    make.offer(org, title_en="PCR confidential", kind="product", visibility="confidential")
    listing = catalogue_q.list_offers(None, q="pcr", filters={"kind": ["product"]}, facets=("kind",), page=1,
                                      per_page=10)
    assert listing.degraded and [o.id for o in listing.items] == [kit] and listing.facets == {}
