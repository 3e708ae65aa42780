"""Stored sentence vectors of offers and needs for the matching engine's semantic channel.

A vector is kept with the encoder that made it and a hash of the text it was made from, so a
rebuild reuses it until the offer's text or the encoder changes.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.models.base import Base, utcnow


class _StoredVector:
    """The columns of a stored sentence vector: which encoder, for which text, and the vector itself."""

    encoder: Mapped[str] = mapped_column(String(200))
    text_hash: Mapped[str] = mapped_column(String(64))
    dim: Mapped[int] = mapped_column(Integer)
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class OfferEmbedding(_StoredVector, Base):
    """One offer's sentence vector (float32, little-endian bytes)."""

    __tablename__ = "offer_embeddings"

    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id", ondelete="CASCADE"), primary_key=True)


class NeedEmbedding(_StoredVector, Base):
    """One need's sentence vector (float32, little-endian bytes), computed when the need is ranked
    after being saved, so rebuilds rank with it instead of encoding every open need again."""

    __tablename__ = "need_embeddings"

    need_id: Mapped[int] = mapped_column(ForeignKey("needs.id", ondelete="CASCADE"), primary_key=True)
