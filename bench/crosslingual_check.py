"""Synthetic check of cross-lingual matching learnt from bilingual fields (``matching/crosslingual.py``).

    python bench/crosslingual_check.py [--semantic]

Built from the demo data's bilingual building blocks (``marketplace/demo/content.py``): every product
type offered for every application gives a record with Chinese and English title and summary. Three
quarters of them (by a stable hash) stay bilingual offers, from which the term table is learnt; the other
quarter become English-only offers, each sought by a Chinese-only need made from the same record's Chinese
side (the one relevant offer). Prints nDCG@10 of the engine with and without the expansion, and of BM25,
on the same needs.
"""

from __future__ import annotations

import argparse
import sys
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from marketplace.demo.content import applications_for, product_types
from matching import EngineConfig, MatchingEngine, evaluate_rankings
from matching.crosslingual import TermTranslations
from matching.evaluate import bm25_baseline


def collection() -> tuple[list[dict], list[dict], dict]:
    """(offers, needs, qrels) of the synthetic cross-lingual check."""
    offers, needs, qrels = [], [], {}
    serial = 0
    for code, _kind, tzh, ten, szh, sen, _tags, _regulatory, _trl in product_types():
        for app_zh, app_en in applications_for(code):
            serial += 1
            zh = {"title_zh": f"{app_zh}{tzh}", "summary_zh": szh}
            en = {"title_en": f"{ten} for {app_en}", "summary_en": sen}
            if zlib.crc32(f"crosslingual:{serial}".encode()) % 4:
                offers.append({"id": f"o{serial}", **zh, **en})
            else:
                offers.append({"id": f"o{serial}", **en})
                needs.append({"id": f"n{serial}", **zh})
                qrels[f"n{serial}"] = {f"o{serial}": 1}
    return offers, needs, qrels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--semantic", action="store_true", help="also with the semantic channel")
    args = parser.parse_args()
    offers, needs, qrels = collection()
    table = TermTranslations().fit(offers)
    expanded = [table.expand(need) for need in needs]
    print(
        f"{len(offers)} offers ({len(offers) - len(needs)} bilingual), {len(needs)} Chinese-only needs, "
        f"{len(table.table)} Chinese words with a learnt translation"
    )
    ndcg = {"bm25": evaluate_rankings(bm25_baseline(offers, needs), qrels)["ndcg@10"]}
    for semantic in (False, True) if args.semantic else (False,):
        engine = MatchingEngine(EngineConfig(semantic=semantic)).fit(offers)
        for name, ranked_needs in (("engine", needs), ("engine + expansion", expanded)):
            results = engine.rank(ranked_needs, top_k=100, explain=False)
            rankings = {r["need"]: [m["offer"] for m in r["matches"]] for r in results}
            label = name + (" (semantic)" if semantic else "")
            ndcg[label] = evaluate_rankings(rankings, qrels)["ndcg@10"]
    for name, value in ndcg.items():
        print(f"{name:<32} nDCG@10 {value:.4f}")


if __name__ == "__main__":
    main()
