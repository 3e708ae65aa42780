"""Ranking needs in shards: the fitted engine is saved once, each shard loads it read-only
(memory-mapped) and ranks its slice of the needs; results come back in the needs' order.

Three ways to run the shards, all giving the same rankings as one ``engine.rank`` call:

- ``rank_in_processes``: local worker processes loading a saved model (``python -m matching rank
  --model DIR --workers N``);
- ``rank_forked``: local worker processes forked from the one that fitted the engine, sharing it
  copy-on-write (``python -m matching rank --offers ... --workers N``);
- ``rank_on_queue``: jobs on an RQ queue, one per listening worker, on any machine that sees the
  model directory (the site's ``flask matching rebuild``);
- ``rank_shard`` in this process (no queue, one worker).

Ranking a need never depends on the other needs of its batch, so splitting changes nothing.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

_loaded: dict[str, tuple[int, object]] = {}
_loaded_lock = threading.Lock()
POLL_SECONDS = 0.2


def split(items: list, n_shards: int) -> list[list]:
    """``items`` cut into ``n_shards`` contiguous slices of nearly equal size (none empty)."""
    if not items:
        return []
    n_shards = max(1, min(n_shards, len(items)))
    size, extra = divmod(len(items), n_shards)
    out, start = [], 0
    for shard in range(n_shards):
        end = start + size + (1 if shard < extra else 0)
        out.append(items[start:end])
        start = end
    return out


def load_shared(model_dir) -> object:
    """The engine saved in ``model_dir``, memory-mapped read-only and kept for this process
    until the directory holds a newer model."""
    from .engine import MatchingEngine

    model_dir = Path(model_dir)
    stamp = (model_dir / "manifest.json").stat().st_mtime_ns
    key = str(model_dir.resolve())
    with _loaded_lock:
        cached = _loaded.get(key)
        if cached is None or cached[0] != stamp:
            cached = (stamp, MatchingEngine.load(model_dir, mmap=True))
            _loaded[key] = cached
        return cached[1]


def rank_shard(model_dir: str, needs: list[dict], top_k: int = 10, lang: str = "zh", explain: bool = True) -> list[dict]:
    """Rank one shard of needs against the engine saved in ``model_dir`` (a queue job)."""
    return load_shared(model_dir).rank(needs, top_k=top_k, lang=lang, explain=explain)


def rank_in_processes(
    model_dir, needs: list[dict], workers: int, top_k: int = 10, lang: str = "zh", explain: bool = True
) -> list[dict]:
    """Rank ``needs`` in ``workers`` local processes (forked), each ranking one shard."""
    if workers <= 1 or len(needs) < 2:
        return rank_shard(str(model_dir), needs, top_k, lang, explain)
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    shards = split(needs, workers)
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(len(shards), mp_context=context) as pool:
        futures = [pool.submit(rank_shard, str(model_dir), shard, top_k, lang, explain) for shard in shards]
        return [result for future in futures for result in future.result()]


_forked_engine = None  # the engine ``rank_forked`` hands to the processes it forks


def _rank_forked_shard(needs: list[dict], top_k: int, lang: str, explain: bool) -> list[dict]:
    return _forked_engine.rank(needs, top_k=top_k, lang=lang, explain=explain)


def rank_forked(engine, needs: list[dict], workers: int, top_k: int = 10, lang: str = "zh", explain: bool = True) -> list[dict]:
    """Rank ``needs`` against an engine fitted in this process, in ``workers`` processes: this one
    ranks the first shard while ``workers - 1`` forked children rank the others, reading the engine
    they inherit (pages shared copy-on-write, as a memory map would be; nothing is saved or loaded)."""
    global _forked_engine
    shards = split(needs, workers)
    if len(shards) <= 1:
        return engine.rank(needs, top_k=top_k, lang=lang, explain=explain)
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    engine.fusion_weights()  # work every process would repeat (the graph's weight probe), done once before forking
    _forked_engine = engine
    try:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(len(shards) - 1, mp_context=context) as pool:
            futures = [pool.submit(_rank_forked_shard, shard, top_k, lang, explain) for shard in shards[1:]]
            first = engine.rank(shards[0], top_k=top_k, lang=lang, explain=explain)
            return first + [result for future in futures for result in future.result()]
    finally:
        _forked_engine = None


class ShardFailed(RuntimeError):
    """A shard job failed or did not finish in time on the queue."""


def enqueue_shards(
    queue, model_dir, needs: list[dict], shards: int, top_k: int = 10, lang: str = "zh", explain: bool = True,
    timeout: float = 3600,
) -> list:
    """Put ``needs`` on an RQ ``queue`` as ``shards`` jobs ranking against ``model_dir``; returns the
    jobs, in the needs' order, for ``collect_shards``."""
    return [
        queue.enqueue(rank_shard, str(model_dir), part, top_k, lang, explain, job_timeout=int(timeout),
                      result_ttl=600, failure_ttl=3600)
        for part in split(needs, shards)
    ]


def collect_shards(jobs: list, timeout: float = 3600) -> list[dict]:
    """Wait for shard jobs and join their rankings in order; ``ShardFailed`` when a job fails or
    ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    results = []
    for job in jobs:
        while True:
            status = job.get_status(refresh=True)
            status = getattr(status, "value", status)  # rq's JobStatus enum, or a plain string
            if status == "finished":
                results.extend(job.return_value())
                break
            if status in ("failed", "stopped", "canceled"):
                raise ShardFailed(f"shard job {job.id} {status}")
            if time.monotonic() > deadline:
                raise ShardFailed(f"shard job {job.id} did not finish within {timeout:.0f} s")
            time.sleep(POLL_SECONDS)
    return results


def rank_on_queue(
    queue,
    model_dir,
    needs: list[dict],
    shards: int,
    top_k: int = 10,
    lang: str = "zh",
    explain: bool = True,
    local_shard: bool = False,
    timeout: float = 3600,
) -> list[dict]:
    """Rank ``needs`` as ``shards`` jobs on an RQ ``queue`` and wait for them.

    With ``local_shard`` one shard is ranked in this process while the queue's workers rank the
    others (the caller is itself a worker: waiting idle would hold a worker and a core).
    """
    parts = split(needs, shards)
    if not parts:
        return []
    if not local_shard:
        return collect_shards(enqueue_shards(queue, model_dir, needs, len(parts), top_k, lang, explain, timeout),
                              timeout)
    rest = [need for part in parts[1:] for need in part]
    jobs = enqueue_shards(queue, model_dir, rest, len(parts) - 1, top_k, lang, explain, timeout) if rest else []
    first = rank_shard(str(model_dir), parts[0], top_k, lang, explain)
    return first + collect_shards(jobs, timeout)
