"""Imports as jobs: one run per submission, progress, the row report with links, limits, labels instead of codes."""
import io
import uuid

import pytest
from flask_babel import force_locale
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import undefer

from marketplace import jobs, vocabulary
from marketplace.extensions import db
from marketplace.models import ImportRun, Need, Offer, User
from marketplace.services import imports
from marketplace.services.imports import rows as import_rows
from marketplace.services.imports import runs as import_runs
from marketplace.services.unit_of_work import unit_of_work
from marketplace.tasks import imports as import_tasks
from tests.conftest import login
from tests.marketplace.test_transfer import OFFER_HEADERS, count, offer_rows, report_of, upload, xlsx_file


def runs(app) -> list[ImportRun]:
    with app.app_context():
        found = list(db.session.scalars(select(ImportRun).order_by(ImportRun.id)
                                        .options(undefer(ImportRun.content), undefer(ImportRun.created_ids),
                                                 undefer(ImportRun.updated_ids))))
        db.session.expunge_all()
        return found


def test_an_import_records_its_run_and_reports_links_to_the_records(client, make, app):
    org, _, email = make.member("firm")
    login(client, email)
    client.get("/lang/en")
    r = upload(client, "offers", xlsx_file(offer_rows(3), OFFER_HEADERS), "three.xlsx")
    assert r.status_code == 200
    [run] = runs(app)
    assert (run.status, run.rows_done, run.rows_total, run.created_count) == ("done", 3, 3, 3)
    assert run.active_key is None and run.content is None and run.filename == "three.xlsx"
    with app.app_context():
        offer_ids = list(db.session.scalars(select(Offer.id).order_by(Offer.id)))
    assert run.created_ids == offer_ids
    html = r.get_data(as_text=True)
    assert "Import finished: 3 created, 0 updated." in html
    for offer_id in offer_ids:
        assert f'href="/offers/{offer_id}"' in html
    page = client.get(f"/transfer/import/{run.id}")
    assert page.status_code == 200 and f'href="/offers/{offer_ids[0]}"' in page.get_data(as_text=True)
    status = client.get(f"/transfer/import/{run.id}.json").get_json()
    assert status == {"status": "done", "finished": True, "rows_done": 3, "rows_total": 3,
                      "report_url": f"/transfer/import/{run.id}"}
    assert "three.xlsx" in client.get("/transfer/import").get_data(as_text=True)  # recent imports
    # someone else's run is not found, as page or as JSON
    _, _, other_email = make.member("firm")
    client.post("/logout")
    login(client, other_email)
    assert client.get(f"/transfer/import/{run.id}").status_code == 404
    assert client.get(f"/transfer/import/{run.id}.json").status_code == 404


def test_the_same_upload_sent_twice_makes_one_run(client, make, app):
    org, _, email = make.member("firm")
    login(client, email)
    client.get("/lang/en")
    content = xlsx_file(offer_rows(2), OFFER_HEADERS)
    assert upload(client, "offers", content, "a.xlsx").status_code == 200
    r = upload(client, "offers", content, "a.xlsx")  # a double click: the report of the first run
    assert r.status_code == 200 and "This file was just submitted" in r.get_data(as_text=True)
    assert len(runs(app)) == 1 and count(app, Offer) == 2
    # another file in between: sending the first again is a deliberate re-import
    assert upload(client, "offers", xlsx_file(offer_rows(1), OFFER_HEADERS), "b.xlsx").status_code == 200
    r = upload(client, "offers", content, "a.xlsx")
    assert "Import finished: 0 created, 2 updated." in r.get_data(as_text=True)
    assert len(runs(app)) == 3 and count(app, Offer) == 2


def test_a_submission_racing_another_gets_the_running_one(app, make, monkeypatch):
    org, user_id, _ = make.member("firm")
    monkeypatch.setattr(jobs, "dispatch_pending", lambda session: session.info.pop("pending_jobs", None))
    content = xlsx_file(offer_rows(2), OFFER_HEADERS)
    with app.test_request_context("/"):
        user = db.session.get(User, user_id)
        with unit_of_work():
            first, created = imports.start_import(user, "offers", "a.xlsx", content, organization_id=org,
                                                  locale="en", limits=imports.ReadLimits())
        assert created
        first_id = first.id
    # the second request checked before the first inserted: its insert hits the unique key
    monkeypatch.setattr(import_runs, "_same_submission", lambda *args: None)
    with app.test_request_context("/"):
        user = db.session.get(User, user_id)
        with unit_of_work():
            second, created = imports.start_import(user, "offers", "a.xlsx", content, organization_id=org,
                                                   locale="en", limits=imports.ReadLimits())
        assert not created and second.id == first_id
    assert len(runs(app)) == 1


def test_two_workers_given_the_same_run_import_it_once(app, make, monkeypatch):
    org, user_id, _ = make.member("firm")
    monkeypatch.setattr(jobs, "dispatch_pending", lambda session: session.info.pop("pending_jobs", None))
    with app.test_request_context("/"):
        user = db.session.get(User, user_id)
        with unit_of_work():
            run, _ = imports.start_import(user, "needs", "n.xlsx",
                                          xlsx_file([["procurement", "采购CT"]], ["kind", "title_zh"]),
                                          organization_id=org, locale="en", limits=imports.ReadLimits())
        run_id = run.id
        assert import_tasks.run(run_id=run_id) == "done"
        assert import_tasks.run(run_id=run_id) == "skipped"
    assert count(app, Need) == 1 and runs(app)[0].status == "done"


def test_every_problem_of_a_row_is_reported_together(client, make, app):
    org, _, email = make.member("firm")
    login(client, email)
    client.get("/lang/en")
    headers = ["kind", "title_zh", "summary_zh", "trl", "organization_id", "visibility"]
    rows = [["product", "好的", "摘要", 5, "", "public"],
            ["spaceship", "", "摘要", 12, 999999, "everyone"]]
    r = upload(client, "offers", xlsx_file(rows, headers), "x.xlsx")
    assert r.status_code == 400
    report = report_of(r.get_data(as_text=True))
    assert list(report) == [3]
    columns = [column for column, _ in report[3]]
    assert columns == ["Organisation ID", "Kind", "Title (Chinese)", "Technology readiness level 1-9",
                       "Visibility"]
    [run] = runs(app)
    assert run.status == "failed" and run.active_key is None and "Nothing was imported" in run.message
    assert count(app, Offer) == 0


def test_labels_from_the_drop_downs_import_as_codes(client, make, app):
    org, _, email = make.member("firm")
    login(client, email)  # Chinese by default
    template = load_workbook(io.BytesIO(client.get("/transfer/template/offers.xlsx").data))
    data = template["data"]
    headers = [c.value for c in data[1]]
    assert headers[:4] == ["外部编号", "机构信用代码", "机构编号", "类型"]
    rules = {str(rule.sqref).split(":")[0]: rule for rule in data.data_validations.dataValidation}
    kind_rule = rules["D3"]
    lists = template["lists"]
    kind_labels = [c.value for c in lists["A"] if c.value]
    with app.test_request_context("/"), force_locale("zh"):
        expected = [str(vocabulary.OFFER_KIND_LABELS[k]) for k in ("technology", "product", "service", "financial")]
        product, public = str(vocabulary.OFFER_KIND_LABELS["product"]), str(vocabulary.VISIBILITY_LABELS["teaser"])
        sale, licence = str(vocabulary.PARTNERSHIP_LABELS["sale"]), str(vocabulary.PARTNERSHIP_LABELS["licence"])
    with app.test_request_context("/"), force_locale("en"):
        nmpa = str(vocabulary.REGULATORY_LABELS["nmpa"])
    assert kind_labels == expected and kind_rule.formula1 == "lists!$A$1:$A$4" and kind_rule.showErrorMessage
    assert product != "product" and nmpa != "nmpa"  # really labels
    row = {"类型": product, "标题（中文）": "试剂盒", "摘要（中文）": "摘要", "合作方式": f"{sale}，{licence}",
           "公开范围": public, "Registrations": nmpa}
    r = upload(client, "offers", xlsx_file([list(row.values())], list(row)), "labels.xlsx")
    assert r.status_code == 200, r.get_data(as_text=True)
    with app.app_context():
        offer = db.session.scalar(select(Offer))
        assert (offer.kind, offer.visibility) == ("product", "teaser")
        assert offer.partnership_modes == ["sale", "licence"] and offer.regulatory_statuses == ["nmpa"]


def test_an_import_past_its_time_limit_imports_nothing(client, make, app):
    org, _, email = make.member("firm")
    login(client, email)
    client.get("/lang/en")
    app.config["IMPORT_MAX_SECONDS"] = 1e-9
    try:
        r = upload(client, "offers", xlsx_file(offer_rows(3), OFFER_HEADERS), "slow.xlsx")
    finally:
        app.config["IMPORT_MAX_SECONDS"] = 300
    assert r.status_code == 400 and "took longer than" in r.get_data(as_text=True)
    [run] = runs(app)
    assert run.status == "failed" and run.active_key is None and count(app, Offer) == 0


def test_progress_is_the_committed_chunks_visible_while_the_import_runs(app, make, monkeypatch):
    org, user_id, _ = make.member("hospital")
    monkeypatch.setitem(app.config, "IMPORT_CHUNK_ROWS", 2)
    monkeypatch.setattr(jobs, "dispatch_pending", lambda session: session.info.pop("pending_jobs", None))
    seen = []
    create_need = import_rows.need_service.create_need

    def watching(*args, **kwargs):
        with db.engine.connect() as other:  # another connection, as the polling page has
            seen.append(other.execute(select(ImportRun.rows_done, ImportRun.rows_total)).one())
        return create_need(*args, **kwargs)

    monkeypatch.setattr(import_rows.need_service, "create_need", watching)
    content = xlsx_file([["procurement", f"采购{i}"] for i in range(6)], ["kind", "title_zh"])
    with app.test_request_context("/"):
        user = db.session.get(User, user_id)
        with unit_of_work():
            run, _ = imports.start_import(user, "needs", "n.xlsx", content, organization_id=org, locale="zh",
                                          limits=imports.ReadLimits())
        assert import_tasks.run(run_id=run.id) == "done"
    # each chunk of two rows commits with the count, which is also where an interrupted run resumes
    assert seen == [(0, 6), (0, 6), (2, 6), (2, 6), (4, 6), (4, 6)]


def test_with_a_queue_the_page_shows_progress_until_a_worker_runs_the_job(client, make, app, monkeypatch):
    redis = pytest.importorskip("redis")
    url = "redis://127.0.0.1:6379/15"
    try:
        redis.Redis.from_url(url).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    from rq import Queue
    queue_name = f"imports-test-{uuid.uuid4().hex[:8]}"
    monkeypatch.setattr(jobs, "QUEUE_NAME", queue_name)
    monkeypatch.setitem(app.config, "REDIS_URL", url)
    org, _, email = make.member("firm")
    login(client, email)
    client.get("/lang/en")
    content = xlsx_file(offer_rows(4), OFFER_HEADERS)
    queue = Queue(queue_name, connection=redis.Redis.from_url(url))
    try:
        r = upload(client, "offers", content, "queued.xlsx")
        assert r.status_code == 303
        run_url = r.headers["Location"]
        again = upload(client, "offers", content, "queued.xlsx")  # a second tab, while the job waits
        assert again.status_code == 303 and again.headers["Location"] == run_url
        page = client.get(run_url).get_data(as_text=True)
        assert 'id="import-progress"' in page and "data-poll-url" in page and "import-progress.js" in page
        assert client.get(run_url + ".json").get_json() | {"report_url": None} == {
            "status": "queued", "finished": False, "rows_done": 0, "rows_total": 4, "report_url": None}
        [job] = [j for j in queue.jobs if j.args[0] == imports.IMPORT_JOB]
        assert count(app, Offer) == 0
        with app.app_context():
            job.perform()  # what the worker does
            db.session.remove()
        status = client.get(run_url + ".json").get_json()
        assert status["finished"] and status["rows_done"] == 4 and count(app, Offer) == 4
        assert "Import finished: 4 created, 0 updated." in client.get(run_url).get_data(as_text=True)
    finally:
        queue.delete(delete_jobs=True)
