"""Offer sentence vectors for the matching engine's semantic channel: computed once per offer text,
stored in ``offer_embeddings`` and handed to the engine at every rebuild instead of being recomputed."""
from __future__ import annotations

import hashlib

import numpy as np

from marketplace.extensions import db
from marketplace.models import OfferEmbedding
from marketplace.models.base import utcnow
from marketplace.queries.embeddings import stored_offer_vectors
from matching import MatchingEngine, record_text


def text_hash(record: dict) -> str:
    """Hash of the text an offer's vector is made from (a changed text needs a new vector)."""
    return hashlib.sha256(record_text(record).encode("utf-8")).hexdigest()


def offer_vectors(engine: MatchingEngine, records: list[dict]) -> dict[str, np.ndarray]:
    """Vectors by offer id (str) for ``engine.fit(..., offer_vectors=...)``: stored ones where the
    text is unchanged, the rest encoded now with the engine's encoder and stored (flush only)."""
    encoder = engine.encoder_name()
    hashes = {int(r["id"]): text_hash(r) for r in records}
    stored = stored_offer_vectors(encoder, hashes)
    missing = [r for r in records if int(r["id"]) not in stored]
    fresh = engine.encode_offers(missing) if missing else {}
    for offer_id, vector in fresh.items():
        store_vector(int(offer_id), encoder, hashes[int(offer_id)], vector)
    if fresh:
        db.session.flush()
    return {**{str(k): v for k, v in stored.items()}, **fresh}


def store_vector(offer_id: int, encoder: str, digest: str, vector: np.ndarray) -> None:
    """Insert or replace one offer's vector."""
    data = np.asarray(vector, dtype="<f4").tobytes()
    row = db.session.get(OfferEmbedding, offer_id)
    if row is None:
        db.session.add(OfferEmbedding(offer_id=offer_id, encoder=encoder, text_hash=digest,
                                      dim=len(vector), vector=data, computed_at=utcnow()))
    else:
        row.encoder, row.text_hash, row.dim, row.vector, row.computed_at = encoder, digest, len(vector), data, utcnow()
