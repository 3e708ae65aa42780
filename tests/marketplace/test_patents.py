"""High-value patent curation funnel (weights, rescoring, shortlisting, publishing) and the public list."""
import io
import re

from openpyxl import Workbook
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import Batch, Offer, PatentDetail
from marketplace.services.patent_value import DEFAULT_WEIGHTS
from tests.conftest import login
from tests.factories import valid_patent_number


def patent(make, app, org: int, *, stage: str = "screened", status: str = "submitted", score: float | None = None,
           **indicators) -> int:
    """A patent offer with chosen indicators; returns the offer id."""
    offer_id = make.offer(org, kind="patent", status=status, title_zh=indicators.pop("title_zh", None) or "专利",
                          title_en=indicators.pop("title_en", "Patent"))
    with app.app_context():
        detail = db.session.get(PatentDetail, offer_id)
        detail.curation_stage = stage
        detail.value_score = score
        for key, value in indicators.items():
            setattr(detail, key, value)
        db.session.commit()
    return offer_id


def funnel_order(html: str) -> list[int]:
    return [int(x) for x in re.findall(r'data-offer-id="(\d+)"', html)]


def weights_form(**overrides) -> dict:
    data = {k: "0" for k in DEFAULT_WEIGHTS}
    data.update({k: str(v) for k, v in overrides.items()})
    return data


def test_non_staff_get_403_and_anonymous_must_log_in(client, make):
    assert client.get("/operator/patents").status_code == 302
    org, _, email = make.member("university", roles=("broker",))
    login(client, email)
    assert client.get("/operator/patents").status_code == 403
    assert client.post("/operator/patents/publish", data={"n": "5"}).status_code == 403
    assert client.post("/operator/patents/weights", data=weights_form(claims=1)).status_code == 403
    assert client.post("/operator/patents/shortlist-top", data={"n": "5"}).status_code == 403


def test_funnel_counts_come_from_the_records(client, make, app):
    org = make.org("university")
    for _ in range(3):
        patent(make, app, org)
    patent(make, app, org, stage="shortlisted")
    patent(make, app, org, stage="high_value", status="published")
    patent(make, app, org, status="archived")  # left the pipeline: not counted
    patent(make, app, org, status="draft")  # a member's unsubmitted draft stays private: not counted
    _, email = make.staff()
    login(client, email)
    html = client.get("/operator/patents").get_data(as_text=True)
    counts = dict(re.findall(r'data-stage="(\w+)">\s*[^<]*<span class="badge text-bg-light">(\d+)</span>', html))
    assert counts == {"screened": "3", "shortlisted": "1", "high_value": "1"}
    assert 'name="csrf_token"' in html


def test_rescoring_with_custom_weights_changes_the_order(client, make, app):
    org = make.org("university")
    cited = patent(make, app, org, citations=30, claims_count=20, transfer_willingness=1, market_prospect=1)
    willing = patent(make, app, org, citations=0, claims_count=1, transfer_willingness=5, market_prospect=5)
    _, email = make.staff()
    login(client, email)
    r = client.post("/operator/patents/weights", data=weights_form(citations=10, claims=10))
    assert r.status_code == 302
    html = client.get("/operator/patents").get_data(as_text=True)
    assert funnel_order(html) == [cited, willing]
    r = client.post("/operator/patents/weights", data=weights_form(transfer_willingness=10, market_prospect=5))
    assert r.status_code == 302
    html = client.get("/operator/patents").get_data(as_text=True)
    assert funnel_order(html) == [willing, cited]
    with app.app_context():
        scores = {d.offer_id: d.value_score for d in db.session.scalars(select(PatentDetail))}
    assert scores[willing] == 100.0 and scores[cited] == 0.0
    # Per-indicator contributions are shown: the willing patent gets 10/15 of 100 from willingness.
    row = html.split(f'data-offer-id="{willing}"')[1].split("</tr>")[0]
    assert "66.7" in row and "33.3" in row


def test_weights_are_validated(client, make, app):
    org = make.org("university")
    patent(make, app, org, score=42.0)
    _, email = make.staff()
    login(client, email)
    client.get("/lang/en")
    r = client.post("/operator/patents/weights", data=weights_form(claims=-1, citations="abc"))
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    assert "Must not be negative." in html and "Enter a number." in html
    r = client.post("/operator/patents/weights", data=weights_form())
    assert r.status_code == 400 and "At least one weight must be above zero." in r.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(PatentDetail.value_score)) == 42.0  # nothing rescored
    r = client.post("/operator/patents/weights", data={"action": "reset"})
    assert r.status_code == 302


def test_shortlist_selected_and_top_k(client, make, app):
    org = make.org("university")
    ids = [patent(make, app, org, score=float(s)) for s in (10, 90, 50, 70)]
    _, email = make.staff()
    login(client, email)
    r = client.post("/operator/patents/shortlist", data={"offer_ids": [str(ids[0])]})
    assert r.status_code == 302
    r = client.post("/operator/patents/shortlist-top", data={"n": "2"})
    assert r.status_code == 302
    with app.app_context():
        stages = {d.offer_id: d.curation_stage for d in db.session.scalars(select(PatentDetail))}
    assert stages == {ids[0]: "shortlisted", ids[1]: "shortlisted", ids[2]: "screened", ids[3]: "shortlisted"}
    client.post("/operator/patents/shortlist", data={"offer_ids": [str(ids[0])], "action": "remove"})
    with app.app_context():
        assert db.session.get(PatentDetail, ids[0]).curation_stage == "screened"


def test_publishing_top_n_creates_a_high_value_batch(client, make, app):
    org = make.org("university")
    with app.app_context():
        db.session.add(Batch(number=3, kind="regular", title_zh="第三批"))
        db.session.commit()
    scores = [20, 95, 60, 80, 40]
    ids = [patent(make, app, org, stage="shortlisted", score=float(s), title_zh=f"专利{s}", title_en=f"Patent {s}",
                  ipc_classes=["C12Q1/68"], applicants=["清华大学"]) for s in scores]
    screened = patent(make, app, org, score=99.0, title_zh="未入围专利")
    _, email = make.staff()
    login(client, email)
    r = client.post("/operator/patents/publish", data={"n": "3"})
    assert r.status_code == 302
    with app.app_context():
        batch = db.session.scalar(select(Batch).where(Batch.kind == "high_value"))
        assert batch.number == 4
        assert batch.title_en == "High-value patents, batch 4: 3 patents" and "第4批" in batch.title_zh
        assert batch.note_zh and batch.note_en and batch.published_on is not None
        published = {o.id for o in batch.offers}
        assert published == {ids[1], ids[3], ids[2]}
        for offer in batch.offers:
            assert offer.status == "published" and offer.published_at is not None
            assert offer.patent.curation_stage == "high_value"
        assert db.session.get(Offer, ids[0]).status == "submitted"
    # The public list shows exactly the published ones, best first, with their indicators.
    client.post("/logout")
    client.get("/lang/en")
    html = client.get("/patents/high-value").get_data(as_text=True)
    table = html.split('id="high-value-patents"')[1]
    assert [t for t in re.findall(r"Patent (\d+)</a>", table)] == ["95", "80", "60"]
    assert "C12Q1/68" in table and "清华大学" in table and "Granted" in table and "95.0" in table
    assert "未入围专利" not in html and "Patent 20" not in html
    html = client.get("/patents/high-value?sort=score_asc").get_data(as_text=True)
    assert re.findall(r"Patent (\d+)</a>", html) == ["60", "80", "95"]
    # The batch and the list export too.
    assert len(client.get("/transfer/export/batch/4.csv").get_data(as_text=True).strip().splitlines()) == 4
    assert len(client.get("/transfer/export/patents.csv").get_data(as_text=True).strip().splitlines()) == 4
    # Publishing again takes the rest of the shortlist into the next batch.
    _, email = make.staff()
    login(client, email)
    client.post("/operator/patents/publish", data={"n": "50"})
    with app.app_context():
        second = db.session.scalar(select(Batch).where(Batch.number == 5))
        assert second.kind == "high_value" and len(second.offers) == 2
        assert second.title_en == "High-value patents, batch 5: 2 patents"
        assert db.session.get(PatentDetail, screened).curation_stage == "screened"


def test_publish_with_empty_shortlist_or_bad_n_is_refused(client, make, app):
    org = make.org("university")
    patent(make, app, org)
    _, email = make.staff()
    login(client, email)
    client.get("/lang/en")
    r = client.post("/operator/patents/publish", data={"n": "5"}, follow_redirects=True)
    assert "No shortlisted patents to publish" in r.get_data(as_text=True)
    r = client.post("/operator/patents/publish", data={"n": "zero"}, follow_redirects=True)
    assert "Enter a whole number." in r.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(Batch)) is None


def test_public_list_paginates_and_hides_unpublished(client, make, app):
    org = make.org("university")
    for i in range(23):
        patent(make, app, org, stage="high_value", status="published", score=float(i), title_en=f"Patent {i}")
    patent(make, app, org, stage="high_value", status="draft", score=100.0, title_en="Hidden draft")
    client.get("/lang/en")
    first = client.get("/patents/high-value").get_data(as_text=True)
    assert "23 results" in first and "Hidden draft" not in first
    assert len(re.findall(r"Patent \d+</a>", first)) == 20 and "Patent 22</a>" in first
    second = client.get("/patents/high-value?page=2").get_data(as_text=True)
    assert re.findall(r"Patent (\d+)</a>", second) == ["2", "1", "0"]


def test_imported_patents_enter_the_funnel_scored_with_the_operators_weights(client, make, app):
    org = make.org("university")
    _, email = make.staff()
    login(client, email)
    client.post("/operator/patents/weights", data=weights_form(legal_status=1))
    workbook = Workbook()
    workbook.active.append(["organization_id", "application_number", "title_zh", "summary_zh", "legal_status"])
    workbook.active.append([org, valid_patent_number(901), "专利甲", "摘要", "granted"])
    workbook.active.append([org, valid_patent_number(902), "专利乙", "摘要", "pending"])
    out = io.BytesIO()
    workbook.save(out)
    r = client.post("/transfer/import", data={"entity": "patents", "file": (io.BytesIO(out.getvalue()), "p.xlsx")},
                    content_type="multipart/form-data")
    assert r.status_code == 200, r.get_data(as_text=True)
    with app.app_context():
        scores = sorted(d.value_score for d in db.session.scalars(select(PatentDetail)))
    assert scores == [50.0, 100.0]
    html = client.get("/operator/patents").get_data(as_text=True)
    assert len(funnel_order(html)) == 2
