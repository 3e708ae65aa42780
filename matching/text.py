"""Bilingual (Chinese / English) tokenisation and the sparse text channel.

Chinese has no spaces, so a CJK run is cut two ways: jieba words (search mode, which also
emits the shorter words inside long ones) for precision, and character bigrams for recall
when jieba's dictionary splits a term differently in the need and in the offer. English is
lower-cased, stop words dropped and words Snowball-stemmed. Both kinds of token live in one
vocabulary, so bilingual records (title_zh + title_en) are simply analysed together.

The text channel keeps one sparse offers x terms matrix. The vocabulary and counts are built
here (each distinct CJK run or latin word is analysed once per fit; the columns are in sorted
term order, so offers added later give the same matrices as fitting them all at once);
weighting is either BM25 (default: it ranks short Chinese titles best) or scikit-learn's
sublinear TF-IDF with cosine similarity.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfTransformer

BIGRAM_PREFIX = "#"  # keeps char bigrams apart from two-character jieba words

# CJK unified ideographs (+ extension A and compatibility block); latin words are [a-z0-9]+.
_RUN_RE = re.compile(r"([\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+)|([a-z0-9]+)")
_CJK_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")

# High-frequency Chinese function words; IDF would mostly neutralise them, dropping them keeps
# the matrices smaller and the "shared terms" reasons cleaner.
CHINESE_STOP_WORDS = frozenset(
    [
        "的",
        "了",
        "吗",
        "呢",
        "吧",
        "啊",
        "是",
        "在",
        "和",
        "与",
        "及",
        "或",
        "有",
        "我",
        "你",
        "他",
        "她",
        "它",
        "们",
        "这",
        "那",
        "就",
        "都",
        "也",
        "还",
        "又",
        "把",
        "被",
        "给",
        "对",
        "从",
        "为",
        "之",
        "其",
        "而",
        "着",
        "过",
        "得",
        "地",
        "个",
        "么",
        "什么",
        "怎么",
        "怎么办",
        "怎么样",
        "如何",
        "为什么",
        "哪些",
        "一下",
        "可以",
        "能",
        "会",
        "要",
        "吃",
        "请问",
    ]
)
ENGLISH_STOPS = frozenset(ENGLISH_STOP_WORDS)


def normalise_text(text: str) -> str:
    """NFKC-fold (full-width -> half-width), lower-case and drop control characters."""
    return _CONTROL_RE.sub(" ", unicodedata.normalize("NFKC", text)).lower()


def is_cjk(token: str) -> bool:
    """True when the token contains a CJK character."""
    return bool(_CJK_RE.search(token))


_jieba = None


def _get_jieba():
    # Imported lazily: loading jieba's dictionary costs ~0.5 s and is useless for English-only use.
    global _jieba
    if _jieba is None:
        import logging

        import jieba

        jieba.setLogLevel(logging.WARNING)
        jieba.initialize()
        _jieba = jieba
    return _jieba


@lru_cache(maxsize=200_000)
def _stem(word: str) -> str:
    return _stemmer().stemWord(word)


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


_segmenter = None


def _search_words(run: str) -> list[str]:
    """jieba search-mode words of one CJK run (no HMM), through the faster equivalent walker."""
    global _segmenter
    if _segmenter is None:
        from .segment import SearchSegmenter

        _segmenter = SearchSegmenter(_get_jieba())
    return _segmenter.segment(run)


def _segment_run(run: str, bigrams: bool) -> tuple[tuple[str, str], ...]:
    """(token, surface) pairs of one CJK run."""
    out: list[tuple[str, str]] = []
    if len(run) == 1:
        if run not in CHINESE_STOP_WORDS:
            out.append((run, run))
        return tuple(out)
    for word in _search_words(run):
        if word not in CHINESE_STOP_WORDS:
            out.append((word, word))
    if bigrams:
        out.extend((BIGRAM_PREFIX + run[i : i + 2], run[i : i + 2]) for i in range(len(run) - 1))
    return tuple(out)


@lru_cache(maxsize=200_000)
def _cjk_run_tokens(run: str, bigrams: bool) -> tuple[tuple[str, str], ...]:
    """(token, surface) pairs of one CJK run; cached because runs repeat a lot across records."""
    return _segment_run(run, bigrams)


@lru_cache(maxsize=200_000)
def _cjk_run_token_list(run: str, bigrams: bool) -> tuple[str, ...]:
    return tuple(token for token, _ in _cjk_run_tokens(run, bigrams))


class Analyzer:
    """Callable turning a string into tokens; usable as scikit-learn's ``analyzer``.

    ``cjk_bigrams`` adds character bigrams to jieba's words; ``stem`` Snowball-stems English.
    """

    def __init__(self, cjk_bigrams: bool = True, stem: bool = True):
        self.cjk_bigrams = cjk_bigrams
        self.stem = stem

    def __call__(self, text: str) -> list[str]:
        # Hot path when fitting: cached token tuples per CJK run, no surface pairs.
        out: list[str] = []
        for cjk_run, latin_run in _RUN_RE.findall(normalise_text(text or "")):
            if cjk_run:
                out.extend(_cjk_run_token_list(cjk_run, self.cjk_bigrams))
            elif latin_run not in ENGLISH_STOPS and (len(latin_run) > 1 or latin_run.isdigit()):
                out.append(_stem(latin_run) if self.stem else latin_run)
        return out

    def tokens_with_surface(self, text: str) -> list[tuple[str, str]]:
        """Tokens paired with the surface form they came from (for readable reasons)."""
        out: list[tuple[str, str]] = []
        for cjk_run, latin_run in _RUN_RE.findall(normalise_text(text or "")):
            if cjk_run:
                out.extend(_cjk_run_tokens(cjk_run, self.cjk_bigrams))
            elif latin_run not in ENGLISH_STOPS and (len(latin_run) > 1 or latin_run.isdigit()):
                out.append((_stem(latin_run) if self.stem else latin_run, latin_run))
        return out

    def config(self) -> dict:
        return {"cjk_bigrams": self.cjk_bigrams, "stem": self.stem}

    def count(self, texts, vocabulary: dict[str, int], grow: bool = True) -> sp.csr_matrix:
        """Texts x terms counts (float32 CSR) over ``vocabulary`` (token -> column).

        With ``grow`` unseen tokens get the next columns (added to ``vocabulary`` in place);
        otherwise they are left out. Each distinct CJK run or latin word is analysed once per
        call and kept as column numbers, so a large corpus costs one dictionary look-up per run.
        """
        by_run: dict[str, tuple[int, ...]] = {}
        columns: list[int] = []
        indptr = [0]
        bigrams, stem = self.cjk_bigrams, self.stem
        for text in texts:
            for cjk_run, latin_run in _RUN_RE.findall(normalise_text(text or "")):
                run = cjk_run or latin_run  # CJK runs and latin words never collide as keys
                cached = by_run.get(run)
                if cached is None:
                    if cjk_run:
                        tokens = [token for token, _ in _segment_run(cjk_run, bigrams)]
                    elif latin_run not in ENGLISH_STOPS and (len(latin_run) > 1 or latin_run.isdigit()):
                        tokens = [_stem(latin_run) if stem else latin_run]
                    else:
                        tokens = []
                    if grow:
                        cached = tuple(vocabulary.setdefault(token, len(vocabulary)) for token in tokens)
                    else:
                        cached = tuple(vocabulary[token] for token in tokens if token in vocabulary)
                    by_run[run] = cached
                columns.extend(cached)
            indptr.append(len(columns))
        indptr_array = np.array(indptr, dtype=np.int64)
        rows = np.repeat(np.arange(len(indptr) - 1, dtype=np.int32), np.diff(indptr_array))
        counts = sp.csr_matrix(
            (np.ones(len(columns), dtype=np.float32), (rows, np.array(columns, dtype=np.int32))),
            shape=(len(indptr) - 1, len(vocabulary)),
        )
        counts.sum_duplicates()  # sorts the indices too
        return counts


def baseline_tokenize(text: str) -> list[str]:
    """Tokens of the BM25 reference baseline: jieba search-mode words for Chinese, stemmed
    English words without stop words (no bigrams, no Chinese stop list)."""
    out: list[str] = []
    for cjk_run, latin_run in _RUN_RE.findall(normalise_text(text or "")):
        if cjk_run:
            out.extend(_get_jieba().cut_for_search(cjk_run))
        elif latin_run not in ENGLISH_STOPS:
            out.append(_stem(latin_run))
    return out


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
        self._query_scratch: np.ndarray | None = None  # dense query over the vocabulary, kept zeroed

    # -- fitting -------------------------------------------------------------------------------
    def fit(self, documents: list[str]) -> TextIndex:
        """Build vocabulary and term weights from one string per offer."""
        vocabulary: dict[str, int] = {}
        self._set_counts(self.analyzer.count(documents, vocabulary), vocabulary)
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

    def accumulate(self, query: sp.csr_matrix, row: int, out: np.ndarray) -> None:
        """Add query ``row``'s scores against every offer into the dense vector ``out``
        (posting list by posting list, as inverted-index engines do)."""
        start, end = query.indptr[row], query.indptr[row + 1]
        self.accumulate_terms(query.indices[start:end], query.data[start:end], out)

    def accumulate_terms(self, terms: np.ndarray, term_weights: np.ndarray, out: np.ndarray) -> None:
        """Add the scores of a weighted bag of term columns against every offer into ``out``."""
        indptr, postings, weights = self.term_doc.indptr, self.term_doc.indices, self.term_doc.data
        for term, weight in zip(terms.tolist(), term_weights.tolist()):
            start, end = indptr[term], indptr[term + 1]
            out[postings[start:end]] += weights[start:end] * np.float32(weight)

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
        if self._query_scratch is None or len(self._query_scratch) != len(self.idf):
            self._query_scratch = np.zeros(len(self.idf), dtype=np.float32)
        terms = query.indices[query.indptr[row] : query.indptr[row + 1]]
        self._query_scratch[terms] = query.data[query.indptr[row] : query.indptr[row + 1]]
        indptr = self.doc_weights.indptr
        starts, lengths = indptr[offer_indices], indptr[offer_indices + 1] - indptr[offer_indices]
        # Positions of every entry of the chosen rows, concatenated, without a Python loop.
        offsets = np.repeat(starts - np.concatenate(([0], np.cumsum(lengths)[:-1])), lengths)
        entries = np.arange(lengths.sum()) + offsets
        products = self.doc_weights.data[entries] * self._query_scratch[self.doc_weights.indices[entries]]
        self._query_scratch[terms] = 0
        owner = np.repeat(np.arange(len(offer_indices)), lengths)
        return np.bincount(owner, weights=products, minlength=len(offer_indices))

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

    def need_terms(self, need_text: str) -> list[tuple[str, str, int]]:
        """(token, surface, column) of a need's known terms, computed once for all its matches."""
        vocab = self.vocabulary
        return [
            (token, surface, vocab[token])
            for token, surface in self.analyzer.tokens_with_surface(need_text)
            if token in vocab
        ]

    def shared_terms(
        self, need_terms: list[tuple[str, str, int]], offer_index: int, limit: int = 5
    ) -> list[str]:
        """Readable terms of the need (from ``need_terms``) that also weigh in the offer, biggest
        contribution first."""
        start, end = self.doc_weights.indptr[offer_index], self.doc_weights.indptr[offer_index + 1]
        offer_weight = dict(
            zip(self.doc_weights.indices[start:end].tolist(), self.doc_weights.data[start:end].tolist())
        )
        best: dict[str, float] = {}
        bigram_only: set[str] = set()
        word_surfaces: set[str] = set()
        seen_tokens: set[str] = set()
        for token, surface, column in need_terms:
            if column in offer_weight and token not in seen_tokens:  # one surface per stem
                seen_tokens.add(token)
                best[surface] = max(best.get(surface, 0.0), offer_weight[column])
                (bigram_only if token.startswith(BIGRAM_PREFIX) else word_surfaces).add(surface)
        bigram_only -= word_surfaces
        # Character bigrams only stand in when no whole word is shared; CJK words inside a longer
        # shared word (试剂 in 试剂盒) are dropped.
        words = {s for s in best if s not in bigram_only}
        if words:
            best = {s: w for s, w in best.items() if s in words}
        cjk = [s for s in best if is_cjk(s)]
        shown = [s for s in best if not (is_cjk(s) and any(s != other and s in other for other in cjk))]
        shown.sort(key=lambda s: (-best[s], s))
        return shown[:limit]

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
