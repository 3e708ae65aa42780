"""Optimistic versions of edited records: a save that started from an older version is refused.

An edit form carries the version of the record it was opened on (a hidden field); an API client sends it in
``If-Match``. Saving locks the row, compares, and bumps the version, so of two people who opened the same
form the second to save is told that someone else changed it (their input is kept on the form) instead of
silently undoing the first save. A save without a version (older clients) is accepted as before.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from marketplace.services import locks
from marketplace.services.errors import Conflict


class StaleEdit(Conflict):
    """The record changed after the form was opened; ``current_version`` is the one now stored."""

    def __init__(self, message, *, current_version: int):
        super().__init__(message)
        self.current_version = current_version


STALE_MESSAGE = _l("Someone else saved changes to this record after you opened it, so your changes were not "
                   "saved.")


def parse_version(value) -> int | None:
    """A version as sent by a form or an ``If-Match`` header (``"3"``, ``W/"3"``, ``3``); None if absent."""
    if value is None:
        return None
    text = str(value).strip()
    if text.startswith("W/"):
        text = text[2:]
    text = text.strip().strip('"')
    if not text or text == "*":
        return None
    try:
        return int(text)
    except ValueError:
        return -1  # an unreadable version never matches: the caller re-reads and tries again


def claim(row, expected_version) -> object:
    """Lock ``row`` for this unit of work, refuse a save from an older version, and bump the version.

    Returns the row freshly read under the lock; raises :class:`StaleEdit` when ``expected_version`` is
    given and differs from the stored one.
    """
    row = locks.lock_instance(row)
    expected = parse_version(expected_version)
    if expected is not None and expected != row.version:
        raise StaleEdit(STALE_MESSAGE, current_version=row.version)
    row.version = (row.version or 0) + 1
    return row


def etag(row) -> str:
    """The ``ETag`` of a versioned record (its version, quoted)."""
    return f'"{row.version}"'
