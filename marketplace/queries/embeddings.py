"""Reads of stored offer sentence vectors (semantic channel of matching)."""
from __future__ import annotations

import numpy as np
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import OfferEmbedding


def stored_offer_vectors(encoder: str, text_hashes: dict[int, str]) -> dict[int, np.ndarray]:
    """Vectors by offer id made by ``encoder`` from the offer's current text (hash still equal)."""
    if not text_hashes:
        return {}
    rows = db.session.execute(
        select(OfferEmbedding.offer_id, OfferEmbedding.text_hash, OfferEmbedding.vector)
        .where(OfferEmbedding.encoder == encoder, OfferEmbedding.offer_id.in_(list(text_hashes)))
    ).all()
    return {offer_id: np.frombuffer(vector, dtype="<f4").copy()
            for offer_id, text_hash, vector in rows if text_hashes.get(offer_id) == text_hash}
