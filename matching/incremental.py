"""Adding offers to a fitted engine without refitting it (``MatchingEngine.add_offers``).

What is reused and what is recomputed, so that the result equals ``fit`` on all offers at once:

- text: only the new offers are analysed; their counts are appended to the kept counts and the
  statistics (document frequencies, idf, average length, hence every BM25 weight) are recomputed
  from the counts with a few vectorised array operations (no text is analysed again);
- graph: the kept weighted edges plus the new offers' own links and the new edges, laid out in
  the same canonical order as a fresh build;
- rules, titles, tags and stored sentence vectors: appended.

Weights learnt from feedback are kept (they are not statistics of the offers); they are learnt
again at the next full refit. Offers cannot be removed or changed here: a full refit does that.
"""

from __future__ import annotations

import numpy as np

from .records import as_list, normalise_tag, record_id, record_text, record_title
from .rules import OfferRuleTable


class IncrementalMixin:
    """Mixin of ``MatchingEngine``: ``add_offers``."""

    def add_offers(self, offers: list[dict], edges=(), offer_vectors=None):
        """Append ``offers`` (and ``edges`` between any nodes) to the fitted engine.

        Rankings afterwards equal those of ``fit`` on the old and new offers together (same order)
        with all the edges. ``offer_vectors``: stored sentence vectors of the new offers (semantic
        channel). ``ValueError`` for an offer id already fitted or an edge naming no offer.
        """
        self._check_fitted()
        offers, edges = list(offers), list(edges)
        if not offers and not edges:
            return self
        new_ids = []
        for position, offer in enumerate(offers):
            try:
                offer_id = record_id(offer)
            except ValueError:
                raise ValueError(f"offer at position {position} has no 'id'") from None
            if offer_id in self.offers or offer_id in new_ids:
                raise ValueError(f"duplicate offer id {offer_id!r}")
            new_ids.append(offer_id)
        known = set(new_ids)
        for edge in edges:
            for end in ("source", "target"):
                node = str(edge.get(end, ""))
                if not node:
                    raise ValueError(f"edge {edge!r} has no {end!r}")
                if node.startswith("offer:") and node[6:] not in self.offers and node[6:] not in known:
                    raise ValueError(f"edge end {node!r} names no fitted offer")
        self.text.add_documents([record_text(offer) for offer in offers])
        self.graph = self.graph.with_offers(new_ids, offers, edges, self.config.relation_weights)
        self.rules = self.rules.extended(OfferRuleTable(offers))
        for offer_id in new_ids:
            self.offers.add(offer_id)
        self._titles = list(self._titles) + [[record_title(o, "zh"), record_title(o, "en")] for o in offers]
        labels = [[str(t) for t in as_list(o.get("tags"))] for o in offers]
        self._tag_labels = list(self._tag_labels) + labels
        self._tags = list(self._tags) + [frozenset(normalise_tag(t) for t in tags) for tags in labels]
        if self.dense is not None and offers:
            added = self._fit_dense(offers, offer_vectors)
            self.dense = type(self.dense)(self.dense.encoder_name, np.vstack([self.dense.vectors, added.vectors]))
        return self
