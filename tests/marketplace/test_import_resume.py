"""Imports never run inside the upload request: without Redis a background runner imports the file, chunk by
chunk, and the sweep takes up a run whose worker is gone, after the rows it committed (each row once)."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import undefer

from marketplace import jobs
from marketplace.extensions import db
from marketplace.identifiers import patent_check_character
from marketplace.models import ImportRun, Offer, PatentDetail, User
from marketplace.models.base import utcnow
from marketplace.services import imports
from marketplace.services.imports import runs as import_runs
from marketplace.services.unit_of_work import unit_of_work
from tests.conftest import login
from tests.marketplace.test_transfer import OFFER_HEADERS, count, offer_rows, upload, xlsx_file

PATENT_HEADERS = ["external_id", "application_number", "title_zh", "summary_zh", "legal_status", "claims_count"]
PATENT_NUMBERS = [f"20201000000{i}.{patent_check_character(f'20201000000{i}')}" for i in range(1, 6)]


@pytest.fixture
def runner_mode(app):
    """Set ``BACKGROUND_JOBS`` for one test (the testing default runs imports inline)."""
    def set_mode(mode: str) -> None:
        app.config["BACKGROUND_JOBS"] = mode
    yield set_mode
    jobs.wait_for_background(30)
    app.config["BACKGROUND_JOBS"] = "inline"


def the_run(app) -> ImportRun:
    with app.app_context():
        run = db.session.scalars(select(ImportRun).options(undefer(ImportRun.created_ids), undefer(ImportRun.content))
                                .order_by(ImportRun.id.desc())).first()
        db.session.expunge_all()
        return run


def resume(app, *args) -> str:
    result = app.test_cli_runner().invoke(args=["imports", "resume", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_the_upload_returns_with_the_run_queued_and_the_sweep_imports_it(client, make, app, runner_mode):
    runner_mode("deferred")  # nothing runs the job in this process: only the sweep
    _, _, email = make.member("firm")
    login(client, email)
    client.get("/lang/en")
    r = upload(client, "offers", xlsx_file(offer_rows(4), OFFER_HEADERS), "four.xlsx")
    assert r.status_code == 303
    run = the_run(app)
    assert r.headers["Location"].endswith(f"/transfer/import/{run.id}")
    assert (run.status, run.rows_done, run.rows_total) == ("queued", 0, 4) and count(app, Offer) == 0
    assert client.get(f"/transfer/import/{run.id}.json").get_json()["status"] == "queued"
    assert "resumed 0 imports" in resume(app)  # queued a moment ago: not yet taken for lost
    assert "resumed 1 imports, 1 done" in resume(app, "--stale-after", "0")
    assert (the_run(app).status, the_run(app).rows_done, count(app, Offer)) == ("done", 4, 4)
    status = client.get(f"/transfer/import/{run.id}.json").get_json()
    assert status["finished"] and status["rows_done"] == 4


def test_without_redis_a_background_thread_imports_the_file(client, make, app, runner_mode):
    runner_mode("thread")
    app.config["IMPORT_CHUNK_ROWS"] = 2
    try:
        _, _, email = make.member("firm")
        login(client, email)
        client.get("/lang/en")
        r = upload(client, "offers", xlsx_file(offer_rows(5), OFFER_HEADERS), "five.xlsx")
        assert r.status_code in (200, 303)  # 200 only when the thread was already done when the page was read
        assert jobs.wait_for_background(60)
    finally:
        app.config["IMPORT_CHUNK_ROWS"] = 1000
    run = the_run(app)
    assert (run.status, run.rows_done, run.created_count, count(app, Offer)) == ("done", 5, 5, 5)
    assert "Import finished: 5 created, 0 updated." in client.get(f"/transfer/import/{run.id}").get_data(as_text=True)


def _patent_file() -> bytes:
    rows = [[f"P-{i}", number, f"一种检测方法{i}", "摘要", "granted", 10 + i] for i, number in enumerate(PATENT_NUMBERS)]
    return xlsx_file(rows, PATENT_HEADERS)


def test_an_interrupted_run_resumes_after_its_last_chunk_with_each_row_once(app, make, runner_mode):
    runner_mode("deferred")
    org, user_id, _ = make.member("university")
    limits = imports.ReadLimits.for_entity(app.config, "patents")
    with app.test_request_context("/"):
        user = db.session.get(User, user_id)
        with unit_of_work():
            run, _ = imports.start_import(user, "patents", "p.xlsx", _patent_file(), organization_id=org,
                                          locale="en", limits=limits)
        run_id = run.id
        # a worker claims the run, checks it, commits one chunk of two rows, then dies in the next chunk
        with unit_of_work():
            assert import_runs.claim_run(run_id)
        table = import_runs.read_run_table(run_id, limits=limits)
        with unit_of_work():
            import_runs.check_run(run_id, table)
        with unit_of_work():
            assert not import_runs.import_chunk(run_id, table, 2)
        with pytest.raises(RuntimeError), unit_of_work():
            import_runs.import_chunk(run_id, table, 2)
            raise RuntimeError("the worker's process ended here")
        db.session.remove()
    run = the_run(app)
    assert (run.status, run.rows_done, len(run.created_ids), count(app, Offer)) == ("running", 2, 2, 2)
    assert "resumed 0 imports" in resume(app)  # it recorded progress a moment ago
    with app.app_context():
        db.session.execute(update(ImportRun).where(ImportRun.id == run_id)
                           .values(updated_at=utcnow() - timedelta(hours=1)))
        db.session.commit()
    assert "resumed 1 imports, 1 done" in resume(app)
    run = the_run(app)
    assert (run.status, run.rows_done, run.rows_total, run.created_count) == ("done", 5, 5, 5)
    assert run.active_key is None and run.content is None
    with app.app_context():
        numbers = db.session.scalars(select(PatentDetail.application_number)).all()
        offer_ids = set(db.session.scalars(select(Offer.id)))
        stages = set(db.session.scalars(select(PatentDetail.curation_stage)))
    assert sorted(numbers) == PATENT_NUMBERS and stages == {"screened"}
    assert len(run.created_ids) == 5 and set(run.created_ids) == offer_ids
    assert "resumed 0 imports" in resume(app, "--stale-after", "0")  # done runs are left alone


def test_a_file_with_one_bad_row_imports_nothing_even_in_chunks(app, make, runner_mode):
    runner_mode("inline")
    app.config["IMPORT_CHUNK_ROWS"] = 2
    org, user_id, _ = make.member("university")
    rows = [[f"P-{i}", number, f"一种检测方法{i}", "摘要", "granted", 10] for i, number in enumerate(PATENT_NUMBERS)]
    rows[4][4] = "sold"  # the last row, in the last chunk, is wrong
    try:
        with app.test_request_context("/"):
            user = db.session.get(User, user_id)
            with unit_of_work():
                imports.start_import(user, "patents", "p.xlsx", xlsx_file(rows, PATENT_HEADERS),
                                     organization_id=org, locale="en",
                                     limits=imports.ReadLimits.for_entity(app.config, "patents"))
    finally:
        app.config["IMPORT_CHUNK_ROWS"] = 1000
    run = the_run(app)
    assert run.status == "failed" and "Nothing was imported" in run.message
    assert [error[0] for error in run.row_errors] == [6] and run.rows_done == 0
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Offer)) == 0
