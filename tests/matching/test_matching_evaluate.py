"""Evaluation metrics against hand-computed values, and the evaluate command on a tiny dataset."""

import json
import math

import pytest

from matching import evaluate_rankings, mrr_at_k, ndcg_at_k, recall_at_k
from matching.cli import main
from matching.evaluate import evaluate_dataset


def test_ndcg_graded_gain_by_hand():
    grades = {"a": 2, "b": 1, "c": 0}
    # ranking b, x, a: DCG = (2^1-1)/log2(2) + (2^2-1)/log2(4) = 1 + 1.5; ideal a, b: 3 + 1/log2(3)
    expected = (1 + 3 / 2) / (3 + 1 / math.log2(3))
    assert ndcg_at_k(["b", "x", "a"], grades) == pytest.approx(expected)
    assert ndcg_at_k(["a", "b"], grades) == pytest.approx(1.0)
    assert ndcg_at_k([], grades) == 0.0
    assert ndcg_at_k(["x"] * 10 + ["a"], grades) == 0.0  # beyond the cut-off


def test_mrr_and_recall_by_hand():
    grades = {"a": 1, "b": 3, "c": 0}
    assert mrr_at_k(["c", "x", "b"], grades) == pytest.approx(1 / 3)
    assert mrr_at_k(["c"] * 10 + ["a"], grades) == 0.0
    assert recall_at_k(["a", "c"], grades) == 0.5
    assert recall_at_k(["x"] * 100 + ["a", "b"], grades) == 0.0


def test_mean_over_judged_needs_only():
    qrels = {"q1": {"a": 1}, "q2": {"b": 2, "c": 1}, "q3": {"d": 0}}
    metrics = evaluate_rankings({"q1": ["a"], "q2": ["x", "c"]}, qrels)
    ndcg_q2 = (1 / math.log2(3)) / (3 + 1 / math.log2(3))
    assert metrics["ndcg@10"] == pytest.approx((1 + ndcg_q2) / 2)
    assert metrics["mrr@10"] == pytest.approx((1 + 0.5) / 2)
    assert metrics["recall@100"] == pytest.approx((1 + 0.5) / 2)


@pytest.fixture
def matching_dataset(tmp_path):
    offers = [
        {"id": "d1", "title": "核酸检测试剂盒", "text": "", "tags": []},
        {"id": "d2", "title": "呼吸机 ventilator", "text": "", "tags": []},
        {"id": "d3", "title": "红外测温", "text": "infrared temperature", "tags": []},
        {"id": "d4", "title": "ventilator parts supplier", "text": "", "tags": []},
    ]
    needs = [
        {"id": "q1", "title": "核酸检测", "text": "", "tags": []},
        {"id": "q2", "title": "", "text": "ventilator", "tags": []},
        {"id": "q3", "title": "unjudged", "text": "", "tags": []},
    ]
    edges = [{"source": "offer:d2", "target": "offer:d4", "relation": "cites"}]
    for name, rows in (("offers", offers), ("needs", needs), ("edges", edges)):
        (tmp_path / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    (tmp_path / "qrels.tsv").write_text("q1\td1\t2\nq2\td2\t1\nq2\td4\t1\nq2\td1\t0\n", encoding="utf-8")
    return tmp_path


def test_evaluate_dataset_engine_and_bm25(matching_dataset):
    report = evaluate_dataset(matching_dataset)
    assert report["needs"] == 2
    for system in ("engine", "bm25"):
        assert report[system]["ndcg@10"] == pytest.approx(1.0)
        assert report[system]["recall@100"] == pytest.approx(1.0)


def test_evaluate_command_prints_both_systems(matching_dataset, capsys):
    assert main(["evaluate", str(matching_dataset)]) == 0
    out = capsys.readouterr().out
    assert "nDCG@10" in out and "engine" in out and "bm25" in out


def test_halves_are_stable_and_split_the_judged_needs():
    from matching.evaluate import split_of

    ids = [str(i) for i in range(400)]
    halves = [split_of(i) for i in ids]
    assert halves == [split_of(i) for i in reversed(ids)][::-1]  # by id, not by position
    assert set(halves) == {"tune", "heldout"}
    assert 150 < halves.count("tune") < 250


def test_evaluate_reports_each_half_and_scores_one_half_on_request(matching_dataset):
    from matching.evaluate import split_of

    full = evaluate_dataset(matching_dataset)
    by_half = {half: [n for n in ("q1", "q2") if split_of(n) == half] for half in ("tune", "heldout")}
    for half, needs in by_half.items():
        assert full["halves"][half]["needs"] == len(needs)
        report = evaluate_dataset(matching_dataset, split=half)
        assert report["needs"] == len(needs) and "halves" not in report
        if needs:
            assert report["engine"]["ndcg@10"] == pytest.approx(full["halves"][half]["engine"])
    with pytest.raises(ValueError):
        evaluate_dataset(matching_dataset, split="test")


def test_evaluate_command_prints_the_halves(matching_dataset, capsys):
    assert main(["evaluate", str(matching_dataset)]) == 0
    out = capsys.readouterr().out
    assert "tune half" in out and "heldout half" in out
    assert main(["evaluate", str(matching_dataset), "--split", "heldout"]) == 0
    assert "[heldout half]" in capsys.readouterr().out


def test_evaluate_command_checks_what_strength_bands_mean(matching_dataset, capsys):
    assert main(["evaluate", str(matching_dataset), "--reliability", "--json", "--no-baseline"]) == 0
    report = json.loads(capsys.readouterr().out)
    # two judged needs fall on one side of the split: the check says so instead of inventing figures
    # (the figures themselves are tested in test_calibration_reliability)
    assert set(report["reliability"]) == {"held_out_matches"}
    assert main(["evaluate", str(matching_dataset), "--reliability", "--no-baseline"]) == 0
    assert "strength reliability" in capsys.readouterr().out
