"""The marketplace graph: organisations, offers, needs, fields, IPC classes, events, past
introductions and deals, and any typed edges supplied.

Nodes are named strings: ``offer:<id>``, ``need:<id>``, ``org:<name>``, ``field:<code>``,
``ipc:<code>``, ``event:<id>`` or anything an edge names (``author:Knuth, D. E.``, a disease...).
Offers occupy node indices 0..n_offers-1, so a propagated score row sliced ``[:, :n_offers]``
is directly a per-offer score.

The graph is kept as a symmetric scipy CSR adjacency (edges are treated as undirected: "A
supplies B" relates both ways for matching). ``to_networkx()`` gives the same graph as a
networkx ``Graph`` for analysis. Scores come from a truncated personalised PageRank computed
for a whole batch of needs with sparse matrix products and per-row pruning, so no dense
needs x nodes matrix is ever formed.
"""

from __future__ import annotations

import itertools
import re
from collections import defaultdict

import numpy as np
import scipy.sparse as sp

from . import kernels
from .idmap import IdMap
from .records import as_list
from .text import is_cjk, normalise_text
from .walks import PRUNE, offer_step, walk_terms

_NAME_CLEAN_RE = re.compile(r"[^0-9a-z\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_LATIN_WORD_RE = re.compile(r"[0-9a-z]+")
_CJK_RUN_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_PREFIX_RE = re.compile(r"^[a-z_]{1,20}:")

# Relations attached from record attributes (record key -> node prefix, relation name).
RECORD_LINKS = (
    ("org", "org", "offered_by"),
    ("fields", "field", "in_field"),
    ("ipc", "ipc", "ipc_class"),
    ("events", "event", "shown_at"),
)
MAX_ENTITY_NAME_WORDS = 6
MAX_ENTITY_NAME_CHARS = 24


def node_name(prefix: str, value) -> str:
    """``org`` + ``清华大学`` -> ``org:清华大学`` (values already carrying the prefix are kept)."""
    value = str(value).strip()
    return value if value.startswith(prefix + ":") else f"{prefix}:{value}"


def node_label(node: str) -> str:
    """Display name: the part after a short ``type:`` prefix."""
    match = _PREFIX_RE.match(node)
    return node[match.end() :] if match else node


def node_type(node: str) -> str:
    match = _PREFIX_RE.match(node)
    return node[: match.end() - 1] if match else ""


def _entity_key(text: str) -> str:
    return " ".join(_NAME_CLEAN_RE.sub(" ", normalise_text(text)).split())


def record_nodes(record: dict) -> list[tuple[str, str]]:
    """(node, relation) pairs implied by a record's own attributes (org, fields, IPC, events)."""
    out = []
    for key, prefix, relation in RECORD_LINKS:
        for value in as_list(record.get(key)):
            out.append((node_name(prefix, value), relation))
            if prefix == "ipc":
                # IPC subclass (first 4 characters, e.g. A61B) relates codes that differ below it.
                code = node_label(node_name(prefix, value)).replace(" ", "")
                if len(code) > 4:
                    out.append((node_name("ipc", code[:4]), "ipc_class"))
    return out


class _PairBuilder:
    """Collects weighted, named edges, then lays them out as a ``GraphIndex``: offers first (in the
    order given), then every other node in sorted order, so that a graph grown in steps equals
    the graph built at once."""

    def __init__(self, relation_weights: dict):
        self.relation_weights = relation_weights
        self.names: set[str] = set()
        self.weight: dict[tuple[str, str], float] = defaultdict(float)
        self.relation: dict[tuple[str, str], str] = {}

    def add_weighted(self, a: str, b: str, relation: str, weight: float) -> None:
        """One edge whose weight is already scaled by its relation."""
        self.names.add(a)
        self.names.add(b)
        if a == b:
            return
        key = (a, b) if a < b else (b, a)
        self.weight[key] += weight
        self.relation.setdefault(key, relation)

    def connect(self, a: str, b: str, relation: str, weight: float = 1.0) -> None:
        self.add_weighted(a, b, relation, weight * float(self.relation_weights.get(relation, 1.0)))

    def add_records(self, offer_ids: list[str], offers: list[dict]) -> None:
        for offer_id, offer in zip(offer_ids, offers):
            for node, relation in record_nodes(offer):
                self.connect(f"offer:{offer_id}", node, relation)

    def add_edges(self, edges) -> None:
        for edge in edges:
            weight = edge.get("weight", 1.0)
            self.connect(
                str(edge["source"]),
                str(edge["target"]),
                str(edge.get("relation") or "related"),
                float(weight) if isinstance(weight, (int, float)) else 1.0,
            )

    def graph(self, offer_ids: list[str], prefixed: bool = False) -> GraphIndex:
        graph = GraphIndex()
        offer_nodes = list(offer_ids) if prefixed else [f"offer:{offer_id}" for offer_id in offer_ids]
        for node in offer_nodes:
            graph.nodes.add(node)
        graph.n_offers = len(offer_nodes)
        for node in sorted(self.names.difference(offer_nodes)):
            graph.nodes.add(node)
        n = len(graph.nodes)
        if self.weight:
            keys = sorted(self.weight)
            index = graph.nodes.index
            pairs = np.array([(index(a), index(b)) for a, b in keys], dtype=np.int64)
            rows = np.concatenate([pairs[:, 0], pairs[:, 1]])
            cols = np.concatenate([pairs[:, 1], pairs[:, 0]])
            weights = np.array([self.weight[k] for k in keys], dtype=np.float32)
            codes = np.array([graph.relations.add(self.relation[k]) for k in keys], dtype=np.int32) + 1
            graph.adjacency = sp.csr_matrix((np.concatenate([weights, weights]), (rows, cols)), shape=(n, n))
            graph.relation_codes = sp.csr_matrix((np.concatenate([codes, codes]), (rows, cols)), shape=(n, n))
        else:
            graph.adjacency = sp.csr_matrix((n, n), dtype=np.float32)
            graph.relation_codes = sp.csr_matrix((n, n), dtype=np.int32)  # 0 = no edge
        graph.adjacency.sort_indices()
        graph.relation_codes.sort_indices()
        return graph


class GraphIndex:
    """Sparse graph over nodes with offers first; see the module docstring."""

    def __init__(self):
        self.nodes = IdMap()
        self.n_offers = 0
        self.relations = IdMap()
        self.adjacency: sp.csr_matrix = sp.csr_matrix((0, 0), dtype=np.float32)
        self.relation_codes: sp.csr_matrix = sp.csr_matrix((0, 0), dtype=np.int32)
        self._transition: sp.csr_matrix | None = None
        self._entities: dict[str, int] | None = None
        self._alias_index: dict[tuple[str, str], list[int]] | None = None
        self._offer_steps: dict[int, tuple] = {}  # id(mask) -> (mask, transition to those offers)
        self._scratch = kernels.Scratch()  # the path search's parents (all -2) and visit order

    # -- building ----------------------------------------------------------------------------
    @classmethod
    def build(
        cls, offer_ids: list[str], offers: list[dict], edges, relation_weights: dict | None = None
    ) -> GraphIndex:
        """Graph from offers (their org / fields / ipc / events) and explicit edges.

        ``edges``: dicts with ``source``, ``target``, ``relation`` and optional ``weight``.
        ``relation_weights`` scales edges by relation name (default 1.0).
        """
        builder = _PairBuilder(relation_weights or {})
        builder.add_records(offer_ids, offers)
        builder.add_edges(edges)
        return builder.graph(offer_ids)

    def with_offers(
        self, offer_ids: list[str], offers: list[dict], edges=(), relation_weights: dict | None = None
    ) -> GraphIndex:
        """A new graph: this one plus ``offers`` (after the current offers) and ``edges``, equal to
        ``build`` over all offers and edges (nodes other than offers are kept in sorted order)."""
        builder = _PairBuilder(relation_weights or {})
        names = self.nodes.to_list()
        builder.names.update(names[self.n_offers :])
        # Both matrices were built from the same (row, column) pairs, so their entries line up.
        upper = sp.triu(self.adjacency, k=1).tocoo()
        codes = sp.triu(self.relation_codes, k=1).tocoo()
        relations = self.relations.to_list()
        for i, j, weight, code in zip(upper.row.tolist(), upper.col.tolist(), upper.data.tolist(), codes.data.tolist()):
            builder.add_weighted(names[i], names[j], relations[code - 1] if code else "related", weight)
        builder.add_records(offer_ids, offers)
        builder.add_edges(edges)
        return builder.graph(names[: self.n_offers] + [f"offer:{offer_id}" for offer_id in offer_ids], prefixed=True)

    @property
    def n_edges(self) -> int:
        return self.adjacency.nnz // 2

    @property
    def transition(self) -> sp.csr_matrix:
        """Row-stochastic random-walk matrix D^-1 A."""
        if self._transition is None:
            degree = np.asarray(self.adjacency.sum(axis=1)).ravel()
            inverse = np.divide(1.0, degree, out=np.zeros_like(degree), where=degree > 0)
            transition = sp.csr_matrix(sp.diags(inverse.astype(np.float32)) @ self.adjacency)
            transition.sort_indices()  # as saved: a loaded model sums in the same order
            self._transition = transition
        return self._transition

    def degree(self, index: int) -> int:
        return int(self.adjacency.indptr[index + 1] - self.adjacency.indptr[index])

    def neighbours(self, index: int) -> np.ndarray:
        start, end = self.adjacency.indptr[index], self.adjacency.indptr[index + 1]
        return self.adjacency.indices[start:end]

    def relation(self, i: int, j: int) -> str:
        """Relation name of edge i-j ('' when none)."""
        codes = self.relation_codes
        code = kernels.csr_entry(codes.indptr, codes.indices, codes.data, i, j)
        return self.relations.id(int(code) - 1) if code else ""

    def to_networkx(self):
        """The graph as a networkx ``Graph`` (node attribute ``kind``, edge attributes
        ``relation`` and ``weight``)."""
        import networkx as nx

        graph = nx.Graph()
        for index, name in enumerate(self.nodes):
            graph.add_node(name, kind=node_type(name) or "node", offer=index < self.n_offers)
        coo = sp.triu(self.adjacency, k=1).tocoo()
        for i, j, w in zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist()):
            graph.add_edge(self.nodes.id(i), self.nodes.id(j), weight=w, relation=self.relation(i, j))
        return graph

    # -- entity links --------------------------------------------------------------------------
    @property
    def entities(self) -> dict[str, int]:
        """Normalised display name -> node index for named non-record nodes (orgs, fields...)."""
        if self._entities is None:
            entities: dict[str, int] = {}
            for index in range(self.n_offers, len(self.nodes)):
                name = self.nodes.id(index)
                if name.startswith(("need:", "offer:")):
                    continue
                key = _entity_key(node_label(name))
                cjk = is_cjk(key)
                if (cjk and len(key) < 2) or (not cjk and len(key) < 4) or len(key) > 60:
                    continue
                entities.setdefault(key, index)
            self._entities = entities
        return self._entities

    def link_entities(self, text: str) -> list[int]:
        """Nodes whose display name occurs in ``text`` (whole words for latin names)."""
        entities = self.entities
        if not entities or not text:
            return []
        clean = _entity_key(text)
        found: set[int] = set()
        words = _LATIN_WORD_RE.findall(clean)
        for size in range(1, MAX_ENTITY_NAME_WORDS + 1):
            for start in range(len(words) - size + 1):
                hit = entities.get(" ".join(words[start : start + size]))
                if hit is not None:
                    found.add(hit)
        for run in _CJK_RUN_RE.findall(clean):
            for start in range(len(run) - 1):
                for end in range(start + 2, min(len(run), start + MAX_ENTITY_NAME_CHARS) + 1):
                    hit = entities.get(run[start:end])
                    if hit is not None:
                        found.add(hit)
        # A whole mixed name ("AI 影像中心") only matches as the complete cleaned text.
        hit = entities.get(clean)
        if hit is not None:
            found.add(hit)
        return sorted(found)

    # -- name variants -------------------------------------------------------------------------
    def _alias_postings(self) -> dict[tuple[str, str], list[int]]:
        if self._alias_index is None:
            postings: dict[tuple[str, str], list[int]] = defaultdict(list)
            for index in range(self.n_offers, len(self.nodes)):
                name = self.nodes.id(index)
                if name.startswith(("need:", "offer:")):
                    continue
                kind = node_type(name)
                for token in _name_tokens(node_label(name)):
                    if len(token) >= 2:
                        postings[(kind, token)].append(index)
            self._alias_index = dict(postings)
        return self._alias_index

    def aliases(self, index: int, limit: int = 20) -> list[int]:
        """Other nodes of the same type whose name is a variant of this node's name: one name's
        tokens (words, CJK bigrams) contain the other's, e.g. ``author:Pooch, U.`` and
        ``author:Pooch, U.W.``, or ``org:协和医院`` and ``org:北京协和医院``."""
        name = self.nodes.id(index)
        kind, tokens = node_type(name), _name_tokens(node_label(name))
        indexed = [t for t in tokens if len(t) >= 2]
        if not indexed:
            return []
        postings = self._alias_postings()
        rarest = min(indexed, key=lambda t: len(postings.get((kind, t), ())))
        found = []
        for other in postings.get((kind, rarest), ()):
            if other == index:
                continue
            other_tokens = _name_tokens(node_label(self.nodes.id(other)))
            if tokens <= other_tokens or other_tokens <= tokens:
                found.append(other)
                if len(found) == limit:
                    break
        return found

    # -- seeds and propagation -----------------------------------------------------------------
    def need_seeds(
        self, need_id: str | None, need: dict, text: str, link_entities: bool = True
    ) -> dict[int, tuple[float, str]]:
        """Start nodes of the walk for one need: node index -> (weight, how the need reaches it).

        The need's own edges (when ``need:<id>`` is in the graph), its org / fields / IPC /
        events, and graph nodes named in its text.
        """
        seeds: dict[int, tuple[float, str]] = {}
        need_index = self.nodes.get(f"need:{need_id}") if need_id is not None else None
        if need_index is not None:
            start, end = self.adjacency.indptr[need_index], self.adjacency.indptr[need_index + 1]
            for neighbour, weight in zip(
                self.adjacency.indices[start:end].tolist(), self.adjacency.data[start:end].tolist()
            ):
                seeds[neighbour] = (float(weight), self.relation(need_index, neighbour))
        for node, relation in record_nodes(need):
            if relation == "offered_by":
                relation = "posted_by"
            index = self.nodes.get(node)
            if index is not None and index not in seeds:
                seeds[index] = (1.0, relation)
        if link_entities:
            for index in self.link_entities(text):
                if index not in seeds:
                    seeds[index] = (0.5, "mentions")
        # A node only this need links to (typically a name spelled differently from the
        # graph's, "Pooch, U." vs "Pooch, U.W.") leads nowhere: walk from its name variants too.
        for index, (weight, relation) in list(seeds.items()):
            if index >= self.n_offers and self._is_dead_end(index, need_index):
                for alias in self.aliases(index):
                    if alias not in seeds:
                        seeds[alias] = (weight, relation)
        return seeds

    def _is_dead_end(self, index: int, need_index: int | None) -> bool:
        return all(
            n == need_index or self.nodes.id(n).startswith("need:") for n in self.neighbours(index).tolist()
        )

    def propagate(
        self, seeds: sp.csr_matrix, steps: int, damping: float, include_seeds: bool, prune: float = PRUNE
    ) -> sp.csr_matrix:
        """Truncated personalised PageRank for a batch: sum_t damping^t * seeds @ P^t.

        ``seeds`` is batch x nodes (rows sum to 1). Entries below ``prune`` x row maximum are
        dropped before each further step, keeping every intermediate matrix sparse. Returns
        batch x offers.
        """
        terms = walk_terms(self.transition, seeds, steps, damping, include_seeds, prune)
        total = terms.pop(0) if include_seeds else sp.csr_matrix(seeds.shape, dtype=np.float32)
        for term in terms:
            total = total + term
        return total.tocsr()  # callers read only the offer columns (indices < n_offers)

    def offer_step(self, mask: np.ndarray | None) -> sp.csr_matrix:
        """The random-walk matrix reaching only the offers that pass ``mask`` (a need kind's), cached per mask."""
        cached = self._offer_steps.get(id(mask))
        if cached is None or cached[0] is not mask:
            cached = self._offer_steps[id(mask)] = (mask, offer_step(self.transition, self.n_offers, mask))
        return cached[1]

    # -- explanations --------------------------------------------------------------------------
    def find_paths(
        self,
        seeds: dict[int, tuple[float, str]],
        offer_index: int,
        limit: int = 2,
        max_depth: int = 3,
        max_fanout: int = 100,
    ) -> list[list[tuple[int, str]]]:
        """Up to ``limit`` short paths need -> seed -> ... -> offer, shortest and heaviest seed
        first, each from a different seed, as [(node, relation into it)]. The first element's
        relation is how the need reaches its seed. Searches backwards from the offer, not
        expanding hub nodes (degree > ``max_fanout``) beyond the first step.
        """
        if not seeds:
            return []
        keys = np.fromiter(seeds, dtype=np.int64, count=len(seeds))
        keys.sort()
        n_nodes = self.adjacency.shape[0]
        parent = self._scratch.vector("parent", n_nodes, np.int64, fill=-2)
        visited = self._scratch.vector("visited", n_nodes, np.int64)
        found, chains = kernels.backward_paths(
            self.adjacency.indptr, self.adjacency.indices, offer_index, keys, limit, max_depth, max_fanout,
            parent, visited,
        )
        chains = [[node for node in chain if node >= 0] for chain in chains.tolist()]
        ranked = sorted(zip(found.tolist(), chains), key=lambda item: (len(item[1]), -seeds[item[0]][0], item[0]))
        paths = []
        for seed, chain in ranked[:limit]:
            path = [(seed, seeds[seed][1])]
            path.extend((b, self.relation(a, b)) for a, b in itertools.pairwise(chain))
            paths.append(path)
        return paths

    # -- persistence ---------------------------------------------------------------------------
    def state(self) -> tuple[dict, dict]:
        meta = {
            "nodes": self.nodes.to_list(),
            "n_offers": self.n_offers,
            "relations": self.relations.to_list(),
        }
        return meta, {"adjacency": self.adjacency, "relation_codes": self.relation_codes}

    @classmethod
    def from_state(
        cls,
        meta: dict,
        adjacency: sp.csr_matrix,
        relation_codes: sp.csr_matrix,
        transition: sp.csr_matrix | None = None,
    ) -> GraphIndex:
        """Graph from saved parts; arrays are used as given (they may be read-only memory maps)."""
        graph = cls()
        graph.nodes = IdMap(meta["nodes"])
        graph.n_offers = meta["n_offers"]
        graph.relations = IdMap(meta["relations"])
        graph.adjacency = _csr(adjacency, np.float32)
        graph.relation_codes = _csr(relation_codes, np.int32)
        graph._transition = transition
        return graph


def _csr(matrix, dtype) -> sp.csr_matrix:
    """``matrix`` as sorted CSR of ``dtype``, without copying one that already is."""
    matrix = matrix if sp.isspmatrix_csr(matrix) else sp.csr_matrix(matrix)
    if matrix.dtype != dtype:
        matrix = matrix.astype(dtype)
    if not matrix.has_sorted_indices:
        matrix = matrix.sorted_indices()
    return matrix


def _name_tokens(label: str) -> frozenset[str]:
    """Latin words and CJK character bigrams of a node's display name."""
    key = _entity_key(label)
    tokens = set(_LATIN_WORD_RE.findall(key))
    for run in _CJK_RUN_RE.findall(key):
        if len(run) == 1:
            tokens.add(run)
        tokens.update(run[i : i + 2] for i in range(len(run) - 1))
    return frozenset(tokens)
