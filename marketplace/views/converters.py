"""URL converters shared by the site and the API."""
from __future__ import annotations

from werkzeug.routing import IntegerConverter

DATABASE_INT_MAX = 2 ** 31 - 1


class DatabaseIdConverter(IntegerConverter):
    """``<int:…>`` in every route: a number past the database's integer range becomes 0, which names no row,
    so the view answers 404 as for any id that does not exist. (It reached the database before and failed
    there with a 500. Refusing the match instead made werkzeug answer 405 when another method's rule
    shared the path.)"""

    def to_python(self, value: str) -> int:
        number = super().to_python(value)
        return number if number <= DATABASE_INT_MAX else 0
