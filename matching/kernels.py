"""Compiled loops of the ranking hot path (numba, compiled once and cached on disk).

Each kernel does what a few numpy calls per need did, in one pass without temporaries, with
the same float32 arithmetic in the same order, so scores are bit-for-bit those of the numpy
code they replace. Where several offers tie at a cut, the earlier-fitted offer is kept (numpy's
partition left that to chance).

The first call of each kernel in a fresh install compiles it (about a second each); the
compiled code is kept in ``__pycache__`` (or ``NUMBA_CACHE_DIR``) for every later process.
"""

from __future__ import annotations

import threading

import numpy as np
from numba import njit as _numba_jit


def njit(**options):
    """``numba.njit`` with the compiled code cached on disk when numba finds a writable place for
    it (beside the code, ``NUMBA_CACHE_DIR`` or the user's cache), compiled in memory otherwise."""

    def decorate(function):
        try:
            return _numba_jit(**options)(function)
        except RuntimeError:  # "cannot cache function ...: no locator available"
            return _numba_jit(**{**options, "cache": False})(function)

    return decorate


NO_MASK = np.ones(1, dtype=bool)  # typed stand-in for the ``mask`` argument when every offer is allowed


class Scratch:
    """Work vectors the kernels leave as they found them (zeroed, or all ``fill``), kept between
    calls and per thread: one fitted engine may rank in several threads of a process at once."""

    def __init__(self):
        self._local = threading.local()

    def vector(self, name: str, size: int, dtype, fill=0) -> np.ndarray:
        """This thread's vector ``name`` of ``size`` entries, made (all ``fill``) on first use."""
        kept = getattr(self._local, name, None)
        if kept is None or kept.shape[0] != size or kept.dtype != dtype:
            kept = np.full(size, fill, dtype=dtype)
            setattr(self._local, name, kept)
        return kept


@njit(cache=True, nogil=True, inline="always")
def _worse(values, indices, a, b):
    """Whether entry ``a`` ranks below entry ``b``: a smaller value, or a tie and a later index."""
    return values[a] < values[b] or (values[a] == values[b] and indices[a] > indices[b])


@njit(cache=True, nogil=True)
def _sift_down(heap, size, values, indices, node):
    """Move ``heap[node]`` down until no child ranks below it (the worst entry ends at the root)."""
    while True:
        child = 2 * node + 1
        if child >= size:
            return
        if child + 1 < size and _worse(values, indices, heap[child + 1], heap[child]):
            child += 1
        if not _worse(values, indices, heap[child], heap[node]):
            return
        heap[node], heap[child] = heap[child], heap[node]
        node = child


@njit(cache=True, nogil=True)
def top_positions(indices, values, k):
    """Positions of the (at most ``k``) largest ``values`` (ties: lower index first), in index
    order. One pass with a bounded heap: after the first ``k`` entries most fail one comparison."""
    count = indices.shape[0]
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    if count <= k:
        return np.argsort(indices[:count], kind="mergesort")
    heap = np.arange(k)
    for node in range(k // 2 - 1, -1, -1):  # heapify the first k entries
        _sift_down(heap, k, values, indices, node)
    for j in range(k, count):
        if _worse(values, indices, heap[0], j):
            heap[0] = j
            _sift_down(heap, k, values, indices, 0)
    return heap[np.argsort(indices[heap], kind="mergesort")]


@njit(cache=True, nogil=True)
def text_top(indptr, postings, weights, terms, term_weights, mask, use_mask, scores, touched, found, k):
    """One need's text pass over the inverted index: (offers, their scores).

    Adds each query term's posting list times its (positive) weight into ``scores`` (a zeroed
    float32 vector over offers, left zeroed; ``touched`` an int64 and ``found`` a float32 scratch
    vector one longer), drops offers outside ``mask`` (when ``use_mask``) and returns the offers
    with the ``k`` best positive scores, sorted by index, with their float32 scores.
    """
    # Branch-free bookkeeping: whether an offer is new to this need is unpredictable, and a
    # mispredicted branch per posting cost more than the additions themselves.
    # ``touched`` has one slot more than there are offers: the write below may land one past the
    # last recorded offer; ``last`` keeps it in bounds even if a zero weight re-recorded offers.
    n_touched, last = 0, touched.shape[0] - 1
    for t in range(terms.shape[0]):
        term = terms[t]
        weight = np.float32(term_weights[t])
        for j in range(indptr[term], indptr[term + 1]):
            offer = postings[j]
            touched[n_touched] = offer  # kept only when the offer had no score yet
            n_touched += (scores[offer] == 0) & (n_touched < last)
            scores[offer] += weights[j] * weight
    kept = 0  # compacted in place (kept <= j); a repeated record finds its score already cleared
    for j in range(n_touched):
        offer = touched[j]
        value = scores[offer]
        scores[offer] = 0
        touched[kept] = offer
        found[kept] = value
        kept += (value > 0) & ((not use_mask) | mask[offer])
    chosen = top_positions(touched[:kept], found[:kept], k)
    return touched[chosen], found[chosen]


@njit(cache=True, nogil=True)
def row_dots(indptr, columns, data, rows, query_dense):
    """Dot products (float32 products summed in float64, in entry order) of the chosen CSR
    ``rows`` with a dense float32 query vector."""
    out = np.zeros(rows.shape[0], dtype=np.float64)
    for r in range(rows.shape[0]):
        row = rows[r]
        total = 0.0
        for j in range(indptr[row], indptr[row + 1]):
            total += np.float64(data[j] * query_dense[columns[j]])
        out[r] = total
    return out


@njit(cache=True, nogil=True)
def row_values(indptr, columns, data, row, wanted):
    """(positions in ``wanted``, values) of the ``wanted`` columns that CSR ``row`` (sorted
    columns) has, in ``wanted`` order; values in float64."""
    positions = np.empty(wanted.shape[0], dtype=np.int64)
    values = np.empty(wanted.shape[0], dtype=np.float64)
    start, end = indptr[row], indptr[row + 1]
    n = 0
    for w in range(wanted.shape[0]):
        position = start + np.searchsorted(columns[start:end], wanted[w])
        if position < end and columns[position] == wanted[w] and data[position] != 0:
            positions[n] = w
            values[n] = data[position]
            n += 1
    return positions[:n], values[:n]


@njit(cache=True, nogil=True)
def summed_rows(indptrs, offsets, indices, data, n_offers, mask, use_mask, total, touched):
    """Per row of several stacked CSR matrices over nodes (matrix ``m``'s row ``r`` spans
    ``offsets[m] + indptrs[m, r]`` to ``offsets[m] + indptrs[m, r + 1]`` of ``indices``/``data``):
    the sum over the matrices, in matrix order, of its entries at offers (columns below
    ``n_offers``) that pass ``mask``, divided by the row's maximum.

    Returns CSR (indptr, offer indices in the order first reached, float32 values). ``total``
    (float32, over offers, left zeroed) and ``touched`` (int64, one longer) are scratch vectors.
    """
    n_matrices, n_rows = indptrs.shape[0], indptrs.shape[1] - 1
    out_indptr = np.zeros(n_rows + 1, dtype=np.int64)
    capacity = 1024
    out_indices = np.empty(capacity, dtype=np.int64)
    out_values = np.empty(capacity, dtype=np.float32)
    n_out = 0
    for row in range(n_rows):
        n_touched, last = 0, touched.shape[0] - 1
        for m in range(n_matrices):
            base = offsets[m]
            for j in range(base + indptrs[m, row], base + indptrs[m, row + 1]):
                column = indices[j]
                if column < n_offers:  # predictable: walks reach few other nodes
                    touched[n_touched] = column  # branch-free, as in ``text_top``
                    n_touched += (total[column] == 0) & (n_touched < last)
                    total[column] += data[j]
        order = touched[:n_touched]
        if n_out + n_touched > capacity:
            while n_out + n_touched > capacity:
                capacity *= 2
            grown_indices = np.empty(capacity, dtype=np.int64)
            grown_values = np.empty(capacity, dtype=np.float32)
            grown_indices[:n_out] = out_indices[:n_out]
            grown_values[:n_out] = out_values[:n_out]
            out_indices, out_values = grown_indices, grown_values
        start = n_out
        top = np.float32(0)
        for j in range(order.shape[0]):
            column = order[j]
            value = total[column]
            total[column] = 0
            if value > 0 and (not use_mask or mask[column]):
                out_indices[n_out] = column
                out_values[n_out] = value
                top = max(top, value)
                n_out += 1
        if top > 0:
            for j in range(start, n_out):
                out_values[j] = out_values[j] / top
        out_indptr[row + 1] = n_out
    return out_indptr, out_indices[:n_out], out_values[:n_out]


@njit(cache=True, nogil=True)
def backward_paths(indptr, indices, start, seed_keys, limit, max_depth, max_fanout, parent, visited):
    """Breadth-first search from node ``start`` over a CSR adjacency until ``limit`` nodes of
    ``seed_keys`` (sorted) are reached or ``max_depth`` steps are taken; once a seed is reached
    at depth d the search goes no deeper than d + 2. Nodes of degree above ``max_fanout`` are not
    expanded beyond the first step; neighbours are visited in adjacency order.

    Returns (the seeds reached, in the order reached; their chains seed -> ... -> ``start`` as
    rows padded with -1). ``parent`` (int64 over nodes, all -2, left so) and ``visited`` (int64
    over nodes) are scratch vectors.
    """
    n_seeds = seed_keys.shape[0]
    found = np.empty(n_seeds, dtype=np.int64)
    n_found = 0
    parent[start] = -1
    visited[0] = start
    low, high = 0, 1
    depth = 0
    reached = False
    while True:
        for p in range(low, high):
            node = visited[p]
            k = np.searchsorted(seed_keys, node)
            if k < n_seeds and seed_keys[k] == node:
                found[n_found] = node
                n_found += 1
        if n_found > 0 and not reached:  # two steps longer than the shortest path is as far as worth explaining
            reached = True
            max_depth = min(max_depth, depth + 2)
        if n_found >= limit or depth >= max_depth or low == high:
            break
        end = high
        for p in range(low, high):
            node = visited[p]
            begin, stop = indptr[node], indptr[node + 1]
            if depth > 0 and stop - begin > max_fanout:
                continue
            for j in range(begin, stop):
                neighbour = indices[j]
                if parent[neighbour] == -2:
                    parent[neighbour] = node
                    visited[end] = neighbour
                    end += 1
        low, high = high, end
        depth += 1
    chains = np.full((n_found, depth + 1), -1, dtype=np.int64)
    for f in range(n_found):
        node, c = found[f], 0
        while node != -1:
            chains[f, c] = node
            c += 1
            node = parent[node]
    for p in range(high):
        parent[visited[p]] = -2
    return found[:n_found], chains


@njit(cache=True, nogil=True)
def csr_entry(indptr, indices, data, row, column):
    """Entry (``row``, ``column``) of a CSR matrix with sorted columns; 0 when not stored."""
    start, end = indptr[row], indptr[row + 1]
    position = start + np.searchsorted(indices[start:end], column)
    if position < end and indices[position] == column:
        return data[position]
    return 0
