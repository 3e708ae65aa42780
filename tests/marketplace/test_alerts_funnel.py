"""Saved searches and match alerts (only new results the owner may see, daily or immediate), strong-match
announcements after matching, and the brokering funnel with its conversions, medians and scopes."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import IntroductionEvent, MatchSuggestion, Notification, SavedSearch, User
from marketplace.services import alerts, funnel
from marketplace.tasks import alerts as alert_tasks
from tests.marketplace.test_brokering import _accepted, _as, _world, rebuilds  # noqa: F401


def _saved_notes(app, user_id, kind="saved_search"):
    with app.app_context():
        return [(n.message_key, n.params, n.link) for n in db.session.scalars(
            select(Notification).where(Notification.user_id == user_id, Notification.kind == kind)
            .order_by(Notification.id))]


def _run(app, **kw):
    with app.app_context():
        return alert_tasks.run(**kw)


def test_saved_search_alerts_on_new_visible_results_only(app, make):
    _, user, email = make.member("hospital")
    seller = make.org("firm")
    make.offer(seller, title_en="Portable ventilator A", title_zh="便携呼吸机A")
    client = _as(app, email)
    page = client.get("/search/?q=ventilator&scope=offers").get_data(as_text=True)
    assert 'id="save-search"' in page and 'name="csrf_token"' in page and 'name="q" value="ventilator"' in page
    assert 'id="save-search"' not in app.test_client().get("/search/?q=ventilator").get_data(as_text=True)
    r = client.post("/account/saved-searches", data={"saved_kind": "search", "q": "ventilator", "scope": "offers",
                                                     "frequency": "daily",
                                                     "next": "/search/?q=ventilator"})
    assert r.status_code == 302 and r.headers["Location"].endswith("/search/?q=ventilator")
    with app.app_context():
        saved = db.session.scalar(select(SavedSearch))
        assert (saved.user_id, saved.kind, saved.params["q"], saved.frequency) == (user, "search", "ventilator", "daily")
        assert len(saved.last_seen_ids) == 1  # what is there now counts as seen
    # new: one public offer, one confidential (brokers only) and one draft: only the public one is news
    make.offer(seller, title_en="ICU ventilator B", title_zh="ICU呼吸机B")
    make.offer(seller, title_en="Secret ventilator C", title_zh="保密呼吸机C", visibility="confidential")
    make.offer(seller, title_en="Draft ventilator D", title_zh="草稿呼吸机D", status="draft")
    assert _run(app)["saved_searches_run"] == 0  # the daily digest is not due yet
    assert _run(app, now=datetime.now(timezone.utc) + timedelta(days=1))["alerts"] == 1
    [(key, params, link)] = _saved_notes(app, user)
    assert key == "saved_search" and params["count"] == 1 and link == "/search/?q=ventilator&scope=offers"
    assert _run(app, now=datetime.now(timezone.utc) + timedelta(days=2))["alerts"] == 0  # nothing new since
    # listing and deleting; nobody else may delete it
    listing = client.get("/account/saved-searches").get_data(as_text=True)
    assert f'data-saved="{saved.id}"' in listing and "ventilator" in listing
    _, _, other_email = make.member("firm")
    assert _as(app, other_email).post(f"/account/saved-searches/{saved.id}/delete").status_code == 404
    assert client.post(f"/account/saved-searches/{saved.id}/delete").status_code == 302
    assert make.get(SavedSearch, saved.id) is None


def test_saved_search_keeps_facets_and_saving_twice_updates(app, make):
    _, _, email = make.member("hospital")
    client = _as(app, email)
    data = {"saved_kind": "search", "q": "", "scope": "offers", "frequency": "daily"}
    client.post("/account/saved-searches", data=dict(data, direction=["D1"], kind=["technology"]))
    client.post("/account/saved-searches", data=dict(data, frequency="immediate", direction=["D1"], kind=["technology"]))
    with app.app_context():
        rows = list(db.session.scalars(select(SavedSearch)))
        assert len(rows) == 1 and rows[0].frequency == "immediate"
        assert rows[0].params == {"q": "", "scope": "offers", "facets": {"direction": ["D1"], "kind": ["technology"]}}
        assert alerts.link_for(rows[0]) == "/search/?q=&scope=offers&kind=technology&direction=D1"
    assert client.post("/account/saved-searches", data=dict(data, frequency="hourly")).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(SavedSearch.frequency)) == "immediate"  # refused, unchanged


def test_need_matches_alert_and_strong_match_announcement(app, make):
    hospital, hospital_user, hospital_email = make.member("hospital")
    firm = make.org("firm")
    need = make.need(hospital, title_zh="采购测温设备", title_en="Thermal screening")
    weak, strong, secret = make.offer(firm), make.offer(firm), make.offer(firm, visibility="confidential")
    client = _as(app, hospital_email)
    page = client.get(f"/needs/{need}").get_data(as_text=True)
    assert 'id="save-need-matches"' in page
    client.post("/account/saved-searches", data={"saved_kind": "need_matches", "need_id": need, "frequency": "immediate"})
    # a stranger cannot save another organisation's confidential need
    _, _, other_email = make.member("firm")
    hidden = make.need(hospital, visibility="confidential")
    assert _as(app, other_email).post("/account/saved-searches", data={
        "saved_kind": "need_matches", "need_id": hidden, "frequency": "daily"}).status_code == 404

    def store(rows):
        with app.app_context():
            db.session.query(MatchSuggestion).filter_by(need_id=need).delete()
            for rank, (offer, score) in enumerate(rows, start=1):
                db.session.add(MatchSuggestion(need_id=need, offer_id=offer, rank=rank, score=score, parts={},
                                               reasons=[]))
            db.session.commit()
            return alert_tasks.after_matching([need])

    assert store([(weak, 0.8)])["strong_matches"] == 0  # below the threshold
    assert [p["count"] for _, p, _ in _saved_notes(app, hospital_user)] == [1]
    assert store([(strong, 1.5), (weak, 0.8)])["strong_matches"] == 1
    [(key, params, link)] = _saved_notes(app, hospital_user, "strong_match")
    assert key == "strong_match" and link == f"/needs/{need}#matches" and params["need"]["zh"] == "采购测温设备"
    assert store([(strong, 1.6), (weak, 0.8)])["strong_matches"] == 0  # the same top pairing: told once
    # a confidential offer on top is news for brokers only: the hospital is not told about it
    assert store([(secret, 1.9), (strong, 1.6)])["strong_matches"] == 0
    assert [p["count"] for _, p, _ in _saved_notes(app, hospital_user)] == [1, 1]  # strong was new; secret hidden


def test_matching_jobs_end_with_the_alerts(app, make, monkeypatch):
    from marketplace.tasks import matching
    calls = []
    monkeypatch.setattr(matching, "after_matching", lambda need_ids=None: calls.append(need_ids))
    hospital = make.org("hospital")
    need = make.need(hospital, title_zh="呼吸机", title_en="ventilator")
    make.offer(make.org("firm"), title_zh="呼吸机", title_en="ventilator")
    with app.app_context():
        matching.rebuild()
        matching.rank_need(need_id=need)
    assert calls == [None, [need]]


def _stage(w, intro_id, *stages):
    for stage in stages:
        assert w.c_broker.post(f"/brokering/{intro_id}/stage", data={"to_stage": stage}).status_code == 302


def _rows(table, key):
    return {r.key: r for r in table}[key]


def test_funnel_counts_conversions_medians_and_scope(app, make, rebuilds):
    w = _world(app, make)
    with app.app_context():
        for offer, score in ((w.offer, 1.3), (make.offer(w.firm), 0.9)):
            db.session.add(MatchSuggestion(need_id=w.need, offer_id=offer, rank=1, score=score, parts={},
                                           reasons=[]))
        db.session.commit()
    signed = _accepted(w)
    _stage(w, signed, "contacted", "meeting_held", "nda_signed", "signed")
    # a second introduction by another technology manager, declined
    other_offer = make.offer(w.firm)
    r = w.c_other_broker.post("/brokering/propose", data={"need_id": w.need, "offer_id": other_offer, "message": "m"})
    declined = int(r.headers["Location"].rsplit("/", 1)[1])
    w.c_firm.post(f"/brokering/{declined}/respond", data={"decision": "declined", "reason": "no"})
    # known times: proposed day 0, accepted day 2, meeting day 5, NDA day 6, signed day 10
    base = datetime(2024, 1, 1, tzinfo=timezone.utc)
    with app.app_context():
        days = {"proposed": 0, "accepted": 2, "contacted": 3, "meeting_held": 5, "nda_signed": 6, "signed": 10}
        for e in db.session.scalars(select(IntroductionEvent).where(IntroductionEvent.introduction_id == signed)):
            key = "proposed" if e.kind == "proposed" else e.to_stage if e.kind == "stage" else None
            e.created_at = base + timedelta(days=days.get(key, 1))
        db.session.commit()

    with app.app_context():
        operator = db.session.scalar(select(User).where(User.email.like("operator%")))
        data = funnel.funnel(operator)
        broker = db.session.get(User, w.broker)
        own = funnel.funnel(broker)
    total = data["total"]
    assert total.counts == {"shown": 2, "proposed": 2, "accepted": 1, "meeting": 1, "nda": 1, "signed": 1}
    assert total.rates["proposed"] == 0.5  # one of the two pairings shown was proposed
    assert total.rates["accepted"] == 0.5 and total.rates["signed"] == 1.0
    assert total.medians["accepted"] == timedelta(days=2) and total.medians["meeting"] == timedelta(days=3)
    assert total.medians["nda"] == timedelta(days=1) and total.medians["signed"] == timedelta(days=4)
    assert total.medians["proposed"] is None and total.rates["shown"] is None  # not supported by the records
    by_broker = {r.key: r for r in data["broker"]}
    assert set(by_broker) == {str(w.broker), str(_other_broker_id(app))}
    assert by_broker[str(w.broker)].counts["shown"] is None and by_broker[str(w.broker)].rates["proposed"] is None
    assert by_broker[str(w.broker)].counts["signed"] == 1
    field = _rows(data["field"], "D1")
    assert field.counts["shown"] == 2 and field.counts["proposed"] == 2
    assert _rows(data["batch"], "none").counts["proposed"] == 2
    # the broker sees only their own introductions
    assert own["total"].counts["proposed"] == 1 and [r.key for r in own["broker"]] == [str(w.broker)]

    page = w.c_broker.get("/brokering/funnel").get_data(as_text=True)
    assert 'id="funnel-total"' in page and 'id="funnel-broker"' in page and "—" in page
    assert w.c_operator.get("/brokering/funnel").status_code == 200
    assert w.c_hospital.get("/brokering/funnel").status_code == 403
    assert w.c_stranger.get("/brokering/funnel").status_code == 403


def test_funnel_counts_skipped_stages_as_reached_without_a_time(app, make, rebuilds):
    w = _world(app, make)
    intro_id = _accepted(w)
    _stage(w, intro_id, "contacted", "signed")
    with app.app_context():
        data = funnel.funnel(db.session.get(User, w.broker))
    total = data["total"]
    assert (total.counts["meeting"], total.counts["nda"], total.counts["signed"]) == (1, 1, 1)
    assert total.medians["meeting"] is None and total.medians["nda"] is None and total.medians["signed"] is None
    assert total.counts["shown"] == 0 and total.rates["proposed"] is None  # nothing shown: no rate


def _other_broker_id(app):
    with app.app_context():
        return db.session.scalar(select(User.id).join(User.roles).where(User.email.like("broker%"))
                                 .order_by(User.id.desc()))
