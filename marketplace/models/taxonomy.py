"""Field taxonomy: the five key support directions of the 2020 notice and their subfields."""
from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.models.base import Base, bilingual


class Field(Base):
    __tablename__ = "fields"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("fields.id", ondelete="CASCADE"), index=True)
    name_zh: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(160))
    sort_order: Mapped[int] = mapped_column(Integer, default=0)

    parent: Mapped[Field | None] = relationship(remote_side="Field.id", back_populates="children")
    children: Mapped[list[Field]] = relationship(back_populates="parent", order_by="Field.sort_order")

    def name(self, locale: str = "zh") -> str:
        return bilingual(self, "name", locale)

    @property
    def direction(self) -> Field:
        """The top-level key support direction this field belongs to."""
        node = self
        while node.parent is not None:
            node = node.parent
        return node

    def __repr__(self) -> str:
        return f"<Field {self.code}>"
