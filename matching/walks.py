"""Graph rows of a chunk of needs over the offers: the truncated personalised PageRank seeded
from each need's own neighbourhood, summed per need in one reused dense vector.

The walk's steps are sparse products for the whole chunk (``GraphIndex.walk``), but their sum is
taken need by need in a dense vector over offers, in the same order as the sparse sums it
replaces (seeds, then each step), so every value is bit-for-bit the same, without the sparse
additions that merged rows of tens of thousands of entries. The power that flattens the scores
(``graph_power``) is applied only where a value is read: at the candidates, and near the cut of
the best ``k``.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from . import kernels

PRUNE = 1e-3  # frontier entries below this share of their row's maximum are dropped before the next step
# Entries whose raw value is this much below the k-th largest cannot tie with it once powered.
_POWER_MARGIN = np.float32(1e-3)


class GraphRow:
    """One need's graph scores: offer ``indices`` (distinct, in no set order) and their values divided by the
    maximum, before the power ``power``."""

    __slots__ = ("indices", "power", "values")

    def __init__(self, indices: np.ndarray, values: np.ndarray, power: float):
        self.indices, self.values, self.power = indices, values, power

    def _powered(self, values: np.ndarray) -> np.ndarray:
        return values if self.power == 1 else values**self.power

    def top(self, k: int) -> np.ndarray:
        """Offer indices of the ``k`` largest powered values; a tie at the cut goes to the
        earlier-fitted offer (as the final ordering does)."""
        indices, values = self.indices, self.values
        if len(values) <= k:
            return indices
        kth = values[kernels.top_positions(indices, values, k)].min()  # the k-th largest raw value
        # Powering is monotone, so only entries near the k-th largest raw value can reach its
        # powered value; below the margin they stay strictly smaller even in float32.
        if self.power >= 0.01:
            near = np.flatnonzero(values >= kth * (1 - _POWER_MARGIN))
        else:
            near = np.arange(len(values))
        order = np.lexsort((indices[near], -self._powered(values[near])))[:k]  # ties: lower index first
        return indices[near[order]]

    def at(self, columns: np.ndarray, scratch: np.ndarray) -> np.ndarray:
        """Powered values at offer ``columns`` (0 where absent); ``scratch`` is a zeroed vector
        over offers, left zeroed."""
        if len(self.indices) == 0 or len(columns) == 0:
            return np.zeros(len(columns))
        scratch[self.indices] = self.values
        out = scratch[columns].astype(np.float32)  # powered in float32 as before (scratch may be float64)
        scratch[self.indices] = 0
        return self._powered(out).astype(np.float64)


EMPTY_GRAPH_ROW = GraphRow(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32), 1.0)


def need_graph_rows(terms: list[sp.csr_matrix], mask, n_offers: int, power: float) -> list[GraphRow]:
    """Per need (row of the ``terms``, the walk's seeds and steps over all nodes): the sum of
    the terms over offers, offers failing ``mask`` (the needs' shared kind mask) left out,
    divided by the maximum."""
    n_rows = terms[0].shape[0] if terms else 0
    if n_rows == 0:
        return []
    indptrs = np.stack([np.asarray(term.indptr, dtype=np.int64) for term in terms])
    sizes = [term.nnz for term in terms]
    offsets = np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(np.int64)
    indices = np.concatenate([term.indices[: term.nnz] for term in terms])
    data = np.concatenate([term.data[: term.nnz].astype(np.float32, copy=False) for term in terms])
    total = np.zeros(n_offers, dtype=np.float32)
    touched = np.empty(n_offers + 1, dtype=np.int64)
    indptr, offers, values = kernels.summed_rows(
        indptrs, offsets, indices, data, n_offers, mask if mask is not None else kernels.NO_MASK,
        mask is not None, total, touched,
    )
    return [
        GraphRow(offers[indptr[row] : indptr[row + 1]], values[indptr[row] : indptr[row + 1]], power)
        for row in range(n_rows)
    ]


def walk_terms(
    transition: sp.csr_matrix,
    seeds: sp.csr_matrix,
    steps: int,
    damping: float,
    include_seeds: bool,
    prune: float,
    last_step: sp.csr_matrix | None = None,
) -> list[sp.csr_matrix]:
    """The terms of the truncated personalised PageRank ``GraphIndex.propagate`` sums, in order:
    the seeds (if ``include_seeds``), then damping^t * seeds @ P^t for each step, each before
    the pruning of the frontier (entries below ``prune`` x row maximum) that the next step starts from.
    ``last_step`` (from ``offer_step``) replaces P in the last step."""
    frontier = seeds.tocsr().astype(np.float32)
    terms = [frontier.copy()] if include_seeds else []
    for step in range(steps):
        last = last_step is not None and step + 1 == steps
        frontier = (frontier @ (last_step if last else transition)).tocsr()
        frontier.data *= np.float32(damping)  # in place: the product is ours
        if step + 1 < steps and frontier.nnz:
            terms.append(frontier.copy())  # pruning below works in place
            frontier = _prune_rows(frontier, prune)
        else:
            terms.append(frontier)
    return terms


def offer_step(transition: sp.csr_matrix, n_offers: int, mask: np.ndarray | None) -> sp.csr_matrix:
    """``transition`` keeping only the columns of offers that pass ``mask`` (every offer when None).

    A walk's last step only has to reach the offers a need may be shown: their values are the
    same (a column's sum does not depend on the other columns) for a fraction of the work.
    """
    keep = np.zeros(transition.shape[1], dtype=bool)
    keep[:n_offers] = True if mask is None else mask
    # Copies of the index arrays: eliminate_zeros works in place and the transition may be a memory map.
    step = sp.csr_matrix(
        (transition.data * keep[transition.indices], transition.indices.copy(), transition.indptr.copy()),
        transition.shape,
    )
    step.eliminate_zeros()
    return step


def _prune_rows(matrix: sp.csr_matrix, relative: float) -> sp.csr_matrix:
    """Zero entries smaller than ``relative`` x their row's maximum."""
    if matrix.nnz == 0:
        return matrix
    row_max = np.maximum.reduceat(matrix.data, matrix.indptr[:-1][np.diff(matrix.indptr) > 0])
    full_max = np.zeros(matrix.shape[0], dtype=matrix.data.dtype)
    full_max[np.diff(matrix.indptr) > 0] = row_max
    row_of_entry = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    keep = matrix.data >= full_max[row_of_entry] * relative
    if keep.all():
        return matrix
    matrix.data[~keep] = 0  # in place: callers pass a temporary
    matrix.eliminate_zeros()
    return matrix
