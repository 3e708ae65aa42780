"""Saving and loading a fitted matching engine: a directory of JSON and .npy files, never pickle.

Each sparse matrix is three plain ``.npy`` arrays (``NAME.data.npy``, ``NAME.indices.npy``,
``NAME.indptr.npy``) plus its shape in the manifest, so ``load(directory, mmap=True)`` maps them
read-only into memory instead of reading them: the processes ranking shards of needs on one
machine share one copy of the model through the page cache. Models saved by format 1 (``.npz``)
still load (without memory mapping, and without the counts that ``add_offers`` needs).
"""

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

FORMAT_VERSION = 2
SPARSE_PARTS = ("data", "indices", "indptr")


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
            # Measured once here, so every shard loading the model uses it without measuring again.
            "graph_scale": self.graph_scale() if self.config.adaptive_graph else None,
        }
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
        shapes = {}
        matrices = {
            "text_weights": self.text.doc_weights,
            "text_postings": self.text.term_doc,
            "text_counts": text_arrays["counts"],
            "graph_adjacency": graph_arrays["adjacency"],
            "graph_relations": graph_arrays["relation_codes"],
            "graph_transition": self.graph.transition,
        }
        for name, matrix in matrices.items():
            if matrix is not None:
                shapes[name] = _save_sparse(directory, name, matrix)
        np.save(directory / "text_idf.npy", np.asarray(text_arrays["idf"]), allow_pickle=False)
        if self.dense is not None:
            np.save(directory / "offer_vectors.npy", np.asarray(self.dense.vectors), allow_pickle=False)
        manifest["shapes"] = shapes
        # The manifest last: a reader that sees it finds every file it names.
        _write_json(directory / "manifest.json", manifest)

    @classmethod
    def load(cls, directory, mmap: bool = False) -> Self:
        """Engine saved by ``save``; rankings are identical to the saved engine's.

        ``mmap=True`` maps the arrays read-only instead of reading them (shards of a rebuild).
        """
        directory = Path(directory)
        manifest = _read_json(directory / "manifest.json")
        if manifest.get("format") != "techbridge-matching":
            raise ValueError(f"{directory} does not hold a saved matching engine")
        mode = "r" if mmap else None
        engine = cls(EngineConfig.from_json(manifest["config"]))
        engine.weights = {p: float(w) for p, w in manifest["weights"].items()}
        engine.feedback_trained = bool(manifest["feedback_trained"])
        # Engines saved before the semantic channel have no "dense" weight: it is simply 0 there.
        engine.weights.setdefault("dense", 0.0)
        if manifest.get("encoder"):
            engine.dense = DenseIndex(
                manifest["encoder"], np.load(directory / "offer_vectors.npy", mmap_mode=mode, allow_pickle=False)
            )
        offers = _read_json(directory / "offers.json")
        engine.offers = IdMap(offers["ids"])
        engine._titles = offers["titles"]
        engine._tag_labels = offers["tags"]
        engine._tags = [frozenset(normalise_tag(t) for t in tags) for tags in engine._tag_labels]
        engine.rules = OfferRuleTable.from_state(offers["rules"])
        idf = np.load(directory / "text_idf.npy", mmap_mode=mode, allow_pickle=False)
        shapes = manifest.get("shapes")
        if shapes is None:  # format 1: compressed-free .npz archives, read into memory
            engine.text = TextIndex.from_state(
                _read_json(directory / "text.json"), idf, sp.load_npz(directory / "text_weights.npz").tocsr()
            )
            engine.graph = GraphIndex.from_state(
                _read_json(directory / "graph.json"),
                sp.load_npz(directory / "graph_adjacency.npz"),
                sp.load_npz(directory / "graph_relations.npz"),
            )
            return engine

        def matrix(name):
            return _load_sparse(directory, name, shapes[name], mode) if name in shapes else None

        engine.text = TextIndex.from_state(
            _read_json(directory / "text.json"),
            idf,
            matrix("text_weights"),
            matrix("text_postings"),
            matrix("text_counts"),
        )
        engine.graph = GraphIndex.from_state(
            _read_json(directory / "graph.json"),
            matrix("graph_adjacency"),
            matrix("graph_relations"),
            matrix("graph_transition"),
        )
        if manifest.get("graph_scale") is not None:
            engine._graph_scale = (engine.graph, float(manifest["graph_scale"]), None)
        return engine


def _save_sparse(directory: Path, name: str, matrix: sp.csr_matrix) -> list[int]:
    """Write one CSR matrix as three .npy arrays; returns its shape for the manifest."""
    matrix = sp.csr_matrix(matrix)
    if not matrix.has_sorted_indices:
        matrix = matrix.sorted_indices()
    for part in SPARSE_PARTS:
        np.save(directory / f"{name}.{part}.npy", np.asarray(getattr(matrix, part)), allow_pickle=False)
    return list(matrix.shape)


def _load_sparse(directory: Path, name: str, shape, mode: str | None) -> sp.csr_matrix:
    """CSR matrix over the arrays written by ``_save_sparse`` (memory-mapped when ``mode`` is "r")."""
    data, indices, indptr = (
        np.load(directory / f"{name}.{part}.npy", mmap_mode=mode, allow_pickle=False) for part in SPARSE_PARTS
    )
    matrix = sp.csr_matrix((data, indices, indptr), shape=tuple(shape), copy=False)
    matrix.has_sorted_indices = True  # written sorted; read-only arrays must not be sorted again
    return matrix


def _write_json(path: Path, data) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def _read_json(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))
