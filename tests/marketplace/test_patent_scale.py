"""The patent funnel at 100,000 patents: pages cost the same number of queries whatever the funnel holds,
rescoring and shortlisting work in bulk with the same results, patent files may be larger than other imports
(the workbook checks unchanged), and the IPC filter runs in SQL."""
from __future__ import annotations

import contextlib

from sqlalchemy import event, select

from marketplace.extensions import db
from marketplace.models import PatentDetail, User
from marketplace.queries import patents as patents_q
from marketplace.services import curation, funnel_counts
from marketplace.services.imports import ReadLimits, read_table
from marketplace.services.patent_value import DEFAULT_WEIGHTS, indicators_of, value_score
from tests.conftest import login
from tests.marketplace.test_patents import funnel_order, patent


@contextlib.contextmanager
def counted_queries(app):
    """Collects the statements run on the app's engine inside the block."""
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _funnel_queries(client, app, url: str) -> int:
    client.get(url)  # the first request of a session loads things once (translations, settings)
    with counted_queries(app) as statements:
        assert client.get(url).status_code == 200
    return len(statements)


def test_funnel_pages_cost_the_same_queries_with_more_patents(client, make, app):
    org = make.org("university")
    other = make.org("university")
    for n in range(3):
        patent(make, app, org if n % 2 else other, score=float(n))
    patent(make, app, org, stage="shortlisted", score=5.0)
    _, email = make.staff()
    login(client, email)
    few = {stage: _funnel_queries(client, app, f"/operator/patents?stage={stage}")
           for stage in ("screened", "shortlisted")}
    for n in range(12):
        patent(make, app, org if n % 2 else other, score=float(10 + n))
        patent(make, app, other, stage="shortlisted", score=float(n))
    many = {stage: _funnel_queries(client, app, f"/operator/patents?stage={stage}")
            for stage in ("screened", "shortlisted")}
    assert many == few
    html = client.get("/operator/patents?stage=screened").get_data(as_text=True)
    assert len(funnel_order(html)) == 15


def test_funnel_pages_in_score_order_with_unscored_patents_last(client, make, app):
    org = make.org("university")
    unscored = patent(make, app, org, score=None)
    ids = [patent(make, app, org, score=float(s)) for s in (30, 80, 30)]
    _, email = make.staff()
    login(client, email)
    html = client.get("/operator/patents?stage=screened").get_data(as_text=True)
    assert funnel_order(html) == [ids[1], ids[2], ids[0], unscored]  # equal scores: newest first


def test_bulk_rescoring_gives_each_patent_its_own_score(make, app):
    org = make.org("university")
    ids = [patent(make, app, org, citations=c, claims_count=20 - c, transfer_willingness=1 + c % 5)
           for c in range(0, 20, 4)]
    patent(make, app, org, stage="high_value", status="published", score=12.5)  # published: keeps its score
    _, email = make.staff()
    weights = dict(DEFAULT_WEIGHTS, citations=40.0)
    with app.test_request_context("/"):
        operator = db.session.scalar(select(User).where(User.email == email))
        loaded = db.session.get(PatentDetail, ids[0])
        loaded.value_score = -1.0  # a loaded record sees the bulk result, not its stale copy
        db.session.flush()
        assert curation.rescore_funnel(operator, weights) == len(ids)
        assert loaded.value_score == value_score(indicators_of(loaded), weights)[0]
        db.session.commit()
    with app.app_context():
        details = {d.offer_id: d for d in db.session.scalars(select(PatentDetail))}
        for offer_id in ids:
            assert details[offer_id].value_score == value_score(indicators_of(details[offer_id]), weights)[0]
        assert 12.5 in {d.value_score for d in details.values()}


def test_shortlisting_the_top_k_is_one_statement_and_moves_the_best(make, app):
    org = make.org("university")
    ids = [patent(make, app, org, score=float(s)) for s in (10, 90, 50, 70, 20)]
    _, email = make.staff()
    with app.test_request_context("/"):
        operator = db.session.scalar(select(User).where(User.email == email))
        best = db.session.get(PatentDetail, ids[1])
        assert best.curation_stage == "screened"
        with counted_queries(app) as statements:
            assert curation.shortlist_top(operator, "3") == 3
        # One statement moves them; the stage counts are corrected by a fixed number more, whatever K.
        assert len([s for s in statements if s.lstrip().upper().startswith("UPDATE PATENT_DETAILS SET CURATION")]) == 1
        assert len(statements) <= 12, statements
        assert best.curation_stage == "shortlisted"
        db.session.commit()
    with app.app_context():
        stages = {d.offer_id: d.curation_stage for d in db.session.scalars(select(PatentDetail))}
        assert funnel_counts.stage_counts() == funnel_counts.counted_from_records() == {
            "screened": 2, "shortlisted": 3, "high_value": 0}
    assert [stages[i] for i in ids] == ["screened", "shortlisted", "shortlisted", "shortlisted", "screened"]


def _patent_csv(rows: int) -> bytes:
    lines = ["application_number,title_zh,legal_status"]
    lines += [f"20201{n:07d}.X,专利{n},granted" for n in range(rows)]
    return "\n".join(lines).encode()


def test_patent_files_may_hold_more_rows_than_other_imports(app):
    limits = ReadLimits.for_entity(app.config, "patents")
    common = ReadLimits.for_entity(app.config, "offers")
    assert common == ReadLimits.from_config(app.config)
    assert limits.max_rows == app.config["IMPORT_PATENT_MAX_ROWS"] >= 100_000 > common.max_rows
    assert limits.max_bytes == app.config["IMPORT_PATENT_MAX_BYTES"] <= app.config["MAX_CONTENT_LENGTH"]
    # the checks against hostile workbooks are the common ones
    assert (limits.max_columns, limits.max_zip_entries, limits.max_compression_ratio, limits.max_shared_strings,
            limits.max_uncompressed_bytes) == (common.max_columns, common.max_zip_entries,
                                               common.max_compression_ratio, common.max_shared_strings,
                                               common.max_uncompressed_bytes)
    content = _patent_csv(common.max_rows + 500)
    with app.test_request_context("/"):
        assert len(read_table("patents", "p.csv", content, limits=limits).rows) == common.max_rows + 500


def test_ipc_filter_matches_class_prefixes_in_sql(make, app):
    org = make.org("university")
    a61 = patent(make, app, org, status="published", ipc_classes=["A61B 5/00", "G06T 7/00"])
    c12 = patent(make, app, org, status="published", ipc_classes=["C12Q1/68"])
    odd = patent(make, app, org, status="published", ipc_classes=["X%_1"])
    with app.test_request_context("/"):
        from flask_login import AnonymousUserMixin
        viewer = AnonymousUserMixin()
        ids = lambda ipc: {o.id for o in patents_q.list_patents(viewer, ipc=ipc, per_page=50).items}
        assert ids("a61b") == {a61}
        assert ids("G06") == {a61}
        assert ids("C12Q") == {c12}
        assert ids("6/") == set()  # a prefix, not any part of a class
        assert ids("%") == set() and ids("X%_") == {odd}  # wildcards are literal
        assert ids("") == {a61, c12, odd}


def test_the_importing_organisation_is_indexed_from_its_own_row_whatever_it_holds(make, app):
    """The university that imported 100,000 patents is reindexed at each change of its row: its search document
    reads no offer (no query once the row is loaded) and its pinyin comes from its name alone."""
    from marketplace.models import Organization
    from marketplace.search_index import organization_document

    org = make.org("university", name="核酸大学")
    documents = []
    for holding in (0, 6):
        for n in range(holding):
            patent(make, app, org, title_zh=f"一种基因测序方法{n}")
        with app.app_context():
            row = db.session.get(Organization, org)
            with counted_queries(app) as statements:
                documents.append(organization_document(row))
            assert statements == []
    assert documents[0] == documents[1]
    assert "hesuandaxue" in documents[1]["pinyin"] and "jiyin" not in documents[1]["pinyin"]


def _pager_link(html: str, rel: str) -> str | None:
    import re
    from html import unescape

    found = re.search(rf'rel="{rel}" href="([^"]+)"', html)
    return unescape(found.group(1)) if found else None


def test_the_funnel_pager_seeks_through_ties_and_unscored_patents_both_ways(client, make, app, monkeypatch):
    org = make.org("university")
    for score in (50.0, 70.0, 50.0, None, 50.0, 90.0, None, 10.0, 50.0, None, 70.0):
        patent(make, app, org, score=score)
    _, email = make.staff()
    login(client, email)
    monkeypatch.setitem(app.config, "PER_PAGE", 3)  # the app outlives the test
    with app.app_context():
        expected = [o.id for o in db.session.scalars(curation.stage_query("screened"))]
    pages, url = [], "/operator/patents?stage=screened"
    while url:
        html = client.get(url).get_data(as_text=True)
        pages.append((url, funnel_order(html)))
        url = _pager_link(html, "next")
    assert [i for _, ids in pages for i in ids] == expected
    assert len(pages) == 4 and all("after=" in u for u, _ in pages[1:])
    # Back from the last page, page by page, by the "previous" links: the same pages.
    html, back = client.get(pages[-1][0]).get_data(as_text=True), []
    while (url := _pager_link(html, "prev")):
        html = client.get(url).get_data(as_text=True)
        back.append(funnel_order(html))
    assert back == [ids for _, ids in reversed(pages[:-1])]
    # Old numbered links open the same pages; a mangled cursor falls back to the number.
    for number, (_, ids) in enumerate(pages, start=1):
        assert funnel_order(client.get(f"/operator/patents?stage=screened&page={number}").get_data(as_text=True)) == ids
        assert funnel_order(client.get(f"/operator/patents?stage=screened&page={number}&after=x~y")
                            .get_data(as_text=True)) == ids


def test_a_deep_funnel_page_reads_from_its_cursor_without_skipping_rows(client, make, app, monkeypatch):
    org = make.org("university")
    for n in range(8):
        patent(make, app, org, score=float(n % 3))
    _, email = make.staff()
    login(client, email)
    monkeypatch.setitem(app.config, "PER_PAGE", 2)
    html = client.get("/operator/patents?stage=screened").get_data(as_text=True)
    url = _pager_link(html, "next")
    skipped = []

    def record(_conn, _cursor, statement, parameters, *_args):
        if "OFFSET" in statement.upper():  # SQLite writes OFFSET with every LIMIT: what counts is its value
            skipped.append(parameters[-1] if isinstance(parameters, (tuple, list)) else statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert not any(skipped), skipped
