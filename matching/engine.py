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

Settings live in ``config``, the reasons in ``reasons``, save / load in ``persistence`` and the
sparse-row helpers in ``sparse_rows``, the graph walk summed per need in ``walks``.

A need the graph does not reach gets zero graph parts, so it is ranked by text alone.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import scipy.sparse as sp

from .config import EngineConfig
from .feedback import DEFAULT_WEIGHTS, PARTS, guarded_weights, label_value
from .graph import GraphIndex
from .graph_weight import graph_agreement, graph_scale
from .idmap import IdMap
from .incremental import IncrementalMixin
from .persistence import FORMAT_VERSION, PersistenceMixin
from .reasons import ReasonsMixin
from .records import as_list, normalise_tag, record_id, record_text, record_title
from .rules import OfferRuleTable, hard_failures, rule_score
from .semantic import SIMILAR_MEANING, SemanticMixin, similar_meaning_reason
from .sparse_rows import EMPTY_ROW, masked_row, rows_matrix, seed_matrix, top_columns, values_at
from .text import Analyzer, TextIndex
from .walks import EMPTY_GRAPH_ROW, PRUNE, GraphRow, need_graph_rows, walk_terms

# EngineConfig and FORMAT_VERSION moved to config and persistence; importers of this module still find them.
__all__ = ["FORMAT_VERSION", "EngineConfig", "MatchingEngine"]


class MatchingEngine(ReasonsMixin, PersistenceMixin, IncrementalMixin, SemanticMixin):
    """Estimator-style matcher: ``fit(offers, edges)`` then ``rank(needs)``.

    ``add_offers(offers)`` appends offers to a fitted engine with the same result as refitting.
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
        self.feedback_report: dict = {}
        self.offers = IdMap()
        self.text: TextIndex | None = None
        self.graph: GraphIndex | None = None
        self.rules: OfferRuleTable | None = None
        self.dense = None  # DenseIndex of the offers' sentence vectors (semantic channel)
        self._titles: list[list[str]] = []
        self._tags: list[frozenset[str]] = []
        self._tag_labels: list[list[str]] = []

    # ------------------------------------------------------------------------------------------
    # fitting
    # ------------------------------------------------------------------------------------------
    def fit(self, offers: list[dict], edges=(), feedback=None, offer_vectors=None) -> MatchingEngine:
        """Index ``offers`` and build the graph from their attributes and ``edges``.

        ``edges``: dicts ``{"source", "target", "relation"[, "weight"]}``; an ``offer:X`` end must
        name a fitted offer (``ValueError`` otherwise). ``feedback``: optional labelled pairs, as
        for ``train_feedback``. ``offer_vectors`` (semantic channel only): stored sentence vectors
        by offer id, from the same encoder; offers missing from it are encoded now.
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

        def fit_the_rest() -> None:  # while the offers' texts are analysed (in other processes if asked)
            self.graph = GraphIndex.build(self.offers.ids, offers, edges, config.relation_weights)
            self.rules = OfferRuleTable(offers)
            self._titles = [[record_title(o, "zh"), record_title(o, "en")] for o in offers]
            self._tag_labels = [[str(t) for t in as_list(o.get("tags"))] for o in offers]
            self._tags = [frozenset(normalise_tag(t) for t in tags) for tags in self._tag_labels]

        self.text.fit([record_text(offer) for offer in offers], config.fit_processes, fit_the_rest)
        self.dense = self._fit_dense(offers, offer_vectors) if config.semantic else None
        if feedback:
            self.train_feedback(feedback)
        return self

    def fusion_weights(self) -> np.ndarray:
        """Weights of the parts (``PARTS`` order) used to fuse them: the graph parts scaled by how
        informative this collection's graph is (``graph_weight``), unless weights were learnt from
        feedback (those already say what the graph is worth here)."""
        weights = np.array([self.weights.get(p, 0.0) for p in PARTS])
        if self.config.adaptive_graph and not self.feedback_trained and self.graph is not None:
            weights[[PARTS.index("graph"), PARTS.index("graph_text")]] *= self.graph_scale()
        return weights

    def graph_scale(self) -> float:
        """Factor on the graph parts' weights, from the graph's agreement with the text on the
        fitted offers (computed once per fitted graph; the same after ``load`` or ``add_offers``
        as after a refit on the same offers)."""
        cached = getattr(self, "_graph_scale", None)
        if cached is None or cached[0] is not self.graph:
            probe = graph_agreement(self.text, self.graph, self.config.graph_steps, self.config.damping)
            cached = (self.graph, graph_scale(probe["agreement"], probe["reached"]), probe)
            self._graph_scale = cached
        return cached[1]

    def _check_fitted(self) -> None:
        if self.text is None:
            raise RuntimeError("MatchingEngine is not fitted; call fit() or load() first")

    # ------------------------------------------------------------------------------------------
    # ranking
    # ------------------------------------------------------------------------------------------
    def rank(
        self, needs: list[dict], top_k: int = 10, lang: str = "zh", explain: bool = True, need_vectors=None
    ) -> list[dict]:
        """Best ``top_k`` offers for each need, in input order: ``[{"need", "matches"}]``.

        ``lang`` picks the language of each reason's ``text`` (both ``zh`` and ``en`` are always
        present). ``explain=False`` skips reasons (faster, for evaluation). ``need_vectors``
        (semantic channel): stored sentence vectors by need id, from the same encoder (a need's
        ``vector`` key does the same); needs without one are encoded now.
        """
        self._check_fitted()
        if need_vectors:
            needs = [
                {**need, "vector": need_vectors[str(need.get("id"))]}
                if str(need.get("id")) in need_vectors
                else need
                for need in needs
            ]
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
                if match and (
                    any(match["parts"][p] > 0 for p in ("text", "graph", "graph_text", "tags"))
                    or match["parts"]["dense"] >= SIMILAR_MEANING
                ):
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
        classes, and only when weights learnt without a held-out quarter of the needs order that
        quarter's outcomes better than the current ones (``feedback_report`` says how it went);
        returns True when they changed.
        """
        self._check_fitted()
        triples = [(need, offer_id, label_value(label)) for need, offer_id, label in labelled]
        triples = [t for t in triples if t[1] in self.offers]
        if not triples:
            return False
        parts = self.score_pairs([(need, offer_id) for need, offer_id, _ in triples])
        labels = np.array([label for _, _, label in triples])
        groups = [str(need.get("id", position)) for position, (need, _, _) in enumerate(triples)]
        # Guard: learnt weights replace the current ones only if they order held-out outcomes better.
        weights, self.feedback_report = guarded_weights(
            parts, labels, groups, self.weights, DEFAULT_WEIGHTS, self.config.min_feedback
        )
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
        queries, text_pools, text_scale, confidence, text_seeds = self._text_pass(
            queries, idf_mass, masks, use_graph, pool_size
        )

        # Pass 2, batched sparse walks over the graph.
        seeds = [
            self.graph.need_seeds(need_ids[i], needs[i], texts[i], config.link_entities) if use_graph else {}
            for i in range(len(needs))
        ]
        graph_rows = self._graph_rows(seeds, masks) if use_graph else [EMPTY_GRAPH_ROW] * len(needs)
        text_graph_rows = self._text_graph_rows(text_seeds, masks) if use_graph else [EMPTY_ROW] * len(needs)
        text_graph_rows = [
            (indices, values * confidence[i]) for i, (indices, values) in enumerate(text_graph_rows)
        ]
        need_vectors, dense_pools = self._dense_pass(needs, texts, masks, pool_size)

        as_of = self._as_of()
        scratch = np.zeros(n_offers, dtype=np.float64)
        weight_vector = self.fusion_weights()
        results = []
        for i, need in enumerate(needs):
            if forced is not None:
                candidates = forced
                if masks[i] is not None:
                    candidates = candidates[masks[i][candidates]]
            else:
                candidates = np.unique(
                    np.concatenate(
                        [
                            text_pools[i],
                            graph_rows[i].top(pool_size),
                            top_columns(text_graph_rows[i], pool_size),
                            dense_pools[i],
                        ]
                    )
                )
            parts = np.zeros((len(candidates), len(PARTS)))
            parts[:, 0] = self.text.score_offers(queries, i, candidates) * text_scale[i]
            # The graph lifts offers that also match the text, unless the text says little about
            # the need (low confidence): then graph links count on their own.
            parts[:, 1] = graph_rows[i].at(candidates, scratch) * (1 - confidence[i] + parts[:, 0])
            parts[:, 2] = values_at(text_graph_rows[i], candidates, scratch)
            need_tags = frozenset(normalise_tag(t) for t in as_list(need.get("tags")))
            if need_tags:
                parts[:, 3] = self._shared_tag_counts(need_tags, candidates) / len(need_tags)
            if need_vectors is not None:
                parts[:, 5] = np.maximum(self.dense.at(need_vectors[i], candidates), 0)
            outcomes = self.rules.outcomes(need, candidates, as_of)
            parts[:, 4] = rule_score(outcomes, len(candidates))
            keep = ~hard_failures(outcomes, frozenset(config.hard_rules), len(candidates))
            candidates, parts = candidates[keep], parts[keep]
            outcomes = {name: values[keep] for name, values in outcomes.items()}
            fused = parts @ weight_vector
            order = np.lexsort((candidates, -fused))[:top_k]  # ties: earlier-fitted offer first
            matches = []
            need_terms = self.text.need_terms(texts[i]) if explain_matches and len(order) else None
            shown_outcomes = {name: values[order].astype(int).tolist() for name, values in outcomes.items()}
            for rank_position, (offer_index, score, part_values) in enumerate(
                zip(candidates[order].tolist(), fused[order].tolist(), parts[order].tolist())
            ):
                match = {
                    "offer": self.offers.id(offer_index),
                    "score": round(score, 6),
                    "parts": {p: round(v, 6) for p, v in zip(PARTS, part_values)},
                }
                if explain_matches:
                    match["reasons"] = self._reasons(
                        need,
                        need_terms,
                        offer_index,
                        part_values,
                        seeds[i],
                        text_seeds[i],
                        {name: values[rank_position] for name, values in shown_outcomes.items()},
                        lang,
                    )
                    if part_values[5] >= SIMILAR_MEANING:
                        match["reasons"].append(similar_meaning_reason(lang))
                matches.append(match)
            results.append({"need": need_ids[i], "matches": matches})
        return results

    def _shared_tag_counts(self, need_tags: frozenset, candidates: np.ndarray) -> np.ndarray:
        """How many of ``need_tags`` each candidate offer has (from tag -> offers postings, built
        once per list of offer tags)."""
        if getattr(self, "_tag_postings_of", None) is not self._tags:
            postings: dict[str, list[int]] = {}
            for offer_index, tags in enumerate(self._tags):
                for tag in tags:
                    postings.setdefault(tag, []).append(offer_index)
            self._tag_postings = {tag: np.array(offers, dtype=np.int64) for tag, offers in postings.items()}
            self._tag_postings_of = self._tags
        counts = np.zeros(len(candidates))
        for tag in need_tags:
            offers = self._tag_postings.get(tag)  # sorted offer indices
            if offers is not None:
                found = np.minimum(np.searchsorted(offers, candidates), len(offers) - 1)
                counts += offers[found] == candidates
        return counts

    def _text_pass(
        self, queries: sp.csr_matrix, idf_mass: np.ndarray, masks: list, use_graph: bool, pool_size: int
    ):
        """Text channel, one need at a time over the inverted index (never a needs x offers matrix).

        Returns per need: its top ``pool_size`` text candidates, the factor turning a raw text
        score into the text part, its text confidence and its best matches as graph seeds.
        """
        config, n_needs = self.config, queries.shape[0]
        has_edges = np.diff(self.graph.adjacency.indptr)[: len(self.offers)] > 0 if use_graph else None
        pools, scale, confidence, text_seeds = [], np.zeros(n_needs), np.zeros(n_needs), []
        expanded_rows = []
        for i in range(n_needs):
            terms, weights = self.text.query_row(queries, i)
            first_k = max(pool_size, config.prf_feedback_docs) if config.prf_terms > 0 else pool_size
            pool, pool_scores = self.text.top_offers(terms, weights, first_k, masks[i])
            if config.prf_terms > 0:
                terms, weights = self._expand(queries, i, pool, pool_scores)
                expanded_rows.append((terms, weights))
                pool, pool_scores = self.text.top_offers(terms, weights, pool_size, masks[i])
            seeds: dict[int, float] = {}
            if len(pool):
                best = int(np.argmax(pool_scores))  # the pool is in index order: ties go to the earlier offer
                # Confidence: how much of the need its best offer covers. Text-derived parts are
                # scaled by it, so a need whose words barely match anything leans on its graph links.
                confidence[i] = self.text.coverage(queries, i, idf_mass[i], int(pool[best]))
                scale[i] = confidence[i] / float(pool_scores[best])
                if use_graph:
                    ordered = np.argsort(-pool_scores, kind="stable")[: config.prf_docs]
                    seeds = {
                        int(pool[o]): float(pool_scores[o]) * scale[i] for o in ordered if has_edges[pool[o]]
                    }
            pools.append(pool)
            text_seeds.append(seeds)
        if expanded_rows:
            queries = rows_matrix(expanded_rows, queries.shape[1])
        return queries, pools, scale, confidence, text_seeds

    def _expand(self, queries: sp.csr_matrix, row: int, pool: np.ndarray, pool_scores: np.ndarray) -> tuple:
        """The need's query expanded with the words of its best matches (pseudo-relevance
        feedback): (terms, weights). ``pool`` holds its best text matches (index order) with their scores."""
        config = self.config
        if len(pool) == 0:
            return self.text.query_row(queries, row)
        best_first = np.argsort(-pool_scores, kind="stable")[: config.prf_feedback_docs]
        return self.text.expand_query(
            queries, row, pool[best_first], pool_scores[best_first], config.prf_terms, config.prf_original_weight
        )

    def _graph_rows(self, seeds: list[dict], masks: list) -> list[GraphRow]:
        """Normalised PageRank rows seeded from each need's own graph neighbourhood."""
        if not any(seeds):
            return [EMPTY_GRAPH_ROW] * len(seeds)
        matrix = seed_matrix([{node: w for node, (w, _) in s.items()} for s in seeds], len(self.graph.nodes))
        graph, config = self.graph, self.config
        groups: dict[int, list[int]] = {}  # needs sharing a kind mask walk together
        for position, mask in enumerate(masks):
            groups.setdefault(id(mask), []).append(position)
        rows: list = [EMPTY_GRAPH_ROW] * len(seeds)
        for positions in groups.values():
            mask = masks[positions[0]]
            last_step = graph.offer_step(mask)  # the last step reaches only offers the needs may be shown
            terms = walk_terms(
                graph.transition,
                matrix[positions],
                config.graph_steps,
                config.damping,
                True,
                PRUNE,
                last_step,
            )
            # PageRank mass falls steeply with distance; a power < 1 flattens it so being reached
            # two or three hops away still counts, not only the nearest offers.
            for position, row in zip(positions, need_graph_rows(terms, mask, graph.n_offers, config.graph_power)):
                rows[position] = row
        return rows

    def _text_graph_rows(self, text_seeds: list[dict], masks: list) -> list[tuple[np.ndarray, np.ndarray]]:
        """Normalised PageRank rows seeded from the best text matches, excluding the seeds'
        own mass (they already score on text): offers *near* strong matches rise."""
        if not any(text_seeds):
            return [EMPTY_ROW] * len(text_seeds)
        matrix = seed_matrix(text_seeds, len(self.graph.nodes))
        walked = self.graph.propagate(
            matrix, self.config.text_graph_steps, self.config.damping, include_seeds=False
        )
        return [masked_row(walked, i, masks[i], self.graph.n_offers) for i in range(len(text_seeds))]
