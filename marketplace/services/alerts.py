"""Saved searches, match alerts and strong-match announcements.

A saved search is either a site search (query, scope, facets) or a need's "matching offers" view. The
``alerts.run`` job re-runs each one as its owner (so visibility is always the owner's, through
``search_index.search`` or the matching service), compares the result ids with those already seen, and
notifies about new ones: at once (``immediate``: after every matching run and every sweep) or in a daily
digest (``daily``: at most once a day).

After every matching job, a need's new top suggestion at or above ``STRONG_MATCH_THRESHOLD`` is announced
to the need's organisation (once per need and offer).
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import selectinload

from marketplace import search_index
from marketplace.extensions import db
from marketplace.links import path_for
from marketplace.models import MatchSuggestion, Membership, Need, Offer, SavedSearch, User
from marketplace.models.notifications import ALERT_FREQUENCIES, SAVED_SEARCH_KINDS
from marketplace.services import access, notifications
from marketplace.services.errors import NotFound, PermissionDenied, ValidationFailed
from matching.calibration import STRONG_STRENGTH
from search import SearchError, SearchQuery, SearchUnavailable

log = logging.getLogger(__name__)

ALERTS_JOB = "alerts.run"
MAX_SAVED_PER_USER = 50
SEEN_CAP = 2000
DAILY_SLACK = timedelta(hours=1)  # a daily run a little early (cron drift) still counts as a day
OPEN_NEED_STATUSES = ("open", "matched")
# Scope -> (facet names, base filters, newest-first sort); mirrors views.search.SCOPES.
SEARCH_SCOPES = {
    "offers": (("kind", "direction", "regulatory"), {"status": ["published"]}, ["published_at:desc"]),
    "needs": (("kind", "direction", "urgency"), {"status": ["open", "matched"]}, ["created_at:desc"]),
    "organizations": (("kind", "sub_park"), {}, []),
}
FREQUENCY_LABELS = {"immediate": _l("Immediately"), "daily": _l("Daily digest")}
KIND_LABELS = {"search": _l("Search"), "need_matches": _l("Matches for a need")}


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


def _require_user(user) -> None:
    if not getattr(user, "is_authenticated", False):
        raise PermissionDenied(_l("Log in to save searches."))


# --- parameters ---------------------------------------------------------------------------------------

def search_params(data) -> dict:
    """Normalise a search's parameters (``data``: a dict whose facet values are lists)."""
    scope = data.get("scope") if data.get("scope") in SEARCH_SCOPES else "offers"
    q = str(data.get("q") or "").strip()[:200]
    facets = {}
    for name in SEARCH_SCOPES[scope][0]:
        raw = data.get(name) or []
        values = sorted({str(v)[:100] for v in (raw if isinstance(raw, (list, tuple)) else [raw]) if v})[:20]
        if values:
            facets[name] = values
    return {"q": q, "scope": scope, "facets": facets}


def link_for(saved: SavedSearch) -> str:
    if saved.kind == "need_matches":
        return path_for("needs.detail", need_id=saved.params.get("need_id")) + "#matches"
    params = saved.params or {}
    values = {"q": params.get("q", ""), "scope": params.get("scope", "offers")}
    values.update(params.get("facets") or {})
    return path_for("search.index", **values)


def current_ids(saved: SavedSearch, user, limit: int) -> list[str]:
    """The saved search's first ``limit`` results now, as its owner may see them (newest first for searches)."""
    if saved.kind == "need_matches":
        from marketplace.services import matching
        need = db.session.get(Need, int(saved.params.get("need_id") or 0))
        if need is None or not access.can_view_need(user, need):
            return []
        return [str(s.offer_id) for s in matching.suggestions_for_need(user, need, limit=limit)]
    params = saved.params or {}
    scope = params.get("scope") if params.get("scope") in SEARCH_SCOPES else "offers"
    _facets, base, sort = SEARCH_SCOPES[scope]
    filters = dict(base)
    filters.update(params.get("facets") or {})
    result = search_index.search(scope, SearchQuery(q=params.get("q", ""), filters=filters, sort=sort,
                                                    per_page=limit), user)
    return [str(i) for i in result.ids]


# --- saving, listing, deleting ------------------------------------------------------------------------

def save(user, kind: str, data: dict, max_results: int, frequency: str = "daily", name: str = "") -> SavedSearch:
    """Save a search or a need's matches view for ``user``; what is there now counts as seen."""
    _require_user(user)
    if kind not in SAVED_SEARCH_KINDS:
        raise ValidationFailed(_l("Unknown kind of saved search."))
    if frequency not in ALERT_FREQUENCIES:
        raise ValidationFailed(_l("Choose immediately or a daily digest."),
                               field_errors={"frequency": _l("Choose one.")})
    if kind == "need_matches":
        try:
            need_id = int(data.get("need_id"))
        except (TypeError, ValueError):
            raise NotFound(_l("This need does not exist or is not visible to you.")) from None
        need = access.require_need_view(user, db.session.get(Need, need_id))
        params = {"need_id": need.id}
        default_name = need.title_zh or need.title_en
    else:
        params = search_params(data)
        default_name = params["q"] or str(KIND_LABELS["search"])
    name = (name or "").strip()[:200] or default_name[:200]
    mine = list(db.session.scalars(select(SavedSearch).where(SavedSearch.user_id == user.id)))
    for existing in mine:
        if existing.kind == kind and existing.params == params:
            existing.frequency, existing.name = frequency, name
            db.session.flush()
            return existing
    if len(mine) >= MAX_SAVED_PER_USER:
        raise ValidationFailed(_l("You have too many saved searches; delete some first."))
    saved = SavedSearch(user_id=user.id, kind=kind, params=params, frequency=frequency, name=name,
                        created_at=_now())
    try:
        saved.last_seen_ids = current_ids(saved, user, max_results)[:SEEN_CAP]
    except (SearchUnavailable, SearchError):
        saved.last_seen_ids = []
    saved.last_run_at = _now()
    db.session.add(saved)
    db.session.flush()
    return saved


def list_for(user) -> list[SavedSearch]:
    _require_user(user)
    return list(db.session.scalars(select(SavedSearch).where(SavedSearch.user_id == user.id)
                                   .order_by(SavedSearch.created_at.desc(), SavedSearch.id.desc())))


def delete(user, saved_id: int) -> None:
    _require_user(user)
    saved = db.session.get(SavedSearch, saved_id)
    if saved is None or saved.user_id != user.id:
        raise NotFound(_l("This saved search does not exist."))
    db.session.delete(saved)
    db.session.flush()


# --- the alert job ------------------------------------------------------------------------------------

def _due(frequency: str | None, now: datetime):
    daily_due = (SavedSearch.frequency == "daily") & (
        SavedSearch.last_run_at.is_(None) | (SavedSearch.last_run_at <= now - timedelta(days=1) + DAILY_SLACK))
    if frequency == "immediate":
        return SavedSearch.frequency == "immediate"
    if frequency == "daily":
        return daily_due
    return or_(SavedSearch.frequency == "immediate", daily_due)


def run_one(saved: SavedSearch, max_results: int, now: datetime | None = None) -> int:
    """Re-run one saved search as its owner; notify about new results; returns how many were new."""
    now = now or _now()
    user = saved.user
    ids = current_ids(saved, user, max_results)
    seen = [str(i) for i in (saved.last_seen_ids or [])]
    seen_set = set(seen)
    new = [i for i in ids if i not in seen_set]
    if new:
        notifications.notify([user.id], "saved_search", "saved_search",
                             {"count": len(new), "name": saved.name}, link_for(saved))
    saved.last_seen_ids = (ids + [i for i in seen if i not in set(ids)])[:SEEN_CAP]
    saved.last_run_at = now
    return len(new)


def run(max_results: int, frequency: str | None = None, now: datetime | None = None) -> dict:
    """Immediate alerts, and daily digests that are due (``frequency`` restricts to one of them)."""
    now = now or _now()
    rows = list(db.session.scalars(select(SavedSearch).join(User, User.id == SavedSearch.user_id)
                                   .where(_due(frequency, now), User.active.is_(True))
                                   .options(selectinload(SavedSearch.user)).order_by(SavedSearch.id)))
    alerted = 0
    for saved in rows:
        try:
            if run_one(saved, max_results, now):
                alerted += 1
        except (SearchUnavailable, SearchError) as exc:  # try again next run; the others go on
            log.warning("saved search %s not run: %s", saved.id, exc)
    db.session.flush()
    return {"saved_searches_run": len(rows), "alerts": alerted}


# --- strong matches (after each matching job) ---------------------------------------------------------

def announce_strong_matches(threshold: float, need_ids=None) -> int:
    """Tell a need's organisation about its new top suggestion when it is strong (once per pairing)."""
    query = (select(MatchSuggestion).join(Need, Need.id == MatchSuggestion.need_id)
             .join(Offer, Offer.id == MatchSuggestion.offer_id)
             .where(MatchSuggestion.rank == 1, MatchSuggestion.similar_to_offer_id.is_(None),
                    # the calibrated strength decides once there is one; the raw score before the first calibration
                    or_(MatchSuggestion.strength >= STRONG_STRENGTH,
                        and_(MatchSuggestion.strength.is_(None), MatchSuggestion.score >= threshold)),
                    Need.status.in_(OPEN_NEED_STATUSES), Offer.status == "published")
             .options(selectinload(MatchSuggestion.need), selectinload(MatchSuggestion.offer)
                      .selectinload(Offer.organization)))
    if need_ids is not None:
        query = query.where(MatchSuggestion.need_id.in_(list(need_ids)))
    told = 0
    for suggestion in db.session.scalars(query):
        need, offer = suggestion.need, suggestion.offer
        members = list(db.session.scalars(select(User).join(Membership, Membership.user_id == User.id).where(
            Membership.organization_id == need.organization_id, User.active.is_(True))))
        readers = [u.id for u in members if access.can_view_offer(u, offer)]
        params = {"need": notifications.bilingual(need, "title"), "offer": notifications.bilingual(offer, "title"),
                  "offer_org": notifications.bilingual(offer.organization, "name")}
        told += len(notifications.notify(readers, "strong_match", "strong_match", params,
                                         path_for("needs.detail", need_id=need.id) + "#matches",
                                         dedupe_key=f"strong:{need.id}:{offer.id}"))
    return told
