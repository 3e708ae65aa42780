"""Rows read from an import file, and the problems found in them by spreadsheet row and column."""
from __future__ import annotations

from dataclasses import dataclass

from marketplace.services.errors import ValidationFailed


@dataclass
class ImportTable:
    """Rows read from a file: each a (spreadsheet row number, {column key: cell value})."""

    headers: list[str]
    rows: list[tuple[int, dict]]


@dataclass
class RowError:
    """One problem in an import file: spreadsheet row (as the user sees it), column key, translated reason."""

    row: int
    column: str
    message: object

    @property
    def reason(self) -> str:
        """The reason rendered in the current request's language."""
        return str(self.message)


class ImportRejected(ValidationFailed):
    """At least one row is invalid, so nothing was imported; ``row_errors`` says where and why."""

    def __init__(self, message, row_errors: list[RowError]):
        super().__init__(message)
        self.row_errors = row_errors


class ImportTimedOut(ValidationFailed):
    """The import ran past its time limit and was stopped; nothing was imported."""
