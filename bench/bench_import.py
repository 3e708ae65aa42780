"""Import throughput: rows per second for the read and for the whole import, with a per-row baseline beside it.

    .venv/bin/python bench/bench_import.py                      # 2,000 offers and 2,000 needs on SQLite
    .venv/bin/python bench/bench_import.py --rows 500 --entities patents
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench .venv/bin/python bench/bench_import.py
    .venv/bin/python bench/bench_import.py --patents 100000     # patents in files of --rows rows, as jobs

For each entity the same synthetic file is imported twice into an empty database: once by the baseline (each row
looks up its organisation and earlier import on its own, as imports did before bulk lookups) and once by
``imports.import_file`` (bulk lookups). Then the file is imported again to measure updates. ``--patents N`` imports
N patents in files of ``--rows`` rows through the import job (``tasks.imports.run``) and prints the throughput
and the row report's size. Every figure comes from one run on one machine: compare them with each other only.
"""
from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from openpyxl import Workbook
from sqlalchemy import delete, select

HEADERS = {
    "offers": ["external_id", "kind", "title_zh", "title_en", "summary_zh", "field_codes", "trl", "price_rmb",
               "regulatory_statuses", "partnership_modes", "visibility"],
    "needs": ["external_id", "kind", "title_zh", "description_zh", "field_codes", "quantity", "budget_max_rmb",
              "deadline", "urgency"],
    "patents": ["external_id", "application_number", "title_zh", "summary_zh", "field_codes", "legal_status",
                "claims_count", "citations", "transfer_willingness"],
}


def _patent_number(serial: int) -> str:
    from marketplace.identifiers import patent_check_character
    digits = f"20201{serial:07d}"  # year, type digit 1 (invention), serial
    return f"{digits}.{patent_check_character(digits)}"


def make_rows(entity: str, n: int, start: int = 0) -> list[list]:
    """``n`` valid rows of ``entity`` (serials from ``start``, so several files do not collide)."""
    rows = []
    for i in range(start, start + n):
        if entity == "offers":
            rows.append([f"O-{i}", "product", f"检测试剂盒{i}", f"Test kit {i}", "荧光PCR法，90分钟出结果",
                         "D1.virus_detection", 9, 25.5, "nmpa, ce", "sale", "public"])
        elif entity == "needs":
            rows.append([f"N-{i}", "procurement", f"采购CT {i}", "用于发热门诊", "D1.devices", 1, 5000000,
                         "2030-12-31", "high"])
        else:
            rows.append([f"P-{i}", _patent_number(i + 1), f"一种检测方法{i}", "摘要", "D1.ivd", "granted", 10, 3, 4])
    return rows


def xlsx(entity: str, rows: list[list]) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("data")
    sheet.append(HEADERS[entity])
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def baseline_import(user, entity: str, table, organization_id: int) -> int:
    """Rows applied one by one with a query per lookup (organisation, earlier import, listed patent), the way
    imports worked before bulk lookups; same services, same rules."""
    from marketplace.extensions import db
    from marketplace.identifiers import normalise_patent_number
    from marketplace.models import Need, Offer, Organization, PatentDetail
    from marketplace.services import needs as need_service
    from marketplace.services import offers as offer_service
    from marketplace.services.imports import import_key_for

    done = 0
    for _, data in table.rows:
        db.session.get(Organization, organization_id)
        if entity == "needs":
            kind = data["kind"]
            key = import_key_for(organization_id, f"need:{kind}", data)
            existing = db.session.scalar(select(Need).where(Need.import_key == key))
            record = (need_service.update_need(user, existing, data) if existing
                      else need_service.create_need(user, organization_id, kind, data))
        else:
            kind = "patent" if entity == "patents" else data["kind"]
            key = import_key_for(organization_id, f"offer:{kind}", data)
            existing = db.session.scalar(select(Offer).where(Offer.import_key == key))
            if kind == "patent":
                number = normalise_patent_number(str(data["application_number"]))
                db.session.scalar(select(Offer).join(PatentDetail).where(PatentDetail.application_number == number))
            record = (offer_service.update_offer(user, existing, data) if existing
                      else offer_service.create_offer(user, organization_id, kind, data))
        record.import_key = key
        db.session.flush()
        done += 1
    return done


def clear(app) -> None:
    from marketplace import models
    from marketplace.extensions import db
    with app.app_context():
        for model in [getattr(models, name) for name in ("ImportRun", "SearchOutboxEntry", "Need", "Offer")
                      if hasattr(models, name)]:
            db.session.execute(delete(model))
        db.session.commit()


CPU = {}  # label -> CPU seconds of the last timed call (the machine may be shared: wall time waits for others)


def timed(call, label: str = ""):
    started, cpu = time.perf_counter(), time.process_time()
    result = call()
    CPU[label] = time.process_time() - cpu
    return time.perf_counter() - started, result


def bench_entity(app, entity: str, n: int, org_id: int, user_id: int) -> None:
    from marketplace import jobs
    from marketplace.extensions import db
    from marketplace.models import User
    from marketplace.services import imports
    from marketplace.services.unit_of_work import unit_of_work

    content = xlsx(entity, make_rows(entity, n))
    with app.test_request_context("/"):
        read_s, table = timed(lambda: imports.read_table(entity, f"{entity}.xlsx", content), "read")
        user = db.session.get(User, user_id)
        with unit_of_work():
            base_s, _ = timed(lambda: baseline_import(user, entity, table, org_id), "baseline")
            jobs.discard_pending(db.session)  # compare the import itself, not the rankings it asks for
    clear(app)
    with app.test_request_context("/"):
        user = db.session.get(User, user_id)
        with unit_of_work():
            new_s, result = timed(lambda: imports.import_file(user, entity, f"{entity}.xlsx", content,
                                                              organization_id=org_id), "bulk")
            jobs.discard_pending(db.session)
        assert result.created == n, result
        with unit_of_work():
            again_s, result = timed(lambda: imports.import_file(user, entity, f"{entity}.xlsx", content,
                                                                organization_id=org_id), "again")
            jobs.discard_pending(db.session)
        assert result.updated == n, result
    clear(app)
    print(f"{entity:8} {n:6d} rows (wall s / CPU s)")
    print(f"  read only                    {read_s:6.2f} / {CPU['read']:6.2f}  ({n / CPU['read']:7.0f} rows per CPU s)")
    print(f"  baseline, per-row lookups    {base_s:6.2f} / {CPU['baseline']:6.2f}  "
          f"({n / CPU['baseline']:7.0f} rows per CPU s)  [rows only, file read above]")
    print(f"  import_file, bulk lookups    {new_s:6.2f} / {CPU['bulk']:6.2f}  ({n / CPU['bulk']:7.0f} rows per CPU s)"
          f"  [read + rows]; rows alone x{CPU['baseline'] / max(CPU['bulk'] - CPU['read'], 1e-9):.2f} faster")
    print(f"  re-import, updates           {again_s:6.2f} / {CPU['again']:6.2f}")


def bench_patent_jobs(app, total: int, per_file: int, org_id: int, user_id: int) -> None:
    """``total`` patents in files of ``per_file`` rows, each file one import job run."""
    from marketplace import jobs
    from marketplace.extensions import db
    from marketplace.models import ImportRun, User
    from marketplace.services import imports
    from marketplace.services.unit_of_work import unit_of_work
    from marketplace.tasks import imports as import_tasks

    started = time.perf_counter()
    report_rows = 0
    for start in range(0, total, per_file):
        content = xlsx("patents", make_rows("patents", min(per_file, total - start), start))
        with app.test_request_context("/"):
            user = db.session.get(User, user_id)
            with unit_of_work():
                run, _ = imports.start_import(user, "patents", f"patents-{start}.xlsx", content,
                                              organization_id=org_id, locale="zh",
                                              limits=imports.ReadLimits.from_config(app.config))
                run_id = run.id
                db.session.info.pop("pending_jobs", None)  # run the job below, as a worker would
            status = import_tasks.run(run_id=run_id)
            jobs.discard_pending(db.session)
            run = db.session.get(ImportRun, run_id)
            assert status == "done", (run.message, run.row_errors[:3])
            report_rows += len(run.created_ids) + len(run.updated_ids)
            db.session.remove()
        elapsed = time.perf_counter() - started
        print(f"  patents {start + per_file:7d} / {total} imported, {elapsed:7.1f} s, "
              f"{(start + per_file) / elapsed:6.0f} rows/s", flush=True)
    print(f"patent jobs: {total} rows in {time.perf_counter() - started:.1f} s; row report lists {report_rows} records")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=2000, help="rows per file (the import limit by default)")
    parser.add_argument("--entities", default="offers,needs", help="comma-separated: offers, needs, patents")
    parser.add_argument("--patents", type=int, default=0, help="also import this many patents as job runs")
    args = parser.parse_args()

    from marketplace import create_app
    from marketplace.extensions import db

    instance = tempfile.mkdtemp(prefix="bench-import-")
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{instance}/bench.sqlite"
    app = create_app("testing", overrides={"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_DIR": instance,
                                           "MEILI_URL": None, "REDIS_URL": None,
                                           "IMPORT_MAX_ROWS": max(args.rows, 2000)})
    with app.app_context():
        db.drop_all()
        db.create_all()
        from marketplace.reference.taxonomy import load_taxonomy
        load_taxonomy(db.session)
        from marketplace.models import Membership, Organization, User
        org = Organization(name_zh="基准测试公司", name_en="Bench Co", kind="firm")
        db.session.add(org)
        db.session.flush()
        user = User(email="bench@example.com", display_name="Bench", password_hash="!")  # never logs in
        db.session.add(user)
        db.session.flush()
        db.session.add(Membership(user_id=user.id, organization_id=org.id, role="owner"))
        db.session.commit()
        org_id, user_id = org.id, user.id
    print(f"database: {url.split(':')[0]}, {args.rows} rows per file")
    for entity in [e.strip() for e in args.entities.split(",") if e.strip()]:
        bench_entity(app, entity, args.rows, org_id, user_id)
    if args.patents:
        bench_patent_jobs(app, args.patents, args.rows, org_id, user_id)


if __name__ == "__main__":
    main()
