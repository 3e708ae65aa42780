"""/api/v1/organizations: profile fields, members (owners and operators), invitations, removing members."""
from __future__ import annotations

from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import Membership, Organization, OrganizationInvitation, User


def _membership(app, org_id, user_id) -> int:
    with app.app_context():
        return db.session.scalar(select(Membership.id).where(Membership.organization_id == org_id,
                                                             Membership.user_id == user_id))


def _add_member(app, make, org_id, role="member") -> tuple[int, int]:
    user_id = make.user()
    with app.app_context():
        membership = Membership(user_id=user_id, organization_id=org_id, role=role)
        db.session.add(membership)
        db.session.commit()
        return membership.id, user_id


def test_profile_takes_the_new_fields_and_refuses_bad_input(app, client, make, token_for):
    org, owner, _ = make.member("firm")
    headers = token_for(owner)
    reply = client.patch(f"/api/v1/organizations/{org}", headers=headers, json={
        "name_zh": "新\ud800名称", "sub_park": "changping", "size_class": "medium", "field_codes": ["D1.ivd"],
        "mediated_only": True, "contact_phone": "010-1"})
    assert reply.status_code == 200, reply.get_json()
    body = reply.get_json()
    assert (body["name_zh"], body["sub_park"], body["mediated_only"], body["field_codes"]) == (
        "新名称", "changping", True, ["D1.ivd"])
    for bad in ({"name_zh": ""}, {"name_zh": "名" * 201}, {"sub_park": "atlantis"}, {"field_codes": ["NOPE"]},
                {"contact_email": "nope"}, {"unknown": 1}, {"field_codes": ["x"] * 11}):
        reply = client.patch(f"/api/v1/organizations/{org}", headers=headers, json=bad)
        assert reply.status_code == 422, (bad, reply.status_code)
        assert reply.headers["Content-Type"].startswith("application/problem+json")
    with app.app_context():
        assert db.session.get(Organization, org).name_zh == "新名称"
    reply = client.patch(f"/api/v1/organizations/{org}", headers=headers, json={"sub_park": None})
    assert reply.status_code == 200 and reply.get_json()["sub_park"] is None


def test_members_are_listed_for_owners_and_operators_only(app, client, make, token_for):
    org, owner, _ = make.member("firm")
    member_id, member_user = _add_member(app, make, org)
    _other, outsider, _ = make.member("hospital")
    operator, _ = make.staff("operator")
    listed = client.get(f"/api/v1/organizations/{org}/members", headers=token_for(owner))
    assert listed.status_code == 200
    assert {(m["user_id"], m["role"]) for m in listed.get_json()["items"]} == {(owner, "owner"),
                                                                               (member_user, "member")}
    assert client.get(f"/api/v1/organizations/{org}/members", headers=token_for(operator)).status_code == 200
    assert client.get(f"/api/v1/organizations/{org}/members", headers=token_for(member_user)).status_code == 403
    assert client.get(f"/api/v1/organizations/{org}/members", headers=token_for(outsider)).status_code == 403
    assert client.get(f"/api/v1/organizations/{org}/members").status_code == 401
    assert client.get("/api/v1/organizations/99999999999/members", headers=token_for(owner)).status_code == 404
    assert client.delete(f"/api/v1/organizations/{org}/members/99999999999999",
                         headers=token_for(owner)).status_code in (404, 422)
    # a membership of another organisation is not reachable through this one
    foreign = _membership(app, _other, outsider)
    assert client.delete(f"/api/v1/organizations/{org}/members/{foreign}",
                         headers=token_for(owner)).status_code == 404
    assert member_id


def test_invitation_by_api_sends_the_link_only_by_e_mail(app, client, make, token_for):
    org, owner, _ = make.member("firm")
    reply = client.post(f"/api/v1/organizations/{org}/invitations", headers=token_for(owner),
                        json={"email": "New@Example.com", "role": "owner"})
    assert reply.status_code == 201, reply.get_json()
    body = reply.get_json()
    assert body["email"] == "new@example.com" and body["role"] == "owner" and "token" not in str(body)
    with app.app_context():
        assert db.session.scalar(select(func.count(OrganizationInvitation.id))) == 1
    again = client.post(f"/api/v1/organizations/{org}/invitations", headers=token_for(owner),
                        json={"email": "not an address"})
    assert again.status_code == 422
    read_only = client.post(f"/api/v1/organizations/{org}/invitations", headers=token_for(owner, scope="read"),
                            json={"email": "x@example.com"})
    assert read_only.status_code == 403


def test_roles_and_removal_keep_one_owner(app, client, make, token_for):
    org, owner, _ = make.member("firm")
    own = _membership(app, org, owner)
    member_id, member_user = _add_member(app, make, org)
    headers = token_for(owner)
    assert client.delete(f"/api/v1/organizations/{org}/members/{own}", headers=headers).status_code == 409
    assert client.patch(f"/api/v1/organizations/{org}/members/{own}", headers=headers,
                        json={"role": "member"}).status_code == 409
    # a plain member may leave (their own membership) but not remove the owner
    assert client.delete(f"/api/v1/organizations/{org}/members/{own}",
                         headers=token_for(member_user)).status_code == 403
    promoted = client.patch(f"/api/v1/organizations/{org}/members/{member_id}", headers=headers,
                            json={"role": "owner"})
    assert promoted.status_code == 200 and promoted.get_json()["role"] == "owner"
    assert client.delete(f"/api/v1/organizations/{org}/members/{own}", headers=headers).status_code == 204
    with app.app_context():
        assert [m.role for m in db.session.get(Organization, org).memberships] == ["owner"]
        assert db.session.get(User, owner).memberships == []
