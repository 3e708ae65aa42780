"""Fitting the matching engine for the site: a full refit (on schedule or command) or adding newly published
offers to the saved model (after a batch is published), then ranking every open need in shards.

The fitted model is written once to a staging directory beside the live one; the shards (RQ workers on any
machine that sees the directory, or this process) load it read-only, memory-mapped. Once the suggestions are
committed, the caller installs the staging directory as the live model (``install_model``).

Adding offers equals a full refit (``MatchingEngine.add_offers``) as long as the fitted offers are all still
published and unchanged and no fitted graph edge disappeared (a need closed, a deal withdrawn); otherwise the
refresh does a full refit. Weights learnt from feedback are learnt again only at a full refit.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np

from marketplace.services import embeddings
from marketplace.services.match_records import need_record, offer_record
from matching import MatchingEngine

SITE_STATE = "site_state.json"  # beside the model: what the site fitted (offer hashes, edges)
RankNeeds = Callable[[Path, list[dict], int], list[dict]]  # (model dir, need records, top_k) -> rankings


def staging_dir(model_dir: Path) -> Path:
    """Where a rebuild writes the model its shards read, before it becomes the live one."""
    return model_dir.with_name(model_dir.name + ".staging")


def record_hash(record: dict) -> str:
    """Fingerprint of an offer record: a changed offer needs a refit."""
    return hashlib.sha256(json.dumps(record, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


def _edge_key(edge: dict) -> str:
    return json.dumps([edge["source"], edge["target"], edge.get("relation", "")], ensure_ascii=False)


def full_fit(offer_records: list[dict], edges: list[dict], semantic: bool, feedback) -> MatchingEngine:
    """Fit on every published offer and learn weights from the docking feedback."""
    engine = MatchingEngine(semantic=semantic)
    vectors = embeddings.offer_vectors(engine, offer_records) if semantic else None  # stored, not recomputed
    engine.fit(offer_records, edges, offer_vectors=vectors)
    engine.train_feedback(feedback)
    return engine


def grown_model(model_dir: Path, offer_records: list[dict], edges: list[dict], semantic: bool):
    """The live model plus the offers published since it was fitted, or None when only a full refit gives the
    same result (no model, offers changed or withdrawn, edges gone, another semantic setting)."""
    state_path = model_dir / SITE_STATE
    if not (model_dir / "manifest.json").exists() or not state_path.exists():
        return None
    state = json.loads(state_path.read_text(encoding="utf-8"))
    try:
        engine = MatchingEngine.load(model_dir)
    except (OSError, ValueError, KeyError):
        return None
    if (engine.dense is not None) != semantic or engine.text.counts is None:
        return None
    fitted = state["offers"]
    hashes = {r["id"]: record_hash(r) for r in offer_records}
    if any(hashes.get(offer_id) != digest for offer_id, digest in fitted.items()):
        return None  # an offer was changed, withdrawn or archived
    # Edges as a multiset: the same edge twice (two deals between two organisations) weighs twice.
    current, kept = Counter(_edge_key(e) for e in edges), Counter(state["edges"])
    if kept - current:
        return None
    added = current - kept
    new_edges = []
    for edge in edges:
        key = _edge_key(edge)
        if added[key] > 0:
            added[key] -= 1
            new_edges.append(edge)
    new_offers = [r for r in offer_records if r["id"] not in fitted]
    vectors = embeddings.offer_vectors(engine, new_offers) if semantic and new_offers else None
    engine.add_offers(new_offers, new_edges, offer_vectors=vectors)
    return engine


def needs_to_rank(engine: MatchingEngine, need_records: dict[str, dict]) -> list[dict]:
    """The need records to rank, each with its stored sentence vector when the semantic channel is on (encoded
    and stored now only for needs that have none or whose text changed), so the shards run no encoder."""
    records = list(need_records.values())
    if engine.dense is None or not records:
        return records
    vectors = embeddings.need_vectors(engine, records)
    # Plain lists: the records travel to the shards through the job queue.
    return [{**r, "vector": np.asarray(vectors[r["id"]], dtype=float).tolist()} for r in records]


def save_staged(engine: MatchingEngine, model_dir: Path, offer_records: list[dict], edges: list[dict]) -> Path:
    """Write the fitted model (and what the site fitted) to the staging directory; returns it."""
    staged = staging_dir(model_dir)
    if staged.exists():
        shutil.rmtree(staged)
    engine.save(staged)
    state = {"offers": {r["id"]: record_hash(r) for r in offer_records}, "edges": sorted(_edge_key(e) for e in edges)}
    (staged / SITE_STATE).write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
    return staged


def install_model(model_dir: Path) -> None:
    """Make the staged model the live one (after the suggestions it produced were committed)."""
    staged = staging_dir(model_dir)
    if not (staged / "manifest.json").exists():
        return
    old = model_dir.with_name(f"{model_dir.name}.old-{time.time_ns()}")
    if model_dir.exists():
        model_dir.rename(old)
    staged.rename(model_dir)
    shutil.rmtree(old, ignore_errors=True)  # processes that mapped it keep their open files


def need_records(needs) -> dict[str, dict]:
    return {str(n.id): need_record(n) for n in needs}


def offer_records(offers) -> list[dict]:
    return [offer_record(o) for o in offers]
