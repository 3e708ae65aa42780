"""Query-count guards: the main pages issue a fixed number of queries whatever the number of rows they show,
so an N+1 (one query per card, per suggestion, per reason) cannot come back unnoticed. Counts, not times."""
from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import event, select

from marketplace.extensions import db
from marketplace.models import Field, MatchSuggestion
from tests.conftest import login


@contextmanager
def counted(app):
    """Count the statements the app's engine runs (the embedded search backend shares the engine)."""
    seen: list[str] = []

    def count(conn, cursor, statement, *args):
        seen.append(statement)
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _queries(app, client, url: str) -> int:
    client.get(url)  # warm: caches of the app (taxonomy, vocabulary) are not what is measured
    with counted(app) as seen:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(seen)


def _offers(make, org: int, n: int, start: int = 0) -> list[int]:
    return [make.offer(org, title_zh=f"便携式呼吸机{start + i}型", tags=["呼吸机"], field_codes=("D1.ventilators",))
            for i in range(n)]


@pytest.mark.parametrize("url", ["/", "/offers/", "/offers/?kind=product&sort=newest", "/search/?q=呼吸机",
                                 "/search/?q=呼吸机&scope=needs", "/needs/"])
def test_list_pages_issue_the_same_queries_for_few_and_many_rows(app, make, url):
    org = make.org()
    _offers(make, org, 2)
    make.need(org, title_zh="采购呼吸机一台", tags=["呼吸机"])
    client = app.test_client()
    few = _queries(app, client, url)
    _offers(make, org, 18, start=2)
    for i in range(10):
        make.need(make.org(), title_zh=f"采购呼吸机{i}台", tags=["呼吸机"])
    assert _queries(app, client, url) <= few, url


def test_an_offer_page_issues_a_bounded_number_of_queries(app, make):
    org = make.org()
    offers = _offers(make, org, 12)
    client = app.test_client()
    assert _queries(app, client, f"/offers/{offers[0]}") <= 12


def _suggest(app, need: int, offers: list[int], org: int) -> None:
    """Stored suggestions with graph reasons through fields, organisations and offers (what a rebuild writes)."""
    with app.app_context():
        codes = list(db.session.scalars(select(Field.code).limit(3)))
        for rank, offer in enumerate(offers, start=1):
            path = [{"node": f"field:{codes[rank % len(codes)]}", "relation": "in_field"},
                    {"node": f"org:{org}", "relation": "offers"}, {"node": f"offer:{offer}", "relation": "in_field"}]
            db.session.add(MatchSuggestion(need_id=need, offer_id=offer, rank=rank, score=2.0 - rank / 100,
                                           parts={}, flags=[], reasons=[
                                               {"type": "terms", "zh": "共同关键词：呼吸机", "en": "shared terms",
                                                "text": "共同关键词：呼吸机", "terms": ["呼吸机"]},
                                               {"type": "graph", "zh": "同一领域", "en": "same field",
                                                "text": "同一领域", "path": path, "via_offer": offers[0]}]))
        db.session.commit()


@pytest.mark.parametrize("signed_in", [False, True])
def test_a_need_page_issues_the_same_queries_for_two_suggestions_or_ten(app, make, signed_in):
    hospital, _user, email = make.member("hospital")
    org = make.org()
    offers = _offers(make, org, 10)
    few_need = make.need(hospital, title_zh="采购呼吸机两台", tags=["呼吸机"])
    many_need = make.need(hospital, title_zh="采购呼吸机十台", tags=["呼吸机"])
    _suggest(app, few_need, offers[:2], org)
    _suggest(app, many_need, offers, org)
    client = app.test_client()
    if signed_in:
        login(client, email)
    few = _queries(app, client, f"/needs/{few_need}")
    page = client.get(f"/needs/{many_need}").get_data(as_text=True)
    assert page.count("便携式呼吸机") >= 10  # every suggestion is on the page
    assert _queries(app, client, f"/needs/{many_need}") <= few
