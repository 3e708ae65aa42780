"""The audit log (issue 7): entries for verification decisions, introduction stage changes, access to confidential
details, access decisions and role changes; the operators' page with filters, pagination and CSV export; and the
platform-role page that writes role changes."""
from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from marketplace import jobs
from marketplace.extensions import db
from marketplace.models import AccessRequest, AuditEntry, User
from marketplace.services import audit
from marketplace.services import matching
from tests.conftest import csrf_token_from, login


def _as(app, email):
    client = app.test_client()
    assert login(client, email).status_code == 302
    return client


def _entries(app, action=None) -> list[dict]:
    with app.app_context():
        stmt = select(AuditEntry).order_by(AuditEntry.id)
        if action:
            stmt = stmt.where(AuditEntry.action == action)
        return [{c.key: getattr(e, c.key) for c in AuditEntry.__table__.columns} for e in db.session.scalars(stmt)]


def _roles(app, user_id) -> set[str]:
    with app.app_context():
        return db.session.get(User, user_id).role_names


@pytest.fixture
def no_rebuild(monkeypatch):
    """Batch releases and signed deals refit the matching engine; not what these tests are about."""
    monkeypatch.setitem(jobs.REGISTRY, matching.REBUILD_JOB, lambda: None)


# --- entries for each action kind ----------------------------------------------------------------------

def test_verification_decisions_and_batch_release_are_recorded(app, make, no_rebuild):
    org, _, _ = make.member("firm")
    approve_id = make.offer(org, status="submitted")
    reject_id = make.offer(org, status="submitted")
    operator_id, operator = make.staff("operator")
    client = _as(app, operator)
    assert client.post(f"/operator/verification/{approve_id}", data={"decision": "approve"}).status_code == 302
    assert client.post(f"/operator/verification/{reject_id}",
                       data={"decision": "reject", "reason": "资料不全"}).status_code == 302
    # a refused decision (no reason) records nothing
    third = make.offer(org, status="submitted")
    assert client.post(f"/operator/verification/{third}", data={"decision": "reject"}).status_code == 400
    assert client.post("/operator/batches/release", data={"offer_ids": [approve_id]}).status_code == 302

    entries = _entries(app, "verification")
    assert [(e["object_type"], e["object_id"]) for e in entries] == [
        ("offer", approve_id), ("offer", reject_id), ("batch", entries[2]["object_id"])]
    approve, reject, batch = entries
    assert approve["actor_id"] == operator_id and approve["organization_id"] == org
    assert approve["details"]["to"] == "approved" and approve["remote_addr"] == "127.0.0.1"
    assert reject["details"] == {"decision": "reject", "from": "submitted", "to": "rejected", "reason": "资料不全",
                                 "review_id": reject["details"]["review_id"]}
    assert batch["details"]["offer_ids"] == [approve_id]


def test_introduction_stage_changes_are_recorded(app, make):
    hospital, _, hospital_email = make.member("hospital")
    firm, _, firm_email = make.member("firm")
    need = make.need(hospital)
    offer = make.offer(firm)
    broker_id, broker_email = make.staff("broker")
    broker = _as(app, broker_email)
    r = broker.post("/brokering/propose", data={"need_id": need, "offer_id": offer, "message": "可以谈谈。"})
    assert r.status_code == 302
    intro_id = int(r.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    assert not _entries(app, "stage_change")  # proposing is not a stage change
    _as(app, hospital_email).post(f"/brokering/{intro_id}/respond", data={"decision": "accepted"})
    firm_client = _as(app, firm_email)
    firm_client.post(f"/brokering/{intro_id}/respond", data={"decision": "accepted"})
    assert broker.post(f"/brokering/{intro_id}/stage", data={"to_stage": "contacted"}).status_code == 302

    entries = _entries(app, "stage_change")
    assert [(e["details"]["from"], e["details"]["to"]) for e in entries] == [
        ("proposed", "accepted"), ("accepted", "contacted")]
    assert all(e["object_type"] == "introduction" and e["object_id"] == intro_id for e in entries)
    assert entries[1]["actor_id"] == broker_id and entries[1]["remote_addr"] == "127.0.0.1"


def test_expiry_by_the_sweep_is_recorded_without_an_actor(app, make):
    from marketplace.tasks import brokering as brokering_tasks
    hospital, _, _ = make.member("hospital")
    firm, _, _ = make.member("firm")
    need, offer = make.need(hospital), make.offer(firm)
    _, broker_email = make.staff("broker")
    r = _as(app, broker_email).post("/brokering/propose", data={"need_id": need, "offer_id": offer, "message": "x"})
    intro_id = int(r.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    with app.app_context():
        brokering_tasks.expire_and_remind(now=datetime.now(UTC) + timedelta(days=60))
    [entry] = _entries(app, "stage_change")
    assert entry["object_id"] == intro_id and entry["actor_id"] is None and entry["details"]["to"] == "expired"


def test_confidential_views_nda_acceptance_and_access_decisions_are_recorded(app, make):
    owner_org, _, owner_email = make.member("firm")
    third_org, third_user, third_email = make.member("hospital")
    offer = make.offer(owner_org, visibility="teaser", description_zh="秘密细节")
    public_offer = make.offer(owner_org)
    operator_id, operator_email = make.staff("operator")
    owner, third, operator = _as(app, owner_email), _as(app, third_email), _as(app, operator_email)

    owner.get(f"/offers/{offer}")          # the owner's own views are not access to someone else's secrets
    third.get(f"/offers/{offer}")          # only the teaser: nothing recorded
    operator.get(f"/offers/{public_offer}")  # public details: nothing recorded
    assert _entries(app) == []
    operator.get(f"/offers/{offer}")
    [view] = _entries(app, "confidential_view")
    assert (view["actor_id"], view["object_type"], view["object_id"], view["organization_id"]) == (
        operator_id, "offer", offer, owner_org)
    assert view["details"]["kind"] == "view" and view["remote_addr"] == "127.0.0.1"

    # the owner sets an NDA, the third organisation asks, the owner approves, the requester accepts the NDA
    owner.post(f"/confidentiality/offer/{offer}/nda", data={"nda_text_zh": "保密协议", "nda_text_en": "NDA"})
    third.post(f"/confidentiality/offer/{offer}/request", data={"message": "想了解"})
    with app.app_context():
        request_id = db.session.scalar(select(AccessRequest.id).where(AccessRequest.requester_id == third_user))
    assert owner.post(f"/confidentiality/requests/{request_id}/decide", data={"decision": "approve"}).status_code == 302
    [decision] = _entries(app, "access_decision")
    assert decision["object_id"] == offer and decision["details"]["decision"] == "approved"
    assert decision["details"]["requester_organization_id"] == third_org
    third.post(f"/confidentiality/offer/{offer}/nda/accept", data={"agree": "1"})
    third.get(f"/offers/{offer}")
    kinds = [(e["actor_id"], e["details"]["kind"]) for e in _entries(app, "confidential_view")]
    assert kinds == [(operator_id, "view"), (third_user, "nda_accept"), (third_user, "view")]


def test_record_rejects_unknown_actions_and_never_commits(app):
    with app.app_context():
        with pytest.raises(ValueError):
            audit.record(db.session, actor_id=None, action="coffee", object_type="", object_id=None, summary="")
        audit.record(db.session, actor_id=None, action="upload", object_type="offer", object_id=1, summary="s" * 400,
                     remote_addr="x" * 100)
        entry = db.session.scalar(select(AuditEntry))
        assert len(entry.summary) == 300 and len(entry.remote_addr) == 64
        db.session.rollback()
        assert db.session.scalar(select(AuditEntry)) is None


# --- roles ---------------------------------------------------------------------------------------------

def test_operator_grants_and_revokes_roles_with_audit_entries(app, make):
    _, member_id, member_email = make.member("firm")
    operator_id, operator_email = make.staff("operator")
    client = _as(app, operator_email)
    client.get("/lang/en")
    html = client.get("/operator/users?q=" + member_email.split("@")[0]).get_data(as_text=True)
    assert member_email in html and f'id="user-{member_id}"' in html and "Grant Technology manager" in html
    r = client.post(f"/operator/users/{member_id}/roles", data={"role": "broker", "change": "grant"},
                    follow_redirects=True)
    assert "Role Technology manager granted to" in r.get_data(as_text=True)
    assert _roles(app, member_id) == {"broker"}
    client.post(f"/operator/users/{member_id}/roles", data={"role": "broker", "change": "revoke"})
    assert _roles(app, member_id) == set()
    entries = _entries(app, "role_change")
    assert [(e["actor_id"], e["object_type"], e["object_id"], e["details"]["role"], e["details"]["change"])
            for e in entries] == [(operator_id, "user", member_id, "broker", "granted"),
                                  (operator_id, "user", member_id, "broker", "revoked")]
    # granting a role already held is refused with a message, nothing recorded
    client.post(f"/operator/users/{member_id}/roles", data={"role": "organiser", "change": "grant"})
    r = client.post(f"/operator/users/{member_id}/roles", data={"role": "organiser", "change": "grant"},
                    follow_redirects=True)
    assert "already has this role" in r.get_data(as_text=True)
    assert len(_entries(app, "role_change")) == 3


def test_only_admins_grant_admin_and_the_last_admin_stays(app, make):
    _, member_id, _ = make.member("firm")
    admin_id, admin_email = make.staff("admin")
    _, operator_email = make.staff("operator")
    operator = _as(app, operator_email)
    html = operator.get("/operator/users").get_data(as_text=True)
    assert f"/operator/users/{member_id}/roles" in html
    assert 'name="role" value="admin"' not in html  # operators are not offered the admin role
    assert operator.post(f"/operator/users/{member_id}/roles",
                         data={"role": "admin", "change": "grant"}).status_code == 403
    assert operator.post(f"/operator/users/{admin_id}/roles",
                         data={"role": "broker", "change": "grant"}).status_code == 403  # an admin's account
    assert _roles(app, member_id) == set() and _roles(app, admin_id) == {"admin"}

    admin = _as(app, admin_email)
    admin.get("/lang/en")
    assert admin.post(f"/operator/users/{member_id}/roles", data={"role": "admin", "change": "grant"}).status_code == 302
    assert _roles(app, member_id) == {"admin"}
    admin.post(f"/operator/users/{member_id}/roles", data={"role": "admin", "change": "revoke"})
    r = admin.post(f"/operator/users/{admin_id}/roles", data={"role": "admin", "change": "revoke"},
                   follow_redirects=True)
    assert "The last administrator keeps the administrator role." in r.get_data(as_text=True)
    assert _roles(app, admin_id) == {"admin"}
    assert [e["details"]["change"] for e in _entries(app, "role_change")] == ["granted", "revoked"]
    assert admin.post("/operator/users/999999/roles", data={"role": "broker", "change": "grant"}).status_code == 404
    assert admin.post(f"/operator/users/{member_id}/roles",
                      data={"role": "emperor", "change": "grant"}).status_code == 302
    assert admin.post(f"/operator/users/{member_id}/roles", data={"role": "broker", "change": "x"}).status_code == 400


def test_role_form_needs_a_csrf_token(csrf_app, make):
    _, member_id, _ = make.member("firm")
    _, operator_email = make.staff("operator")
    client = csrf_app.test_client()
    page = client.get("/login").get_data(as_text=True)
    client.post("/login", data={"email": operator_email, "password": "correct-horse-battery-9",
                                "csrf_token": csrf_token_from(page)})
    assert client.post(f"/operator/users/{member_id}/roles",
                       data={"role": "broker", "change": "grant"}).status_code == 400
    html = client.get("/operator/users").get_data(as_text=True)
    assert client.post(f"/operator/users/{member_id}/roles", data={
        "role": "broker", "change": "grant", "csrf_token": csrf_token_from(html)}).status_code == 302
    assert _roles(csrf_app, member_id) == {"broker"}


# --- the operators' page -------------------------------------------------------------------------------

def test_audit_and_role_pages_are_for_staff_only(app, make, client):
    _, _, member_email = make.member("firm")
    _, broker_email = make.staff("broker")
    for path in ("/operator/audit", "/operator/audit.csv", "/operator/users"):
        r = client.get(path)
        assert r.status_code == 302 and "/login" in r.headers["Location"]
    for email in (member_email, broker_email):
        c = _as(app, email)
        for path in ("/operator/audit", "/operator/audit.csv", "/operator/users"):
            assert c.get(path).status_code == 403
        assert c.post("/operator/users/1/roles", data={"role": "admin", "change": "grant"}).status_code == 403
    _, operator_email = make.staff("operator")
    c = _as(app, operator_email)
    assert c.get("/operator/audit").status_code == 200
    html = c.get("/operator/").get_data(as_text=True)
    assert 'href="/operator/audit"' in html and 'href="/operator/users"' in html


def _seed(app, make):
    """Entries by two actors on several objects and days."""
    _, a_id, a_email = make.member("firm")
    _, b_id, b_email = make.member("firm")
    now = datetime.now(UTC)
    with app.app_context():
        for i in range(60):
            db.session.add(AuditEntry(actor_id=a_id if i % 2 else b_id, action="upload" if i % 3 else "verification",
                                      object_type="offer" if i < 50 else "need", object_id=i, summary=f"entry {i}",
                                      details={"n": i}, at=now - timedelta(days=60 - i)))
        db.session.commit()
    return a_email, b_email, now


def test_audit_page_filters_paginates_and_shows_newest_first(app, make):
    a_email, b_email, now = _seed(app, make)
    _, operator_email = make.staff("operator")
    client = _as(app, operator_email)
    client.get("/lang/en")
    html = client.get("/operator/audit").get_data(as_text=True)
    assert 'id="audit-total">60<' in html and html.count('class="audit-entry"') == 50
    assert html.index("entry 59") < html.index("entry 58")  # newest first
    assert "Page 1 of 2" in html and "entry 9<" not in html
    page2 = client.get("/operator/audit?page=2").get_data(as_text=True)
    assert page2.count('class="audit-entry"') == 10 and "entry 0<" in page2

    def count(query):
        r = client.get("/operator/audit?" + query)
        assert r.status_code == 200, query
        return int(r.get_data(as_text=True).split('id="audit-total">')[1].split("<")[0])

    assert count("action=verification") == 20
    assert count("actor=" + a_email) == 30 and count("actor=" + a_email.upper()) == 30
    assert count("actor=%25") == 0 and count("actor=nobody@example.com") == 0  # LIKE wildcards are literal
    assert count("object_type=need") == 10 and count("object_type=offer&object_id=7") == 1
    day = (now - timedelta(days=5)).astimezone(ZoneInfo("Asia/Shanghai")).date()  # the operators' time zone
    assert count(f"date_from={day.isoformat()}") == 5
    assert count(f"date_from={day.isoformat()}&date_to={day.isoformat()}") == 1
    assert count(f"action=upload&actor={b_email}&object_type=offer") == len(
        [i for i in range(50) if i % 3 and not i % 2])
    bad = client.get("/operator/audit?date_from=yesterday&object_id=abc&action=coffee")
    assert bad.status_code == 400
    text = bad.get_data(as_text=True)
    assert "Enter a date as YYYY-MM-DD." in text and "Enter a whole number." in text and "Unknown action." in text


def test_audit_csv_export_follows_the_filters(app, make):
    a_email, _, _ = _seed(app, make)
    _, operator_email = make.staff("operator")
    client = _as(app, operator_email)
    html = client.get("/operator/audit?action=verification").get_data(as_text=True)
    assert "/operator/audit.csv?action=verification" in html
    r = client.get(f"/operator/audit.csv?action=verification&actor={a_email}")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert r.headers["Content-Disposition"].startswith("attachment;")
    rows = list(csv.DictReader(io.StringIO(r.get_data(as_text=True).lstrip("\ufeff"))))
    assert len(rows) == 10 and {row["action"] for row in rows} == {"verification"}
    assert {row["actor_email"] for row in rows} == {a_email}
    assert rows[0]["at_utc"] > rows[-1]["at_utc"]


def test_csv_cells_cannot_become_formulas(app, make):
    _, operator_email = make.staff("operator")
    with app.app_context():
        audit.record(db.session, actor_id=None, action="upload", object_type="offer", object_id=1,
                     summary="=HYPERLINK(\"http://evil\")")
        db.session.commit()
    text = _as(app, operator_email).get("/operator/audit.csv").get_data(as_text=True)
    [row] = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    assert row["summary"].startswith("'=")
