"""``python -m matching``: happy path and every kind of bad input (file:line, exit status 2)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from matching.cli import main

ROOT = Path(__file__).resolve().parents[2]


def write_lines(path: Path, rows) -> Path:
    path.write_text(
        "".join(
            (row if isinstance(row, str) else json.dumps(row, ensure_ascii=False)) + "\n" for row in rows
        ),
        encoding="utf-8",
    )
    return path


@pytest.fixture
def matching_files(tmp_path):
    offers = write_lines(
        tmp_path / "offers.jsonl",
        [
            {
                "id": "o1",
                "title": "核酸检测试剂盒",
                "text": "nucleic acid test kit",
                "tags": ["PCR"],
                "kind": "product",
            },
            {
                "id": "o2",
                "title": "呼吸机",
                "text": "ventilator",
                "tags": [],
                "kind": "product",
                "org": "厂A",
            },
            {"id": 3, "title": "检测服务", "text": "testing lab", "tags": [], "kind": "service"},
        ],
    )
    needs = write_lines(
        tmp_path / "needs.jsonl",
        [
            {"id": "n1", "title": "采购核酸试剂盒", "text": "", "tags": ["PCR"], "kind": "procurement"},
            "",
            {"id": 2, "title": "ventilators", "text": "", "tags": []},
        ],
    )
    edges = write_lines(
        tmp_path / "edges.jsonl",
        [
            {"source": "need:2", "target": "org:厂A", "relation": "supplier"},
            {"source": "offer:3", "target": "lab:某实验室", "relation": "runs"},
        ],
    )
    return tmp_path, offers, needs, edges


def run_cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "matching", *map(str, args)],
        cwd=ROOT,
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_rank_happy_path_subprocess(matching_files):
    tmp, offers, needs, edges = matching_files
    out = tmp / "out.jsonl"
    done = run_cli(
        "rank",
        "--offers",
        offers,
        "--needs",
        needs,
        "--edges",
        edges,
        "--top-k",
        2,
        "--out",
        out,
        "--lang",
        "en",
    )
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [row["need"] for row in rows] == ["n1", "2"]
    assert rows[0]["matches"][0]["offer"] == "o1"
    assert rows[1]["matches"][0]["offer"] == "o2"
    for row in rows:
        assert len(row["matches"]) <= 2
        for match in row["matches"]:
            assert isinstance(match["score"], float) and isinstance(match["reasons"], list)
    assert rows[0]["matches"][0]["reasons"][0]["text"].startswith("shared terms")


def test_fit_then_rank_with_saved_model(matching_files):
    tmp, offers, needs, _ = matching_files
    assert main(["fit", "--offers", str(offers), "--model", str(tmp / "model")]) == 0
    assert (
        main(["rank", "--model", str(tmp / "model"), "--needs", str(needs), "--out", str(tmp / "a.jsonl")])
        == 0
    )
    assert main(["rank", "--offers", str(offers), "--needs", str(needs), "--out", str(tmp / "b.jsonl")]) == 0
    assert (tmp / "a.jsonl").read_text(encoding="utf-8") == (tmp / "b.jsonl").read_text(encoding="utf-8")


def test_malformed_json_line_subprocess_has_no_traceback(matching_files):
    tmp, offers, _, _ = matching_files
    bad = write_lines(tmp / "bad.jsonl", [{"id": "n1", "title": "x"}, '{"id": "n2", "title": '])
    done = run_cli("rank", "--offers", offers, "--needs", bad, "--out", tmp / "out.jsonl")
    assert done.returncode == 2
    assert f"{bad}:2" in done.stderr and "malformed JSON" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    "which, rows, line, message",
    [
        ("offers", [{"id": "a", "title": "x"}, {"title": "no id"}], 2, "no 'id'"),
        ("offers", [{"id": "a"}, "[1, 2]"], 2, "JSON object"),
        ("offers", [{"id": "a"}, {"id": "a"}], 2, "duplicate id"),
        ("needs", ["", "not json"], 2, "malformed JSON"),
        ("needs", [{"id": None, "title": "x"}], 1, "no 'id'"),
        (
            "edges",
            [{"source": "offer:o1", "target": "x", "relation": "r"}, {"source": "offer:zz", "target": "x"}],
            2,
            "unknown edge end 'offer:zz'",
        ),
        (
            "edges",
            [{"source": "need:nope", "target": "offer:o1", "relation": "r"}],
            1,
            "unknown edge end 'need:nope'",
        ),
        ("edges", [{"target": "offer:o1"}], 1, "no 'source'"),
        ("edges", ["{bad"], 1, "malformed JSON"),
    ],
)
def test_bad_input_names_file_and_line(matching_files, capsys, which, rows, line, message):
    tmp, offers, needs, edges = matching_files
    paths = {"offers": offers, "needs": needs, "edges": edges}
    paths[which] = write_lines(tmp / f"bad_{which}.jsonl", rows)
    status = main(
        [
            "rank",
            "--offers",
            str(paths["offers"]),
            "--needs",
            str(paths["needs"]),
            "--edges",
            str(paths["edges"]),
            "--out",
            str(tmp / "out.jsonl"),
        ]
    )
    err = capsys.readouterr().err
    assert status == 2
    assert f"{paths[which]}:{line}:" in err and message in err


def test_missing_file_is_a_clean_error(matching_files, capsys):
    tmp, offers, _, _ = matching_files
    status = main(
        ["rank", "--offers", str(offers), "--needs", str(tmp / "missing.jsonl"), "--out", str(tmp / "o")]
    )
    assert status == 2 and "missing.jsonl" in capsys.readouterr().err
