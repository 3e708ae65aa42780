"""A match strength people understand: raw fused scores mapped to 0-100 through one monotone function per
deployment, so that "strong" means the same whichever need it is shown for.

Without judged pairs the function is the empirical distribution of the best scores the deployment gives
(its quantiles as knots): a strength of 80 means "better than 80 % of the pairings the platform proposes".
With enough accepted / dismissed pairs it is an isotonic fit of the acceptance rate against the raw score.
Either way it is a list of knots (raw score -> strength) interpolated linearly, saved as JSON with the model.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

FILE_NAME = "calibration.json"
STRONG_STRENGTH = 75
BANDS = (("strong", STRONG_STRENGTH), ("good", 45), ("possible", 0))  # band -> lowest strength in it
MIN_JUDGED = 30
_QUANTILES = np.linspace(0.0, 1.0, 21)


def band(strength: float | None) -> str | None:
    """The band name of a 0-100 strength (None for None)."""
    if strength is None:
        return None
    for name, floor in BANDS:
        if strength >= floor:
            return name
    return BANDS[-1][0]


class Calibration:
    """Monotone map from raw score to a 0-100 strength."""

    def __init__(self, knots_x: list[float] | None = None, knots_y: list[float] | None = None, method: str = "none"):
        self.knots_x = [float(x) for x in knots_x or []]
        self.knots_y = [float(y) for y in knots_y or []]
        self.method = method

    @classmethod
    def fit(cls, scores, judged: list[tuple[float, bool]] | None = None) -> Calibration:
        """Fit on the raw scores the deployment proposes; ``judged`` (score, accepted) pairs take over once
        there are ``MIN_JUDGED`` of them with both outcomes."""
        judged = list(judged or [])
        if len(judged) >= MIN_JUDGED and len({ok for _, ok in judged}) == 2:
            from sklearn.isotonic import IsotonicRegression

            x = np.array([s for s, _ in judged], dtype=float)
            y = np.array([1.0 if ok else 0.0 for _, ok in judged])
            model = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(x, y)
            grid = np.unique(np.quantile(x, _QUANTILES))
            return cls(list(grid), list(100.0 * model.predict(grid)), "isotonic")
        values = np.asarray([float(s) for s in scores if s is not None and np.isfinite(s)], dtype=float)
        if values.size == 0:
            return cls()
        knots = np.quantile(values, _QUANTILES)
        xs, ys = [], []
        for x, q in zip(knots, _QUANTILES):
            if xs and x <= xs[-1]:  # ties: keep the highest strength reached at that score
                ys[-1] = 100.0 * q
                continue
            xs.append(float(x))
            ys.append(100.0 * q)
        return cls(xs, ys, "quantile")

    def strength(self, score: float) -> int | None:
        """0-100 strength of a raw score (None when nothing was fitted)."""
        if not self.knots_x:
            return None
        if len(self.knots_x) == 1:
            return 100 if score >= self.knots_x[0] else 0
        return round(float(np.interp(score, self.knots_x, self.knots_y)))

    def state(self) -> dict:
        return {"method": self.method, "knots_x": self.knots_x, "knots_y": self.knots_y}

    def save(self, directory) -> None:
        """Write ``calibration.json`` into a saved model's directory."""
        Path(directory, FILE_NAME).write_text(json.dumps(self.state()), encoding="utf-8")

    @classmethod
    def load(cls, directory) -> Calibration:
        """The calibration saved with a model (an empty one when there is none)."""
        path = Path(directory, FILE_NAME)
        if not path.exists():
            return cls()
        state = json.loads(path.read_text(encoding="utf-8"))
        return cls(state.get("knots_x"), state.get("knots_y"), state.get("method", "none"))
