"""A need's matches: a pairing the need side found not relevant disappears for everybody viewing the
need's matches (page, API, funders, broker queue) while the verdict still trains the engine; brokers see
the need side's verdicts on each pairing of the queue."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import MatchFeedback, MatchSuggestion, Need
from tests.conftest import login
from tests.marketplace.test_matching_site import _catalogue, _rebuild


def _world(app, make):
    """A hospital's need ranked against the catalogue: the ventilator is its best match."""
    ventilator, _masks, _loan = _catalogue(make)
    hospital, nurse, nurse_email = make.member("hospital")
    need = make.need(hospital, title_zh="采购ICU呼吸机", tags=["呼吸机", "口罩"])
    _rebuild(app)
    with app.app_context():
        ranked = set(db.session.scalars(select(MatchSuggestion.offer_id).where(MatchSuggestion.need_id == need)))
    assert ventilator in ranked
    return need, ventilator, hospital, nurse, nurse_email


def _match_list(client, need: int) -> str:
    html = client.get(f"/needs/{need}").get_data(as_text=True)
    return html.split('id="matches"')[1]


def _add_feedback(app, need: int, offer: int, user: int, decision: str, minutes_ago: int = 0) -> None:
    with app.app_context():
        db.session.add(MatchFeedback(need_id=need, offer_id=offer, user_id=user, decision=decision,
                                     created_at=datetime.now(UTC) - timedelta(minutes=minutes_ago)))
        db.session.commit()


def test_member_dismissal_hides_the_pairing_for_everybody_and_still_trains(app, client, make):
    need, ventilator, _hospital, _nurse, nurse_email = _world(app, make)
    _, broker = make.staff("broker")
    _, _, stranger = make.member("firm")
    assert "ICU有创呼吸机" in _match_list(client, need)
    login(client, nurse_email)
    r = client.post(f"/matches/need/{need}/offer/{ventilator}", data={"decision": "dismissed", "reason": "已有供应商"})
    assert r.status_code == 302
    assert "ICU有创呼吸机" not in _match_list(client, need)  # the member who judged it
    client.post("/logout")
    assert "ICU有创呼吸机" not in _match_list(client, need)  # a visitor
    for email in (broker, stranger):
        login(client, email)
        assert "ICU有创呼吸机" not in _match_list(client, need), email
        client.post("/logout")
    api = client.get(f"/api/v1/needs/{need}/matches").get_json()["items"]  # the API's list too
    assert ventilator not in [m["offer"]["id"] for m in api]
    with app.app_context():
        from marketplace.services import matching
        fb = db.session.scalar(select(MatchFeedback))
        assert (fb.decision, fb.reason) == ("dismissed", "已有供应商")
        triples = matching._feedback_triples({need: db.session.get(Need, need)})
        assert [(offer, decision) for _, offer, decision in triples] == [(str(ventilator), "dismissed")]
    _rebuild(app)  # the pairing is still ranked (and comes back if the need side changes its mind) ...
    assert "ICU有创呼吸机" not in _match_list(client, need)  # ... but stays hidden


def test_broker_dismissal_hides_the_pairing_and_a_later_acceptance_brings_it_back(app, client, make):
    need, ventilator, _hospital, nurse, _ = _world(app, make)
    _, broker = make.staff("broker")
    login(client, broker)
    client.post(f"/matches/need/{need}/offer/{ventilator}", data={"decision": "dismissed"})
    assert "ICU有创呼吸机" not in _match_list(client, need)
    assert "ICU有创呼吸机" not in client.get("/matches/queue").get_data(as_text=True)
    client.post("/logout")
    _add_feedback(app, need, ventilator, nurse, "accepted", minutes_ago=-1)  # the hospital accepts afterwards
    assert "ICU有创呼吸机" in _match_list(client, need)


def test_dismissal_by_somebody_outside_the_need_side_hides_nothing(app, client, make):
    need, ventilator, _hospital, _nurse, _ = _world(app, make)
    _, maker_member, _ = make.member("firm")  # e.g. feedback written when an introduction they moved was lost
    _add_feedback(app, need, ventilator, maker_member, "dismissed")
    assert "ICU有创呼吸机" in _match_list(client, need)
    _, broker = make.staff("broker")
    login(client, broker)
    assert "ICU有创呼吸机" in client.get("/matches/queue").get_data(as_text=True)


def test_broker_queue_leaves_out_dismissed_pairings_and_shows_the_need_sides_verdicts(app, client, make):
    need, ventilator, hospital, nurse, _ = _world(app, make)
    other_need = make.need(hospital, title_zh="采购防护口罩", tags=["口罩"])
    _rebuild(app)
    with app.app_context():
        masks_pairing = db.session.scalar(select(MatchSuggestion.offer_id).where(MatchSuggestion.need_id == other_need))
    broker_id, broker = make.staff("broker")
    _add_feedback(app, need, ventilator, nurse, "accepted")
    _add_feedback(app, need, ventilator, broker_id, "dismissed", minutes_ago=5)  # overruled by the acceptance
    _add_feedback(app, other_need, masks_pairing, nurse, "dismissed")
    login(client, broker)
    html = client.get("/matches/queue").get_data(as_text=True)
    row = next(r for r in html.split("<tr>") if "采购ICU呼吸机" in r and "ICU有创呼吸机" in r)
    assert 'data-side="need" data-decision="accepted"' in row and "需求方：已接受" in row
    assert 'data-side="broker" data-decision="dismissed"' in row and "技术经理人：不相关" in row
    assert not any("采购防护口罩" in r and f"/offers/{masks_pairing}\"" in r for r in html.split("<tr>"))
    plain = next(r for r in html.split("<tr>") if "采购ICU呼吸机" in r and "ICU有创呼吸机" not in r and "<td>" in r)
    assert "pairing-verdict" not in plain  # no verdict, no badge
    client.get("/lang/en")
    assert "Need side: Accepted" in client.get("/matches/queue").get_data(as_text=True)


def test_dismissed_funder_leaves_the_dashboard(app, client, make):
    _, _, loan = _catalogue(make)
    firm, _, email = make.member("firm")
    need = make.need(firm, kind="financing", title_zh="扩产流动资金贷款", description_zh="需要500万元流动资金贷款",
                     tags=["贷款"])
    _rebuild(app)
    login(client, email)
    assert "防疫专项贷款" in client.get("/account/").get_data(as_text=True).split('id="funders"')[1]
    client.post(f"/matches/need/{need}/offer/{loan}", data={"decision": "dismissed"})
    dashboard = client.get("/account/").get_data(as_text=True)
    assert 'id="funders"' not in dashboard and "防疫专项贷款" not in dashboard  # the loan was its only funder
