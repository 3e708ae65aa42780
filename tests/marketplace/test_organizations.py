"""Organisations people can trust: owners edit the profile, invite colleagues by e-mail and manage members; a
registered user creates or joins an organisation; operators verify organisations (credit code and licence)."""
from __future__ import annotations

import email
import io
import re
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import (
    Introduction,
    Membership,
    Organization,
    OrganizationInvitation,
    OrganizationVerification,
    StoredFile,
    User,
)
from marketplace.services import invitations
from tests.conftest import login
from tests.factories import other_uscc

PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


def _mails_to(app, address: str, since: float) -> list[str]:
    folder = Path(app.config.get("MAIL_FOLDER") or Path(app.config["INSTANCE_DIR"]) / "mail")
    texts = []
    for path in sorted(folder.glob("*.eml")) if folder.exists() else []:
        if path.stat().st_mtime < since:
            continue
        msg = email.message_from_bytes(path.read_bytes())
        if msg["To"] != address:
            continue
        part = msg if not msg.is_multipart() else next(p for p in msg.walk() if p.get_content_type() == "text/plain")
        texts.append(part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8"))
    return texts


def _client(app, email_address):
    client = app.test_client()
    assert login(client, email_address).status_code == 302
    return client


def _count(app, model, **filters) -> int:
    with app.app_context():
        query = select(func.count()).select_from(model)
        for key, value in filters.items():
            query = query.where(getattr(model, key) == value)
        return db.session.scalar(query)


def _invite(app, org_id, inviter_id, address, role="member", days=7) -> str:
    """An invitation made through the service; returns the secret token."""
    with app.app_context():
        _inv, token = invitations.invite(db.session.get(User, inviter_id), db.session.get(Organization, org_id),
                                         address, role, expiry_days=days)
        db.session.commit()
    return token


# --- profile ------------------------------------------------------------------------------------------

def test_owner_edits_the_profile_and_the_page_shows_it(app, make):
    org, _user, owner = make.member("firm")
    client = _client(app, owner)
    assert client.get(f"/orgs/{org}/edit").status_code == 200
    response = client.post(f"/orgs/{org}/edit", data={
        "name_zh": "新名称科技", "name_en": "New Name Tech", "description_zh": "我们做检测试剂", "sub_park": "haidian",
        "size_class": "small", "contact_name": "王经理", "contact_email": "Wang@Example.com", "contact_phone": "010-1234",
        "field_codes": ["D1.ivd"], "mediated_only": "1", "website": "https://example.com"})
    assert response.status_code == 302
    row = make.get(Organization, org)
    assert (row["name_zh"], row["name_en"], row["sub_park"], row["size_class"], row["mediated_only"]) == (
        "新名称科技", "New Name Tech", "haidian", "small", True)
    assert row["contact_email"] == "Wang@example.com"
    html = client.get(f"/orgs/{org}").get_data(as_text=True)
    assert "新名称科技" in html and 'id="org-fields"' in html
    assert "王经理" not in html  # contacts are for accepted introductions, not the public page
    # unchecking clears the flag and the fields
    client.post(f"/orgs/{org}/edit", data={"name_zh": "新名称科技", "sub_park": ""})
    row = make.get(Organization, org)
    assert row["mediated_only"] is False and row["sub_park"] is None and row["size_class"] == "small"
    with app.app_context():
        assert db.session.get(Organization, org).fields == []


@pytest.mark.parametrize("data, field", [
    ({"name_zh": ""}, "name_zh"),
    ({"name_zh": "名" * 201}, "name_zh"),
    ({"name_zh": "好", "name_en": "x" * 201}, "name_en"),
    ({"name_zh": "好", "sub_park": "atlantis"}, "sub_park"),
    ({"name_zh": "好", "field_codes": ["NOPE"]}, "field_codes"),
    ({"name_zh": "好", "contact_email": "not-an-address"}, "contact_email"),
    ({"name_zh": "好", "website": "javascript:alert(1)"}, "website"),
])
def test_bad_profile_input_is_refused_field_by_field(app, make, data, field):
    org, _user, owner = make.member("firm")
    before = make.get(Organization, org)
    response = _client(app, owner).post(f"/orgs/{org}/edit", data=data)
    assert response.status_code == 400
    assert "invalid-feedback" in response.get_data(as_text=True)
    assert make.get(Organization, org) == before


def test_plain_members_and_other_organisations_do_not_edit(app, make):
    org, _owner_id, _owner = make.member("firm")
    member_id = make.user("plain@example.com")
    with app.app_context():
        db.session.add(Membership(user_id=member_id, organization_id=org, role="member"))
        db.session.commit()
    _other, _u, outsider = make.member("hospital")
    before = make.get(Organization, org)
    for address in ("plain@example.com", outsider):
        client = _client(app, address)
        assert client.get(f"/orgs/{org}/edit").status_code == 403
        assert client.post(f"/orgs/{org}/edit", data={"name_zh": "篡改"}).status_code == 403
        assert client.get(f"/orgs/{org}/members").status_code == 403
        assert client.post(f"/orgs/{org}/invitations", data={"email": "x@example.com"}).status_code == 403
    assert make.get(Organization, org) == before
    assert _count(app, OrganizationInvitation) == 0


def test_huge_ids_and_unknown_organisations_are_not_found(app, make):
    _org, _user, owner = make.member("firm")
    client = _client(app, owner)
    for url in ("/orgs/99999999999999999999/edit", "/orgs/2147483648/members", "/orgs/999999/verification"):
        assert client.get(url).status_code == 404
    assert client.post("/account/contact/99999999999999999999", data={}).status_code == 404
    assert client.post("/account/invitations/99999999999999/accept").status_code == 404


# --- invitations ---------------------------------------------------------------------------------------

def test_invitation_by_e_mail_is_accepted_once(app, make):
    since = time.time() - 1
    org, _user, owner = make.member("firm")
    client = _client(app, owner)
    response = client.post(f"/orgs/{org}/invitations", data={"email": "Colleague@Example.com", "role": "member"})
    assert response.status_code == 302
    with app.app_context():
        invitation = db.session.scalars(select(OrganizationInvitation)).one()
        assert invitation.email == "colleague@example.com" and len(invitation.token_hash) == 64
    (text,) = _mails_to(app, "colleague@example.com", since)
    token = re.search(r"/orgs/join/([\w-]+)", text).group(1)
    assert token not in invitation.token_hash  # only the hash is kept

    # a visitor is sent to log in and may register from there, coming back to the link
    visitor = app.test_client()
    response = visitor.get(f"/orgs/join/{token}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    page = visitor.get(response.headers["Location"]).get_data(as_text=True)
    assert "/register?next=" in page
    response = visitor.post(f"/register?next=/orgs/join/{token}", data={
        "display_name": "新同事", "email": "colleague@example.com", "password": "a-long-password-1",
        "confirm": "a-long-password-1"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/orgs/join/{token}")
    assert visitor.get(f"/orgs/join/{token}").status_code == 200
    assert visitor.post(f"/orgs/join/{token}").status_code == 302
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "colleague@example.com"))
        assert [(m.organization_id, m.role) for m in user.memberships] == [(org, "member")]

    # reused: refused with a clear message, nothing changes
    other = make.user("someone@example.com")
    again = _client(app, "someone@example.com").post(f"/orgs/join/{token}")
    assert again.status_code == 409 and "该邀请已被使用" in again.get_data(as_text=True)
    assert _count(app, Membership, user_id=other) == 0


def test_expired_and_forged_links_change_nothing_and_say_why_in_the_users_language(app, make):
    org, owner_id, _owner = make.member("firm")
    token = _invite(app, org, owner_id, "late@example.com")
    with app.app_context():
        db.session.execute(OrganizationInvitation.__table__.update().values(
            expires_at=datetime.now(timezone.utc) - timedelta(minutes=1)))
        db.session.commit()
    joiner = make.user("late@example.com")
    client = _client(app, "late@example.com")
    response = client.post(f"/orgs/join/{token}")
    assert response.status_code == 409 and "过期" in response.get_data(as_text=True)  # Chinese by default
    client.get("/lang/en")
    response = client.get(f"/orgs/join/{token}")
    assert response.status_code == 409 and "expired" in response.get_data(as_text=True)
    forged = client.post(f"/orgs/join/{token[:-2]}xx")
    assert forged.status_code == 404 and "not valid" in forged.get_data(as_text=True)
    assert client.post("/orgs/join/" + "a" * 5000).status_code == 404
    assert _count(app, Membership, user_id=joiner) == 0


def test_invitations_to_my_address_are_on_my_account_page(app, make):
    org, owner_id, _owner = make.member("lab")
    _invite(app, org, owner_id, "newbie@example.com", role="owner")
    make.user("newbie@example.com")
    client = _client(app, "newbie@example.com")
    html = client.get("/account/").get_data(as_text=True)
    assert 'id="my-invitations"' in html and "/account/organization/new" in html
    with app.app_context():
        inv_id = db.session.scalar(select(OrganizationInvitation.id))
    assert client.post(f"/account/invitations/{inv_id}/accept").status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Membership.role).where(Membership.organization_id == org,
                                                               Membership.user_id != owner_id)) == "owner"
    # somebody else cannot accept an invitation addressed to another e-mail by its number
    _invite(app, org, owner_id, "third@example.com")
    make.user("intruder@example.com")
    with app.app_context():
        third = db.session.scalar(select(OrganizationInvitation.id).where(
            OrganizationInvitation.email == "third@example.com"))
    assert _client(app, "intruder@example.com").post(f"/account/invitations/{third}/accept").status_code == 404


def test_a_new_invitation_replaces_the_old_one_and_can_be_withdrawn(app, make):
    org, owner_id, owner = make.member("firm")
    first = _invite(app, org, owner_id, "twice@example.com")
    _invite(app, org, owner_id, "twice@example.com")
    make.user("twice@example.com")
    client = _client(app, "twice@example.com")
    assert client.post(f"/orgs/join/{first}").status_code == 409  # withdrawn
    with app.app_context():
        open_id = db.session.scalar(select(OrganizationInvitation.id).where(OrganizationInvitation.revoked_at.is_(None)))
    assert _client(app, owner).post(f"/orgs/{org}/invitations/{open_id}/revoke").status_code == 302
    assert _count(app, Membership, organization_id=org) == 1


def test_inviting_a_member_or_a_bad_address_is_refused(app, make):
    org, _owner_id, owner = make.member("firm")
    client = _client(app, owner)
    assert client.post(f"/orgs/{org}/invitations", data={"email": owner}).status_code == 409
    assert client.post(f"/orgs/{org}/invitations", data={"email": "no-at-sign"}).status_code == 400
    assert client.post(f"/orgs/{org}/invitations", data={"email": "a@b.cn", "role": "king"}).status_code == 400
    assert _count(app, OrganizationInvitation) == 0


# --- members -------------------------------------------------------------------------------------------

def _add_member(app, make, org, role="member") -> tuple[int, int, str]:
    n = time.time_ns()
    address = f"m{n}@example.com"
    user_id = make.user(address)
    with app.app_context():
        membership = Membership(user_id=user_id, organization_id=org, role=role)
        db.session.add(membership)
        db.session.commit()
        return membership.id, user_id, address


def test_the_last_owner_cannot_leave_be_removed_or_demoted(app, make):
    org, owner_id, owner = make.member("firm")
    with app.app_context():
        own = db.session.scalar(select(Membership.id).where(Membership.user_id == owner_id))
    client = _client(app, owner)
    assert client.post(f"/orgs/{org}/leave").status_code == 302
    assert client.post(f"/orgs/{org}/members/{own}/remove").status_code == 302
    assert client.post(f"/orgs/{org}/members/{own}/role", data={"role": "member"}).status_code == 302
    with app.app_context():
        assert db.session.get(Membership, own).role == "owner"
    html = client.get("/account/").get_data(as_text=True)
    assert "最后一位所有者" in html or "last owner" in html.lower() or "至少" in html

    # with a second owner, the first may step down and leave
    other, _other_user, _ = _add_member(app, make, org, role="member")
    assert client.post(f"/orgs/{org}/members/{other}/role", data={"role": "owner"}).status_code == 302
    assert client.post(f"/orgs/{org}/members/{own}/role", data={"role": "member"}).status_code == 302
    with app.app_context():
        assert db.session.get(Membership, own).role == "member"
    assert client.post(f"/orgs/{org}/leave").status_code == 302
    assert _count(app, Membership, organization_id=org) == 1


def test_owner_lists_and_removes_members_of_their_own_organisation_only(app, make):
    org, _owner_id, owner = make.member("firm")
    member, _member_user, member_email = _add_member(app, make, org)
    other_org, _u, _e = make.member("hospital")
    foreign, _fu, _fe = _add_member(app, make, other_org)
    client = _client(app, owner)
    html = client.get(f"/orgs/{org}/members").get_data(as_text=True)
    assert member_email in html
    # a membership of another organisation is not found through this one
    assert client.post(f"/orgs/{org}/members/{foreign}/remove").status_code == 404
    assert client.post(f"/orgs/{org}/members/{foreign}/role", data={"role": "owner"}).status_code == 404
    assert _count(app, Membership, organization_id=other_org) == 2
    assert client.post(f"/orgs/{org}/members/{member}/remove").status_code == 302
    assert _count(app, Membership, organization_id=org) == 1


def test_member_sets_own_contact_for_introductions(app, make):
    org, owner_id, owner = make.member("firm")
    client = _client(app, owner)
    assert client.post(f"/account/contact/{org}", data={"contact_email": "me@direct.cn",
                                                         "contact_phone": "139"}).status_code == 302
    with app.app_context():
        m = db.session.scalar(select(Membership).where(Membership.user_id == owner_id))
        assert (m.contact_email, m.contact_phone) == ("me@direct.cn", "139")
    client.post(f"/account/contact/{org}", data={"contact_email": "broken"})
    with app.app_context():
        assert db.session.scalar(select(Membership.contact_email).where(Membership.user_id == owner_id)) == "me@direct.cn"
    other, _u, _e = make.member("hospital")
    assert client.post(f"/account/contact/{other}", data={"contact_email": "x@y.cn"}).status_code == 404


# --- creating an organisation after registering -----------------------------------------------------------

def test_registered_user_creates_an_organisation_and_owns_it(app, make):
    user_id = make.user("solo@example.com")
    client = _client(app, "solo@example.com")
    html = client.get("/account/").get_data(as_text=True)
    assert "/account/organization/new" in html and "/account/invitations" in html
    assert client.post("/account/organization/new", data={"org_kind": "firm", "org_name_zh": "独立公司",
                                                          "org_uscc": "91110108MA0000000X"}).status_code == 400
    assert client.post("/account/organization/new", data={"org_kind": "operator",
                                                          "org_name_zh": "假运营方"}).status_code == 400
    assert client.post("/account/organization/new", data={"org_kind": "firm",
                                                          "org_name_zh": "名" * 300}).status_code == 400
    response = client.post("/account/organization/new", data={"org_kind": "firm", "org_name_zh": " 独立公司\x07",
                                                              "org_uscc": other_uscc(4242)})
    assert response.status_code == 302
    with app.app_context():
        (m,) = db.session.get(User, user_id).memberships
        assert m.role == "owner" and m.organization.name_zh == "独立公司" and not m.organization.verified


# --- verification ----------------------------------------------------------------------------------------

def _submit(client, org, uscc, data=PDF, name="执照.pdf"):
    return client.post(f"/orgs/{org}/verification", data={"uscc": uscc, "file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def test_verification_is_requested_approved_and_the_badge_shows_everywhere(app, make):
    org, _owner_id, owner = make.member("firm")
    offer = make.offer(org)
    need = make.need(org)
    _op, operator = make.staff("operator")
    client = _client(app, owner)
    code = other_uscc(777)
    assert _submit(client, org, code[:-1] + ("0" if code[-1] != "0" else "1")).status_code == 400  # check digit
    assert _submit(client, org, code, data=b"MZ\x90\x00", name="virus.exe").status_code == 400
    assert _count(app, OrganizationVerification) == 0 and _count(app, StoredFile, purpose="licence") == 0
    assert _submit(client, org, code.lower()).status_code == 302
    assert _submit(client, org, code).status_code == 409  # one request at a time
    with app.app_context():
        req = db.session.scalars(select(OrganizationVerification)).one()
        req_id, file_id = req.id, req.licence_file_id
        assert req.uscc == code

    # the licence: the owner and operators download it; others do not
    assert client.get(f"/orgs/{org}/verification/{req_id}/licence").status_code == 200
    _other, _u, outsider = make.member("hospital")
    outsider_client = _client(app, outsider)
    assert outsider_client.get(f"/orgs/{org}/verification/{req_id}/licence").status_code == 404
    assert outsider_client.get(f"/orgs/{org}/verification").status_code == 403
    assert outsider_client.get(f"/files/{file_id}").status_code == 404  # not an attachment either
    assert app.test_client().get(f"/orgs/{org}/verification/{req_id}/licence").status_code == 302

    op_client = _client(app, operator)
    assert "执照" not in op_client.get("/operator/organizations").get_data(as_text=True)
    assert op_client.get(f"/orgs/{org}/verification/{req_id}/licence").status_code == 200
    assert op_client.post(f"/operator/organizations/{req_id}", data={"decision": "approve"}).status_code == 302
    row = make.get(Organization, org)
    assert row["verified"] is True and row["uscc"] == code
    badge = "verified-badge"
    assert badge in app.test_client().get(f"/orgs/{org}").get_data(as_text=True)
    assert badge in app.test_client().get(f"/offers/{offer}").get_data(as_text=True)
    assert badge in app.test_client().get(f"/needs/{need}").get_data(as_text=True)
    with app.app_context():
        from marketplace.models import Notification
        assert db.session.scalar(select(Notification.message_key).where(
            Notification.kind == "organization")) == "verification_approved"


def test_rejection_needs_a_reason_which_the_owner_reads(app, make):
    org, _owner_id, owner = make.member("firm")
    _op, operator = make.staff("operator")
    client = _client(app, owner)
    assert _submit(client, org, other_uscc(778)).status_code == 302
    with app.app_context():
        req_id = db.session.scalar(select(OrganizationVerification.id))
    op_client = _client(app, operator)
    assert op_client.post(f"/operator/organizations/{req_id}", data={"decision": "reject"}).status_code == 400
    assert op_client.post(f"/operator/organizations/{req_id}",
                          data={"decision": "reject", "reason": "执照模糊，请重新上传"}).status_code == 302
    assert make.get(Organization, org)["verified"] is False
    html = client.get(f"/orgs/{org}/verification").get_data(as_text=True)
    assert "执照模糊，请重新上传" in html and 'id="verification-form"' in html
    assert "verified-badge" not in app.test_client().get(f"/orgs/{org}").get_data(as_text=True)
    # a plain member of the organisation does not decide, nor see the operator pages
    assert client.post(f"/operator/organizations/{req_id}", data={"decision": "approve"}).status_code == 403


def test_a_credit_code_of_another_organisation_is_refused(app, make):
    taken = other_uscc(779)
    make.org("firm", uscc=taken)
    org, _owner_id, owner = make.member("firm")
    assert _submit(_client(app, owner), org, taken).status_code == 409
    assert _count(app, OrganizationVerification) == 0


def test_unverified_organisations_may_be_kept_from_requesting_introductions(app, make):
    firm, _u, firm_email = make.member("firm")
    hospital, _h, _he = make.member("hospital")
    client = _client(app, firm_email)
    data = {"organization_id": str(hospital), "purpose": "purchase", "message": "想了解合作"}
    app.config["UNVERIFIED_MAY_REQUEST_INTRODUCTIONS"] = False
    try:
        response = client.post("/docking/request", data=data)
        assert response.status_code == 403 or response.status_code == 400
        assert "verified" in response.get_data(as_text=True) or "认证" in response.get_data(as_text=True)
        assert _count(app, Introduction) == 0
        with app.app_context():
            db.session.get(Organization, firm).verified = True
            db.session.commit()
        assert client.post("/docking/request", data=data).status_code == 302
    finally:
        app.config["UNVERIFIED_MAY_REQUEST_INTRODUCTIONS"] = True
    assert _count(app, Introduction) == 1
