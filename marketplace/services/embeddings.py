"""Sentence vectors for the matching engine's semantic channel, computed once per text and stored: offers in
``offer_embeddings`` (handed to ``fit`` at every rebuild), needs in ``need_embeddings`` (handed to ``rank``), so a
rebuild encodes only what is new or changed."""
from __future__ import annotations

import hashlib

import numpy as np

from marketplace.extensions import db
from marketplace.models import NeedEmbedding, OfferEmbedding
from marketplace.models.base import utcnow
from marketplace.queries.embeddings import stored_need_vectors, stored_offer_vectors
from matching import MatchingEngine, record_text


def text_hash(record: dict) -> str:
    """Hash of the text a record's vector is made from (a changed text needs a new vector)."""
    return hashlib.sha256(record_text(record).encode("utf-8")).hexdigest()


def offer_vectors(engine: MatchingEngine, records: list[dict]) -> dict[str, np.ndarray]:
    """Vectors by offer id (str) for ``engine.fit(..., offer_vectors=...)``: stored ones where the
    text is unchanged, the rest encoded now with the engine's encoder and stored (flush only)."""
    return _vectors(engine, records, stored_offer_vectors, engine.encode_offers, store_vector)


def need_vectors(engine: MatchingEngine, records: list[dict]) -> dict[str, np.ndarray]:
    """Vectors by need id (str) for ``engine.rank(..., need_vectors=...)``: stored ones where the
    text is unchanged, the rest encoded now with the engine's encoder and stored (flush only)."""
    return _vectors(engine, records, stored_need_vectors, engine.encode_needs, store_need_vector)


def _vectors(engine: MatchingEngine, records: list[dict], read, encode, store) -> dict[str, np.ndarray]:
    encoder = engine.encoder_name()
    hashes = {int(r["id"]): text_hash(r) for r in records}
    stored = read(encoder, hashes)
    missing = [r for r in records if int(r["id"]) not in stored]
    fresh = encode(missing) if missing else {}
    for record_id, vector in fresh.items():
        store(int(record_id), encoder, hashes[int(record_id)], vector)
    if fresh:
        db.session.flush()
    return {**{str(k): v for k, v in stored.items()}, **fresh}


def store_vector(offer_id: int, encoder: str, digest: str, vector: np.ndarray) -> None:
    """Insert or replace one offer's vector."""
    _store(OfferEmbedding, {"offer_id": offer_id}, offer_id, encoder, digest, vector)


def store_need_vector(need_id: int, encoder: str, digest: str, vector: np.ndarray) -> None:
    """Insert or replace one need's vector."""
    _store(NeedEmbedding, {"need_id": need_id}, need_id, encoder, digest, vector)


def _store(model, key: dict, row_id: int, encoder: str, digest: str, vector: np.ndarray) -> None:
    data = np.asarray(vector, dtype="<f4").tobytes()
    row = db.session.get(model, row_id)
    if row is None:
        db.session.add(model(**key, encoder=encoder, text_hash=digest, dim=len(vector), vector=data,
                             computed_at=utcnow()))
    else:
        row.encoder, row.text_hash, row.dim, row.vector, row.computed_at = encoder, digest, len(vector), data, utcnow()
