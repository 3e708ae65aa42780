"""Strength per need length and its reliability check (matching.calibration, matching.reliability)."""

import random

from matching.calibration import MIN_JUDGED_PER_STRATUM, Calibration, band
from matching.refine import apply_strength
from matching.reliability import expected_calibration_error, format_reliability, strength_reliability


def _judged(rng, n, length, rate):
    """n judged pairs of needs of one text length whose acceptance rate is ``rate(score)``."""
    pairs = []
    for _ in range(n):
        score = rng.uniform(0.0, 2.0)
        pairs.append((score, rng.random() < rate(score), length))
    return pairs


def test_judged_strength_follows_each_need_length():
    rng = random.Random(7)
    short = _judged(rng, 1500, 8, lambda s: 0.2 * s)  # a short need at 1.5 is taken up 30 % of the time
    long = _judged(rng, 1500, 120, lambda s: 0.45 * s)  # a long one 68 %
    calibration = Calibration.fit([], judged=short + long)
    assert calibration.method == "isotonic" and len(calibration.strata) >= 2
    assert abs(calibration.strength(1.5, 8) - 30) <= 10
    assert abs(calibration.strength(1.5, 120) - 68) <= 10
    # without the need's length, one curve between the two
    assert calibration.strength(1.5, 8) < calibration.strength(1.5) < calibration.strength(1.5, 120)
    # still monotone in the score within a stratum
    assert calibration.strength(0.5, 120) <= calibration.strength(1.0, 120) <= calibration.strength(1.9, 120)


def test_too_few_judged_pairs_per_length_keep_one_curve(tmp_path):
    rng = random.Random(3)
    few = _judged(rng, MIN_JUDGED_PER_STRATUM - 1, 8, lambda s: 0.2 * s)
    few += _judged(rng, MIN_JUDGED_PER_STRATUM - 1, 120, lambda s: 0.45 * s)
    calibration = Calibration.fit([], judged=few)
    assert calibration.method == "isotonic" and calibration.strata == []
    assert calibration.strength(1.5, 8) == calibration.strength(1.5, 120) == calibration.strength(1.5)


def test_strata_round_trip_and_reach_folded_matches(tmp_path):
    rng = random.Random(11)
    calibration = Calibration.fit([], judged=_judged(rng, 900, 10, lambda s: 0.1 * s)
                                  + _judged(rng, 900, 90, lambda s: 0.5 * s))
    calibration.save(tmp_path)
    loaded = Calibration.load(tmp_path)
    assert loaded.strata == calibration.strata
    matches = [{"score": 1.8, "similar": [{"score": 1.7}]}]
    apply_strength(matches, loaded, 90)
    assert matches[0]["strength"] == calibration.strength(1.8, 90)
    assert matches[0]["similar"][0]["band"] == band(calibration.strength(1.7, 90))


def test_expected_calibration_error_is_zero_when_strength_is_the_observed_rate():
    assert expected_calibration_error([50, 50, 50, 50], [True, False, True, False]) == 0.0
    assert abs(expected_calibration_error([90, 90], [False, False]) - 0.9) < 1e-9


def test_reliability_report_on_ranked_results():
    rng = random.Random(5)
    results, qrels, texts = [], {}, {}
    for i in range(400):
        need = f"n{i}"
        long = i % 2 == 0
        texts[need] = "x" * (100 if long else 5)
        matches, grades = [], {}
        for j in range(10):
            score = rng.uniform(0, 2)
            matches.append({"offer": f"o{j}", "score": score})
            if rng.random() < (0.45 if long else 0.2) * score:
                grades[f"o{j}"] = 1
        grades.setdefault("unseen", 1)
        results.append({"need": need, "matches": matches})
        qrels[need] = grades
    report = strength_reliability(results, qrels, texts)
    assert report["held_out_matches"] > 1000
    # the length-aware calibration is a probability on held-out needs, closer than the score-only one
    assert report["by length"]["ece"] < 0.06
    assert report["by length"]["ece"] < report["judged"]["ece"]
    strong = report["by length"]
    assert strong["all"]["strong"]["relevant_share"] > strong["all"]["possible"]["relevant_share"]
    assert "by length" in format_reliability(report)
