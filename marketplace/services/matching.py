"""Matching in the site: turn rows into engine records, store ranked suggestions, learn from feedback.

The engine itself is the ``matching`` library; this module only feeds it plain records and edges built
from the database and keeps its output (top pairings per open need) in ``match_suggestions``.
"""
from __future__ import annotations

import functools
import json
import logging
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import NamedTuple

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, delete, or_, select
from sqlalchemy.orm import aliased, contains_eager, selectinload

from marketplace import jobs
from marketplace.extensions import db
from marketplace.models import MatchFeedback, MatchSuggestion, Membership, Need, Offer, Organization, UserRole
from marketplace.queries.prepared import PerViewer
from marketplace.services import access, embeddings, locks, match_reasons, matching_rebuild
from marketplace.services.errors import NotFound, PermissionDenied, ValidationFailed
from marketplace.services.match_records import (CANDIDATE_FACTOR, all_scores, need_record, offer_record,
                                                refine_all)
from marketplace.visibility import BROKER_ROLES
from matching import MatchingEngine
from matching.calibration import Calibration, need_length
from matching.refine import apply_strength

log = logging.getLogger(__name__)
TOP_K = 10
OPEN_NEED_STATUSES = ("open", "matched")
REBUILD_JOB = "matching.rebuild"  # after a batch is published: adds its offers when that equals a refit
FULL_REBUILD_JOB = "matching.full_rebuild"  # on schedule or command: refit everything
RANK_NEED_JOB = "matching.rank_need"
RANK_UNRANKED_JOB = "matching.rank_unranked"
UNRANKED_WINDOW_DAYS = 7  # how far back the sweep looks for needs whose ranking never happened
_model_cache: dict[str, tuple[float, MatchingEngine]] = {}
_model_lock = threading.Lock()


def graph_edges(needs: list[Need]) -> list[dict]:
    """Typed edges the graph needs beyond record attributes: needs' organisations, past feedback."""
    edges = [{"source": f"need:{n.id}", "target": f"org:{n.organization_id}", "relation": "posted_by"} for n in needs]
    for fb in db.session.scalars(select(MatchFeedback).where(MatchFeedback.decision.in_(("accepted", "signed")))):
        edges.append({"source": f"org:{_need_org(fb.need_id)}", "target": f"org:{_offer_org(fb.offer_id)}",
                      "relation": "deal" if fb.decision == "signed" else "introduced"})
    return [e for e in edges if "None" not in (e["source"], e["target"])]


def _need_org(need_id: int):
    return db.session.scalar(select(Need.organization_id).where(Need.id == need_id))


def _offer_org(offer_id: int):
    return db.session.scalar(select(Offer.organization_id).where(Offer.id == offer_id))


def _published_offers() -> list[Offer]:
    return list(db.session.scalars(
        select(Offer).where(Offer.status == "published")
        .options(selectinload(Offer.fields), selectinload(Offer.organization), selectinload(Offer.patent),
                 selectinload(Offer.financial)).order_by(Offer.id)))


def _open_needs() -> list[Need]:
    return list(db.session.scalars(select(Need).where(Need.status.in_(OPEN_NEED_STATUSES))
                                   .options(selectinload(Need.fields),
                                            selectinload(Need.organization).selectinload(Organization.fields))
                                   .order_by(Need.id)))


def _feedback_triples(needs_by_id: dict[int, Need]) -> list[tuple[dict, str, str]]:
    rows = db.session.scalars(select(MatchFeedback))
    return [(need_record(needs_by_id[fb.need_id]), str(fb.offer_id), fb.decision) for fb in rows
            if fb.need_id in needs_by_id]


def _store(need_id: int, matches: list[dict]) -> None:
    """Replace a need's suggestions: the refined group leaders ranked 1..n, and the near-duplicates folded into
    each stored after it with ``similar_to_offer_id`` (same rank as their leader)."""
    db.session.execute(delete(MatchSuggestion).where(MatchSuggestion.need_id == need_id))
    now = datetime.now(timezone.utc)
    for rank, match in enumerate(matches, start=1):
        for member, leader in [(match, None)] + [(m, int(match["offer"])) for m in match.get("similar", [])]:
            db.session.add(MatchSuggestion(
                need_id=need_id, offer_id=int(member["offer"]), rank=rank, score=float(member["score"]),
                parts=member.get("parts", {}), reasons=member.get("reasons", []), computed_at=now,
                strength=member.get("strength"), similar_to_offer_id=leader, flags=member.get("flags", [])))


def _judged_scores(need_records: dict) -> list[tuple[float, bool, int | None]]:
    """(score, accepted, need length) of the stored pairings the need side or a broker judged: what calibrates
    strength once there are enough of them (the length only for needs still open, i.e. in ``need_records``)."""
    rows = db.session.execute(select(MatchSuggestion.need_id, MatchSuggestion.score, MatchFeedback.decision).join(
        MatchFeedback, (MatchFeedback.need_id == MatchSuggestion.need_id)
        & (MatchFeedback.offer_id == MatchSuggestion.offer_id))).all()
    lengths = {key: need_length(record) for key, record in need_records.items()}
    return [(float(score), decision != "dismissed", lengths.get(str(need_id))) for need_id, score, decision in rows]


def rebuild(model_dir: Path, rank_needs: matching_rebuild.RankNeeds, semantic: bool = False,
            full: bool = True) -> tuple[dict, bool]:
    """Fit the engine (``full``: refit on all published offers and learn from feedback; otherwise add the offers
    published since the saved model when that equals a refit), rank every open need through ``rank_needs``
    (shards), refine (self-pairs, rules, groups), calibrate the strength on this deployment's scores and store
    the top pairings.

    ``semantic`` adds the engine's semantic channel, with vectors stored in ``offer_embeddings`` and ``need_embeddings``. The model
    is staged beside ``model_dir``; returns the summary and whether a staged model awaits ``install_model`` once
    the suggestions are committed.
    """
    locks.lock_table(MatchSuggestion)  # rebuilds run one at a time (each worker may start one after a release)
    offers = _published_offers()
    needs = _open_needs()
    if not offers:
        return {"offers": 0, "needs": 0}, False
    offer_records = matching_rebuild.offer_records(offers)
    need_records = matching_rebuild.need_records(needs)
    edges = graph_edges(needs)
    engine = None if full else matching_rebuild.grown_model(model_dir, offer_records, edges, semantic)
    fit = "added" if engine is not None else "refit"
    if engine is None:
        engine = matching_rebuild.full_fit(offer_records, edges, semantic,
                                           _feedback_triples({n.id: n for n in needs}))
    to_rank = matching_rebuild.needs_to_rank(engine, need_records)  # with stored need vectors (semantic)
    staged = matching_rebuild.save_staged(engine, model_dir, offer_records, edges)
    del engine  # the shards read the saved model
    ranked = rank_needs(staged, to_rank, TOP_K * CANDIDATE_FACTOR)
    refined = refine_all(ranked, need_records, {r["id"]: r for r in offer_records}, TOP_K)
    calibration = Calibration.fit(all_scores(refined), _judged_scores(need_records))
    calibration.save(staged)
    for need_id, matches in refined.items():
        apply_strength(matches, calibration, need_length(need_records[need_id]))
    db.session.execute(delete(MatchSuggestion))
    for need_id, matches in refined.items():
        _store(int(need_id), matches)
    db.session.flush()
    manifest = staged / "manifest.json"
    trained = bool(json.loads(manifest.read_text(encoding="utf-8")).get("feedback_trained"))
    return {"offers": len(offers), "needs": len(needs), "feedback_trained": trained, "fit": fit,
            "calibration": calibration.method}, True


def _load_engine(directory: Path) -> MatchingEngine | None:
    manifest = directory / "manifest.json"
    if not manifest.exists():
        return None
    stamp = manifest.stat().st_mtime
    key = str(directory)
    with _model_lock:
        cached = _model_cache.get(key)
        if cached is None or cached[0] != stamp:
            engine = MatchingEngine.load(directory)
            engine.calibration = Calibration.load(directory)
            cached = (stamp, engine)
            _model_cache[key] = cached
        return cached[1]


def rank_need(need_id: int, model_dir: Path) -> int:
    """Rank one new or changed need against the fitted offers saved in ``model_dir``, without refitting."""
    need = db.session.get(Need, need_id)
    if need is None:
        return 0
    if need.status not in OPEN_NEED_STATUSES:
        db.session.execute(delete(MatchSuggestion).where(MatchSuggestion.need_id == need_id))
        db.session.flush()
        return 0
    engine = _load_engine(model_dir)
    if engine is None:
        return 0
    record = need_record(need)
    # The need's sentence vector is computed here, when it is saved, and stored for later rebuilds.
    need_vectors = embeddings.need_vectors(engine, [record]) if engine.dense is not None else None
    result = engine.rank([record], top_k=TOP_K * CANDIDATE_FACTOR, need_vectors=need_vectors)[0]
    candidates = list(db.session.scalars(
        select(Offer).where(Offer.id.in_([int(m["offer"]) for m in result["matches"]]), Offer.status == "published")
        .options(selectinload(Offer.fields), selectinload(Offer.organization), selectinload(Offer.patent),
                 selectinload(Offer.financial))))
    offers = {str(o.id): offer_record(o) for o in candidates}
    result["matches"] = [m for m in result["matches"] if str(m["offer"]) in offers]
    refined = refine_all([result], {str(need.id): record}, offers, TOP_K, engine.calibration)[str(need.id)]
    _store(need_id, refined)
    db.session.flush()
    return len(refined)


def queue_unranked(model_dir: Path, now: datetime | None = None, window_days: int = UNRANKED_WINDOW_DAYS) -> int:
    """Enqueue the ranking of open needs changed within the window that have no suggestions yet.

    Their ranking job may have been lost (a queue outage, a worker killed mid-job); the periodic sweep
    calls this so such needs get their matches without anyone noticing. Without a saved model the one
    useful job is a rebuild. Returns how many needs were found.
    """
    since = (now or datetime.now(timezone.utc)) - timedelta(days=window_days)
    ranked = select(MatchSuggestion.id).where(MatchSuggestion.need_id == Need.id)
    need_ids = list(db.session.scalars(select(Need.id).where(
        Need.status.in_(OPEN_NEED_STATUSES), Need.updated_at >= since, ~ranked.exists()).order_by(Need.id)))
    if need_ids and not (model_dir / "manifest.json").exists():
        jobs.enqueue(db.session, REBUILD_JOB)
    else:
        for need_id in need_ids:  # more than a few become one rebuild when dispatched
            jobs.enqueue(db.session, RANK_NEED_JOB, need_id=need_id)
    db.session.flush()
    return len(need_ids)


# --- reading and feedback (services for the views) -------------------------------------------------

def _by_member(feedback):
    """SQL: the author of a feedback row belongs to the organisation of the row's need."""
    need = aliased(Need)  # its own alias: never correlated to a need of the enclosing query
    return (select(Membership.id).join(need, need.organization_id == Membership.organization_id)
            .where(need.id == feedback.need_id, Membership.user_id == feedback.user_id).exists())


def _by_broker(feedback):
    """SQL: the author of a feedback row is a technology manager, operator or admin."""
    return select(UserRole.id).where(UserRole.user_id == feedback.user_id,
                                     UserRole.role.in_(BROKER_ROLES)).exists()


def _by_need_side(feedback):
    """SQL: the author is one of the people who may judge a need's pairings (``record_feedback``)."""
    return or_(_by_member(feedback), _by_broker(feedback))


@functools.cache
def _dismissed():
    """SQL, correlated to ``MatchSuggestion``: the need side's latest verdict on the pairing is "dismissed".

    A later acceptance (or signature) by the need side brings the pairing back; verdicts from anybody else
    (e.g. an offer-side member closing an introduction) do not hide it. The clause depends on nothing of the
    request: built once (its construction cost more than the query on a need's page).
    """
    dismissal, later = aliased(MatchFeedback), aliased(MatchFeedback)
    overruled = select(later.id).where(later.need_id == dismissal.need_id,
                                       later.offer_id == dismissal.offer_id, later.decision != "dismissed",
                                       later.created_at > dismissal.created_at, _by_need_side(later)).exists()
    return select(dismissal.id).where(dismissal.need_id == MatchSuggestion.need_id,
                                      dismissal.offer_id == MatchSuggestion.offer_id,
                                      dismissal.decision == "dismissed",
                                      _by_need_side(dismissal), ~overruled).exists()


class SimilarOffer(NamedTuple):
    """A near-duplicate folded into a suggestion: listed by name on the need's page."""

    offer_id: int
    title_zh: str
    title_en: str | None
    org_name_zh: str
    org_name_en: str | None


def _ranked_statement(viewer):
    # The suggestions the viewer may see, as light rows (a variant is only listed by name): rank, leaders first.
    return (select(MatchSuggestion.id, MatchSuggestion.rank, MatchSuggestion.offer_id, Offer.title_zh,
                   Offer.title_en, Organization.name_zh, Organization.name_en)
            .join(Offer, Offer.id == MatchSuggestion.offer_id)
            .join(Organization, Organization.id == Offer.organization_id)
            .where(MatchSuggestion.need_id == bindparam("need_id"), access.offer_visibility_clause(viewer),
                   Offer.status == "published", ~_dismissed())
            .order_by(MatchSuggestion.rank, MatchSuggestion.similar_to_offer_id.is_not(None),
                      MatchSuggestion.score.desc()))


_RANKED = PerViewer(_ranked_statement)
# The leaders in full, with their offer and its organisation (shown per row, their reasons read): built once.
_LEADERS = (select(MatchSuggestion).join(Offer, Offer.id == MatchSuggestion.offer_id)
            .where(MatchSuggestion.id.in_(bindparam("ids", expanding=True)))
            .options(contains_eager(MatchSuggestion.offer).joinedload(Offer.organization)))


def suggestions_for_need(user, need: Need, limit: int = TOP_K) -> list[match_reasons.ShownMatch]:
    """Ranked offers for a need the user may see, without offers hidden from them or pairings the need side
    found not relevant (hidden for everybody). One item per group of near-duplicates, its best visible member,
    with the others in ``similar`` (``SimilarOffer``: listed by name)."""
    access.require_need_view(user, need)
    groups: dict[int, list] = {}
    for row in db.session.execute(_RANKED(user), {"need_id": need.id}):
        groups.setdefault(row.rank, []).append(row)
    kept = list(groups.values())[:limit]
    # A hidden or dismissed leader gives way to its best remaining variant (the query left them out). Only the
    # leaders are read as rows, and only their reasons (variants are listed by name), all in one pass: the rows
    # the reasons name and the need's view are worked out once per page.
    found = {s.id: s for s in db.session.scalars(_LEADERS, {"ids": [members[0].id for members in kept]})} \
        if kept else {}
    kept = [members for members in kept if members[0].id in found]  # a rebuild may have replaced some since
    items = match_reasons.shown(user, [found[members[0].id] for members in kept])
    for lead, members in zip(items, kept):
        lead.similar = [SimilarOffer(*row[2:]) for row in members[1:]]
    return items


class AnswerableNeed(NamedTuple):
    """A line of an offer page's "needs this could answer": only what the list shows."""

    need_id: int
    kind: str
    title_zh: str
    title_en: str | None
    org_name_zh: str
    org_name_en: str | None


def _answerable_statement(viewer, limit: int):
    return (select(MatchSuggestion.need_id, Need.kind, Need.title_zh, Need.title_en, Organization.name_zh,
                   Organization.name_en)
            .join(Need, Need.id == MatchSuggestion.need_id).join(Organization, Organization.id == Need.organization_id)
            .where(MatchSuggestion.offer_id == bindparam("offer_id"), access.need_visibility_clause(viewer),
                   Need.status.in_(OPEN_NEED_STATUSES))
            .order_by(MatchSuggestion.score.desc()).limit(limit))


_ANSWERABLE = PerViewer(_answerable_statement)


def needs_for_offer(user, offer: Offer, limit: int = 5) -> list[AnswerableNeed]:
    """Open needs this offer could answer, among those the user may see, strongest first.

    The list names each need and its organisation, nothing more: the columns it shows are read in one query
    (no need or organisation rows, no reasons, which the page does not show), built once per viewer."""
    access.require_offer_view(user, offer)
    return [AnswerableNeed(*row) for row in db.session.execute(_ANSWERABLE(user, limit), {"offer_id": offer.id})]


def broker_queue(user, limit: int = 50) -> list[match_reasons.ShownMatch]:
    """The strongest open pairings across the platform that the need side has not dismissed (brokers,
    operators), each with ``verdicts``: the need side's accepted / dismissed / signed signals on it."""
    if not access.is_broker(user):
        raise PermissionDenied(_l("Only technology managers and operators see the pairing queue."))
    query = (select(MatchSuggestion).join(Need, Need.id == MatchSuggestion.need_id)
             .join(Offer, Offer.id == MatchSuggestion.offer_id)
             .where(Need.status == "open", Offer.status == "published", ~_dismissed(),
                    MatchSuggestion.similar_to_offer_id.is_(None))
             .options(selectinload(MatchSuggestion.need), selectinload(MatchSuggestion.offer))
             .order_by(MatchSuggestion.score.desc(), MatchSuggestion.id).limit(limit))
    items = match_reasons.shown(user, db.session.scalars(query))
    verdicts = need_side_verdicts(items)
    for item in items:
        item.verdicts = verdicts[item.id]
    return items


VERDICT_ORDER = ("accepted", "signed", "dismissed")


def need_side_verdicts(suggestions: list[match_reasons.ShownMatch]) -> dict[int, list[tuple[str, str]]]:
    """Per suggestion id, the verdicts on its pairing as distinct ``(side, decision)`` pairs, where side is
    "need" (a member of the need's organisation) or "broker" (a technology manager, operator or admin)."""
    if not suggestions:
        return {}
    rows = db.session.execute(
        select(MatchFeedback.need_id, MatchFeedback.offer_id, MatchFeedback.decision,
               _by_member(MatchFeedback), _by_broker(MatchFeedback))
        .where(MatchFeedback.need_id.in_({s.need_id for s in suggestions}),
               MatchFeedback.offer_id.in_({s.offer_id for s in suggestions}))).all()
    found: dict[tuple[int, int], set[tuple[str, str]]] = {}
    for need_id, offer_id, decision, by_member, by_broker in rows:
        if by_member or by_broker:
            found.setdefault((need_id, offer_id), set()).add(("need" if by_member else "broker", decision))
    order = {"need": 0, "broker": 1}
    return {s.id: sorted(found.get((s.need_id, s.offer_id), ()),
                         key=lambda v: (order[v[0]], VERDICT_ORDER.index(v[1])))
            for s in suggestions}


def funders_for_organization(user, organization_ids: set[int], limit: int = 6) -> list[match_reasons.ShownMatch]:
    """Financial products matched to the organisations' open financing needs (less those found irrelevant)."""
    if not organization_ids:
        return []
    query = (select(MatchSuggestion).join(Need, Need.id == MatchSuggestion.need_id)
             .join(Offer, Offer.id == MatchSuggestion.offer_id)
             .where(Need.organization_id.in_(organization_ids), Need.kind == "financing",
                    Need.status.in_(OPEN_NEED_STATUSES), Offer.kind == "financial", Offer.status == "published",
                    access.offer_visibility_clause(user), ~_dismissed(), MatchSuggestion.similar_to_offer_id.is_(None))
             .options(selectinload(MatchSuggestion.offer), selectinload(MatchSuggestion.need))
             .order_by(MatchSuggestion.score.desc()).limit(limit))
    return match_reasons.shown(user, db.session.scalars(query))


def record_feedback(user, need: Need, offer_id: int, decision: str, reason: str = "") -> MatchFeedback:
    """Accept or dismiss a pairing (the need's organisation, brokers and operators may)."""
    access.require_need_view(user, need)
    if not (access.is_member_of(user, need.organization_id) or access.is_broker(user)):
        raise PermissionDenied(_l("Only the need's organisation or a technology manager can judge this pairing."))
    if decision not in ("accepted", "dismissed", "signed"):
        raise ValidationFailed(_l("Unknown decision."))
    offer = db.session.get(Offer, offer_id)
    if offer is None or not access.can_view_offer(user, offer):
        raise NotFound(_l("This offer does not exist or is not published."))
    reason = (reason or "").strip()[:1000]
    existing = db.session.scalar(select(MatchFeedback).where(MatchFeedback.need_id == need.id,
                                                             MatchFeedback.offer_id == offer_id,
                                                             MatchFeedback.user_id == user.id))
    if existing is None:
        existing = MatchFeedback(need_id=need.id, offer_id=offer_id, user_id=user.id, decision=decision,
                                 reason=reason)
        db.session.add(existing)
    else:
        existing.decision, existing.reason = decision, reason
        existing.created_at = datetime.now(timezone.utc)
    db.session.flush()
    return existing


def user_decisions(user, need: Need) -> dict[int, str]:
    if not getattr(user, "is_authenticated", False):
        return {}
    rows = db.session.execute(select(MatchFeedback.offer_id, MatchFeedback.decision).where(
        MatchFeedback.need_id == need.id, MatchFeedback.user_id == user.id)).all()
    return {offer_id: decision for offer_id, decision in rows}
