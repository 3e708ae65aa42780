"""How informative a fitted graph is, measured on the collection itself, so the graph parts weigh
what the graph is worth here instead of one fixed weight for every collection.

Probe: a fixed, evenly spread sample of the fitted offers is used as pseudo-queries. For each,
its nearest offers by text (BM25 of its own words, itself left out) are compared with its nearest
offers by graph (the same truncated PageRank walk the ranking uses, seeded at the offer). The
*agreement* is the share of the graph neighbours that are also text neighbours, averaged over the
sampled offers whose walk reaches another offer; *reached* is the share of sampled offers that do.
A graph whose links point to offers about the same thing as the text is worth following for needs
too; one whose links are unrelated to content is worth less.

The measured factor is ``agreement / (agreement + HALF_POINT)``, normalised so that a graph agreeing
as much as ``REFERENCE`` keeps the configured weight (the weights were tuned on cacm, whose citation
and author graph agrees about 0.2), capped at ``MAX_SCALE``. It counts in proportion to the
evidence: with ``reached`` the share of probes that measured something, the scale is
``reached × measured + (1 − reached) × 1``, so a graph that links needs to offers but offers not to
each other (nothing to measure) keeps the configured weight.
"""

from __future__ import annotations

import numpy as np

from .sparse_rows import seed_matrix

PROBE_OFFERS = 300  # offers used as pseudo-queries (evenly spread over the fitted order)
NEIGHBOURS = 10  # nearest offers compared on each side
PROBE_BLOCK = 64  # pseudo-queries scored together
REFERENCE = 0.2  # agreement at which the configured graph weights apply unchanged (about cacm's)
HALF_POINT = 0.05  # agreement at which the saturating curve is at half its height
MAX_SCALE = 2.0  # the graph parts never weigh more than twice their configured weight


def graph_agreement(text, graph, steps: int, damping: float) -> dict:
    """Agreement between graph and text neighbours on a sample of offers (over the probes that
    reach another offer), and the share of probes that do: ``{"agreement", "reached", "probes"}``."""
    n_offers = graph.n_offers
    if n_offers < 2 or graph.n_edges == 0:
        return {"agreement": 0.0, "reached": 0.0, "probes": 0}  # nothing to measure
    sample = np.unique(np.linspace(0, n_offers - 1, min(PROBE_OFFERS, n_offers)).astype(np.int64))
    k = min(NEIGHBOURS, n_offers - 1)
    total, reached = 0.0, 0
    for start in range(0, len(sample), PROBE_BLOCK):
        block = sample[start : start + PROBE_BLOCK]
        # Text: each offer's own term weights as a query (a dot product of BM25 rows).
        text_scores = (text.doc_weights @ text.doc_weights[block].T).T.toarray()
        walked = graph.propagate(
            seed_matrix([{int(o): 1.0} for o in block], len(graph.nodes)), steps, damping, include_seeds=False
        )
        walked = walked[:, :n_offers].toarray()
        for row, offer in enumerate(block.tolist()):
            text_row, graph_row = text_scores[row], walked[row]
            text_row[offer] = graph_row[offer] = 0.0
            graph_top = _top(graph_row, k)
            if len(graph_top) == 0:
                continue
            reached += 1
            total += len(np.intersect1d(graph_top, _top(text_row, k))) / len(graph_top)
    return {"agreement": total / max(reached, 1), "reached": reached / len(sample), "probes": len(sample)}


def _top(row: np.ndarray, k: int) -> np.ndarray:
    positive = np.flatnonzero(row > 0)
    if len(positive) > k:
        positive = positive[np.argpartition(-row[positive], k - 1)[:k]]
    return positive


def graph_scale(
    agreement: float,
    reached: float,
    reference: float = REFERENCE,
    half_point: float = HALF_POINT,
    max_scale: float = MAX_SCALE,
) -> float:
    """Factor for the graph parts' weights: saturating in the agreement, 1 at ``reference``,
    weighed by the share of probes that measured it (the rest count as 1, no evidence)."""
    measured = (agreement / (agreement + half_point)) / (reference / (reference + half_point))
    measured = min(max_scale, max(0.0, measured))
    return float(reached * measured + (1 - reached))
