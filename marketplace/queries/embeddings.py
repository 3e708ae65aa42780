"""Reads of stored offer and need sentence vectors (semantic channel of matching)."""
from __future__ import annotations

import numpy as np
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import NeedEmbedding, OfferEmbedding


def stored_offer_vectors(encoder: str, text_hashes: dict[int, str]) -> dict[int, np.ndarray]:
    """Vectors by offer id made by ``encoder`` from the offer's current text (hash still equal)."""
    return _stored(OfferEmbedding, OfferEmbedding.offer_id, encoder, text_hashes)


def stored_need_vectors(encoder: str, text_hashes: dict[int, str]) -> dict[int, np.ndarray]:
    """Vectors by need id made by ``encoder`` from the need's current text (hash still equal)."""
    return _stored(NeedEmbedding, NeedEmbedding.need_id, encoder, text_hashes)


def _stored(model, key, encoder: str, text_hashes: dict[int, str]) -> dict[int, np.ndarray]:
    if not text_hashes:
        return {}
    rows = db.session.execute(
        select(key, model.text_hash, model.vector)
        .where(model.encoder == encoder, key.in_(list(text_hashes)))
    ).all()
    return {row_id: np.frombuffer(vector, dtype="<f4").copy()
            for row_id, text_hash, vector in rows if text_hashes.get(row_id) == text_hash}
