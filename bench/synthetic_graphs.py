"""Variants of the shared collections with graphs of known worth, for checking that the graph weight
adapts to how informative a collection's graph is (``matching/graph_weight.py``).

    python bench/synthetic_graphs.py DATASETS_DIR OUT_DIR

writes two collections beside each other:

``cacm-rewired``  cacm with every ``offer:`` end of its edges moved to a random offer: the same
                  numbers of nodes, edges and degrees, but links unrelated to content (a graph that
                  should weigh little);
``kuake-topics``  kuake-qtr-train with one topic node per judged need, linked to the need, to half of
                  its offers graded 2 or more and to as many random offers (an entity graph that is
                  informative but noisy, as needs reached through diseases or hospitals).

Then ``python -m matching evaluate OUT_DIR/cacm-rewired OUT_DIR/kuake-topics`` with and without
``--config '{"adaptive_graph": false}'``. Seeded: the same files on every run.
"""

from __future__ import annotations

import json
import random
import shutil
import sys
from pathlib import Path


def _read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _write(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def _copy_records(source: Path, target: Path) -> list[dict]:
    target.mkdir(parents=True, exist_ok=True)
    for name in ("offers.jsonl", "needs.jsonl", "qrels.tsv"):
        shutil.copyfile(source / name, target / name)
    return _read(source / "offers.jsonl")


def rewired(source: Path, target: Path, seed: int = 11) -> None:
    """The collection's edges with each offer end moved to a random offer."""
    offers = _copy_records(source, target)
    ids = [o["id"] for o in offers]
    rng = random.Random(seed)
    edges = []
    for edge in _read(source / "edges.jsonl"):
        edge = dict(edge)
        for end in ("source", "target"):
            if str(edge[end]).startswith("offer:"):
                edge[end] = f"offer:{rng.choice(ids)}"
        if edge["source"] != edge["target"]:
            edges.append(edge)
    _write(target / "edges.jsonl", edges)


def topics(source: Path, target: Path, seed: int = 13) -> None:
    """One topic node per judged need: the need, half its well-graded offers and as many random ones."""
    offers = _copy_records(source, target)
    ids = [o["id"] for o in offers]
    rng = random.Random(seed)
    relevant: dict[str, list[str]] = {}
    for line in (source / "qrels.tsv").read_text(encoding="utf-8").splitlines():
        need, offer, grade = line.split("\t")[:3]
        if int(grade) >= 2:
            relevant.setdefault(need, []).append(offer)
    edges = []
    for need, good in sorted(relevant.items()):
        node = f"topic:{need}"
        edges.append({"source": f"need:{need}", "target": node, "relation": "about"})
        kept = rng.sample(good, max(1, len(good) // 2))
        for offer in kept + rng.sample(ids, len(kept)):
            edges.append({"source": node, "target": f"offer:{offer}", "relation": "about"})
    _write(target / "edges.jsonl", edges)


def main() -> None:
    datasets, out = Path(sys.argv[1]), Path(sys.argv[2])
    rewired(datasets / "cacm", out / "cacm-rewired")
    topics(datasets / "kuake-qtr-train", out / "kuake-topics")


if __name__ == "__main__":
    main()
