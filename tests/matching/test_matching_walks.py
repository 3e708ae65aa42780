"""The graph walk summed per need (matching/walks.py) against the plain sparse sums it replaces."""

import numpy as np
import scipy.sparse as sp

from matching.sparse_rows import masked_row
from matching.walks import PRUNE, GraphRow, need_graph_rows, offer_step, walk_terms


def _random_graph(n_offers: int, n_other: int, seed: int = 3):
    rng = np.random.default_rng(seed)
    n = n_offers + n_other
    rows = rng.integers(0, n, 4 * n)
    cols = np.where(rows < n_offers, rng.integers(n_offers, n, 4 * n), rng.integers(0, n, 4 * n))
    adjacency = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(n, n))
    adjacency = ((adjacency + adjacency.T) > 0).astype(np.float32).tocsr()
    degree = np.asarray(adjacency.sum(axis=1)).ravel()
    inverse = np.divide(1.0, degree, out=np.zeros_like(degree), where=degree > 0)
    transition = sp.csr_matrix(sp.diags(inverse.astype(np.float32)) @ adjacency)
    transition.sort_indices()
    seeds = sp.csr_matrix(
        (np.full(12, 0.5, np.float32), (np.repeat(np.arange(6), 2), rng.integers(n_offers, n, 12))),
        shape=(6, n),
    )
    return transition, seeds


def test_rows_equal_the_sparse_sum_and_the_last_step_may_skip_masked_offers():
    n_offers = 300
    transition, seeds = _random_graph(n_offers, 40)
    mask = np.arange(n_offers) % 3 == 0
    terms = walk_terms(transition, seeds, 3, 0.85, True, PRUNE)
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    restricted = walk_terms(transition, seeds, 3, 0.85, True, PRUNE, offer_step(transition, n_offers, mask))
    assert (
        transition.nnz == offer_step(transition, n_offers, None).nnz + (transition.indices >= n_offers).sum()
    )
    for masks, walked in (([None] * 6, terms), ([mask] * 6, terms), ([mask] * 6, restricted)):
        rows = need_graph_rows(walked, masks[0], n_offers, 0.25)
        for i, row in enumerate(rows):
            indices, values = masked_row(total.tocsr(), i, masks[i], n_offers)
            order, row_order = np.argsort(indices), np.argsort(row.indices)
            assert np.array_equal(row.indices[row_order], indices[order])
            assert np.array_equal(row.values[row_order], values[order])  # bit for bit
            assert np.array_equal(row.at(indices, np.zeros(n_offers)), (values**0.25).astype(np.float64))


def test_top_breaks_ties_at_the_cut_by_the_earlier_offer():
    row = GraphRow(np.array([2, 5, 7, 9, 11]), np.array([1.0, 0.5, 0.5, 0.5, 0.2], np.float32), 0.25)
    assert sorted(row.top(3).tolist()) == [2, 5, 7]
    assert sorted(row.top(10).tolist()) == [2, 5, 7, 9, 11]
