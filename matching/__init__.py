"""TechBridge matching engine: rank offers (technologies, products, services, patents, financial
products) for needs, with a score broken into parts and bilingual reasons.

Pure library (no Flask, no ``marketplace`` imports)::

    from matching import MatchingEngine
    engine = MatchingEngine().fit(offers, edges)
    engine.rank([need], top_k=10, lang="zh")   # -> [{"need", "matches": [{"offer", "score", "parts", "reasons"}]}]

See docs/matching.md for the record conventions and the full API.
"""

from .config import EngineConfig
from .engine import MatchingEngine
from .evaluate import evaluate_dataset, evaluate_rankings, load_dataset, mrr_at_k, ndcg_at_k, recall_at_k
from .feedback import DEFAULT_WEIGHTS, PARTS
from .idmap import IdMap
from .io import InputError, read_edges, read_jsonl
from .records import NEED_KINDS, OFFER_KINDS, record_text
from .rules import KIND_FIT, kind_compatible
from .text import Analyzer

__all__ = [
    "DEFAULT_WEIGHTS",
    "KIND_FIT",
    "NEED_KINDS",
    "OFFER_KINDS",
    "PARTS",
    "Analyzer",
    "EngineConfig",
    "IdMap",
    "InputError",
    "MatchingEngine",
    "evaluate_dataset",
    "evaluate_rankings",
    "kind_compatible",
    "load_dataset",
    "mrr_at_k",
    "ndcg_at_k",
    "read_edges",
    "read_jsonl",
    "recall_at_k",
    "record_text",
]
