"""Offline evaluation: nDCG@10 (gain 2^grade - 1), MRR@10 and Recall@100 for the engine and for a
BM25 baseline (bm25s, k1 1.5, b 0.75; jieba search-mode tokens, stemmed English without stop words).

A dataset directory holds offers.jsonl, needs.jsonl, edges.jsonl (may be empty or missing) and
qrels.tsv (need id, offer id, grade). Needs without any positive judgment are not scored.

Held-out checks: the judged needs fall into two halves by a stable hash of their id (``split_of``),
``tune`` and ``heldout``. Every report gives both systems' figures on each half beside the whole
collection; ``split="tune"`` or ``"heldout"`` ranks and scores one half only (tune settings on one
half, then look at the other once).
"""

from __future__ import annotations

import dataclasses
import math
import time
from pathlib import Path

from .config import EngineConfig
from .engine import MatchingEngine
from .io import InputError, read_edges, read_jsonl
from .records import record_text
from .text import baseline_tokenize

METRICS = ("ndcg@10", "mrr@10", "recall@100")
SPLITS = ("tune", "heldout")


def split_of(need_id) -> str:
    """Half of a collection a need belongs to: ``tune`` or ``heldout``, by a stable hash of its id
    (the same on every run and machine, independent of the order of the needs)."""
    import zlib

    return SPLITS[zlib.crc32(f"split:{need_id}".encode()) % 2]


def ndcg_at_k(ranked: list[str], grades: dict[str, int], k: int = 10) -> float:
    """nDCG@k with graded gain 2^grade - 1 and log2(rank + 1) discount; 0 when nothing is relevant."""
    dcg = sum((2 ** grades.get(offer, 0) - 1) / math.log2(rank + 2) for rank, offer in enumerate(ranked[:k]))
    ideal = sorted((g for g in grades.values() if g > 0), reverse=True)[:k]
    idcg = sum((2**g - 1) / math.log2(rank + 2) for rank, g in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0


def mrr_at_k(ranked: list[str], grades: dict[str, int], k: int = 10) -> float:
    """Reciprocal rank of the first offer with grade > 0 within the top k (0 if none)."""
    for rank, offer in enumerate(ranked[:k]):
        if grades.get(offer, 0) > 0:
            return 1.0 / (rank + 1)
    return 0.0


def recall_at_k(ranked: list[str], grades: dict[str, int], k: int = 100) -> float:
    """Share of the offers with grade > 0 that appear in the top k."""
    relevant = {offer for offer, g in grades.items() if g > 0}
    if not relevant:
        return 0.0
    return len(relevant.intersection(ranked[:k])) / len(relevant)


def evaluate_rankings(rankings: dict[str, list[str]], qrels: dict[str, dict[str, int]]) -> dict[str, float]:
    """Mean metrics over the needs of ``qrels`` that have a positive judgment (missing ranking = empty)."""
    judged = [need for need, grades in qrels.items() if any(g > 0 for g in grades.values())]
    if not judged:
        return {name: 0.0 for name in METRICS}
    totals = dict.fromkeys(METRICS, 0.0)
    for need in judged:
        ranked, grades = rankings.get(need, []), qrels[need]
        totals["ndcg@10"] += ndcg_at_k(ranked, grades, 10)
        totals["mrr@10"] += mrr_at_k(ranked, grades, 10)
        totals["recall@100"] += recall_at_k(ranked, grades, 100)
    return {name: total / len(judged) for name, total in totals.items()}


@dataclasses.dataclass
class Dataset:
    offers: list[dict]
    needs: list[dict]
    edges: list[dict]
    qrels: dict[str, dict[str, int]]


def read_qrels(path) -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = {}
    with open(path, encoding="utf-8") as handle:
        for line_number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            fields = line.rstrip("\n").split("\t")
            if len(fields) < 3:
                fields = line.split()
            try:
                need, offer, grade = fields[0], fields[1], int(fields[2])
            except (IndexError, ValueError):
                raise InputError(path, line_number, "expected 'need id <TAB> offer id <TAB> grade'") from None
            qrels.setdefault(need, {})[offer] = grade
    return qrels


def load_dataset(directory) -> Dataset:
    """Read a dataset directory (see module docstring)."""
    directory = Path(directory)
    offers = read_jsonl(directory / "offers.jsonl")
    needs = read_jsonl(directory / "needs.jsonl")
    edges_path = directory / "edges.jsonl"
    edges = (
        read_edges(edges_path, {o["id"] for o in offers}, {n["id"] for n in needs})
        if edges_path.exists()
        else []
    )
    return Dataset(offers, needs, edges, read_qrels(directory / "qrels.tsv"))


def bm25_baseline(offers: list[dict], needs: list[dict], top_k: int = 100) -> dict[str, list[str]]:
    """Rankings from bm25s (k1 1.5, b 0.75) over the same record text as the engine."""
    import bm25s

    if not needs:
        return {}
    retriever = bm25s.BM25(k1=1.5, b=0.75)
    retriever.index([baseline_tokenize(record_text(o)) for o in offers], show_progress=False)
    queries = [baseline_tokenize(record_text(n)) for n in needs]
    k = min(top_k, len(offers))
    documents, scores = retriever.retrieve(queries, k=k, show_progress=False)
    return {
        need["id"]: [offers[int(d)]["id"] for d, s in zip(doc_row, score_row) if s > 0]
        for need, doc_row, score_row in zip(needs, documents, scores)
    }


def evaluate_dataset(
    directory,
    config: EngineConfig | None = None,
    top_k: int = 100,
    baseline: bool = True,
    vector_cache=None,
    learn: bool = False,
    split: str | None = None,
    reliability: bool = False,
) -> dict:
    """Fit the engine on a dataset, rank its judged needs and score engine and BM25 alike.

    ``reliability``: also check what the strength bands mean on held-out needs (``matching.reliability``).

    ``split``: ``"tune"`` or ``"heldout"`` ranks and scores only that half of the judged needs
    (``split_of``); otherwise all of them, with each half's figures in ``report["halves"]``.
    ``vector_cache``: directory keeping the semantic channel's sentence vectors between runs.
    ``learn``: also learn fusion weights from the judgments of three quarters of the needs, as the
    site learns from docking outcomes, and score the held-out quarter with and without them.
    Returns ``{"dataset", "needs", "engine": {metric: value, "seconds": s}, "bm25": {...}}``.
    """
    config = config or EngineConfig()
    if config.semantic and vector_cache:
        from .encoders import use_cache

        use_cache(config.encoder, vector_cache)
    data = load_dataset(directory)
    judged = {need for need, grades in data.qrels.items() if any(g > 0 for g in grades.values())}
    if split is not None and split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, not {split!r}")
    needs = [n for n in data.needs if n["id"] in judged and (split is None or split_of(n["id"]) == split)]
    qrels = data.qrels if split is None else {need["id"]: data.qrels[need["id"]] for need in needs}
    report: dict = {
        "dataset": str(directory) + (f" [{split} half]" if split else ""),
        "semantic": config.semantic,
        "needs": len(needs),
        "offers": len(data.offers),
        "edges": len(data.edges),
    }

    started = time.perf_counter()
    engine = MatchingEngine(config).fit(data.offers, data.edges)
    results = engine.rank(needs, top_k=top_k, explain=False)
    rankings = {r["need"]: [m["offer"] for m in r["matches"]] for r in results}
    report["engine"] = {**evaluate_rankings(rankings, qrels), "seconds": time.perf_counter() - started}
    all_rankings = {"engine": rankings}

    if reliability:
        from .reliability import strength_reliability

        report["reliability"] = strength_reliability(results, qrels, {n["id"]: record_text(n) for n in needs})
    if learn:
        report["learning"] = _learning_check(engine, needs, results, data.qrels, top_k)

    if baseline:
        started = time.perf_counter()
        rankings = bm25_baseline(data.offers, needs, top_k)
        report["bm25"] = {**evaluate_rankings(rankings, qrels), "seconds": time.perf_counter() - started}
        all_rankings["bm25"] = rankings
    if split is None:
        report["halves"] = _halves(all_rankings, qrels)
    return report


def _halves(rankings: dict[str, dict], qrels: dict) -> dict:
    """nDCG@10 of each system on each half of the judged needs."""
    halves = {}
    for half in SPLITS:
        half_qrels = {need: grades for need, grades in qrels.items() if split_of(need) == half}
        halves[half] = {"needs": len(half_qrels)}
        for system, ranked in rankings.items():
            halves[half][system] = evaluate_rankings(ranked, half_qrels)["ndcg@10"]
    return halves


def format_report(report: dict) -> str:
    """Plain-text table of an ``evaluate_dataset`` report."""
    lines = [
        (
            f"dataset {report['dataset']}: {report['offers']} offers, {report['needs']} judged needs, "
            f"{report['edges']} edges"
        ),
        f"{'system':<8} {'nDCG@10':>8} {'MRR@10':>8} {'R@100':>8} {'seconds':>8}",
    ]
    for system in ("engine", "bm25"):
        if system in report:
            m = report[system]
            lines.append(
                f"{system:<8} {m['ndcg@10']:>8.4f} {m['mrr@10']:>8.4f} {m['recall@100']:>8.4f} {m['seconds']:>8.1f}"
            )
    if "engine" in report and "bm25" in report and report["bm25"]["ndcg@10"] > 0:
        gain = report["engine"]["ndcg@10"] / report["bm25"]["ndcg@10"] - 1
        lines.append(
            f"engine vs bm25 nDCG@10: {gain:+.1%}"
            + (" (semantic channel on)" if report.get("semantic") else "")
        )
    for half, figures in report.get("halves", {}).items():
        line = f"{half} half ({figures['needs']} needs): nDCG@10 engine {figures['engine']:.4f}"
        if "bm25" in figures:
            line += f", bm25 {figures['bm25']:.4f}"
            if figures["bm25"] > 0:
                line += f" ({figures['engine'] / figures['bm25'] - 1:+.1%})"
        lines.append(line)
    learning = report.get("learning")
    if learning:
        line = (
            f"learning from outcomes: {learning.get('outcomes', 0)} outcomes, "
            f"held-out needs {learning['held_out_needs']}, nDCG@10 default {learning['ndcg@10 default']:.4f}"
        )
        if "ndcg@10 learnt" in learning:
            line += f", learnt {learning['ndcg@10 learnt']:.4f} (guard: held-out AUC "
            line += f"{learning['auc_current']:.3f} -> {learning['auc_learnt']:.3f}, accepted)"
        else:
            line += f"; learnt weights not used: {learning.get('reason', '')}"
            if "auc_current" in learning:
                line += f" (held-out AUC {learning['auc_current']:.3f} vs {learning['auc_learnt']:.3f})"
        lines.append(line)
    if "reliability" in report:
        from .reliability import format_reliability

        lines.append(format_reliability(report["reliability"]))
    return "\n".join(lines)


MAX_LEARNING_OUTCOMES = 400  # outcomes scored for learning (each is scored on its own)


def _learning_check(engine, needs: list[dict], results: list[dict], qrels: dict, top_k: int) -> dict:
    """Judgments of the training needs as outcomes (judged relevant = accepted, judged not
    relevant = dismissed; unjudged pairs are no outcome), learnt with the engine's guard,
    then nDCG@10 of the held-out needs with the default and the learnt weights."""
    from .feedback import held_out_fold

    by_id = {need["id"]: need for need in needs}
    outcomes = []
    for result in results:
        need_id = result["need"]
        if held_out_fold(need_id, salt="evaluation"):
            continue
        grades = qrels.get(need_id, {})
        for offer_id, grade in grades.items():
            if offer_id in engine.offers:
                outcomes.append((by_id[need_id], offer_id, "accepted" if grade > 0 else "dismissed"))
    outcomes = outcomes[:MAX_LEARNING_OUTCOMES]
    held_out = [need for need in needs if held_out_fold(need["id"], salt="evaluation")]
    default_rankings = {r["need"]: [m["offer"] for m in r["matches"]] for r in results}
    held_qrels = {need["id"]: qrels[need["id"]] for need in held_out}
    report = {
        "held_out_needs": len(held_out),
        "ndcg@10 default": evaluate_rankings(default_rankings, held_qrels)["ndcg@10"],
    }
    # Train on the outcomes of the other needs; the guard keeps a quarter of them aside again.
    changed = engine.train_feedback(outcomes)
    report.update(engine.feedback_report)
    report["weights"] = {p: round(w, 3) for p, w in engine.weights.items()}
    if changed:
        learnt = engine.rank(held_out, top_k=top_k, explain=False)
        rankings = {r["need"]: [m["offer"] for m in r["matches"]] for r in learnt}
        report["ndcg@10 learnt"] = evaluate_rankings(rankings, held_qrels)["ndcg@10"]
    return report
