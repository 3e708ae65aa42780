"""Match reasons a viewer may read.

The engine ranks on everything an item holds (prices, budgets, hidden descriptions, patent classes), and its stored
reasons quote what it used. Before a reason is shown it is checked against the safe views of the need and the offer
for this viewer (``visibility.static_view``: reasons are not logged as detail views): a price/budget comparison
needs both sides' details, shared terms are kept only when they occur in text the viewer may read on both sides
(otherwise they would be an oracle for hidden descriptions), and graph paths through IPC classes, mentions in the
need's text or offers the viewer may not open are dropped.
"""
from __future__ import annotations

from sqlalchemy import select

from marketplace import visibility
from marketplace.extensions import db
from marketplace.models import Field, Offer, Organization
from marketplace.services.cleaning import parse_id
from matching import explain
from matching.calibration import band

OFFER_TEXT = ("title", "summary", "description", "problem", "advantage", "scenarios")
NEED_TEXT = ("title", "description")
# Rules comparing detail values: which side's details they quote.
# (The deadline rule's outcome rests on the offer's lead time.)
DETAIL_RULES = {"budget": ("need", "offer"), "certifications": ("need",), "deadline": ("offer",),
                "amount": ("need", "offer"), "term": ("need", "offer"), "rate": ("need", "offer"),
                "collateral": ("need", "offer")}
NAMED_NODES = ("field:", "org:", "offer:")  # graph nodes whose codes are replaced by names before a person reads them


def _text(view, stems) -> str:
    parts = [getattr(view, f"{stem}_{lang}", "") or "" for stem in stems for lang in ("zh", "en")]
    parts += [str(t) for t in (view.tags or [])]
    return "\n".join(parts).lower()


def _terms(reason: dict, need_text: str, offer_text: str) -> dict | None:
    terms = [t for t in reason.get("terms") or [] if str(t).lower() in need_text and str(t).lower() in offer_text]
    if not terms:
        return None
    return explain.terms_reason(terms, "zh")  # the site ranks in Chinese; both languages are kept anyway


def _graph_ok(user, reason: dict, need_view, offer_view) -> bool:
    path = reason.get("path") or []
    if any(str(step.get("node", "")).startswith("ipc:") for step in path) and not offer_view.details_shown:
        return False
    if any(step.get("relation") == "mentions" for step in path) and not need_view.details_shown:
        return False
    orgs = [int(node[4:]) for node in (str(step.get("node", "")) for step in path)
            if node.startswith("org:") and node[4:].isdigit()]
    if orgs and any(org.mediated_only for org in db.session.scalars(
            select(Organization).where(Organization.id.in_(orgs)))):
        return False  # names kept behind the platform stay there
    offer_ids = [int(node[6:]) for node in (str(step.get("node", "")) for step in path)
                 if node.startswith("offer:") and node[6:].isdigit()]
    if offer_ids and not all(visibility.OFFER_OPEN.allows(user, other) for other in db.session.scalars(
            select(Offer).where(Offer.id.in_(offer_ids)))):
        return False  # a path through an offer this viewer may not open would reveal it
    via = reason.get("via_offer")
    if via is not None:
        other = db.session.get(Offer, parse_id(via)) if parse_id(via) is not None else None
        if other is None or not visibility.OFFER_OPEN.allows(user, other):
            return False
    return True


def _node_names(reasons) -> dict[str, tuple[str, str]]:
    """Names (zh, en) of the field and organisation nodes the reasons' paths go through."""
    nodes = {str(step.get("node", "")) for r in reasons if isinstance(r, dict) for step in r.get("path") or []}
    codes = [n[6:] for n in nodes if n.startswith("field:")]
    org_ids = [int(n[4:]) for n in nodes if n.startswith("org:") and n[4:].isdigit()]
    offer_ids = [int(n[6:]) for n in nodes if n.startswith("offer:") and n[6:].isdigit()]
    names = {}
    if offer_ids:
        for offer_id, zh, en in db.session.execute(select(Offer.id, Offer.title_zh, Offer.title_en)
                                                   .where(Offer.id.in_(offer_ids))):
            names[f"offer:{offer_id}"] = (zh or en, en or zh)
    if codes:
        for code, zh, en in db.session.execute(select(Field.code, Field.name_zh, Field.name_en)
                                               .where(Field.code.in_(codes))):
            names["field:" + code] = (zh, en or zh)
    if org_ids:
        for org_id, zh, en in db.session.execute(select(Organization.id, Organization.name_zh, Organization.name_en)
                                                 .where(Organization.id.in_(org_ids))):
            names[f"org:{org_id}"] = (zh, en or zh)
    return names


def _labelled(reason: dict, names: dict[str, tuple[str, str]]) -> dict:
    """A graph reason reworded with names instead of codes (``field:D1.devices`` -> its field's name)."""
    path = reason.get("path") or []
    if not any(str(step.get("node", "")).startswith(NAMED_NODES) for step in path):
        return reason
    zh = explain.graph_reason([(_named(step["node"], names, 0), step.get("relation", "")) for step in path], "zh")
    en = explain.graph_reason([(_named(step["node"], names, 1), step.get("relation", "")) for step in path], "zh")
    return {**reason, "zh": zh["zh"], "en": en["en"], "text": zh["zh"]}


def _named(node: str, names: dict, index: int) -> str:
    prefix = node.split(":", 1)[0]
    return f"{prefix}:{names[node][index]}" if node in names else node


def safe_reasons(user, need, offer, reasons) -> list[dict]:
    """The stored ``reasons`` of a need–offer pairing that ``user`` may read (rebuilt where trimmed)."""
    return safe_reasons_for_view(user, visibility.static_view(user, need), offer, reasons)


def safe_reasons_for_view(user, need_view, offer, reasons) -> list[dict]:
    """As ``safe_reasons``, with the need side given as a view (``title_*``, ``description_*``, ``tags``,
    ``details_shown``): a challenge ranked as a need-like record passes the parts its reader may see."""
    offer_view = visibility.static_view(user, offer)
    views = {"need": need_view, "offer": offer_view}
    need_text, offer_text = _text(need_view, NEED_TEXT), _text(offer_view, OFFER_TEXT)
    out = []
    names = _node_names(reasons or [])
    for reason in reasons or []:
        if not isinstance(reason, dict):
            continue
        kind = reason.get("type")
        if kind == "terms":
            reason = _terms(reason, need_text, offer_text)
        elif kind == "rule" and reason.get("rule") in DETAIL_RULES:
            if not all(views[side].details_shown for side in DETAIL_RULES[reason["rule"]]):
                reason = None
        elif kind == "graph":
            reason = _labelled(reason, names) if _graph_ok(user, reason, need_view, offer_view) else None
        if reason is not None:
            out.append(reason)
    return out


class ShownMatch:
    """A stored pairing as shown to one viewer: the suggestion's fields, with only the reasons they may read."""

    def __init__(self, suggestion, reasons: list[dict]):
        self._suggestion = suggestion
        self.reasons = reasons
        self.similar: list[ShownMatch] = []  # near-duplicates folded into this one (set by the caller)

    @property
    def band(self) -> str | None:
        """strong / good / possible from the calibrated strength (None before the first calibration)."""
        return band(self._suggestion.strength)

    @property
    def not_certified(self) -> bool:
        """The offer lacks a certification the need asks for (kept because the need allows it)."""
        return "not_certified" in (self._suggestion.flags or [])

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._suggestion, name)


def shown(user, suggestions) -> list[ShownMatch]:
    """Wrap stored suggestions for ``user`` (their reasons filtered by ``safe_reasons``)."""
    return [ShownMatch(s, safe_reasons(user, s.need, s.offer, s.reasons)) for s in suggestions]
