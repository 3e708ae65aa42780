"""Input that cannot be stored or indexed: lone surrogates are dropped on the way in, and a document the
search backend refuses is set aside on its own without holding back every later change."""
import pytest
from sqlalchemy import func, select

from marketplace import create_app, search_index, search_outbox
from marketplace.extensions import db
from marketplace.models import Need, Offer, SearchOutboxEntry
from marketplace.services.unit_of_work import unit_of_work
from marketplace.tasks import search as search_tasks
from tests.api.conftest import token_for  # noqa: F401 (fixture)
from tests.conftest import TEST_PASSWORD
from tests.factories import Factory
from tests.marketplace.test_search_sync import meili  # noqa: F401 (fixture)


def _pending(session) -> int:
    return session.scalar(select(func.count(SearchOutboxEntry.id)).where(SearchOutboxEntry.done_at.is_(None)))


def test_lone_surrogates_in_api_text_are_dropped_and_the_relay_keeps_going(app, client, make, token_for):
    hospital, nurse, _ = make.member("hospital")
    created = client.post("/api/v1/needs/", json={"organization_id": hospital, "kind": "procurement",
                                                  "title_zh": "采购\ud800需求", "tags": ["\ud800x", "\udfffy"]},
                          headers=token_for(nurse))
    assert created.status_code == 201, created.get_data(as_text=True)
    need = created.get_json()
    assert need["title_zh"] == "采购需求" and need["tags"] == ["x", "y"]
    later = client.post("/api/v1/needs/", json={"organization_id": hospital, "kind": "procurement",
                                                "title_zh": "之后的需求"}, headers=token_for(nurse)).get_json()
    with app.app_context():
        assert _pending(db.session) == 0
        assert {str(need["id"]), str(later["id"])} <= search_index.backend().all_ids("needs")


def test_lone_surrogates_are_dropped_by_the_cleaning_forms_and_imports_share():
    # A browser's form post cannot carry one (its UTF-8 encoder replaces it), but JSON bodies, spreadsheet cells
    # and pasted text go through the same cleaning as the forms.
    from marketplace.services.cleaning import Cleaner, split_list
    cleaner = Cleaner({"title_zh": "表单\ud800需求", "tags": "\udc00a, b\udfff"})
    assert cleaner.text("title_zh") == "表单需求"
    assert cleaner.tags("tags") == ["a", "b"] and split_list(["\ud800"]) == []


def _store_raw_tags(app, tags_by_offer: dict[int, list[str]]) -> None:
    """Write tags past the input cleaning, in one unit of work, as data stored before the cleaning existed would
    be (a JSON column keeps a lone surrogate as an escape)."""
    with app.app_context():
        with unit_of_work():
            for offer_id, tags in tags_by_offer.items():
                db.session.get(Offer, offer_id).tags = tags


def test_relay_sets_aside_only_the_document_the_backend_refuses(app, make, monkeypatch):
    org = make.org("firm")
    ids = [make.offer(org, title_zh=f"隔离测试{i}") for i in range(5)]
    refused = ids[2]
    backend_cls = type(_backend(app))
    original = backend_cls.upsert

    def refusing_upsert(self, name, docs):
        docs = list(docs)
        if any(d.get("id") == str(refused) for d in docs):
            from search import SearchError
            raise SearchError("invalid document")
        return original(self, name, docs)
    monkeypatch.setattr(backend_cls, "upsert", refusing_upsert)
    with app.app_context():
        with unit_of_work():
            for offer in db.session.scalars(select(Offer).where(Offer.id.in_(ids))):
                offer.title_zh += "（改）"
        assert db.session.scalar(select(func.count(SearchOutboxEntry.id)).where(
            SearchOutboxEntry.done_at.is_(None))) == 1
        failed = db.session.scalars(select(SearchOutboxEntry).where(SearchOutboxEntry.done_at.is_(None))).all()
        assert [e.doc_id for e in failed] == [str(refused)] and "invalid document" in failed[0].last_error
    later = make.offer(org, title_zh="之后的产品")
    with app.app_context():
        assert str(later) in search_index.backend().all_ids("offers")
        assert _pending(db.session) == 1


def _backend(app):
    with app.app_context():
        return search_index.backend()


@pytest.mark.meili
def test_meilisearch_relay_isolates_a_document_with_a_lone_surrogate(app, meili):  # noqa: F811
    meili_app = create_app("testing", overrides={
        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"], "MEILI_URL": meili.url,
        "MEILI_MASTER_KEY": meili.key, "MEILI_INDEX_PREFIX": "surrogate_", "INSTANCE_DIR": app.config["INSTANCE_DIR"]})
    make = Factory(meili_app, TEST_PASSWORD)
    org = make.org("firm")
    ids = [make.offer(org, title_zh=f"代理对{i}") for i in range(4)]
    _store_raw_tags(meili_app, {ids[0]: ["fine"], ids[1]: ["\ud800x"], ids[3]: ["good"]})
    with meili_app.app_context():
        search_tasks.drain(ignore_backoff=True)
        left = db.session.scalars(select(SearchOutboxEntry.doc_id).where(SearchOutboxEntry.done_at.is_(None))).all()
        assert left == [str(ids[1])]
        from search import SearchQuery
        assert search_index.backend().search("offers", SearchQuery(q="good")).total == 1
        assert search_index.backend().search("offers", SearchQuery(q="fine")).total == 1
        assert search_outbox.outbox_status()["retrying"] == 1
