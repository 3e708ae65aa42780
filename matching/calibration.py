"""A match strength people understand: raw fused scores mapped to 0-100 through one monotone function per
deployment, so that "strong" means the same whichever need it is shown for.

Without judged pairs the function is the empirical distribution of the best scores the deployment gives
(its quantiles as knots): a strength of 80 means "better than 80 % of the pairings the platform proposes".
With enough accepted / dismissed pairs it is an isotonic fit of the acceptance rate against the raw score.
Either way it is a list of knots (raw score -> strength) interpolated linearly, saved as JSON with the model.

The same raw score is not equally telling for every need: a long, specific need whose best offer scores 1.2
is more often a real fit than a two-word need at 1.2 (measured on KUAKE-QTR's judged pairs: 0.83 against
0.67 of the "strong" matches judged relevant). When judged pairs carry the need's text length and there are
enough of them, the isotonic fit is made per length stratum (up to three, each with
``MIN_JUDGED_PER_STRATUM`` pairs and both outcomes), so that a strength of 80 reads as "80 % of such matches are taken up" for short and long
needs alike.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .records import record_text

FILE_NAME = "calibration.json"
STRONG_STRENGTH = 75
BANDS = (("strong", STRONG_STRENGTH), ("good", 45), ("possible", 0))  # band -> lowest strength in it
MIN_JUDGED = 30
MAX_STRATA = 3
MIN_JUDGED_PER_STRATUM = 200  # fewer pairs per stratum over-fit (cacm's 250 judged pairs: ECE 0.08 -> 0.33)
_QUANTILES = np.linspace(0.0, 1.0, 21)


def need_length(need: dict) -> int:
    """The need-length feature of the calibration: characters of the need's analysed text."""
    return len(record_text(need))


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

    def __init__(
        self,
        knots_x: list[float] | None = None,
        knots_y: list[float] | None = None,
        method: str = "none",
        strata: list[dict] | None = None,
    ):
        self.knots_x = [float(x) for x in knots_x or []]
        self.knots_y = [float(y) for y in knots_y or []]
        self.method = method
        # [{"max_length": int | None, "knots_x": [...], "knots_y": [...]}, ...], shortest needs first
        self.strata = list(strata or [])

    @classmethod
    def fit(cls, scores, judged: list[tuple] | None = None) -> Calibration:
        """Fit on the raw scores the deployment proposes; ``judged`` pairs ``(score, accepted)`` or
        ``(score, accepted, need_text_length)`` take over once there are ``MIN_JUDGED`` of them with both
        outcomes (per need-length stratum when the lengths are given and there are enough)."""
        judged = list(judged or [])
        if len(judged) >= MIN_JUDGED and len({item[1] for item in judged}) == 2:
            knots_x, knots_y = _isotonic_knots(judged)
            return cls(knots_x, knots_y, "isotonic", _length_strata(judged))
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

    def strength(self, score: float, need_length: int | None = None) -> int | None:
        """0-100 strength of a raw score (None when nothing was fitted); ``need_length`` (characters of the
        need's text) picks the need-length stratum when the calibration has them."""
        knots_x, knots_y = self.knots_x, self.knots_y
        if self.strata and need_length is not None:
            stratum = next(
                (s for s in self.strata if s["max_length"] is None or need_length <= s["max_length"]),
                self.strata[-1],
            )
            knots_x, knots_y = stratum["knots_x"], stratum["knots_y"]
        if not knots_x:
            return None
        if len(knots_x) == 1:
            return 100 if score >= knots_x[0] else 0
        return round(float(np.interp(score, knots_x, knots_y)))

    def state(self) -> dict:
        return {"method": self.method, "knots_x": self.knots_x, "knots_y": self.knots_y, "strata": self.strata}

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
        return cls(state.get("knots_x"), state.get("knots_y"), state.get("method", "none"), state.get("strata"))


def _isotonic_knots(judged: list[tuple]) -> tuple[list[float], list[float]]:
    """Knots of an isotonic fit of the acceptance rate (0-100) against the raw score."""
    from sklearn.isotonic import IsotonicRegression

    x = np.array([item[0] for item in judged], dtype=float)
    y = np.array([1.0 if item[1] else 0.0 for item in judged])
    model = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(x, y)
    grid = np.unique(np.quantile(x, _QUANTILES))
    return [float(g) for g in grid], [float(v) for v in 100.0 * model.predict(grid)]


def _length_strata(judged: list[tuple]) -> list[dict]:
    """Per need-length isotonic fits: the most strata (up to ``MAX_STRATA``, split at length quantiles)
    whose every stratum has ``MIN_JUDGED_PER_STRATUM`` pairs with both outcomes; [] when fewer than two qualify."""
    with_length = [item for item in judged if len(item) > 2 and item[2] is not None]
    for count in range(MAX_STRATA, 1, -1):
        lengths = np.array([item[2] for item in with_length], dtype=float)
        if lengths.size < count * MIN_JUDGED_PER_STRATUM:
            continue
        cuts = sorted({int(c) for c in np.quantile(lengths, np.linspace(0, 1, count + 1)[1:-1])})
        bounds = [*cuts, None]
        groups, low = [], -1
        for high in bounds:
            groups.append([i for i in with_length if i[2] > low and (high is None or i[2] <= high)])
            low = high if high is not None else low
        if len(groups) == count and all(
            len(g) >= MIN_JUDGED_PER_STRATUM and len({item[1] for item in g}) == 2 for g in groups
        ):
            strata = []
            for high, group in zip(bounds, groups):
                knots_x, knots_y = _isotonic_knots(group)
                strata.append({"max_length": high, "knots_x": knots_x, "knots_y": knots_y})
            return strata
    return []
