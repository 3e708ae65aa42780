"""The first-run page: an operator of a site with nothing published is told what to do next, with links."""
from datetime import date

from marketplace.extensions import db
from marketplace.models import Batch, Offer
from tests.conftest import login

STEP_LINKS = ("first-run-organisations", "first-run-verification", "first-run-batch", "first-run-roles",
              "first-run-patents", "first-run-event")


def test_an_empty_site_shows_the_operator_the_first_steps(app, client, make):
    _, email = make.staff("operator")
    login(client, email)
    response = client.get("/operator/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="first-run-steps"' in html
    for link_id in STEP_LINKS:
        assert f'id="{link_id}"' in html, link_id
    assert "/operator/verification" in html and "/operator/users" in html and "/events/new" in html
    assert ".venv/bin/flask --app wsgi demo load" in html  # the command works as written
    assert "<svg" not in html  # no empty charts
    for link in ("/operator/verification", "/operator/users", "/operator/organizations", "/operator/patents",
                 "/events/new"):
        assert client.get(link).status_code == 200, link  # every step's link leads somewhere


def test_the_first_run_page_speaks_chinese_by_default(app, client, make):
    _, email = make.staff("admin")
    login(client, email)
    html = client.get("/operator/getting-started").get_data(as_text=True)
    assert "快速上手" in html and "发布第一批" in html


def test_once_a_batch_is_published_the_dashboard_shows_charts(app, client, make):
    org = make.org("firm")
    offer_id = make.offer(org)
    with app.app_context():
        batch = Batch(number=1, kind="regular", published_on=date.today(), title_zh="第1批：1项", title_en="Batch 1: 1")
        db.session.add(batch)
        db.session.get(Offer, offer_id).batch = batch
        db.session.commit()
    _, email = make.staff("operator")
    login(client, email)
    html = client.get("/operator/").get_data(as_text=True)
    assert 'id="first-run-steps"' not in html and '<svg id="chart-batch"' in html and '<svg id="chart-funnel"' in html
    assert 'id="first-run-steps"' in client.get("/operator/getting-started").get_data(as_text=True)


def test_only_staff_see_the_first_run_page(app, client, make):
    _, _, email = make.member("hospital")
    login(client, email)
    assert client.get("/operator/getting-started").status_code == 403
    assert app.test_client().get("/operator/getting-started").status_code in (302, 401)
