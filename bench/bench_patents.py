"""The patent funnel at its real size: import, scoring and funnel pages with 100,000 patents.

    .venv/bin/python bench/bench_patents.py                   # 100,000 patents on SQLite
    .venv/bin/python bench/bench_patents.py --n 20000         # a quicker run
    .venv/bin/python bench/bench_patents.py --import-rows 10000   # import 10,000; the other 90,000 inserted
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench_patents .venv/bin/python bench/bench_patents.py
    .venv/bin/python bench/bench_patents.py --keep /tmp/funnel-100k     # keep the database and the baseline
    .venv/bin/python bench/bench_patents.py --reuse /tmp/funnel-100k    # pages and shortlist again, no import

One run, one machine, figures side by side:

* **import**: a generated CSV of N patents (never committed) imported as one background job run
  (``tasks.imports.run``, the patent limits ``IMPORT_PATENT_*``): every row checked, then committed
  ``IMPORT_CHUNK_ROWS`` at a time, each chunk's search documents indexed after its commit (in-process, as without
  Redis); baseline: the first 2,000 patents imported the same way as a file at the previous per-file cap. Patents
  per second, wall and CPU; the process's peak memory is printed at the end.
* **scoring**: ``curation.rescore_funnel`` over every screened patent; baseline: the same scores computed through
  loaded records, one object per patent (as rescoring worked before). Patents per second.
* **funnel pages**: the operator's funnel (first page, a deep page, the shortlist), ``shortlist_top(400)`` and the
  public high-value list, at N patents; baseline: the same requests measured right after the 2,000-patent import.

``--keep DIR`` leaves the database (SQLite: ``DIR/bench.sqlite``; PostgreSQL: ``DATABASE_URL``) and writes the
2,000-patent baseline and the import and scoring figures to ``DIR/baseline.json``; ``--reuse DIR`` then measures
the pages and the shortlist again on that database without importing, beside the stored baseline (the import
of 100,000 patents takes minutes; code changes to the pages can be measured in seconds).

The machine may be shared: CPU seconds are printed beside wall seconds.
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

HEADERS = ["external_id", "application_number", "title_zh", "title_en", "summary_zh", "field_codes", "legal_status",
           "filing_date", "claims_count", "citations", "family_size", "transfer_willingness", "market_prospect",
           "ipc_classes"]
PASSWORD = "bench-password-1"
BASELINE_ROWS = 2000  # the per-file cap before patent files could be larger


def patent_number(serial: int) -> str:
    from marketplace.identifiers import patent_check_character
    digits = f"20201{serial:07d}"  # year, type digit 1 (invention), serial
    return f"{digits}.{patent_check_character(digits)}"


def patent_csv(start: int, count: int) -> bytes:
    """``count`` valid patent rows (serials from ``start``) with varied indicators, as CSV bytes."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADERS)
    statuses = ["granted", "granted", "pending", "lapsed"]
    for i in range(start, start + count):
        writer.writerow([f"P-{i}", patent_number(i + 1), f"一种核酸检测方法{i}", f"A detection method {i}",
                         "用于快速检测的专利", "D1.ivd", statuses[i % 4], f"{2005 + i % 18}-0{1 + i % 9}-15",
                         i % 25, (i * 7) % 40, 1 + i % 6, 1 + i % 5, 1 + (i * 3) % 5,
                         f"{'AGCH'[i % 4]}{61 + i % 5}B {i % 9}/00"])
    return out.getvalue().encode("utf-8")


def setup(app):
    """An empty schema, the taxonomy, a university with one owner and an operator; returns their ids."""
    from werkzeug.security import generate_password_hash

    from marketplace.extensions import db
    from marketplace.models import Membership, Organization, User, UserRole
    from marketplace.reference.taxonomy import load_taxonomy

    with app.app_context():
        db.drop_all()
        db.create_all()
        load_taxonomy(db.session)
        org = Organization(name_zh="基准大学", name_en="Bench University", kind="university")
        hashed = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
        owner = User(email="owner@bench.example", display_name="Owner", password_hash=hashed)
        operator = User(email="operator@bench.example", display_name="Operator", password_hash=hashed)
        db.session.add_all([org, owner, operator])
        db.session.flush()
        db.session.add_all([Membership(user_id=owner.id, organization_id=org.id, role="owner"),
                            UserRole(user_id=operator.id, role="operator")])
        db.session.commit()
        return org.id, operator.id


def import_job(app, user_id: int, org_id: int, content: bytes, name: str) -> tuple[float, float, int]:
    """Queue ``content`` as one import run and run the job; (wall s, CPU s, patents in the row report)."""
    from marketplace import jobs
    from marketplace.extensions import db
    from marketplace.models import ImportRun, User
    from marketplace.services import imports
    from marketplace.services.unit_of_work import unit_of_work
    from marketplace.tasks import imports as import_tasks

    started, cpu = time.perf_counter(), time.process_time()
    with app.test_request_context("/"):
        user = db.session.get(User, user_id)
        with unit_of_work():
            run, _ = imports.start_import(user, "patents", name, content, organization_id=org_id, locale="zh",
                                          limits=imports.ReadLimits.for_entity(app.config, "patents"))
            run_id = run.id
            jobs.discard_pending(db.session)  # run the job below, as a worker would
        status = import_tasks.run(run_id=run_id)
        jobs.discard_pending(db.session)  # the rankings and search relay it asks for are measured elsewhere
        run = db.session.get(ImportRun, run_id)
        assert status == "done", (run.message, (run.row_errors or [])[:3])
        reported = len(run.created_ids or []) + len(run.updated_ids or [])
        db.session.remove()
    return time.perf_counter() - started, time.process_time() - cpu, reported


def fill(app, org_id: int, operator_id: int, start: int, count: int) -> None:
    """Insert ``count`` screened patents straight into the tables (fast, untimed): the funnel at full size when
    ``--import-rows`` imports fewer than ``--n`` through the job. Drafts created by the operator, as an import
    makes them (a draft without a staff creator is private, outside the funnel); the kept stage counts are
    rebuilt after, as the direct insert bypasses them."""
    from sqlalchemy import insert

    from marketplace.extensions import db
    from marketplace.models import Offer, PatentDetail
    from marketplace.services import funnel_counts
    from marketplace.services.patent_value import PatentIndicators, value_score

    statuses = ["granted", "granted", "pending", "lapsed"]
    with app.app_context():
        for chunk in range(start, start + count, 5000):
            serials = range(chunk, min(chunk + 5000, start + count))
            ids = db.session.scalars(
                insert(Offer).returning(Offer.id, sort_by_parameter_order=True),
                [{"organization_id": org_id, "kind": "patent", "status": "draft", "created_by_id": operator_id,
                  "title_zh": f"一种核酸检测方法{i}",
                  "title_en": f"A detection method {i}", "summary_zh": "用于快速检测的专利"} for i in serials]).all()
            details = []
            for offer_id, i in zip(ids, serials):
                filed = date(2005 + i % 18, 1 + i % 9, 15)
                indicators = PatentIndicators(statuses[i % 4], filed, "invention", i % 25, (i * 7) % 40, 1 + i % 6,
                                              1 + i % 5, 1 + (i * 3) % 5)
                details.append({"offer_id": offer_id, "application_number": patent_number(i + 1),
                                "legal_status": indicators.legal_status, "filing_date": filed,
                                "claims_count": indicators.claims_count, "citations": indicators.citations,
                                "family_size": indicators.family_size,
                                "transfer_willingness": indicators.transfer_willingness,
                                "market_prospect": indicators.market_prospect, "curation_stage": "screened",
                                "ipc_classes": [f"A61B {i % 9}/00"], "value_score": value_score(indicators)[0]})
            db.session.execute(insert(PatentDetail), details)
        funnel_counts.recount_all()
        db.session.commit()


def rescore(app, operator_id: int, baseline: bool) -> tuple[float, float, int]:
    """Rescore the funnel (or, as the baseline, score every patent through loaded records); rolled back."""
    from sqlalchemy import select

    from marketplace.extensions import db
    from marketplace.models import Offer, PatentDetail, User
    from marketplace.services import curation
    from marketplace.services.patent_value import DEFAULT_WEIGHTS, indicators_of, value_score

    weights = dict(DEFAULT_WEIGHTS, claims=30.0)
    with app.app_context():
        user = db.session.get(User, operator_id)
        started, cpu = time.perf_counter(), time.process_time()
        if baseline:
            details = db.session.scalars(select(PatentDetail).join(Offer, Offer.id == PatentDetail.offer_id)
                                         .where(PatentDetail.curation_stage.in_(curation.RESCORED_STAGES),
                                                curation.in_funnel()))
            count = 0
            for count, detail in enumerate(details, start=1):
                detail.value_score, _ = value_score(indicators_of(detail), weights)
            db.session.flush()
        else:
            count = curation.rescore_funnel(user, weights)
        elapsed = time.perf_counter() - started, time.process_time() - cpu
        db.session.rollback()
    return elapsed[0], elapsed[1], count


PAGES = [("funnel, screened p1", "/operator/patents?stage=screened"),
         ("funnel, screened p50", "/operator/patents?stage=screened&page=50"),
         ("  p50 by the pager's links", None),
         ("funnel, shortlisted", "/operator/patents?stage=shortlisted"),
         ("high-value list", "/patents/high-value")]


def pager_url(client, url: str, page: int) -> str | None:
    """The link to ``page`` reached by following the funnel pager's "next" links from ``url``."""
    import re
    from html import unescape

    for _ in range(page - 1):
        found = re.search(r'rel="next" href="([^"]+)"', client.get(url).get_data(as_text=True))
        if not found:
            return None
        url = unescape(found.group(1))
    return url


def page_latencies(app, repeat: int) -> dict[str, tuple[float, float, int]]:
    """{page: (p50 ms, p95 ms, queries per request)} for the funnel pages, as the operator."""
    from sqlalchemy import event

    from marketplace.extensions import db

    client = app.test_client()
    response = client.post("/login", data={"email": "operator@bench.example", "password": PASSWORD})
    assert response.status_code in (302, 303), response.status_code
    out = {}
    with app.app_context():
        engine = db.engine
    for label, url in PAGES:
        if url is None:
            url = pager_url(client, "/operator/patents?stage=screened", 50)
            if url is None:  # a funnel without a pager (before the pager linked with cursors)
                continue
        statements = []

        def count(*_args, statements=statements):
            statements.append(1)

        client.get(url)  # warm-up
        event.listen(engine, "before_cursor_execute", count)
        times = []
        try:
            for _ in range(repeat):
                statements.clear()
                started = time.perf_counter()
                response = client.get(url)
                times.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, (url, response.status_code)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        ordered = sorted(times)
        out[label] = (statistics.median(times), ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))],
                      len(statements))
    return out


def shortlist_and_publish(app, operator_id: int) -> tuple[float, float]:
    """Shortlist the best 400 screened patents and publish the best 50 (rolled back); (ms, ms)."""
    from marketplace.extensions import db
    from marketplace.models import User
    from marketplace.services import curation

    with app.test_request_context("/"):
        user = db.session.get(User, operator_id)
        started = time.perf_counter()
        moved = curation.shortlist_top(user, 400)
        shortlisted_ms = (time.perf_counter() - started) * 1000
        assert moved == 400, moved
        started = time.perf_counter()
        curation.publish_top_shortlisted(user, 50)
        published_ms = (time.perf_counter() - started) * 1000
        db.session.rollback()
    return shortlisted_ms, published_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", "--size", type=int, default=100_000, help="patents in the funnel (default 100000)")
    parser.add_argument("--import-rows", type=int, help="patents imported through the job (default: all of --n); "
                        "the rest are inserted directly, so the pages and scoring still run at --n")
    parser.add_argument("--repeat", type=int, default=20, help="requests per page")
    kept = parser.add_mutually_exclusive_group()
    kept.add_argument("--keep", metavar="DIR", help="keep the database and write the baseline to DIR")
    kept.add_argument("--reuse", metavar="DIR", help="measure the pages again on the database kept in DIR")
    args = parser.parse_args()

    from marketplace import create_app

    instance = args.keep or args.reuse or tempfile.mkdtemp(prefix="bench-patents-")
    os.makedirs(instance, exist_ok=True)
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{instance}/bench.sqlite"
    app = create_app("testing", overrides={"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_DIR": instance,
                                           "MEILI_URL": None, "REDIS_URL": None, "RATELIMIT_ENABLED": False})
    stored = Path(instance) / "baseline.json"
    if args.reuse:
        saved = json.loads(stored.read_text())
        args.n, first, rest = saved["n"], saved["first"], saved["rest"]
        base_import, big_import = saved["base_import"], saved["big_import"]
        base_score, base_score_records = saved["base_score"], saved["base_score_records"]
        score, score_records = saved["score"], saved["score_records"]
        base_pages = saved["base_pages"]
        with app.app_context():
            from marketplace.extensions import db
            from marketplace.models import User
            operator_id = db.session.scalar(db.select(User.id).where(User.email == "operator@bench.example"))
        print(f"database: {url.split(':')[0]}, {args.n} patents (kept in {instance}; import and scoring as "
              f"stored on {saved['date']}), {date.today()}", flush=True)
    else:
        org_id, operator_id = setup(app)
        print(f"database: {url.split(':')[0]}, {args.n} patents, {date.today()}", flush=True)

        first = min(BASELINE_ROWS, args.n)
        base_import = import_job(app, operator_id, org_id, patent_csv(0, first), "patents-first.csv")
        base_score = rescore(app, operator_id, baseline=False)
        base_score_records = rescore(app, operator_id, baseline=True)
        base_pages = page_latencies(app, args.repeat)
        print(f"[{first}] imported, scored and paged", flush=True)

        imported = max(first, min(args.n, args.import_rows if args.import_rows is not None else args.n))
        rest = imported - first
        big_import = import_job(app, operator_id, org_id, patent_csv(first, rest), "patents-rest.csv") if rest else None
        if big_import:
            print(f"[{imported}] imported {rest} in one file", flush=True)
        if args.n > imported:
            fill(app, org_id, operator_id, imported, args.n - imported)
            print(f"[{args.n}] {args.n - imported} more inserted directly (untimed)", flush=True)
        score = rescore(app, operator_id, baseline=False)
        score_records = rescore(app, operator_id, baseline=True)
        if args.keep:
            stored.write_text(json.dumps({
                "n": args.n, "first": first, "rest": rest, "date": str(date.today()), "base_import": base_import,
                "big_import": big_import, "base_score": base_score, "base_score_records": base_score_records,
                "score": score, "score_records": score_records, "base_pages": base_pages}))
    pages = page_latencies(app, args.repeat)
    shortlist_ms, publish_ms = shortlist_and_publish(app, operator_id)

    print()
    print(f"{'':34}{'baseline':>26}{'now':>26}")
    print(f"{'import (one job run)':34}{f'{first} rows':>26}{f'{rest} rows' if big_import else '-':>26}")

    def rate(rows, figures):
        wall, cpu = figures[0], figures[1]
        return f"{rows / wall:7.0f}/s ({rows / cpu:6.0f}/CPU s)"

    print(f"{'  patents per second':34}{rate(first, base_import):>26}"
          f"{rate(rest, big_import) if big_import else '-':>26}")
    print(f"{'  rows in the run report':34}{base_import[2]:>26}{big_import[2] if big_import else '-':>26}")
    print(f"{'rescoring at ' + str(args.n):34}{'records, one by one':>26}{'rescore_funnel (bulk)':>26}")
    print(f"{'  patents per second':34}{rate(score_records[2], score_records):>26}{rate(score[2], score):>26}")
    print(f"{'rescoring at ' + str(first):34}{rate(base_score_records[2], base_score_records):>26}"
          f"{rate(base_score[2], base_score):>26}")
    print(f"{'funnel pages, p50/p95 ms (queries)':34}{f'at {first}':>26}{f'at {args.n}':>26}")
    for label in pages:
        b, n = (base_pages or {}).get(label), pages[label]
        before = f"{b[0]:.0f}/{b[1]:.0f} ({b[2]})" if b else "-"
        print(f"{'  ' + label:34}{before:>26}{f'{n[0]:.0f}/{n[1]:.0f} ({n[2]})':>26}")
    print(f"{'shortlist top 400 / publish 50 ms':34}{'':>26}{f'{shortlist_ms:.0f} / {publish_ms:.0f}':>26}")
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{'peak memory of the process':34}{'':>26}{f'{peak_mib:.0f} MiB':>26}")
    print("\nQueries per request must not grow with the number of patents; latency should stay flat.")


if __name__ == "__main__":
    main()
