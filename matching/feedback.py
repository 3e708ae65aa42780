"""Fusion weights of the score parts, and learning them from user feedback.

The final score is ``sum(weight[part] * part_value)``. Parts:

``text``        text similarity, divided by the need's best text score (0..1)
``graph``       personalised PageRank from the need's own graph neighbourhood (0..1 of its best)
``graph_text``  PageRank from the need's best text matches, i.e. neighbours of strong matches (0..1)
``tags``        share of the need's tags the offer carries (0..1)
``rules``       soft fit rules, (met - failed) / applicable (-1..1)
``dense``       cosine of need and offer sentence vectors (semantic channel; 0 when it is off)

Before there is enough feedback the defaults below apply; they were set so that the text decides
when the graph does not reach the need, and a graph link can lift a moderately matching offer
above a slightly better text match.
"""

from __future__ import annotations

import numpy as np

PARTS = ("text", "graph", "graph_text", "tags", "rules", "dense")
DEFAULT_WEIGHTS = {"text": 1.0, "graph": 0.6, "graph_text": 0.2, "tags": 0.2, "rules": 0.3, "dense": 0.5}
POSITIVE_LABELS = {
    "accepted",
    "signed",
    "accept",
    "sign",
    "deal",
    "introduced",
    "yes",
    "positive",
    "1",
    "true",
}
NEGATIVE_LABELS = {"dismissed", "dismiss", "rejected", "declined", "no", "negative", "0", "false"}


def label_value(label) -> int:
    """1 for accepted / signed (or truthy numbers), 0 for dismissed; ``ValueError`` otherwise."""
    if isinstance(label, bool):
        return int(label)
    if isinstance(label, (int, float)):
        return int(label > 0)
    key = str(label).strip().lower()
    if key in POSITIVE_LABELS:
        return 1
    if key in NEGATIVE_LABELS:
        return 0
    raise ValueError(f"unknown feedback label {label!r} (use accepted / signed / dismissed)")


def fit_weights(
    parts: np.ndarray, labels: np.ndarray, defaults: dict[str, float], min_labelled: int = 30
) -> dict[str, float] | None:
    """Logistic-regression fusion weights from labelled (need, offer) score parts.

    ``parts`` is n x len(PARTS). Returns None (keep current weights) unless there are at least
    ``min_labelled`` examples of both classes together. Parts that never vary in the feedback
    keep their default weight, rescaled to the learnt weights' scale, so that a signal
    missing from the feedback is not switched off.
    """
    labels = np.asarray(labels, dtype=int)
    if len(labels) < min_labelled or len(set(labels.tolist())) < 2:
        return None
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=1.0, class_weight="balanced", max_iter=1000)
    model.fit(parts, labels)
    coef = model.coef_[0]
    varies = parts.std(axis=0) > 1e-9
    default = np.array([defaults[p] for p in PARTS])
    learnt_scale = np.abs(coef[varies]).sum()
    default_scale = np.abs(default[varies]).sum()
    scale = learnt_scale / default_scale if learnt_scale > 0 and default_scale > 0 else 1.0
    weights = np.where(varies, coef, default * scale)
    if scale > 0:
        weights = weights / scale  # keep the familiar magnitude (text weight around 1)
    return {part: float(w) for part, w in zip(PARTS, weights)}
