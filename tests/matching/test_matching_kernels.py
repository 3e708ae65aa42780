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


def _reference_paths(adjacency, seeds, start, limit, max_depth, max_fanout):
    """The path search as plain Python (the implementation the kernel replaced): seed -> chain to ``start``."""
    found, parent, frontier = {}, {start: -1}, [start]
    for depth in range(max_depth + 1):
        for node in frontier:
            if node in seeds and node not in found:
                chain, current = [], node
                while current != -1:
                    chain.append(current)
                    current = parent[current]
                found[node] = chain
        if found:
            max_depth = min(max_depth, min(len(chain) for chain in found.values()) + 1)
        if len(found) >= limit or depth >= max_depth:
            break
        next_frontier = []
        for node in frontier:
            begin, end = adjacency.indptr[node], adjacency.indptr[node + 1]
            if depth > 0 and end - begin > max_fanout:
                continue
            for neighbour in adjacency.indices[begin:end].tolist():
                if neighbour not in parent:
                    parent[neighbour] = node
                    next_frontier.append(neighbour)
        frontier = next_frontier
    return found


def test_backward_paths_find_the_chains_of_the_breadth_first_search_and_leave_their_scratch_clean():
    rng = np.random.default_rng(11)
    n_nodes = 300
    upper = sp.random(n_nodes, n_nodes, density=0.02, format="csr", random_state=5, dtype=np.float32)
    adjacency = ((upper + upper.T) > 0).astype(np.float32).tocsr()
    adjacency.sort_indices()
    parent = np.full(n_nodes, -2, dtype=np.int64)
    visited = np.empty(n_nodes, dtype=np.int64)
    searches = 0
    for _ in range(200):
        seeds = set(rng.choice(n_nodes, int(rng.integers(1, 20)), replace=False).tolist())
        start = int(rng.integers(n_nodes))
        limit, max_depth, max_fanout = int(rng.integers(1, 4)), int(rng.integers(0, 5)), int(rng.integers(2, 8))
        keys = np.array(sorted(seeds), dtype=np.int64)
        found, chains = kernels.backward_paths(
            adjacency.indptr, adjacency.indices, start, keys, limit, max_depth, max_fanout, parent, visited
        )
        got = {seed: [n for n in chain if n >= 0] for seed, chain in zip(found.tolist(), chains.tolist())}
        expected = _reference_paths(adjacency, seeds, start, limit, max_depth, max_fanout)
        assert got == expected
        assert list(got) == list(expected)  # the order reached
        assert (parent == -2).all()
        searches += bool(expected)
    assert searches > 50  # most searches reach a seed: the comparison is not vacuous


def test_csr_entry_reads_stored_entries_and_zero_elsewhere():
    matrix = sp.csr_matrix(np.array([[0, 3, 0, 5], [0, 0, 0, 0], [7, 0, 0, 1]], dtype=np.int32))
    for row in range(3):
        for column in range(4):
            assert kernels.csr_entry(matrix.indptr, matrix.indices, matrix.data, row, column) == matrix[row, column]
