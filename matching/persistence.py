"""Saving and loading a fitted matching engine: a directory of JSON and .npz/.npy files, never pickle."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Self

import numpy as np
import scipy.sparse as sp

from .config import EngineConfig
from .encoders import DenseIndex
from .graph import GraphIndex
from .idmap import IdMap
from .records import normalise_tag
from .rules import OfferRuleTable
from .text import TextIndex

FORMAT_VERSION = 1


class PersistenceMixin:
    """Mixin of ``MatchingEngine``: ``save`` writes its fitted state, ``load`` builds an engine from it."""

    def save(self, directory) -> None:
        """Write the fitted engine to ``directory`` as JSON and .npz/.npy files (no pickle)."""
        self._check_fitted()
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        text_meta, text_arrays = self.text.state()
        graph_meta, graph_arrays = self.graph.state()
        manifest = {
            "format": "techbridge-matching",
            "version": FORMAT_VERSION,
            "config": self.config.to_json(),
            "weights": self.weights,
            "feedback_trained": self.feedback_trained,
            "encoder": self.dense.encoder_name if self.dense is not None else None,
        }
        _write_json(directory / "manifest.json", manifest)
        _write_json(
            directory / "offers.json",
            {
                "ids": self.offers.to_list(),
                "titles": self._titles,
                "tags": self._tag_labels,
                "rules": self.rules.state(),
            },
        )
        _write_json(directory / "text.json", text_meta)
        _write_json(directory / "graph.json", graph_meta)
        sp.save_npz(directory / "text_weights.npz", self.text.doc_weights, compressed=False)
        np.save(directory / "text_idf.npy", text_arrays["idf"], allow_pickle=False)
        sp.save_npz(directory / "graph_adjacency.npz", graph_arrays["adjacency"], compressed=False)
        sp.save_npz(directory / "graph_relations.npz", graph_arrays["relation_codes"], compressed=False)
        if self.dense is not None:
            np.save(directory / "offer_vectors.npy", self.dense.vectors, allow_pickle=False)

    @classmethod
    def load(cls, directory) -> Self:
        """Engine saved by ``save``; rankings are identical to the saved engine's."""
        directory = Path(directory)
        manifest = _read_json(directory / "manifest.json")
        if manifest.get("format") != "techbridge-matching":
            raise ValueError(f"{directory} does not hold a saved matching engine")
        engine = cls(EngineConfig.from_json(manifest["config"]))
        engine.weights = {p: float(w) for p, w in manifest["weights"].items()}
        engine.feedback_trained = bool(manifest["feedback_trained"])
        # Engines saved before the semantic channel have no "dense" weight: it is simply 0 there.
        engine.weights.setdefault("dense", 0.0)
        if manifest.get("encoder"):
            engine.dense = DenseIndex(
                manifest["encoder"], np.load(directory / "offer_vectors.npy", allow_pickle=False)
            )
        offers = _read_json(directory / "offers.json")
        engine.offers = IdMap(offers["ids"])
        engine._titles = offers["titles"]
        engine._tag_labels = offers["tags"]
        engine._tags = [frozenset(normalise_tag(t) for t in tags) for tags in engine._tag_labels]
        engine.rules = OfferRuleTable.from_state(offers["rules"])
        engine.text = TextIndex.from_state(
            _read_json(directory / "text.json"),
            np.load(directory / "text_idf.npy", allow_pickle=False),
            sp.load_npz(directory / "text_weights.npz"),
        )
        engine.graph = GraphIndex.from_state(
            _read_json(directory / "graph.json"),
            sp.load_npz(directory / "graph_adjacency.npz"),
            sp.load_npz(directory / "graph_relations.npz"),
        )
        return engine


def _write_json(path: Path, data) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def _read_json(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))
