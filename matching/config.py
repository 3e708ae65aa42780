"""Settings of the matching engine (``EngineConfig``), stored with a saved engine as JSON."""

from __future__ import annotations

import dataclasses

from .feedback import DEFAULT_WEIGHTS


@dataclasses.dataclass
class EngineConfig:
    """Engine settings; every field has a sensible default."""

    text_model: str = "bm25"  # "bm25" or "tfidf" (scikit-learn sublinear TF-IDF, cosine)
    k1: float = 1.2  # BM25 term-frequency saturation
    b: float = 0.75  # BM25 length normalisation
    cjk_bigrams: bool = True  # add character bigrams to jieba words
    stem: bool = True  # Snowball-stem English words
    graph_steps: int = 3  # walk length from the need's own neighbourhood
    text_graph_steps: int = 1  # walk length from the best text matches (1: their direct links)
    damping: float = 0.85  # PageRank continuation probability
    graph_power: float = 0.25  # graph part = (PageRank / need's max) ** graph_power
    prf_docs: int = 10  # best text matches that seed the text-graph walk
    prf_terms: int = 0  # words added to each need from its best text matches (0: no expansion)
    prf_feedback_docs: int = 10  # best text matches those words are taken from
    prf_original_weight: float = 0.5  # share of the expanded query's weight kept by the need's own words
    candidate_pool: int = 50  # top offers taken from each channel (at least 2 x top_k)
    chunk_size: int = 256  # needs scored together
    fit_processes: int = 1  # processes analysing the offers' text in fit (same result for any number)
    hard_rules: tuple = ("kind",)  # rules that exclude offers; the others only lower the score
    relation_weights: dict = dataclasses.field(default_factory=dict)  # edge relation -> weight
    link_entities: bool = True  # seed the walk with graph nodes named in the need's text
    adaptive_graph: bool = True  # scale the graph parts' weights by the graph's agreement with the text
    semantic: bool = False  # add the dense part (sentence vectors of needs and offers)
    encoder: str = "use"  # "use" or "sentence-transformers:DIR" (see matching.encoders)
    min_feedback: int = 30  # labelled pairs needed before weights are learnt
    as_of: str | None = None  # ISO date for the deadline rule (default: today)
    weights: dict = dataclasses.field(default_factory=lambda: dict(DEFAULT_WEIGHTS))

    def to_json(self) -> dict:
        data = dataclasses.asdict(self)
        data["hard_rules"] = list(self.hard_rules)
        return data

    @classmethod
    def from_json(cls, data: dict) -> EngineConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        config = cls(**{k: v for k, v in data.items() if k in known})
        config.hard_rules = tuple(config.hard_rules)
        return config
