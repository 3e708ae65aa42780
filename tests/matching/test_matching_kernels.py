"""The compiled loops of the ranking path against the numpy code they replaced."""

import numpy as np
import scipy.sparse as sp

from matching import kernels


def test_top_positions_keep_the_largest_and_break_ties_by_the_lower_index():
    indices = np.array([9, 3, 7, 1, 5], dtype=np.int64)
    values = np.array([0.5, 0.9, 0.5, 0.5, 0.1], dtype=np.float32)
    chosen = kernels.top_positions(indices, values, 3)
    assert indices[chosen].tolist() == [1, 3, 7]  # 0.9, then the two lowest indices among the 0.5s, by index
    assert indices[kernels.top_positions(indices, values, 10)].tolist() == [1, 3, 5, 7, 9]
    assert kernels.top_positions(indices, values, 0).tolist() == []


def test_text_top_equals_the_dense_sums_and_leaves_its_scratch_clean():
    rng = np.random.default_rng(3)
    n_offers, n_terms = 500, 60
    doc_terms = sp.random(n_offers, n_terms, density=0.1, format="csr", random_state=4, dtype=np.float32)
    doc_terms.data += 0.01  # positive weights
    term_doc = doc_terms.T.tocsr()
    scores = np.zeros(n_offers, dtype=np.float32)
    touched = np.zeros(n_offers + 1, dtype=np.int64)
    found = np.zeros(n_offers + 1, dtype=np.float32)
    mask = rng.random(n_offers) < 0.7
    for use_mask in (False, True):
        terms = np.sort(rng.choice(n_terms, 8, replace=False)).astype(np.int64)
        weights = rng.integers(1, 4, len(terms)).astype(np.float32)
        dense = np.zeros(n_offers, dtype=np.float32)
        for term, weight in zip(terms, weights):
            start, end = term_doc.indptr[term], term_doc.indptr[term + 1]
            dense[term_doc.indices[start:end]] += term_doc.data[start:end] * weight
        if use_mask:
            dense *= mask
        offers, values = kernels.text_top(
            term_doc.indptr, term_doc.indices, term_doc.data, terms, weights, mask, use_mask, scores, touched, found, 20
        )
        positive = np.flatnonzero(dense > 0)
        expected = positive[np.lexsort((positive, -dense[positive]))][:20]
        assert offers.tolist() == sorted(expected.tolist())
        assert np.array_equal(values, dense[offers])  # bit for bit
        assert not scores.any()


def test_kernels_compile_where_no_cache_can_be_written():
    namespace: dict = {}
    exec("def add_one(x):\n    return x + 1\n", namespace)  # noqa: S102 - no source file: numba cannot cache it
    assert kernels.njit(cache=True)(namespace["add_one"])(1) == 2
