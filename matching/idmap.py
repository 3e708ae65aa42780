"""Mapping between external record ids and the engine's internal row numbers."""

from __future__ import annotations

from collections.abc import Iterable


class IdMap:
    """Bidirectional map external id (always normalised to ``str``) <-> dense index 0..n-1.

    Like implicit's / LightFM's dataset mappings: matrices are indexed by position, callers
    speak in their own ids. Ids ``7`` and ``"7"`` are the same record.
    """

    def __init__(self, ids: Iterable = ()):
        self._ids: list[str] = []
        self._index: dict[str, int] = {}
        for external_id in ids:
            self.add(external_id)

    def add(self, external_id) -> int:
        """Index of ``external_id``, adding it at the end when new."""
        key = str(external_id)
        index = self._index.get(key)
        if index is None:
            index = self._index[key] = len(self._ids)
            self._ids.append(key)
        return index

    def index(self, external_id) -> int:
        """Index of a known id; ``KeyError`` naming the id otherwise."""
        try:
            return self._index[str(external_id)]
        except KeyError:
            raise KeyError(f"unknown id {external_id!r}") from None

    def get(self, external_id, default=None):
        return self._index.get(str(external_id), default)

    def id(self, index: int) -> str:
        """External id at ``index``."""
        return self._ids[index]

    @property
    def ids(self) -> list[str]:
        return list(self._ids)

    def __contains__(self, external_id) -> bool:
        return str(external_id) in self._index

    def __len__(self) -> int:
        return len(self._ids)

    def __iter__(self):
        return iter(self._ids)

    def __eq__(self, other) -> bool:
        return isinstance(other, IdMap) and other._ids == self._ids

    def to_list(self) -> list[str]:
        """JSON-able form; ``IdMap(lst)`` restores it."""
        return list(self._ids)
