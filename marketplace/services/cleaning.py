"""Parsing of plain input values (forms, spreadsheets, API) into typed values with translated errors.

Each ``parse_*`` returns the value or raises ``FieldError``; ``Cleaner`` gathers the errors of one record
so a form, a spreadsheet row or an API call is reported field by field.
"""
from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l


class FieldError(ValueError):
    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


# NUL and other control characters (tabs and new lines excepted) never belong in text, and PostgreSQL
# refuses NUL outright; lone surrogates (half of a UTF-16 pair, which JSON's "\ud800" escape can carry) have no
# UTF-8 form, so no database or search index can store them. Both are dropped rather than reported.
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def drop_lone_surrogates(text: str) -> str:
    """Text without lone surrogates (JSON may carry ``\\ud800``; no database stores them)."""
    return text.encode("utf-8", "ignore").decode("utf-8")


def plain_text(value) -> str:
    """Text as people typed it, for messages: control characters and lone surrogates dropped, ends trimmed."""
    return CONTROL_CHARS.sub("", str(value or "")).strip()


def parse_id(value) -> int | None:
    """A database id from form, URL or API input, else None (huge numbers and text included)."""
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2 ** 31 else None


# Dates people may enter: wide enough for old patents and long plans, narrow enough that converting
# between time zones or adding a term never leaves the calendar (0001-01-01 and 9999-12-31 did).
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2199, 12, 31)


def date_in_range(value: date | datetime) -> bool:
    """Whether a date (or a datetime's date) lies in the range the site accepts."""
    day = value.date() if isinstance(value, datetime) else value
    return EARLIEST_DATE <= day <= LATEST_DATE


def parse_date(text, *, bounded: bool = True) -> date | None:
    """``YYYY-MM-DD`` (also ``2020-2-1``, ``2020/02/01``, ``2020.02.01``) within the accepted range (any date the
    calendar has when ``bounded`` is False), else None."""
    parts = str(text or "").strip().replace("/", "-").replace(".", "-")[:10].split("-")
    if len(parts) != 3 or not all(p.isascii() and p.isdigit() for p in parts):
        return None
    try:
        parsed = date(int(parts[0]), int(parts[1]), int(parts[2]))
    except ValueError:
        return None
    return parsed if date_in_range(parsed) or not bounded else None


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def split_list(value) -> list[str]:
    """A list from a list, or from text separated by commas, Chinese commas, semicolons or new lines."""
    if _blank(value):
        return []
    if isinstance(value, (list, tuple, set)):
        items = value
    else:
        text = str(value)
        for sep in ("，", "；", ";", "、", "\n"):
            text = text.replace(sep, ",")
        items = text.split(",")
    out: list[str] = []
    for item in items:
        item = CONTROL_CHARS.sub("", str(item)).strip()
        if item and item not in out:
            out.append(item)
    return out


class Cleaner:
    """Collects typed values and per-field errors for one record."""

    def __init__(self, data: dict):
        self.data = data or {}
        self.errors: dict[str, object] = {}
        self.values: dict[str, object] = {}

    def _get(self, key):
        return self.data.get(key)

    def text(self, key: str, *, required=False, max_length=None, default=""):
        value = self._get(key)
        if _blank(value):
            if required:
                self.errors[key] = _l("This field is required.")
            self.values[key] = default
            return default
        value = drop_lone_surrogates(CONTROL_CHARS.sub("", str(value))).strip()
        if max_length and len(value) > max_length:
            self.errors[key] = _l("At most %(n)d characters.", n=max_length)
        self.values[key] = value
        return value

    def choice(self, key: str, choices, *, required=False, default=None):
        value = self._get(key)
        if _blank(value):
            if required:
                self.errors[key] = _l("This field is required.")
            self.values[key] = default
            return default
        value = str(value).strip()
        if value not in choices:
            self.errors[key] = _l("Not a valid choice: %(v)s.", v=value)
        self.values[key] = value
        return value

    def choices(self, key: str, choices):
        values = split_list(self._get(key))
        bad = [v for v in values if v not in choices]
        if bad:
            self.errors[key] = _l("Not a valid choice: %(v)s.", v=", ".join(bad))
        self.values[key] = values
        return values

    def tags(self, key: str, *, max_items=30):
        values = split_list(self._get(key))
        if len(values) > max_items:
            self.errors[key] = _l("At most %(n)d items.", n=max_items)
        self.values[key] = values
        return values

    def integer(self, key: str, *, required=False, min_value=None, max_value=None):
        value = self._get(key)
        if _blank(value):
            if required:
                self.errors[key] = _l("This field is required.")
            self.values[key] = None
            return None
        try:
            exact = Decimal(str(value).strip().replace(",", ""))
            if not exact.is_finite() or exact != exact.to_integral_value():
                raise InvalidOperation
            number = int(exact)
        except (InvalidOperation, ValueError):
            self.errors[key] = _l("Enter a whole number.")
            self.values[key] = None
            return None
        if (min_value is not None and number < min_value) or (max_value is not None and number > max_value):
            self.errors[key] = _l("Enter a number between %(a)s and %(b)s.", a=min_value, b=max_value)
        self.values[key] = number
        return number

    def decimal(self, key: str, *, required=False, min_value=0):
        value = self._get(key)
        if _blank(value):
            if required:
                self.errors[key] = _l("This field is required.")
            self.values[key] = None
            return None
        try:
            number = Decimal(str(value).strip().replace(",", "").replace("¥", "").replace("￥", ""))
            if not number.is_finite():
                raise InvalidOperation
        except (InvalidOperation, ValueError):
            self.errors[key] = _l("Enter a number.")
            self.values[key] = None
            return None
        if min_value is not None and number < min_value:
            self.errors[key] = _l("Must not be negative.")
        if number >= Decimal("1e14"):
            self.errors[key] = _l("This amount is too large.")
        self.values[key] = number
        return number

    def floating(self, key: str, *, required=False, min_value=None, max_value=None):
        value = self.decimal(key, required=required, min_value=min_value)
        if value is None:
            return None
        number = float(value)
        if max_value is not None and number > max_value:
            self.errors[key] = _l("Enter a number between %(a)s and %(b)s.", a=min_value, b=max_value)
        self.values[key] = number
        return number

    def date(self, key: str, *, required=False):
        value = self._get(key)
        if _blank(value):
            if required:
                self.errors[key] = _l("This field is required.")
            self.values[key] = None
            return None
        if isinstance(value, datetime):
            value = value.date()
        if isinstance(value, date) and date_in_range(value):
            self.values[key] = value
            return value
        parsed = parse_date(value)
        if parsed is None and parse_date(value, bounded=False) is not None:
            self.errors[key] = _l("Enter a date as YYYY-MM-DD between %(a)s and %(b)s.",
                                  a=EARLIEST_DATE.isoformat(), b=LATEST_DATE.isoformat())
        elif parsed is None:
            self.errors[key] = _l("Enter a date as YYYY-MM-DD.")
        self.values[key] = parsed
        return parsed

    def boolean(self, key: str, default=False):
        value = self._get(key)
        if _blank(value):
            result = default
        elif isinstance(value, bool):
            result = value
        else:
            result = str(value).strip().lower() in ("1", "true", "yes", "y", "on", "是", "x")
        self.values[key] = result
        return result

    def error(self, key: str, message) -> None:
        self.errors.setdefault(key, message)
