"""The sparse text channel over fitted offers (tokenisation is in ``tokens``).

The text channel keeps one sparse offers x terms matrix. The vocabulary and counts are built
by ``Analyzer.count`` (each distinct CJK run or latin word is analysed once per fit; the columns
are in sorted term order, so offers added later give the same matrices as fitting them all at
once); weighting is either BM25 (default: it ranks short Chinese titles best) or scikit-learn's
sublinear TF-IDF with cosine similarity.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from . import kernels

# Re-exported: callers import the analyser and helpers from here.
from .tokens import (  # noqa: F401
    BIGRAM_PREFIX,
    CHINESE_STOP_WORDS,
    ENGLISH_STOPS,
    Analyzer,
    baseline_tokenize,
    is_cjk,
    normalise_text,
)


class NeedTerms:
    """A need's known terms as (token, surface, column), with their columns as an array and the
    surfaces written in Chinese, kept for all the need's matches."""

    __slots__ = ("cjk", "columns", "containers", "terms")

    def __init__(self, terms: list[tuple[str, str, int]]):
        self.terms = terms
        self.columns = np.array([column for _, _, column in terms], dtype=np.int64)
        self.cjk = frozenset(surface for _, surface, _ in terms if is_cjk(surface))
        # Chinese surface -> the need's longer Chinese surfaces holding it (试剂 -> 试剂盒), found
        # once here rather than for each of the need's matches.
        self.containers = {
            surface: tuple(other for other in self.cjk if other != surface and surface in other)
            for surface in self.cjk
        }


class TextIndex:
    """Sparse text channel over fitted offers.

    ``doc_weights`` is offers x terms (CSR); ``term_doc`` is its transpose (CSR) so that a batch of
    query rows multiplies straight into a sparse needs x offers score matrix.
    """

    def __init__(
        self, model: str = "bm25", k1: float = 1.5, b: float = 0.75, analyzer: Analyzer | None = None
    ):
        if model not in ("bm25", "tfidf"):
            raise ValueError(f"unknown text model {model!r} (use 'bm25' or 'tfidf')")
        self.model = model
        self.k1 = k1
        self.b = b
        self.analyzer = analyzer or Analyzer()
        self._vocabulary: dict[str, int] = {}
        self.counts: sp.csr_matrix | None = None  # offers x terms raw counts (for adding offers later)
        self.idf: np.ndarray | None = None
        self.doc_weights: sp.csr_matrix | None = None
        self.term_doc: sp.csr_matrix | None = None
        self._scratch = kernels.Scratch()  # dense query over the vocabulary, scores over offers

    # -- fitting -------------------------------------------------------------------------------
    def fit(self, documents: list[str], processes: int = 1, meanwhile=None) -> TextIndex:
        """Build vocabulary and term weights from one string per offer.

        ``processes`` > 1 analyses slices of the documents in that many forked processes; the result is the
        same (the vocabulary ends up in sorted order whoever met a term first). ``meanwhile``, if given, is
        called with no arguments while they work (the caller's other fitting), or first when there are none.
        """
        vocabulary: dict[str, int] = {}
        if processes > 1 and len(documents) >= 2 * processes:
            counts = _count_in_processes(self.analyzer, documents, processes, vocabulary, meanwhile)
        else:
            if meanwhile is not None:
                meanwhile()
            counts = self.analyzer.count(documents, vocabulary)
        self._set_counts(counts, vocabulary)
        return self

    def add_documents(self, documents: list[str]) -> TextIndex:
        """Append offers: only the new texts are analysed; the statistics (document frequencies,
        idf, average length) are recomputed from the kept counts, so the result equals ``fit`` on
        all texts at once (same vocabulary order, same weights)."""
        if self.counts is None:
            raise RuntimeError("this text index keeps no term counts (saved by an older version): refit it")
        vocabulary = dict(self.vocabulary)
        added = self.analyzer.count(documents, vocabulary)
        kept = sp.csr_matrix(
            (self.counts.data, self.counts.indices, self.counts.indptr),
            shape=(self.counts.shape[0], len(vocabulary)),
        )
        self._set_counts(sp.vstack([kept, added], format="csr"), vocabulary)
        return self

    def _set_counts(self, counts: sp.csr_matrix, vocabulary: dict[str, int]) -> None:
        """Keep ``counts`` with its columns in sorted term order (terms no document has are
        dropped), so the index does not depend on the order offers were added in; then weight."""
        document_frequency = np.bincount(counts.indices, minlength=len(vocabulary))
        terms = sorted(term for term, column in vocabulary.items() if document_frequency[column] > 0)
        if not terms:  # no document has a single token: keep a placeholder vocabulary
            terms = ["\x00"]
        new_column = np.zeros(max(len(vocabulary), 1), dtype=np.int32)
        known = [vocabulary[term] for term in terms if term in vocabulary]
        new_column[known] = np.arange(len(known), dtype=np.int32)
        counts = sp.csr_matrix(
            (counts.data.astype(np.float32), new_column[counts.indices], counts.indptr),
            shape=(counts.shape[0], len(terms)),
        )
        counts.sort_indices()
        self._vocabulary = {term: column for column, term in enumerate(terms)}
        self.counts = counts
        self._weight(counts)

    def _weight(self, counts: sp.csr_matrix) -> None:
        n_docs = counts.shape[0]
        if self.model == "tfidf":
            from sklearn.feature_extraction.text import TfidfTransformer  # only for this model: a slow import

            transformer = TfidfTransformer(sublinear_tf=True, norm="l2")
            weights = transformer.fit_transform(counts) if n_docs else counts
            self.idf = transformer.idf_.astype(np.float32) if n_docs else np.zeros(0, np.float32)
        else:
            df = np.bincount(counts.indices, minlength=counts.shape[1]).astype(np.float64)
            # Lucene's BM25 idf: never negative, unlike the original Robertson form.
            self.idf = np.log1p((n_docs - df + 0.5) / (df + 0.5)).astype(np.float32)
            doc_len = np.asarray(counts.sum(axis=1)).ravel()
            avg_len = doc_len.mean() if n_docs and doc_len.mean() > 0 else 1.0
            norm = self.k1 * (1 - self.b + self.b * doc_len / avg_len)
            tf = counts.data
            row_of_entry = np.repeat(np.arange(n_docs), np.diff(counts.indptr))
            weights = counts.copy()
            weights.data = (self.idf[counts.indices] * tf * (self.k1 + 1) / (tf + norm[row_of_entry])).astype(
                np.float32
            )
        self.doc_weights = sp.csr_matrix(weights, dtype=np.float32)
        self.term_doc = self.doc_weights.T.tocsr()

    # -- querying ------------------------------------------------------------------------------
    @property
    def vocabulary(self) -> dict[str, int]:
        return self._vocabulary

    def query_matrix(self, texts: list[str]) -> sp.csr_matrix:
        """Needs x terms query weights (BM25: term counts; TF-IDF: normalised tf-idf)."""
        return self.analyse_queries(texts)[0]

    def analyse_queries(self, texts: list[str]) -> tuple[sp.csr_matrix, np.ndarray]:
        """(query matrix, total idf of each query's distinct terms).

        Terms unknown to the offers count with the highest possible idf: a need word no offer
        contains is information the text channel cannot match.
        """
        vocab = self.vocabulary
        unseen_idf = float(self.idf.mean()) if len(self.idf) else 1.0
        indptr, indices, data = [0], [], []
        idf_mass = np.zeros(len(texts))
        for row, text in enumerate(texts):
            counts: dict[int, int] = {}
            unknown: set[str] = set()
            for token in self.analyzer(text):
                column = vocab.get(token)
                if column is None:
                    unknown.add(token)
                else:
                    counts[column] = counts.get(column, 0) + 1
            indices.extend(counts)
            data.extend(counts.values())
            indptr.append(len(indices))
            idf_mass[row] = (
                float(self.idf[list(counts)].sum()) + unseen_idf * len(unknown) if counts or unknown else 0.0
            )
        counts = sp.csr_matrix(
            (np.array(data, dtype=np.float32), np.array(indices, dtype=np.int64), np.array(indptr)),
            shape=(len(texts), len(vocab)),
        )
        counts.sort_indices()
        if self.model == "tfidf":
            counts.data = (1 + np.log(counts.data)) * self.idf[counts.indices]
            row_norm = np.sqrt(np.asarray(counts.multiply(counts).sum(axis=1)).ravel())
            row_norm[row_norm == 0] = 1
            counts = sp.csr_matrix(sp.diags(1 / row_norm) @ counts)
        return counts.astype(np.float32), idf_mass

    def top_offers(
        self, terms: np.ndarray, term_weights: np.ndarray, k: int, mask: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The offers with the ``k`` best positive scores for a weighted bag of term columns
        (posting list by posting list, as inverted-index engines do), sorted by index, with their
        float32 scores; offers outside ``mask`` are left out. Ties at the cut keep the
        earlier-fitted offer."""
        n_offers = self.term_doc.shape[1]
        scratch = self._scratch
        return kernels.text_top(
            self.term_doc.indptr,
            self.term_doc.indices,
            self.term_doc.data,
            np.asarray(terms, dtype=np.int64),
            np.asarray(term_weights, dtype=np.float32),
            mask if mask is not None else kernels.NO_MASK,
            mask is not None,
            scratch.vector("scores", n_offers, np.float32),
            scratch.vector("touched", n_offers + 1, np.int64),
            scratch.vector("found", n_offers + 1, np.float32),
            k,
        )

    def query_row(self, query: sp.csr_matrix, row: int) -> tuple[np.ndarray, np.ndarray]:
        """(term columns, weights) of query ``row``."""
        start, end = query.indptr[row], query.indptr[row + 1]
        return query.indices[start:end], query.data[start:end]

    def expand_query(
        self,
        query: sp.csr_matrix,
        row: int,
        feedback: np.ndarray,
        feedback_scores: np.ndarray,
        n_terms: int,
        original_weight: float,
    ) -> tuple[np.ndarray, np.ndarray]:
        """RM3-style pseudo-relevance feedback: (terms, weights) of query ``row`` mixed with the
        ``n_terms`` terms that weigh most in its best matches ``feedback`` (offer indices,
        best first, with their text scores).

        Each feedback offer votes for its terms in proportion to their share of its weight and
        to its own score; the original query keeps ``original_weight`` of the total mass, so
        the expansion adds related words without drowning the need's own.
        """
        start, end = query.indptr[row], query.indptr[row + 1]
        terms, weights = query.indices[start:end], query.data[start:end].astype(np.float64)
        if len(feedback) == 0 or n_terms <= 0 or weights.sum() <= 0:
            return terms, weights.astype(np.float32)
        doc_rows = self.doc_weights[feedback]
        row_sums = np.asarray(doc_rows.sum(axis=1)).ravel()
        row_sums[row_sums == 0] = 1
        votes = np.asarray(feedback_scores, dtype=np.float64) / max(float(np.sum(feedback_scores)), 1e-12)
        relevance = np.asarray((sp.diags(votes / row_sums) @ doc_rows).sum(axis=0)).ravel()
        candidates = np.flatnonzero(relevance)
        if len(candidates) > n_terms:
            candidates = candidates[np.argpartition(-relevance[candidates], n_terms - 1)[:n_terms]]
        expansion = relevance[candidates] / relevance[candidates].sum()
        total = weights.sum()
        mixed: dict[int, float] = dict(zip(terms.tolist(), (original_weight * weights / total).tolist()))
        for term, weight in zip(candidates.tolist(), ((1 - original_weight) * expansion).tolist()):
            mixed[term] = mixed.get(term, 0.0) + weight
        order = sorted(mixed)
        return np.array(order, dtype=np.int64), np.array([mixed[t] * total for t in order], dtype=np.float32)

    def score_offers(self, query: sp.csr_matrix, row: int, offer_indices: np.ndarray) -> np.ndarray:
        """Exact scores of query ``row`` for a few offers (their term rows dotted with the query)."""
        offer_indices = np.asarray(offer_indices, dtype=np.int64)
        if len(offer_indices) == 0:
            return np.zeros(0)
        dense_query = self._scratch.vector("query", len(self.idf), np.float32)
        terms = query.indices[query.indptr[row] : query.indptr[row + 1]]
        dense_query[terms] = query.data[query.indptr[row] : query.indptr[row + 1]]
        scores = kernels.row_dots(
            self.doc_weights.indptr, self.doc_weights.indices, self.doc_weights.data, offer_indices, dense_query
        )
        dense_query[terms] = 0
        return scores

    def coverage(self, query: sp.csr_matrix, row: int, idf_mass: float, offer_index: int) -> float:
        """Share of the need's term idf that the offer contains (1 = every need term found)."""
        if idf_mass <= 0:
            return 0.0
        terms = query.indices[query.indptr[row] : query.indptr[row + 1]]
        start, end = self.doc_weights.indptr[offer_index], self.doc_weights.indptr[offer_index + 1]
        shared = np.intersect1d(terms, self.doc_weights.indices[start:end], assume_unique=True)
        return min(1.0, float(self.idf[shared].sum()) / idf_mass)

    def scores(self, query: sp.csr_matrix) -> sp.csr_matrix:
        """Sparse needs x offers text scores for a chunk of query rows."""
        return (query @ self.term_doc).tocsr()

    def need_terms(self, need_text: str) -> NeedTerms:
        """A need's known terms (token, surface, column), computed once for all its matches."""
        vocab = self.vocabulary
        return NeedTerms(
            [
                (token, surface, vocab[token])
                for token, surface in self.analyzer.tokens_with_surface(need_text)
                if token in vocab
            ]
        )

    def shared_terms(self, need_terms: NeedTerms, offer_index: int, limit: int = 5) -> list[str]:
        """Readable terms of the need (from ``need_terms``) that also weigh in the offer, biggest
        contribution first."""
        positions, weights = kernels.row_values(
            self.doc_weights.indptr, self.doc_weights.indices, self.doc_weights.data, offer_index,
            need_terms.columns,
        )
        best: dict[str, float] = {}
        bigram_only: set[str] = set()
        word_surfaces: set[str] = set()
        seen_tokens: set[str] = set()
        terms = need_terms.terms
        for position, weight in zip(positions.tolist(), weights.tolist()):
            token, surface, _ = terms[position]
            if token not in seen_tokens:  # one surface per stem
                seen_tokens.add(token)
                best[surface] = max(best.get(surface, 0.0), weight)
                (bigram_only if token.startswith(BIGRAM_PREFIX) else word_surfaces).add(surface)
        bigram_only -= word_surfaces
        # Character bigrams only stand in when no whole word is shared; CJK words inside a longer
        # shared word (试剂 in 试剂盒) are dropped.
        words = {s for s in best if s not in bigram_only}
        if words:
            best = {s: w for s, w in best.items() if s in words}
        containers = need_terms.containers
        shown: list[str] = []
        for surface in sorted(best, key=lambda s: (-best[s], s)):
            if not any(other in best for other in containers.get(surface, ())):
                shown.append(surface)
                if len(shown) == limit:
                    break
        return shown

    # -- persistence ---------------------------------------------------------------------------
    def state(self) -> tuple[dict, dict]:
        """(JSON-able metadata, arrays) for saving."""
        vocab = self.vocabulary
        terms = [""] * len(vocab)
        for term, column in vocab.items():
            terms[column] = term
        meta = {
            "model": self.model,
            "k1": self.k1,
            "b": self.b,
            "analyzer": self.analyzer.config(),
            "terms": terms,
        }
        return meta, {"idf": self.idf, "counts": self.counts}

    @classmethod
    def from_state(
        cls,
        meta: dict,
        idf: np.ndarray,
        doc_weights: sp.csr_matrix,
        term_doc: sp.csr_matrix | None = None,
        counts: sp.csr_matrix | None = None,
    ) -> TextIndex:
        """Index from saved parts; arrays are used as given (they may be read-only memory maps)."""
        index = cls(meta["model"], meta["k1"], meta["b"], Analyzer(**meta["analyzer"]))
        index._vocabulary = {t: i for i, t in enumerate(meta["terms"])}
        index.idf = idf if idf.dtype == np.float32 else idf.astype(np.float32)
        index.doc_weights = doc_weights
        index.term_doc = term_doc if term_doc is not None else doc_weights.T.tocsr()
        index.counts = counts
        return index


def _count_slice(analyzer: Analyzer, documents: list[str]) -> tuple[sp.csr_matrix, list[str]]:
    vocabulary: dict[str, int] = {}
    return analyzer.count(documents, vocabulary), list(vocabulary)


def _count_in_processes(
    analyzer: Analyzer, documents: list[str], processes: int, vocabulary: dict[str, int], meanwhile=None
) -> sp.csr_matrix:
    """``analyzer.count`` over contiguous slices in forked processes, columns renumbered into
    ``vocabulary``; ``meanwhile()`` runs here while they count."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    analyzer("测试")  # load jieba's dictionary once, before forking: the children share it
    size = -(-len(documents) // processes)
    slices = [documents[start : start + size] for start in range(0, len(documents), size)]
    with ProcessPoolExecutor(len(slices), mp_context=multiprocessing.get_context("fork")) as pool:
        futures = [pool.submit(_count_slice, analyzer, part) for part in slices]
        if meanwhile is not None:
            meanwhile()
        parts = [future.result() for future in futures]
    blocks = []
    for counts, terms in parts:
        columns = np.array([vocabulary.setdefault(term, len(vocabulary)) for term in terms], dtype=np.int32)
        blocks.append((counts, columns))
    renumbered = [
        sp.csr_matrix(
            (counts.data, columns[counts.indices] if len(columns) else counts.indices, counts.indptr),
            shape=(counts.shape[0], len(vocabulary)),
        )
        for counts, columns in blocks
    ]
    return sp.vstack(renumbered, format="csr")
