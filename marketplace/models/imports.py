"""Import runs: one uploaded file imported as a background job, with its progress and its row report."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, DateTime, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.models.base import Base, TimestampMixin

IMPORT_RUN_STATUSES = ("queued", "running", "done", "failed")


class ImportRun(Base, TimestampMixin):
    """Who imported which file, how far the job got, and what it did (created and updated record ids, or
    the problems by row). ``active_key`` (unique, cleared when the run ends) lets one submission of a file
    be running at a time; ``content`` holds the upload until the job has read it."""

    __tablename__ = "import_runs"
    __table_args__ = (CheckConstraint(f"status IN {IMPORT_RUN_STATUSES}", name="status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id", ondelete="SET NULL"))
    entity: Mapped[str] = mapped_column(String(16))
    filename: Mapped[str] = mapped_column(String(255))
    file_sha256: Mapped[str] = mapped_column(String(64))
    locale: Mapped[str] = mapped_column(String(8), default="zh")
    status: Mapped[str] = mapped_column(String(16), default="queued")
    active_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    # The upload (up to 16 MB) and the id lists (100,000 ids for a large patent file) load only when read: the run
    # page polls the run every few seconds, and each chunk of the job reads it.
    content: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    weights: Mapped[dict | None] = mapped_column(JSON)
    rows_total: Mapped[int] = mapped_column(Integer, default=0)
    rows_done: Mapped[int] = mapped_column(Integer, default=0)
    created_count: Mapped[int] = mapped_column(Integer, default=0)
    updated_count: Mapped[int] = mapped_column(Integer, default=0)
    created_ids: Mapped[list] = mapped_column(JSON, default=list, deferred=True)
    updated_ids: Mapped[list] = mapped_column(JSON, default=list, deferred=True)
    skipped_rows: Mapped[list] = mapped_column(JSON, default=list)
    row_errors: Mapped[list] = mapped_column(JSON, default=list)  # [[row, column key, message], ...]
    message: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    @property
    def finished(self) -> bool:
        """True once the job has ended, well or not."""
        return self.status in ("done", "failed")
