"""Does a match strength mean the same for every need? Reliability of ``calibration`` on judged data.

The site shows a 0-100 strength and a band (strong / good / possible) instead of raw scores. This module
checks that promise offline, the way a deployment would live it:

1. the needs are split in two by a stable hash of their id: a *fitting* half and a *held-out* half;
2. on the fitting half the calibration is fitted as the site fits it: the quantiles of the scores of the
   matches shown (top 10 per need), and, as if those pairings had been judged, an isotonic fit of the share
   judged relevant against the score;
3. on the held-out half each shown match gets its strength; the report gives, per band, how many matches
   fall in it and the share judged relevant, for all needs and separately for short and long needs (by
   their text length, split at the median), and for the judged calibration the expected calibration error
   (mean gap between the strength read as a probability and the observed share, over ten strength bins).

A strength means the same across needs when each band's share judged relevant is close for short and
long needs and the shares fall from band to band.
"""

from __future__ import annotations

import statistics
import zlib

import numpy as np

from .calibration import BANDS, Calibration, band

SHOWN = 10  # matches a need page shows


def fitting_fold(need_id: str) -> bool:
    """Whether a need belongs to the fitting half (a stable hash of its id; the same on every run)."""
    return zlib.crc32(f"reliability:{need_id}".encode()) % 2 == 0


def _shown_pairs(results: list[dict], qrels: dict[str, dict[str, int]]) -> list[tuple[str, float, bool]]:
    """(need id, raw score, judged relevant) for the top ``SHOWN`` matches of each judged need."""
    pairs = []
    for result in results:
        grades = qrels.get(result["need"])
        if not grades:
            continue
        for match in result["matches"][:SHOWN]:
            pairs.append((result["need"], float(match["score"]), grades.get(match["offer"], 0) > 0))
    return pairs


def _band_table(strengths: list[int], relevant: list[bool]) -> dict[str, dict]:
    table = {}
    for name, _floor in BANDS:
        picked = [ok for s, ok in zip(strengths, relevant) if band(s) == name]
        table[name] = {"matches": len(picked), "relevant_share": (sum(picked) / len(picked)) if picked else None}
    return table


def expected_calibration_error(strengths: list[int], relevant: list[bool], bins: int = 10) -> float:
    """Mean |strength / 100 - share relevant| over strength bins, weighted by the matches in each bin."""
    if not strengths:
        return 0.0
    probs = np.asarray(strengths, dtype=float) / 100.0
    outcomes = np.asarray(relevant, dtype=float)
    which = np.minimum((probs * bins).astype(int), bins - 1)
    error = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            error += mask.sum() * abs(probs[mask].mean() - outcomes[mask].mean())
    return float(error / len(probs))


def strength_reliability(results: list[dict], qrels: dict[str, dict[str, int]], need_texts: dict[str, str]) -> dict:
    """Reliability report of both calibrations (see the module docstring) from ranked ``results``
    (``engine.rank`` output with scores), the judgments and each need's text (for the short / long split)."""
    pairs = _shown_pairs(results, qrels)
    fitting = [(score, ok, len(need_texts.get(need, ""))) for need, score, ok in pairs if fitting_fold(need)]
    held_out = [(need, score, ok) for need, score, ok in pairs if not fitting_fold(need)]
    if not fitting or not held_out:
        return {"held_out_matches": len(held_out)}
    lengths = {need: len(need_texts.get(need, "")) for need, _, _ in held_out}
    median = statistics.median(lengths.values())
    report: dict = {"fitting_matches": len(fitting), "held_out_matches": len(held_out)}
    calibrations = {
        "quantile": Calibration.fit([item[0] for item in fitting]),
        "judged": Calibration.fit([], judged=[item[:2] for item in fitting]),
        "by length": Calibration.fit([], judged=fitting),
    }
    for method, calibration in calibrations.items():
        strengths = [calibration.strength(score, lengths[need]) for need, score, _ in held_out]
        relevant = [ok for _, _, ok in held_out]
        short = [i for i, (need, _, _) in enumerate(held_out) if lengths[need] <= median]
        long = [i for i, (need, _, _) in enumerate(held_out) if lengths[need] > median]
        report[method] = {
            "all": _band_table(strengths, relevant),
            "short needs": _band_table([strengths[i] for i in short], [relevant[i] for i in short]),
            "long needs": _band_table([strengths[i] for i in long], [relevant[i] for i in long]),
            "ece": expected_calibration_error(strengths, relevant),
        }
    return report


def format_reliability(report: dict) -> str:
    """Plain-text table of a ``strength_reliability`` report."""
    if "quantile" not in report:
        return "strength reliability: too few judged matches"
    lines = [
        f"strength reliability: fitted on {report['fitting_matches']} shown matches, "
        f"checked on {report['held_out_matches']} of held-out needs (share judged relevant per band)",
        f"{'calibration':<12} {'needs':<12} " + " ".join(f"{name:>16}" for name, _ in BANDS) + f" {'ECE':>6}",
    ]
    for method in ("quantile", "judged", "by length"):
        for group in ("all", "short needs", "long needs"):
            cells = []
            for name, _floor in BANDS:
                cell = report[method][group][name]
                share = "-" if cell["relevant_share"] is None else f"{cell['relevant_share']:.2f}"
                cells.append(f"{share:>6} ({cell['matches']:>6})")
            ece = f"{report[method]['ece']:.3f}" if group == "all" else ""
            lines.append(f"{method:<12} {group:<12} " + " ".join(f"{c:>16}" for c in cells) + f" {ece:>6}")
    return "\n".join(lines)
