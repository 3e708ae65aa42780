"""Match reasons a viewer may read.

The engine ranks on everything an item holds (prices, budgets, hidden descriptions, patent classes), and its stored
reasons quote what it used. Before a reason is shown it is checked against the safe views of the need and the offer
for this viewer (``visibility.static_view``: reasons are not logged as detail views): a price/budget comparison
needs both sides' details, shared terms are kept only when they occur in text the viewer may read on both sides
(otherwise they would be an oracle for hidden descriptions), and graph paths through IPC classes, mentions in the
need's text or offers the viewer may not open are dropped.
"""
from __future__ import annotations

from marketplace import visibility
from marketplace.extensions import db
from marketplace.models import Offer
from marketplace.services.cleaning import parse_id
from matching import explain

OFFER_TEXT = ("title", "summary", "description", "problem", "advantage", "scenarios")
NEED_TEXT = ("title", "description")
# Rules comparing detail values: which side's details they quote.
# (The deadline rule's outcome rests on the offer's lead time.)
DETAIL_RULES = {"budget": ("need", "offer"), "certifications": ("need",), "deadline": ("offer",)}


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
    via = reason.get("via_offer")
    if via is not None:
        other = db.session.get(Offer, parse_id(via)) if parse_id(via) is not None else None
        if other is None or not visibility.OFFER_OPEN.allows(user, other):
            return False
    return True


def safe_reasons(user, need, offer, reasons) -> list[dict]:
    """The stored ``reasons`` of a need–offer pairing that ``user`` may read (rebuilt where trimmed)."""
    need_view, offer_view = visibility.static_view(user, need), visibility.static_view(user, offer)
    views = {"need": need_view, "offer": offer_view}
    need_text, offer_text = _text(need_view, NEED_TEXT), _text(offer_view, OFFER_TEXT)
    out = []
    for reason in reasons or []:
        if not isinstance(reason, dict):
            continue
        kind = reason.get("type")
        if kind == "terms":
            reason = _terms(reason, need_text, offer_text)
        elif kind == "rule" and reason.get("rule") in DETAIL_RULES:
            if not all(views[side].details_shown for side in DETAIL_RULES[reason["rule"]]):
                reason = None
        elif kind == "graph" and not _graph_ok(user, reason, need_view, offer_view):
            reason = None
        if reason is not None:
            out.append(reason)
    return out


class ShownMatch:
    """A stored pairing as shown to one viewer: the suggestion's fields, with only the reasons they may read."""

    def __init__(self, suggestion, reasons: list[dict]):
        self._suggestion = suggestion
        self.reasons = reasons

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._suggestion, name)


def shown(user, suggestions) -> list[ShownMatch]:
    """Wrap stored suggestions for ``user`` (their reasons filtered by ``safe_reasons``)."""
    return [ShownMatch(s, safe_reasons(user, s.need, s.offer, s.reasons)) for s in suggestions]
