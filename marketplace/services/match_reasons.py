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


class _Nodes:
    """The offers, organisations and fields that reasons' graph paths name, loaded once for many reasons.

    Rows already in the session (the suggested offers, loaded with their suggestions; the fields and
    organisations of an earlier group on the same page) are taken from its identity map, so a page of
    suggestions costs a few queries in all rather than a few per reason.
    """

    def __init__(self, reasons_lists) -> None:
        nodes: set[str] = set()
        vias: set[int] = set()
        for reasons in reasons_lists:
            for r in reasons or []:
                if not isinstance(r, dict):
                    continue
                nodes.update(str(step.get("node", "")) for step in r.get("path") or [] if isinstance(step, dict))
                via = parse_id(r.get("via_offer")) if r.get("via_offer") is not None else None
                if via is not None:
                    vias.add(via)
        offer_ids = {int(n[6:]) for n in nodes if n.startswith("offer:") and n[6:].isdigit()} | vias
        org_ids = {int(n[4:]) for n in nodes if n.startswith("org:") and n[4:].isdigit()}
        self.offers = _rows(Offer, offer_ids)
        self.organizations = _rows(Organization, org_ids)
        self.fields = _fields({n[6:] for n in nodes if n.startswith("field:")})
        self._names: dict[str, tuple[str, str]] | None = None
        self._views: dict[tuple[str, int], tuple] = {}
        self._opens: dict[int, bool] = {}

    def opens(self, user, offer) -> bool:
        """May ``user`` open ``offer``? Asked once per offer: many paths on a page pass through the same ones."""
        if offer.id not in self._opens:
            self._opens[offer.id] = visibility.OFFER_OPEN.allows(user, offer)
        return self._opens[offer.id]

    def view(self, user, item, stems) -> tuple:
        """(static view, its readable text) of an item, worked out once (a need's page pairs one need with many
        offers)."""
        key = (type(item).__name__, item.id)
        if key not in self._views:
            view = visibility.static_view(user, item)
            self._views[key] = (view, _text(view, stems))
        return self._views[key]

    def names(self) -> dict[str, tuple[str, str]]:
        """Names (zh, en) of the nodes, keyed as in the paths (``field:D1``, ``org:7``, ``offer:12``)."""
        if self._names is None:
            self._names = self._read_names()
        return self._names

    def _read_names(self) -> dict[str, tuple[str, str]]:
        names = {f"offer:{o.id}": (o.title_zh or o.title_en, o.title_en or o.title_zh) for o in self.offers.values()}
        names.update({f"field:{code}": (f.name_zh, f.name_en or f.name_zh) for code, f in self.fields.items()})
        names.update({f"org:{o.id}": (o.name_zh, o.name_en or o.name_zh) for o in self.organizations.values()})
        return names


def _rows(model, ids) -> dict:
    """Rows of ``model`` by id: those in the session's identity map as they are, the others in one query."""
    found, missing = {}, []
    for row_id in ids:
        row = db.session.identity_map.get(db.session.identity_key(model, row_id))
        if row is not None:
            found[row_id] = row
        else:
            missing.append(row_id)
    if missing:
        found.update({row.id: row for row in db.session.scalars(select(model).where(model.id.in_(missing)))})
    return found


FIELDS_READ = "match_reasons_fields"  # session.info key: field rows read by this session, by code


def _fields(codes) -> dict:
    """Field rows by code. The taxonomy is a few dozen rows: the first code this session does not know yet
    loads all of them once, so the groups of a page cost one query, not one per group."""
    if not codes:
        return {}
    known = db.session.info.get(FIELDS_READ)
    if known is None or not set(codes) <= set(known):
        known = db.session.info[FIELDS_READ] = {row.code: row for row in db.session.scalars(select(Field))}
    return {code: known[code] for code in codes if code in known}


def _graph_ok(user, reason: dict, need_view, offer_view, nodes: _Nodes) -> bool:
    path = reason.get("path") or []
    if any(str(step.get("node", "")).startswith("ipc:") for step in path) and not offer_view.details_shown:
        return False
    if any(step.get("relation") == "mentions" for step in path) and not need_view.details_shown:
        return False
    steps = [str(step.get("node", "")) for step in path]
    orgs = [int(node[4:]) for node in steps if node.startswith("org:") and node[4:].isdigit()]
    if any(nodes.organizations[org].mediated_only for org in orgs if org in nodes.organizations):
        return False  # names kept behind the platform stay there
    offer_ids = [int(node[6:]) for node in steps if node.startswith("offer:") and node[6:].isdigit()]
    if not all(nodes.opens(user, nodes.offers[i]) for i in offer_ids if i in nodes.offers):
        return False  # a path through an offer this viewer may not open would reveal it
    via = reason.get("via_offer")
    if via is not None:
        other = nodes.offers.get(parse_id(via)) if parse_id(via) is not None else None
        if other is None or not nodes.opens(user, other):
            return False
    return True


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


def safe_reasons(user, need, offer, reasons, *, nodes: _Nodes | None = None) -> list[dict]:
    """The stored ``reasons`` of a need–offer pairing that ``user`` may read (rebuilt where trimmed).

    ``nodes`` (from ``shown``) holds the rows the paths name, loaded once for many pairings."""
    nodes = nodes if nodes is not None else _Nodes([reasons])
    return _safe(user, nodes.view(user, need, NEED_TEXT), offer, reasons, nodes)


def safe_reasons_for_view(user, need_view, offer, reasons) -> list[dict]:
    """As ``safe_reasons``, with the need side given as a view (``title_*``, ``description_*``, ``tags``,
    ``details_shown``): a challenge ranked as a need-like record passes the parts its reader may see."""
    return _safe(user, (need_view, _text(need_view, NEED_TEXT)), offer, reasons, _Nodes([reasons]))


def _safe(user, need_side: tuple, offer, reasons, nodes: _Nodes) -> list[dict]:
    (need_view, need_text), (offer_view, offer_text) = need_side, nodes.view(user, offer, OFFER_TEXT)
    views = {"need": need_view, "offer": offer_view}
    out = []
    names = nodes.names()
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
            reason = _labelled(reason, names) if _graph_ok(user, reason, need_view, offer_view, nodes) else None
        if reason is not None:
            out.append(reason)
    return out


class ShownMatch:
    """A stored pairing as shown to one viewer: the suggestion's fields, with only the reasons they may read."""

    def __init__(self, suggestion, reasons: list[dict]):
        self._suggestion = suggestion
        self.reasons = reasons
        self.similar: list = []  # near-duplicates folded into this one (set by the caller, listed by name)

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
    suggestions = list(suggestions)
    nodes = _Nodes([s.reasons for s in suggestions])
    return [ShownMatch(s, safe_reasons(user, s.need, s.offer, s.reasons, nodes=nodes)) for s in suggestions]
