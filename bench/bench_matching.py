"""Benchmark: matching CLI vs bm25s on synthetic bilingual data, plus one-new-need latency.

    python bench/bench_matching.py            # 100,000 offers, 10,000 needs
    python bench/bench_matching.py --small    # 10,000 offers, 1,000 needs (quick check)
    python bench/bench_matching.py --workers 1 2 4   # engine runs with 1, 2 and 4 shard processes

Generates deterministic synthetic offers / needs (Chinese phrases and English words, tags, kinds,
orgs and taxonomy fields, so the graph channel is live), then runs in subprocesses, each timed
and with its own peak memory (``os.wait4`` rusage of that child):

1. bm25s (k1 1.5, b 0.75) with jieba search-mode / stemmed-English tokens, top-10, same output size, once
   with each retrieval backend: ``numpy`` (bm25s's default) and ``numba`` (its compiled one, much faster
   on 10,000 queries; the engine is compared with both);
2. ``python -m matching rank ... --top-k 10 --workers N`` (fit + rank + reasons + output) for each
   ``--workers`` count (default 1 and 2: the model is saved once and memory-mapped by N processes);

and prints seconds, peak MB and the bm25s / engine ratios beside each engine run. Then it times
adding a published batch (``--batch``, default 150) to the fitted engine against a full refit, and
``rank_one`` for new needs: p50 / p95 milliseconds. ``--semantic`` adds the semantic
channel's own cost beside it (embedding offers and needs once, then ranking with their stored
vectors).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CJK_CHARS = (
    "检测试剂盒核酸抗原抗体病毒疫苗研发临床治疗医用防护口罩呼吸机影像诊断智能筛查体温测量红外无人配送物流"
    "平台数据芯片传感器新材料生物医药器械手术机器人远程医疗协同办公消毒净化环保节能病房建设供应链生产制造"
    "专利技术转移许可孵化融资贷款担保投资基金实验室分析检验认证标准质量"
)
EN_WORDS = [
    "test",
    "kit",
    "nucleic",
    "acid",
    "antigen",
    "antibody",
    "virus",
    "vaccine",
    "clinical",
    "therapy",
    "mask",
    "ventilator",
    "imaging",
    "diagnosis",
    "screening",
    "temperature",
    "infrared",
    "delivery",
    "logistics",
    "platform",
    "data",
    "chip",
    "sensor",
    "material",
    "biomedical",
    "device",
    "surgical",
    "robot",
    "remote",
    "office",
    "disinfection",
    "purification",
    "energy",
    "ward",
    "supply",
    "chain",
    "manufacturing",
    "patent",
    "licensing",
    "incubator",
    "financing",
    "loan",
    "guarantee",
    "investment",
    "fund",
    "laboratory",
    "analysis",
    "inspection",
    "certification",
    "standard",
    "quality",
    "rapid",
    "portable",
    "automated",
    "cloud",
    "monitoring",
    "wearable",
    "genome",
    "sequencing",
    "reagent",
    "protein",
]
OFFER_KINDS = ("technology", "product", "service", "patent", "financial")
NEED_KINDS = (
    "procurement",
    "technology_cooperation",
    "manufacturing_supply",
    "testing_lab",
    "financing",
    None,
)

BM25S_SCRIPT = r"""
import json, re, sys, unicodedata
import bm25s, jieba, Stemmer
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS
jieba.setLogLevel(60); jieba.initialize()
stem = Stemmer.Stemmer("english").stemWord
RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+|[a-z0-9]+")
def tokens(text):
    out = []
    for run in RUN.findall(unicodedata.normalize("NFKC", text).lower()):
        if "a" <= run[0] <= "z" or run[0].isdigit():
            if run not in ENGLISH_STOP_WORDS:
                out.append(stem(run))
        else:
            out.extend(jieba.cut_for_search(run))
    return out
def text(r):
    return " ".join([r.get("title", ""), r.get("text", "")] + list(r.get("tags", [])))
offers = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
needs = [json.loads(l) for l in open(sys.argv[2], encoding="utf-8")]
retriever = bm25s.BM25(k1=1.5, b=0.75, backend=sys.argv[5])
retriever.index([tokens(text(o)) for o in offers], show_progress=False)
docs, scores = retriever.retrieve([tokens(text(n)) for n in needs], k=int(sys.argv[4]), show_progress=False)
with open(sys.argv[3], "w", encoding="utf-8") as out:
    for need, drow, srow in zip(needs, docs, scores):
        out.write(json.dumps({"need": need["id"], "matches": [{"offer": offers[int(d)]["id"], "score": float(s)}
                                                              for d, s in zip(drow, srow)]}, ensure_ascii=False) + "\n")
# One query at a time (tokenising it included), as rank_one is timed: p50 / p95 ms beside it.
import time
timings = []
for need in needs[1:201]:
    started = time.perf_counter()
    retriever.retrieve([tokens(text(need))], k=int(sys.argv[4]), show_progress=False)
    timings.append((time.perf_counter() - started) * 1000)
timings.sort()
with open(sys.argv[3] + ".latency.json", "w") as out:
    json.dump([timings[len(timings) // 2], timings[min(len(timings) - 1, int(len(timings) * 0.95))]], out)
"""


def make_vocabulary(rng: random.Random, n_zh: int = 6000) -> tuple[list[str], list[str]]:
    """Chinese words and English words (with suffix variants).

    Chinese words are real dictionary words (jieba's dictionary, 2-4 characters, sampled with a
    fixed seed) plus domain words made of the characters above, so segmentation and character
    statistics look like real text rather than random characters.
    """
    import jieba

    jieba.setLogLevel(60)
    jieba.initialize()
    dictionary = sorted(
        w
        for w, f in jieba.dt.FREQ.items()
        if f >= 50 and 2 <= len(w) <= 4 and all("\u4e00" <= ch <= "\u9fff" for ch in w)
    )
    zh = rng.sample(dictionary, n_zh)
    zh += sorted({"".join(rng.choice(CJK_CHARS) for _ in range(2)) for _ in range(500)})
    en = EN_WORDS + [w + s for w in EN_WORDS for s in ("s", "ing", "ed", "ion")]
    return zh, en


def phrase(rng: random.Random, zh: list[str], en: list[str], n_words: int, topic: int) -> str:
    """Mixed text; words are drawn mostly from a topic slice so relevant pairs share vocabulary."""
    parts = []
    for _ in range(n_words):
        if rng.random() < 0.6:
            pool, width = zh, len(zh) // 50
        else:
            pool, width = en, len(en) // 10
        start = (topic * width) % len(pool)
        word = (
            pool[(start + int(rng.expovariate(1 / width))) % len(pool)]
            if rng.random() < 0.8
            else rng.choice(pool)
        )
        # Chinese words run together (2-3 per chunk) like real text; English words are spaced.
        if parts and pool is zh and rng.random() < 0.6 and parts[-1][-1] >= "\u4e00":
            parts[-1] += word
        else:
            parts.append(word)
    return " ".join(parts)


def generate(n_offers: int, n_needs: int, seed: int = 7) -> tuple[list[dict], list[dict]]:
    rng = random.Random(seed)
    zh, en = make_vocabulary(rng)
    n_orgs, n_fields = max(10, n_offers // 20), 50
    offers = []
    for i in range(n_offers):
        topic = rng.randrange(200)
        offers.append(
            {
                "id": f"o{i}",
                "title": phrase(rng, zh, en, rng.randint(3, 7), topic),
                "text": phrase(rng, zh, en, rng.randint(15, 40), topic),
                "tags": [rng.choice(zh) for _ in range(rng.randint(1, 3))],
                "kind": rng.choice(OFFER_KINDS),
                "org": f"org{rng.randrange(n_orgs)}",
                "fields": [f"F{topic % n_fields}"],
            }
        )
    needs = []
    for i in range(n_needs):
        topic = rng.randrange(200)
        need = {
            "id": f"n{i}",
            "title": phrase(rng, zh, en, rng.randint(2, 5), topic),
            "text": phrase(rng, zh, en, rng.randint(5, 15), topic),
            "tags": [rng.choice(zh)],
            "org": f"org{rng.randrange(n_orgs)}",
            "fields": [f"F{topic % n_fields}"],
        }
        kind = rng.choice(NEED_KINDS)
        if kind:
            need["kind"] = kind
        needs.append(need)
    return offers, needs


def write_jsonl(path: Path, rows: list[dict]) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        handle.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


def run_measured(command: list[str]) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds, peak resident MB) of one child process.

    CPU seconds (user + system) are reported too because wall time is unreliable on a shared machine.
    """
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"command failed: {' '.join(command)}")
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024  # Linux reports KiB


def latency_one_need(offers: list[dict], needs: list[dict], repeats: int) -> tuple[float, float, float, float]:
    """Fit in-process, then time rank_one on new needs: (fit seconds, p50 ms, p95 ms, p95 CPU ms)."""
    from matching import MatchingEngine

    started = time.perf_counter()
    engine = MatchingEngine().fit(offers)
    fit_seconds = time.perf_counter() - started
    engine.rank_one(needs[0], top_k=10)  # warm caches (jieba dictionary etc.)
    timings, cpu = [], []
    for need in needs[1 : repeats + 1]:
        started, started_cpu = time.perf_counter(), time.process_time()
        engine.rank_one({**need, "id": "new-" + need["id"]}, top_k=10)
        timings.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    timings.sort()
    cpu.sort()
    p95 = min(len(timings) - 1, int(len(timings) * 0.95))
    # CPU milliseconds too: on a shared machine the wall clock also counts other people's work.
    return fit_seconds, timings[len(timings) // 2], timings[p95], cpu[p95]


def incremental_cost(offers: list[dict], batch: int, bm25_cpu: float) -> None:
    """Publishing a batch: adding its offers to the fitted engine against refitting on all offers."""
    from matching import MatchingEngine

    engine = MatchingEngine().fit(offers[:-batch])
    started = time.process_time()
    engine.add_offers(offers[-batch:])
    added = time.process_time() - started
    started = time.process_time()
    MatchingEngine().fit(offers)
    refit = time.process_time() - started
    print(
        f"publishing {batch} offers onto {len(offers) - batch:,}: add_offers {added:.2f} s CPU, full refit "
        f"{refit:.1f} s CPU ({refit / max(added, 1e-9):.0f}x); bm25s re-indexes everything: {bm25_cpu:.1f} s CPU",
        flush=True,
    )


def semantic_cost(offers: list[dict], needs: list[dict]) -> None:
    """The semantic channel's own cost: embedding offers and needs once (as the site does when they
    are saved), then ranking with their stored vectors against ranking without the channel, and
    ranking while encoding the needs (no stored need vectors) for comparison. CPU seconds of this
    process (the encoder and the ranking run on one thread)."""
    from matching import MatchingEngine

    def cpu(action) -> float:
        started = time.process_time()
        action()
        return time.process_time() - started

    plain = MatchingEngine().fit(offers)
    plain.rank(needs[:5])  # warm caches
    without = min(cpu(lambda: plain.rank(needs, top_k=10)) for _ in range(3))

    semantic = MatchingEngine(semantic=True)
    semantic.encode_offers(offers[:5])  # load the encoder's weights outside the timing
    vectors: dict = {}
    embed_offers = cpu(lambda: vectors.update(semantic.encode_offers(offers)))
    need_vectors: dict = {}
    embed_needs = cpu(lambda: need_vectors.update(semantic.encode_needs(needs)))
    semantic.fit(offers, offer_vectors=vectors)
    semantic.rank(needs[:5], need_vectors=need_vectors)
    stored = min(cpu(lambda: semantic.rank(needs, top_k=10, need_vectors=need_vectors)) for _ in range(3))
    encoding = cpu(lambda: semantic.rank(needs, top_k=10))
    print(
        f"semantic channel on {len(offers):,} offers, {len(needs):,} needs: embedding them once "
        f"{embed_offers:.1f} s + {embed_needs:.1f} s CPU ({(len(offers) + len(needs)) / (embed_offers + embed_needs):.0f} "
        f"texts/s); ranking the needs with reasons {without:.2f} s CPU without the channel, "
        f"{stored:.2f} s with stored offer and need vectors ({stored / without:.2f}x), "
        f"{encoding:.2f} s encoding the needs while ranking ({encoding / without:.2f}x)",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="10,000 offers and 1,000 needs")
    parser.add_argument("--offers", type=int)
    parser.add_argument("--needs", type=int)
    parser.add_argument("--top-k", type=int, default=10)
    parser.add_argument("--latency-needs", type=int, default=200)
    parser.add_argument(
        "--workers", type=int, nargs="+", default=[1, 2], help="engine runs, one per worker count (shards)"
    )
    parser.add_argument("--batch", type=int, default=150, help="offers published at once (incremental fit)")
    parser.add_argument(
        "--semantic", action="store_true", help="also measure the semantic channel's own cost (on a subset)"
    )
    parser.add_argument(
        "--semantic-offers", type=int, default=2_000, help="offers for the semantic measurement"
    )
    args = parser.parse_args()
    n_offers = args.offers or (10_000 if args.small else 100_000)
    n_needs = args.needs or (1_000 if args.small else 10_000)

    offers, needs = generate(n_offers, n_needs)
    python = sys.executable
    with tempfile.TemporaryDirectory(prefix="bench_matching_") as tmp:
        tmp = Path(tmp)
        write_jsonl(tmp / "offers.jsonl", offers)
        write_jsonl(tmp / "needs.jsonl", needs)
        (tmp / "bm25s_run.py").write_text(BM25S_SCRIPT, encoding="utf-8")
        print(f"data: {n_offers:,} offers, {n_needs:,} needs, top-k {args.top_k}", flush=True)
        baselines = {}  # bm25s retrieval backend -> (wall s, CPU s, peak MB)
        for backend in ("numpy", "numba"):
            baselines[backend] = run_measured(
                [
                    python,
                    str(tmp / "bm25s_run.py"),
                    str(tmp / "offers.jsonl"),
                    str(tmp / "needs.jsonl"),
                    str(tmp / f"bm25s_out_{backend}.jsonl"),
                    str(args.top_k),
                    backend,
                ]
            )
            bm25_s, bm25_cpu, bm25_mb = baselines[backend]
            print(
                f"bm25s, {backend} backend (baseline): {bm25_s:8.1f} s wall {bm25_cpu:8.1f} s CPU {bm25_mb:8.0f} MB peak",
                flush=True,
            )
        # The compiled loops are compiled once per install and kept on disk; compile them here (a small run) so
        # every timed run measures ranking, as every run after an install's first does.
        write_jsonl(tmp / "warm_offers.jsonl", offers[:200])
        write_jsonl(tmp / "warm_needs.jsonl", needs[:20])
        subprocess.run([python, "-m", "matching", "rank", "--offers", str(tmp / "warm_offers.jsonl"), "--needs",
                        str(tmp / "warm_needs.jsonl"), "--out", str(tmp / "warm_out.jsonl")], check=True)
        for workers in args.workers:
            engine_s, engine_cpu, engine_mb = run_measured(
                [
                    python,
                    "-m",
                    "matching",
                    "rank",
                    "--offers",
                    str(tmp / "offers.jsonl"),
                    "--needs",
                    str(tmp / "needs.jsonl"),
                    "--top-k",
                    str(args.top_k),
                    "--out",
                    str(tmp / f"engine_out_{workers}.jsonl"),
                    "--workers",
                    str(workers),
                ]
            )
            print(
                f"engine, {workers} worker{'s' if workers > 1 else ' '} (with reasons): {engine_s:8.1f} s wall "
                f"{engine_cpu:8.1f} s CPU {engine_mb:8.0f} MB peak (largest process)",
                flush=True,
            )
            for backend, (bm25_s, bm25_cpu, bm25_mb) in baselines.items():
                print(
                    f"  vs bm25s ({backend}): {bm25_s / engine_s:.2f}x faster (wall), {bm25_cpu / engine_cpu:.2f}x "
                    f"less CPU, memory {engine_mb / bm25_mb:.2f}x",
                    flush=True,
                )
        outputs = [(tmp / f"engine_out_{w}.jsonl").read_bytes() for w in args.workers]
        print(f"rankings identical across worker counts: {all(o == outputs[0] for o in outputs)}", flush=True)

        bm25_p50, bm25_p95 = json.loads((tmp / "bm25s_out_numba.jsonl.latency.json").read_text())
        bm25_cpu = min(cpu for _, cpu, _ in baselines.values())  # the cheaper whole bm25s run

    incremental_cost(offers, args.batch, bm25_cpu)
    fit_seconds, p50, p95, p95_cpu = latency_one_need(offers, needs, args.latency_needs)
    print(
        f"rank_one against {n_offers:,} fitted offers (fit {fit_seconds:.1f} s): "
        f"p50 {p50:.1f} ms, p95 {p95:.1f} ms (p95 CPU {p95_cpu:.1f} ms) over {args.latency_needs} new needs "
        f"(bm25s, one query on its index: p50 {bm25_p50:.1f} ms, p95 {bm25_p95:.1f} ms)"
    )
    if args.semantic:
        semantic_cost(offers[: args.semantic_offers], needs[: max(1, args.semantic_offers // 10)])


if __name__ == "__main__":
    main()
