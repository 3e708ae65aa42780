"""Links in API answers point at the configured site, whatever Host header the caller sends."""
from __future__ import annotations


def test_offer_link_ignores_the_callers_host_header(app, client, make):
    org = make.org("firm")
    offer_id = make.offer(org)
    response = client.get(f"/api/v1/offers/{offer_id}", headers={"Host": "evil.example"})
    assert response.status_code == 200
    url = response.get_json()["url"]
    assert "evil.example" not in url
    assert url == app.config["SITE_URL"].rstrip("/") + f"/offers/{offer_id}"
