"""Sparse-row helpers of the scoring pipeline; a row is (column indices, values) over offers or nodes."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

# A row with no entries: the graph rows of a need the graph does not reach.
EMPTY_ROW = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))


def masked_row(
    matrix: sp.csr_matrix, row: int, mask: np.ndarray | None, n_columns: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Positive entries of one row (columns below ``n_columns`` if given) that pass ``mask``,
    divided by their maximum (best = 1). Indices are not necessarily sorted."""
    start, end = matrix.indptr[row], matrix.indptr[row + 1]
    indices, values = matrix.indices[start:end], matrix.data[start:end]
    keep = values > 0
    if n_columns is not None:
        keep &= indices < n_columns
        indices = np.minimum(indices, n_columns - 1)  # keeps mask[] in range; dropped by keep anyway
    if mask is not None:
        keep &= mask[indices]
    if not keep.all():
        indices, values = indices[keep], values[keep]
    top = values.max() if len(values) else 0.0
    return indices, (values / top if top > 0 else values)


def top_dense(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the (at most) k largest positive entries of a dense vector, unordered."""
    # Only the positive entries compete (usually a fraction of the offers): a smaller partition.
    positive = np.flatnonzero(scores > 0)
    if k < len(positive):
        positive = positive[np.argpartition(-scores[positive], k - 1)[:k]]
    return np.sort(positive)


def top_columns(row: tuple[np.ndarray, np.ndarray], k: int) -> np.ndarray:
    """Column indices of the k largest values (unordered)."""
    indices, values = row
    if len(values) <= k:
        return indices
    return indices[np.argpartition(-values, k - 1)[:k]]


def values_at(row: tuple[np.ndarray, np.ndarray], columns: np.ndarray, scratch: np.ndarray) -> np.ndarray:
    """Values of a sparse row at ``columns`` (0 where absent).

    ``scratch`` is one zeroed vector over offers, reused for every row: scatter, gather, clear
    costs O(row entries) and needs no sorting.
    """
    indices, values = row
    if len(indices) == 0 or len(columns) == 0:
        return np.zeros(len(columns))
    scratch[indices] = values
    out = scratch[columns].astype(np.float64)
    scratch[indices] = 0
    return out


def seed_matrix(seed_weights: list[dict[int, float]], n_nodes: int) -> sp.csr_matrix:
    """Batch x nodes seed distribution, each non-empty row summing to 1."""
    rows, cols, vals = [], [], []
    for row, seeds in enumerate(seed_weights):
        total = sum(seeds.values())
        for node, weight in seeds.items():
            rows.append(row)
            cols.append(node)
            vals.append(weight / total)
    return sp.csr_matrix((np.array(vals, dtype=np.float32), (rows, cols)), shape=(len(seed_weights), n_nodes))


def rows_matrix(rows: list[tuple[np.ndarray, np.ndarray]], n_columns: int) -> sp.csr_matrix:
    """CSR matrix from (sorted column indices, values) rows."""
    indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    indptr[1:] = np.cumsum([len(indices) for indices, _ in rows])
    indices = np.concatenate([indices for indices, _ in rows]) if rows else np.zeros(0, np.int64)
    data = np.concatenate([values for _, values in rows]) if rows else np.zeros(0, np.float32)
    return sp.csr_matrix((data.astype(np.float32), indices, indptr), shape=(len(rows), n_columns))
