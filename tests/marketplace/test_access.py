"""Access rules: visitors see only published items; one organisation cannot read or change another's drafts."""
import pytest

from marketplace.models import Need, Offer, User
from marketplace.services import access
from tests.conftest import login


@pytest.fixture
def two_firms(make):
    a_org, _, a_email = make.member("firm")
    b_org, _, b_email = make.member("firm")
    draft = make.offer(a_org, status="draft", title_zh="甲公司草稿")
    published = make.offer(a_org, status="published", title_zh="甲公司已发布")
    return dict(a_org=a_org, a_email=a_email, b_org=b_org, b_email=b_email, draft=draft, published=published)


def test_visitor_sees_published_but_not_drafts(client, two_firms):
    assert client.get(f"/offers/{two_firms['published']}").status_code == 200
    assert client.get(f"/offers/{two_firms['draft']}").status_code == 404
    listing = client.get("/offers/").get_data(as_text=True)
    assert "甲公司已发布" in listing and "甲公司草稿" not in listing


def test_owner_sees_and_edits_own_draft(client, two_firms):
    login(client, two_firms["a_email"])
    assert client.get(f"/offers/{two_firms['draft']}").status_code == 200
    assert client.get(f"/offers/{two_firms['draft']}/edit").status_code == 200


def test_other_organisation_cannot_read_or_change_draft(client, make, two_firms):
    login(client, two_firms["b_email"])
    assert client.get(f"/offers/{two_firms['draft']}").status_code == 404
    assert client.get(f"/offers/{two_firms['draft']}/edit").status_code == 404
    r = client.post(f"/offers/{two_firms['draft']}/edit", data={"title_zh": "篡改", "summary_zh": "x"})
    assert r.status_code == 404
    assert client.post(f"/offers/{two_firms['draft']}/submit").status_code == 404
    assert make.get(Offer, two_firms["draft"])["title_zh"] == "甲公司草稿"


def test_other_organisation_cannot_edit_published_offer(client, two_firms):
    login(client, two_firms["b_email"])
    assert client.get(f"/offers/{two_firms['published']}/edit").status_code == 403


def test_operator_sees_everything(client, make, two_firms):
    _, email = make.staff("operator")
    login(client, email)
    assert client.get(f"/offers/{two_firms['draft']}").status_code == 200


def test_confidential_need_only_for_poster_brokers_operators(client, make):
    hospital, _, h_email = make.member("hospital")
    _, _, other_email = make.member("firm")
    need = make.need(hospital, visibility="confidential", title_zh="保密需求")
    assert client.get(f"/needs/{need}").status_code == 404
    assert "保密需求" not in client.get("/needs/").get_data(as_text=True)
    login(client, other_email)
    assert client.get(f"/needs/{need}").status_code == 404
    client.post("/logout")
    login(client, h_email)
    assert client.get(f"/needs/{need}").status_code == 200
    client.post("/logout")
    _, broker_email = make.staff("broker")
    login(client, broker_email)
    assert client.get(f"/needs/{need}").status_code == 200


def test_other_organisation_cannot_close_need(client, make):
    hospital, _, _ = make.member("hospital")
    _, _, other_email = make.member("firm")
    need = make.need(hospital)
    login(client, other_email)
    assert client.post(f"/needs/{need}/close").status_code == 403
    assert make.get(Need, need)["status"] == "open"


def test_service_level_rules(ctx, make):
    org_a, user_a, _ = make.member("firm")
    org_b, user_b, _ = make.member("firm")
    offer_id = make.offer(org_a, status="draft")
    a = ctx.get(User, user_a)
    b = ctx.get(User, user_b)
    offer = ctx.get(Offer, offer_id)
    assert access.can_view_offer(a, offer) and access.can_edit_offer(a, offer)
    assert not access.can_view_offer(b, offer) and not access.can_edit_offer(b, offer)
    assert not access.can_view_offer(None, offer)
