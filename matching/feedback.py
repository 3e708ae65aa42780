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


def ranking_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Share of (positive, negative) pairs the scores order correctly (ties count half)."""
    positive, negative = scores[labels == 1], scores[labels == 0]
    if len(positive) == 0 or len(negative) == 0:
        return 0.5
    diff = positive[:, None] - negative[None, :]
    return float(((diff > 0).sum() + 0.5 * (diff == 0).sum()) / diff.size)


def held_out_fold(key: str, salt: str = "guard", folds: int = 4) -> bool:
    """Stable choice of the outcomes kept out of training (by need, so a need is never in both);
    a different ``salt`` draws a different quarter."""
    import zlib

    return zlib.crc32(f"{salt}:{key}".encode()) % folds == 0


def guarded_weights(
    parts: np.ndarray,
    labels: np.ndarray,
    groups: list[str],
    current: dict[str, float],
    defaults: dict[str, float],
    min_labelled: int = 30,
) -> tuple[dict[str, float] | None, dict]:
    """Learn weights on most outcomes, compare them with ``current`` on held-out needs' outcomes,
    and return (weights learnt on all outcomes, report) only when the learnt ones order the
    held-out outcomes better; otherwise (None, report). ``groups`` names each row's need."""
    labels = np.asarray(labels, dtype=int)
    held = np.array([held_out_fold(g) for g in groups], dtype=bool)
    report = {"outcomes": len(labels), "held_out": int(held.sum()), "accepted": False}
    trial = fit_weights(parts[~held], labels[~held], defaults, max(min_labelled * 3 // 4, 1))
    if trial is None or len(set(labels[held].tolist())) < 2 or len(labels) < min_labelled:
        report["reason"] = "not enough outcomes of both kinds to learn and check"
        return None, report
    vector = lambda weights: np.array([weights.get(p, 0.0) for p in PARTS])
    report["auc_current"] = ranking_auc(parts[held] @ vector(current), labels[held])
    report["auc_learnt"] = ranking_auc(parts[held] @ vector(trial), labels[held])
    if report["auc_learnt"] <= report["auc_current"]:
        report["reason"] = "learnt weights do not order held-out outcomes better"
        return None, report
    report["accepted"] = True
    return fit_weights(parts, labels, defaults, min_labelled), report
