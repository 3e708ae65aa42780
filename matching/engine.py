"""MatchingEngine: fit on offers (and the graph), rank needs against them.

Pipeline for a chunk of needs (no dense needs x offers matrix is ever built):

1. text: per need, the query's posting lists are added into one reused dense vector over offers
   (as an inverted index does); its top offers, best score and confidence
   (share of the need's terms its best offer covers) are kept;
2. graph: two truncated personalised PageRanks, batched as sparse matrix products, one seeded
   from the need's own neighbourhood (its edges, org, fields, IPC, entities named in its text),
   one from its best text matches (pseudo-relevance over the graph); rows divided by their max;
3. candidates: the union of each channel's top offers (``candidate_pool``, at least 2 x top_k)
   that pass the hard rules;
4. parts per candidate (text, graph, graph_text, tags, rules), fused with the weights, top-k;
5. reasons for the returned matches only.

A need the graph does not reach gets zero graph parts, so it is ranked by text alone.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from . import explain
from .feedback import DEFAULT_WEIGHTS, PARTS, fit_weights, label_value
from .graph import GraphIndex, node_label
from .idmap import IdMap
from .records import as_list, normalise_kind, normalise_tag, record_id, record_text, record_title
from .rules import OfferRuleTable, hard_failures, rule_score
from .text import Analyzer, TextIndex

FORMAT_VERSION = 1


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
    candidate_pool: int = 50  # top offers taken from each channel (at least 2 x top_k)
    chunk_size: int = 256  # needs scored together
    hard_rules: tuple = ("kind",)  # rules that exclude offers; the others only lower the score
    relation_weights: dict = dataclasses.field(default_factory=dict)  # edge relation -> weight
    link_entities: bool = True  # seed the walk with graph nodes named in the need's text
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


class MatchingEngine:
    """Estimator-style matcher: ``fit(offers, edges)`` then ``rank(needs)``.

    Records are plain dicts (see ``matching.records``). Results are plain dicts::

        {"need": "n1", "matches": [{"offer": "o7", "score": 1.23,
                                    "parts": {"text": 0.9, "graph": 1.0, ...},
                                    "reasons": [{"type": "terms", "zh": ..., "en": ..., "text": ...}, ...]}]}
    """

    def __init__(self, config: EngineConfig | None = None, **overrides):
        self.config = dataclasses.replace(config or EngineConfig(), **overrides)
        self.config.hard_rules = tuple(self.config.hard_rules)
        self.weights: dict[str, float] = {**DEFAULT_WEIGHTS, **self.config.weights}
        self.feedback_trained = False
        self.offers = IdMap()
        self.text: TextIndex | None = None
        self.graph: GraphIndex | None = None
        self.rules: OfferRuleTable | None = None
        self._titles: list[list[str]] = []
        self._tags: list[frozenset[str]] = []
        self._tag_labels: list[list[str]] = []

    # ------------------------------------------------------------------------------------------
    # fitting
    # ------------------------------------------------------------------------------------------
    def fit(self, offers: list[dict], edges=(), feedback=None) -> MatchingEngine:
        """Index ``offers`` and build the graph from their attributes and ``edges``.

        ``edges``: dicts ``{"source", "target", "relation"[, "weight"]}``; an ``offer:X`` end must
        name a fitted offer (``ValueError`` otherwise). ``feedback``: optional labelled pairs, as
        for ``train_feedback``.
        """
        if not offers:
            raise ValueError("fit() needs at least one offer")
        self.offers = IdMap()
        for position, offer in enumerate(offers):
            try:
                offer_id = record_id(offer)
            except ValueError:
                raise ValueError(f"offer at position {position} has no 'id'") from None
            if offer_id in self.offers:
                raise ValueError(f"duplicate offer id {offer_id!r}")
            self.offers.add(offer_id)
        edges = list(edges)
        for edge in edges:
            for end in ("source", "target"):
                node = str(edge.get(end, ""))
                if not node:
                    raise ValueError(f"edge {edge!r} has no {end!r}")
                if node.startswith("offer:") and node[6:] not in self.offers:
                    raise ValueError(f"edge end {node!r} names no fitted offer")

        config = self.config
        self.text = TextIndex(
            config.text_model, config.k1, config.b, Analyzer(config.cjk_bigrams, config.stem)
        )
        self.text.fit([record_text(offer) for offer in offers])
        self.graph = GraphIndex.build(self.offers.ids, offers, edges, config.relation_weights)
        self.rules = OfferRuleTable(offers)
        self._titles = [[record_title(o, "zh"), record_title(o, "en")] for o in offers]
        self._tag_labels = [[str(t) for t in as_list(o.get("tags"))] for o in offers]
        self._tags = [frozenset(normalise_tag(t) for t in tags) for tags in self._tag_labels]
        if feedback:
            self.train_feedback(feedback)
        return self

    def _check_fitted(self) -> None:
        if self.text is None:
            raise RuntimeError("MatchingEngine is not fitted; call fit() or load() first")

    # ------------------------------------------------------------------------------------------
    # ranking
    # ------------------------------------------------------------------------------------------
    def rank(self, needs: list[dict], top_k: int = 10, lang: str = "zh", explain: bool = True) -> list[dict]:
        """Best ``top_k`` offers for each need, in input order: ``[{"need", "matches"}]``.

        ``lang`` picks the language of each reason's ``text`` (both ``zh`` and ``en`` are always
        present). ``explain=False`` skips reasons (faster, for evaluation).
        """
        self._check_fitted()
        results: list[dict] = []
        for start in range(0, len(needs), self.config.chunk_size):
            results.extend(
                self._rank_chunk(needs[start : start + self.config.chunk_size], top_k, lang, explain)
            )
        return results

    def rank_one(self, need: dict, top_k: int = 10, lang: str = "zh", explain: bool = True) -> dict:
        """Rank one (possibly new, unsaved) need against the fitted offers without refitting."""
        return self.rank([need], top_k, lang, explain)[0]

    def rank_offer(
        self, offer_id, needs: list[dict], top_k: int = 10, lang: str = "zh", explain: bool = True
    ) -> dict:
        """Reverse direction: which of ``needs`` this fitted offer could answer, best first.

        Each need is scored exactly as ``rank`` would score this offer for it (same parts and
        normalisation); needs the offer cannot serve under the hard rules are left out.
        Returns ``{"offer": id, "matches": [{"need", "score", "parts", "reasons"}]}``.
        """
        self._check_fitted()
        offer_index = self.offers.index(offer_id)
        scored: list[dict] = []
        forced = np.array([offer_index])
        for start in range(0, len(needs), self.config.chunk_size):
            chunk = needs[start : start + self.config.chunk_size]
            for result in self._rank_chunk(chunk, 1, lang, explain, forced=forced):
                match = result["matches"][0] if result["matches"] else None
                # Only needs with some positive evidence (rules alone do not make a match).
                if match and any(match["parts"][p] > 0 for p in ("text", "graph", "graph_text", "tags")):
                    scored.append(
                        {
                            "need": result["need"],
                            "score": match["score"],
                            "parts": match["parts"],
                            "reasons": match.get("reasons", []),
                        }
                    )
        scored.sort(key=lambda m: -m["score"])
        return {"offer": self.offers.id(offer_index), "matches": scored[:top_k]}

    def score_pairs(self, pairs: list[tuple[dict, object]]) -> np.ndarray:
        """Score parts (columns in ``feedback.PARTS`` order) for (need record, offer id) pairs.

        Pairs whose offer fails a hard rule get all-zero parts.
        """
        self._check_fitted()
        out = np.zeros((len(pairs), len(PARTS)))
        for row, (need, offer_id) in enumerate(pairs):
            forced = np.array([self.offers.index(offer_id)])
            result = self._rank_chunk([need], 1, "en", False, forced=forced)[0]
            if result["matches"]:
                out[row] = [result["matches"][0]["parts"][p] for p in PARTS]
        return out

    # ------------------------------------------------------------------------------------------
    # feedback
    # ------------------------------------------------------------------------------------------
    def train_feedback(self, labelled) -> bool:
        """Learn fusion weights from ``[(need_record, offer_id, label)]``.

        Labels: "accepted" / "signed" (positive), "dismissed" (negative), or booleans / 0-1.
        Weights change only once there are ``config.min_feedback`` labelled pairs including both
        classes; returns True when they did.
        """
        self._check_fitted()
        triples = [(need, offer_id, label_value(label)) for need, offer_id, label in labelled]
        triples = [t for t in triples if t[1] in self.offers]
        if not triples:
            return False
        parts = self.score_pairs([(need, offer_id) for need, offer_id, _ in triples])
        labels = np.array([label for _, _, label in triples])
        weights = fit_weights(parts, labels, DEFAULT_WEIGHTS, self.config.min_feedback)
        if weights is None:
            return False
        self.weights = weights
        self.feedback_trained = True
        return True

    # ------------------------------------------------------------------------------------------
    # core scoring
    # ------------------------------------------------------------------------------------------
    def _as_of(self) -> dt.date:
        return dt.date.fromisoformat(self.config.as_of) if self.config.as_of else dt.date.today()

    def _rank_chunk(
        self,
        needs: list[dict],
        top_k: int,
        lang: str,
        explain_matches: bool,
        forced: np.ndarray | None = None,
    ) -> list[dict]:
        config, n_offers = self.config, len(self.offers)
        texts = [record_text(need) for need in needs]
        need_ids = [str(need["id"]) if need.get("id") is not None else None for need in needs]
        queries, idf_mass = self.text.analyse_queries(texts)
        kind_hard = "kind" in config.hard_rules
        masks = [self.rules.kind_mask(need.get("kind")) if kind_hard else None for need in needs]
        use_graph = self.graph.n_edges > 0

        pool_size = max(config.candidate_pool, 2 * top_k)
        text_pools, text_scale, confidence, text_seeds = self._text_pass(
            queries, idf_mass, masks, use_graph, pool_size
        )

        # Pass 2, batched sparse walks over the graph.
        seeds = [
            self.graph.need_seeds(need_ids[i], needs[i], texts[i], config.link_entities) if use_graph else {}
            for i in range(len(needs))
        ]
        graph_rows = self._graph_rows(seeds, masks) if use_graph else [_EMPTY_ROW] * len(needs)
        text_graph_rows = self._text_graph_rows(text_seeds, masks) if use_graph else [_EMPTY_ROW] * len(needs)
        text_graph_rows = [
            (indices, values * confidence[i]) for i, (indices, values) in enumerate(text_graph_rows)
        ]

        as_of = self._as_of()
        scratch = np.zeros(n_offers, dtype=np.float64)
        weight_vector = np.array([self.weights.get(p, 0.0) for p in PARTS])
        results = []
        for i, need in enumerate(needs):
            if forced is not None:
                candidates = forced
                if masks[i] is not None:
                    candidates = candidates[masks[i][candidates]]
            else:
                candidates = np.unique(
                    np.concatenate(
                        [text_pools[i], _top(graph_rows[i], pool_size), _top(text_graph_rows[i], pool_size)]
                    )
                )
            parts = np.zeros((len(candidates), len(PARTS)))
            parts[:, 0] = self.text.score_offers(queries, i, candidates) * text_scale[i]
            # The graph lifts offers that also match the text, unless the text says little about
            # the need (low confidence): then graph links count on their own.
            parts[:, 1] = _lookup(graph_rows[i], candidates, scratch) * (1 - confidence[i] + parts[:, 0])
            parts[:, 2] = _lookup(text_graph_rows[i], candidates, scratch)
            need_tags = frozenset(normalise_tag(t) for t in as_list(need.get("tags")))
            if need_tags:
                parts[:, 3] = [len(need_tags & self._tags[c]) / len(need_tags) for c in candidates.tolist()]
            outcomes = self.rules.outcomes(need, candidates, as_of)
            parts[:, 4] = rule_score(outcomes, len(candidates))
            keep = ~hard_failures(outcomes, frozenset(config.hard_rules), len(candidates))
            candidates, parts = candidates[keep], parts[keep]
            outcomes = {name: values[keep] for name, values in outcomes.items()}
            fused = parts @ weight_vector
            order = np.lexsort((candidates, -fused))[:top_k]  # ties: earlier-fitted offer first
            matches = []
            need_terms = None
            for position in order.tolist():
                offer_index = int(candidates[position])
                match = {
                    "offer": self.offers.id(offer_index),
                    "score": round(float(fused[position]), 6),
                    "parts": {p: round(float(v), 6) for p, v in zip(PARTS, parts[position])},
                }
                if explain_matches:
                    if need_terms is None:
                        need_terms = self.text.need_terms(texts[i])
                    match["reasons"] = self._reasons(
                        need,
                        need_terms,
                        offer_index,
                        parts[position],
                        seeds[i],
                        text_seeds[i],
                        {name: int(values[position]) for name, values in outcomes.items()},
                        lang,
                    )
                matches.append(match)
            results.append({"need": need_ids[i], "matches": matches})
        return results

    def _text_pass(
        self, queries: sp.csr_matrix, idf_mass: np.ndarray, masks: list, use_graph: bool, pool_size: int
    ):
        """Text channel, one need at a time over one reused dense vector of offers (never a
        needs x offers matrix).

        Returns per need: its top ``pool_size`` text candidates, the factor turning a raw text
        score into the text part, its text confidence and its best matches as graph seeds.
        """
        config, n_offers, n_needs = self.config, len(self.offers), queries.shape[0]
        has_edges = np.diff(self.graph.adjacency.indptr)[:n_offers] > 0 if use_graph else None
        pools, scale, confidence, text_seeds = [], np.zeros(n_needs), np.zeros(n_needs), []
        scores = np.zeros(n_offers, dtype=np.float32)
        for i in range(n_needs):
            scores.fill(0)
            self.text.accumulate(queries, i, scores)
            if masks[i] is not None:
                scores *= masks[i]
            pool = _top_dense(scores, pool_size)
            seeds: dict[int, float] = {}
            if len(pool):
                best = int(pool[np.argmax(scores[pool])])
                # Confidence: how much of the need its best offer covers. Text-derived parts are
                # scaled by it, so a need whose words barely match anything leans on its graph links.
                confidence[i] = self.text.coverage(queries, i, idf_mass[i], best)
                scale[i] = confidence[i] / float(scores[best])
                if use_graph:
                    ordered = pool[np.argsort(-scores[pool], kind="stable")][: config.prf_docs]
                    seeds = {int(o): float(scores[o]) * scale[i] for o in ordered if has_edges[o]}
            pools.append(pool)
            text_seeds.append(seeds)
        return pools, scale, confidence, text_seeds

    def _graph_rows(self, seeds: list[dict], masks: list) -> list[tuple[np.ndarray, np.ndarray]]:
        """Normalised PageRank rows seeded from each need's own graph neighbourhood."""
        if not any(seeds):
            return [_EMPTY_ROW] * len(seeds)
        matrix = _seed_matrix([{node: w for node, (w, _) in s.items()} for s in seeds], len(self.graph.nodes))
        walked = self.graph.propagate(
            matrix, self.config.graph_steps, self.config.damping, include_seeds=True
        )
        rows = [_masked_row(walked, i, masks[i], self.graph.n_offers) for i in range(len(seeds))]
        # PageRank mass falls steeply with distance; a power < 1 flattens it so being reached
        # two or three hops away still counts, not only the nearest offers.
        power = self.config.graph_power
        return rows if power == 1 else [(indices, values**power) for indices, values in rows]

    def _text_graph_rows(self, text_seeds: list[dict], masks: list) -> list[tuple[np.ndarray, np.ndarray]]:
        """Normalised PageRank rows seeded from the best text matches, excluding the seeds'
        own mass (they already score on text): offers *near* strong matches rise."""
        if not any(text_seeds):
            return [_EMPTY_ROW] * len(text_seeds)
        matrix = _seed_matrix(text_seeds, len(self.graph.nodes))
        walked = self.graph.propagate(
            matrix, self.config.text_graph_steps, self.config.damping, include_seeds=False
        )
        return [_masked_row(walked, i, masks[i], self.graph.n_offers) for i in range(len(text_seeds))]

    # ------------------------------------------------------------------------------------------
    # explanations
    # ------------------------------------------------------------------------------------------
    def _reasons(
        self,
        need: dict,
        need_terms: list,
        offer_index: int,
        parts: np.ndarray,
        seeds: dict,
        text_seeds: dict,
        outcomes: dict[str, int],
        lang: str,
    ) -> list[dict]:
        reasons = []
        if parts[0] > 0:
            terms = self.text.shared_terms(need_terms, offer_index)
            if terms:
                reasons.append(explain.terms_reason(terms, lang))
        if parts[3] > 0:
            need_tags = {normalise_tag(t) for t in as_list(need.get("tags"))}
            shared = [t for t in self._tag_labels[offer_index] if normalise_tag(t) in need_tags]
            reasons.append(explain.tags_reason(list(dict.fromkeys(shared)), lang))
        if parts[1] > 0:
            for path in self.graph.find_paths(seeds, offer_index):
                reasons.append(explain.graph_reason([(self.graph.nodes.id(n), r) for n, r in path], lang))
        if parts[2] > 0:
            near = {s: (w, "text_match") for s, w in text_seeds.items() if s != offer_index}
            paths = self.graph.find_paths(
                near, offer_index, limit=1, max_depth=self.config.text_graph_steps + 1
            )
            path = paths[0] if paths else None
            if path and len(path) >= 2:
                via = path[0][0]
                relation = (
                    path[1][1]
                    if len(path) == 2
                    else f"{path[1][1]} {node_label(self.graph.nodes.id(path[1][0]))}"
                )
                title = self._titles[via][0 if lang == "zh" else 1]
                reasons.append(explain.neighbour_reason(title, self.offers.id(via), relation, lang))
        for rule, outcome in outcomes.items():
            if outcome:
                need_value, offer_value = self._rule_values(rule, need, offer_index)
                reasons.append(explain.rule_reason(rule, outcome, need_value, offer_value, lang))
        return reasons

    def _rule_values(self, rule: str, need: dict, offer_index: int):
        rules = self.rules
        if rule == "kind":
            return normalise_kind(need.get("kind")), rules.kinds[offer_index]
        if rule == "certifications":
            return as_list(need.get("required_certifications")), rules.cert_labels[offer_index]
        if rule == "trl":
            return need.get("min_trl"), float(rules.trl[offer_index])
        if rule == "budget":
            return need.get("budget"), float(rules.price[offer_index])
        return need.get("deadline"), None

    # ------------------------------------------------------------------------------------------
    # persistence (JSON + npz, never pickle)
    # ------------------------------------------------------------------------------------------
    def save(self, directory) -> None:
        """Write the fitted engine to ``directory`` as JSON and .npz/.npy files (no pickle)."""
        self._check_fitted()
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        text_meta, text_arrays = self.text.state()
        graph_meta, graph_arrays = self.graph.state()
        manifest = {
            "format": "techbridge-matching",
            "version": FORMAT_VERSION,
            "config": self.config.to_json(),
            "weights": self.weights,
            "feedback_trained": self.feedback_trained,
        }
        _write_json(directory / "manifest.json", manifest)
        _write_json(
            directory / "offers.json",
            {
                "ids": self.offers.to_list(),
                "titles": self._titles,
                "tags": self._tag_labels,
                "rules": self.rules.state(),
            },
        )
        _write_json(directory / "text.json", text_meta)
        _write_json(directory / "graph.json", graph_meta)
        sp.save_npz(directory / "text_weights.npz", self.text.doc_weights, compressed=False)
        np.save(directory / "text_idf.npy", text_arrays["idf"], allow_pickle=False)
        sp.save_npz(directory / "graph_adjacency.npz", graph_arrays["adjacency"], compressed=False)
        sp.save_npz(directory / "graph_relations.npz", graph_arrays["relation_codes"], compressed=False)

    @classmethod
    def load(cls, directory) -> MatchingEngine:
        """Engine saved by ``save``; rankings are identical to the saved engine's."""
        directory = Path(directory)
        manifest = _read_json(directory / "manifest.json")
        if manifest.get("format") != "techbridge-matching":
            raise ValueError(f"{directory} does not hold a saved matching engine")
        engine = cls(EngineConfig.from_json(manifest["config"]))
        engine.weights = {p: float(w) for p, w in manifest["weights"].items()}
        engine.feedback_trained = bool(manifest["feedback_trained"])
        offers = _read_json(directory / "offers.json")
        engine.offers = IdMap(offers["ids"])
        engine._titles = offers["titles"]
        engine._tag_labels = offers["tags"]
        engine._tags = [frozenset(normalise_tag(t) for t in tags) for tags in engine._tag_labels]
        engine.rules = OfferRuleTable.from_state(offers["rules"])
        engine.text = TextIndex.from_state(
            _read_json(directory / "text.json"),
            np.load(directory / "text_idf.npy", allow_pickle=False),
            sp.load_npz(directory / "text_weights.npz"),
        )
        engine.graph = GraphIndex.from_state(
            _read_json(directory / "graph.json"),
            sp.load_npz(directory / "graph_adjacency.npz"),
            sp.load_npz(directory / "graph_relations.npz"),
        )
        return engine


# ----------------------------------------------------------------------------------------------
# sparse-row helpers: a row is (sorted column indices, values)
# ----------------------------------------------------------------------------------------------
_EMPTY_ROW = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))


def _masked_row(
    matrix: sp.csr_matrix, row: int, mask: np.ndarray | None, n_columns: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Positive entries of one row (columns below ``n_columns`` if given) that pass ``mask``,
    divided by their maximum (best = 1). Indices are not necessarily sorted."""
    start, end = matrix.indptr[row], matrix.indptr[row + 1]
    indices, values = matrix.indices[start:end], matrix.data[start:end]
    keep = values > 0
    if n_columns is not None:
        keep &= indices < n_columns
        indices = np.minimum(indices, n_columns - 1)  # keeps mask[] in range; dropped by keep anyway
    if mask is not None:
        keep &= mask[indices]
    if not keep.all():
        indices, values = indices[keep], values[keep]
    top = values.max() if len(values) else 0.0
    return indices, (values / top if top > 0 else values)


def _top_dense(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the (at most) k largest positive entries of a dense vector, unordered."""
    if k < len(scores):
        top = np.argpartition(-scores, k - 1)[:k]
    else:
        top = np.arange(len(scores))
    return np.sort(top[scores[top] > 0])


def _top(row: tuple[np.ndarray, np.ndarray], k: int) -> np.ndarray:
    """Column indices of the k largest values (unordered)."""
    indices, values = row
    if len(values) <= k:
        return indices
    return indices[np.argpartition(-values, k - 1)[:k]]


def _lookup(row: tuple[np.ndarray, np.ndarray], columns: np.ndarray, scratch: np.ndarray) -> np.ndarray:
    """Values of a sparse row at ``columns`` (0 where absent).

    ``scratch`` is one zeroed vector over offers, reused for every row: scatter, gather, clear
    costs O(row entries) and needs no sorting.
    """
    indices, values = row
    if len(indices) == 0 or len(columns) == 0:
        return np.zeros(len(columns))
    scratch[indices] = values
    out = scratch[columns].astype(np.float64)
    scratch[indices] = 0
    return out


def _seed_matrix(seed_weights: list[dict[int, float]], n_nodes: int) -> sp.csr_matrix:
    """Batch x nodes seed distribution, each non-empty row summing to 1."""
    rows, cols, vals = [], [], []
    for row, seeds in enumerate(seed_weights):
        total = sum(seeds.values())
        for node, weight in seeds.items():
            rows.append(row)
            cols.append(node)
            vals.append(weight / total)
    return sp.csr_matrix((np.array(vals, dtype=np.float32), (rows, cols)), shape=(len(seed_weights), n_nodes))


def _write_json(path: Path, data) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def _read_json(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))
