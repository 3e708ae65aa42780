"""Sharded ranking: the model saved once, memory-mapped read-only by each shard; results equal one process."""

import json
import os
import uuid

import numpy as np
import pytest

from matching import MatchingEngine
from matching.cli import main
from matching.shards import collect_shards, enqueue_shards, rank_forked, rank_in_processes, rank_shard, split
from tests.matching.test_matching_incremental import _records


@pytest.fixture
def fitted(tmp_path):
    import random

    rng = random.Random(11)
    offers, needs = _records(rng, "o", 120), _records(rng, "n", 30, kinds=False)
    edges = [{"source": "need:n2", "target": "offer:o5", "relation": "introduced"}]
    engine = MatchingEngine().fit(offers, edges)
    engine.save(tmp_path / "model")
    return engine, offers, needs, edges, tmp_path / "model"


def test_split_keeps_order_and_balances():
    assert split(list(range(7)), 3) == [[0, 1, 2], [3, 4], [5, 6]]
    assert split([1], 4) == [[1]]
    assert split([], 2) == []


def _is_mapped(array) -> bool:
    """True when the array is a view of a file mapped into memory (not a copy read from it)."""
    while array is not None:
        if isinstance(array, np.memmap):
            return True
        array = array.base
    return False


def test_memory_mapped_model_is_read_only_and_ranks_the_same(fitted):
    engine, _, needs, _, model = fitted
    mapped = MatchingEngine.load(model, mmap=True)
    for array in (mapped.text.doc_weights.data, mapped.text.term_doc.indices, mapped.graph.adjacency.data,
                  mapped.graph.transition.data, mapped.text.idf):
        assert _is_mapped(array) and not array.flags.writeable
    assert mapped.rank(needs, top_k=10) == engine.rank(needs, top_k=10)
    assert not list(model.glob("*.pkl")) and not list(model.glob("*.npz"))


def test_shards_in_processes_equal_one_process(fitted):
    engine, _, needs, _, model = fitted
    expected = engine.rank(needs, top_k=5, lang="en")
    assert rank_in_processes(model, needs, 2, top_k=5, lang="en") == expected
    assert rank_shard(str(model), needs[7:9], 5, "en") == expected[7:9]


def test_forked_shards_equal_one_process(fitted):
    engine, _, needs, _, _ = fitted
    expected = engine.rank(needs, top_k=5, lang="en")
    assert rank_forked(engine, needs, 3, top_k=5, lang="en") == expected
    assert rank_forked(engine, needs[:1], 3, top_k=5, lang="en") == expected[:1]


def test_threads_ranking_with_one_engine_at_once_get_the_rankings_of_one_thread(fitted):
    """The compiled loops release the GIL and reuse work vectors: each thread must have its own (the site
    ranks a challenge's solvers in a request, and gunicorn may run threads)."""
    from concurrent.futures import ThreadPoolExecutor

    engine, _, needs, _, _ = fitted
    expected = [engine.rank_one(need, top_k=8, lang="en") for need in needs]

    def rank_all(_):
        return [engine.rank_one(need, top_k=8, lang="en") for need in needs for _ in range(3)][::3]

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(rank_all, range(8)))
    assert all(result == expected for result in results)


def test_cli_workers_equal_one_process(fitted, tmp_path):
    _, offers, needs, edges, model = fitted
    files = {}
    for name, rows in (("offers", offers), ("needs", needs), ("edges", edges)):
        files[name] = tmp_path / f"{name}.jsonl"
        files[name].write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    outputs = []
    for workers in ("1", "2"):
        out = tmp_path / f"out{workers}.jsonl"
        assert main(["rank", "--offers", str(files["offers"]), "--needs", str(files["needs"]), "--edges",
                     str(files["edges"]), "--out", str(out), "--workers", workers]) == 0
        outputs.append(out.read_text(encoding="utf-8"))
    assert outputs[0] == outputs[1]
    out = tmp_path / "from_model.jsonl"
    assert main(["rank", "--model", str(model), "--needs", str(files["needs"]), "--out", str(out),
                 "--workers", "2"]) == 0
    assert out.read_text(encoding="utf-8") == outputs[0]


@pytest.fixture
def redis_url():
    redis = pytest.importorskip("redis")
    url = "redis://127.0.0.1:6379/15"
    try:
        redis.Redis.from_url(url).ping()
    except redis.exceptions.ConnectionError:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip("no Redis on 127.0.0.1:6379")
    return url


def test_shards_on_a_real_rq_queue_equal_one_process(fitted, redis_url):
    from redis import Redis
    from rq import Queue, SimpleWorker

    engine, _, needs, _, model = fitted
    connection = Redis.from_url(redis_url)
    queue = Queue(f"matching-shards-{uuid.uuid4().hex[:8]}", connection=connection)
    try:
        jobs = enqueue_shards(queue, model, needs, 3, top_k=10)
        assert len(jobs) == 3 and queue.count == 3
        SimpleWorker([queue], connection=connection).work(burst=True)  # a burst worker in this process
        assert collect_shards(jobs, timeout=60) == engine.rank(needs, top_k=10)
    finally:
        queue.delete(delete_jobs=True)


def test_fitting_in_processes_equals_one_process(fitted):
    engine, offers, needs, edges, _ = fitted
    parallel = MatchingEngine(fit_processes=2).fit(offers, edges)
    assert parallel.text.vocabulary == engine.text.vocabulary
    assert (parallel.text.doc_weights != engine.text.doc_weights).nnz == 0
    assert (parallel.text.counts != engine.text.counts).nnz == 0
    assert parallel.rank(needs, top_k=10) == engine.rank(needs, top_k=10)
