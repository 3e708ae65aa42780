"""Semantic channel of the matching engine: sentence vectors of offers (stored, passed to ``fit``)
and of needs (stored, passed to ``rank``), and the dense pass that finds each need's nearest offers.

Vectors are computed once per text and kept by the caller (the site stores them in
``offer_embeddings`` and ``need_embeddings``), so ranking with the channel costs one matrix product
per block of needs instead of running the encoder again.
"""

from __future__ import annotations

import numpy as np

from .encoders import DenseIndex, make_encoder
from .records import record_id, record_text
from .sparse_rows import top_dense

DENSE_BLOCK_CELLS = 4_000_000  # need x offer similarities held at once (16 MB of float32)
SIMILAR_MEANING = 0.5  # cosine from which a match gets the "similar in meaning" reason


def similar_meaning_reason(lang: str) -> dict:
    """Reason of a match whose sentence vectors are close (the semantic channel)."""
    reason = {"type": "semantic", "zh": "语义相近", "en": "similar in meaning"}
    reason["text"] = reason["zh"] if lang == "zh" else reason["en"]
    return reason


class SemanticMixin:
    """Encoding and dense search for ``MatchingEngine`` (uses ``self.config``, ``self.offers``,
    ``self.dense``)."""

    def _fit_dense(self, offers: list[dict], offer_vectors) -> DenseIndex:
        encoder = make_encoder(self.config.encoder)
        stored = offer_vectors or {}
        vectors = np.zeros((len(offers), encoder.dim), dtype=np.float32)
        missing = []
        for row, offer in enumerate(offers):
            vector = stored.get(record_id(offer))
            if vector is not None and len(vector) == encoder.dim:
                vectors[row] = vector
            else:
                missing.append(row)
        if missing:
            vectors[missing] = encoder.encode([record_text(offers[row]) for row in missing])
        return DenseIndex(encoder.name, vectors)

    def encoder_name(self) -> str:
        """Name of the encoder this engine's semantic channel uses (stored beside the vectors)."""
        return make_encoder(self.config.encoder).name

    def encode_offers(self, offers: list[dict]) -> dict[str, np.ndarray]:
        """Sentence vectors of ``offers`` by id, with this engine's encoder (to store and pass
        back to ``fit`` as ``offer_vectors``, so unchanged offers are not encoded again)."""
        encoder = make_encoder(self.config.encoder)
        vectors = encoder.encode([record_text(offer) for offer in offers])
        return {record_id(offer): vector for offer, vector in zip(offers, vectors)}

    def _dense_pass(self, needs: list[dict], texts: list[str], masks: list, pool_size: int):
        """Sentence vectors of a chunk of needs (their stored ``vector`` when it has the encoder's
        size, otherwise encoded now) and each one's ``pool_size`` nearest offers (None, empty pools
        when the semantic channel is off)."""
        if self.dense is None:
            return None, [np.zeros(0, dtype=np.int64)] * len(texts)
        need_vectors = self.need_vectors(needs, texts)
        pools = []
        # A block of needs at a time: one matrix product per block, the block x offers
        # similarities stay small at 100k offers.
        block_size = max(1, DENSE_BLOCK_CELLS // max(1, len(self.offers)))
        for start in range(0, len(texts), block_size):
            block = self.dense.similarities(need_vectors[start : start + block_size])
            for offset, row in enumerate(block):
                mask = masks[start + offset]
                if mask is not None:
                    row *= mask
                pools.append(top_dense(row, pool_size) if need_vectors[start + offset].any() else row[:0])
        return need_vectors, pools

    def need_vectors(self, needs: list[dict], texts: list[str] | None = None) -> np.ndarray:
        """Unit sentence vectors of ``needs`` (rows in order): a need's stored ``vector`` when it
        has the encoder's size, the others encoded now in one batch."""
        encoder = make_encoder(self.config.encoder)
        vectors = np.zeros((len(needs), encoder.dim), dtype=np.float32)
        missing = []
        for row, need in enumerate(needs):
            stored = need.get("vector")
            if stored is not None and len(stored) == encoder.dim:
                vectors[row] = stored
            else:
                missing.append(row)
        if missing:
            texts = texts or [record_text(need) for need in needs]
            vectors[missing] = encoder.encode([texts[row] for row in missing])
        return vectors

    def encode_needs(self, needs: list[dict]) -> dict[str, np.ndarray]:
        """Sentence vectors of ``needs`` by id (to store and pass back to ``rank`` as
        ``need_vectors``, so a need is encoded once, not at every ranking)."""
        encoder = make_encoder(self.config.encoder)
        vectors = encoder.encode([record_text(need) for need in needs])
        return {record_id(need): vector for need, vector in zip(needs, vectors)}
