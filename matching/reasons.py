"""Which reasons a returned match gets, from its score parts, graph paths and rule outcomes (the
bilingual wording is in ``explain``)."""

from __future__ import annotations

from . import explain
from .graph import node_label
from .records import as_list, normalise_kind, normalise_tag


class ReasonsMixin:
    """Mixin of ``MatchingEngine``: reasons for a match, read from the fitted state (``text``, ``graph``,
    ``rules``, ``offers``, titles and tag labels) that its ``fit`` or ``load`` sets."""

    def _reasons(
        self,
        need: dict,
        need_terms,  # text.NeedTerms, read once per need
        offer_index: int,
        parts: list[float],
        seeds: dict,
        text_seeds: dict,
        outcomes: dict[str, int],
        lang: str,
    ) -> list[dict]:
        reasons = []
        if parts[0] > 0:
            terms = self.text.shared_terms(need_terms, offer_index)
            reason = explain.terms_reason(terms, lang) if terms else None
            if reason is not None:
                reasons.append(reason)
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
