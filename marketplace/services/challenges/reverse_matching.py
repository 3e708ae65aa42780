"""Reverse matching for open challenges: which organisations, through their offers and patents, could solve one.

A challenge is turned into a need-like record (only its public parts: the problem, requirements and targets,
never the part behind the NDA, so reasons cannot quote it) and ranked by the matching engine against the
published offers (financial products left out: a challenge asks for a solution, not a loan). The engine's
output loses the challenger's own organisation and its declared group (``matching.grouping.exclude_own``, the
self-pair step of ``refine``), then offers are grouped by organisation: an organisation's score is its best offer's score
plus a little for each further fitting offer. Reasons are trimmed per viewer by ``services.match_reasons``.

Inviting an organisation records a ``ChallengeInvitation`` (with the offers and reasons that led to it) and
tells its members (notification ``challenge_invitation``).
"""
from __future__ import annotations

import threading
from datetime import timezone
from zoneinfo import ZoneInfo
from dataclasses import dataclass, field
from types import SimpleNamespace

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from marketplace.extensions import db
from marketplace.links import path_for
from marketplace.models import Offer, Organization
from marketplace.models.challenges import Challenge, ChallengeInvitation
from marketplace.services import access, locks, match_reasons, notifications
from marketplace.services.cleaning import parse_id, plain_text
from marketplace.services.errors import Conflict, NotFound, ValidationFailed
from marketplace.services.notifications import bilingual, members_of
from marketplace.services.match_records import offer_record, org_groups
from matching import MatchingEngine
from matching.grouping import exclude_own

SOLUTION_KINDS = ("technology", "product", "service", "patent")
EXTRA_OFFER_BONUS = 0.05  # each further fitting offer of an organisation adds this share of its best score
OFFERS_SHOWN = 3  # offers listed under each organisation
_engine_cache: dict[str, tuple[tuple, MatchingEngine, dict[str, dict]]] = {}
_engine_lock = threading.Lock()


@dataclass
class CandidateOffer:
    """One offer or patent of a candidate organisation, with the reasons the viewer may read."""

    offer: Offer
    score: float
    reasons: list[dict] = field(default_factory=list)


@dataclass
class SolverCandidate:
    """An organisation that could solve the challenge: its score and its best offers."""

    organization: Organization
    score: float
    offers: list[CandidateOffer] = field(default_factory=list)
    invited: bool = False

    @property
    def strength(self) -> int:
        """0-100 relative to the best candidate of the same ranking (set by ``rank_solvers``)."""
        return getattr(self, "_strength", 0)


def need_like_record(*, record_id: str, organization_id: int, title_zh: str, title_en: str, text_zh: str,
                     text_en: str, tags, field_codes, budget=None, deadline=None) -> dict:
    """A challenge's public parts as the engine reads a need (no kind: every solution kind may answer)."""
    return {"id": record_id, "kind": None, "org": str(organization_id), "title_zh": title_zh or "",
            "title_en": title_en or "", "description_zh": text_zh or "", "description_en": text_en or "",
            "tags": [str(t) for t in (tags or [])], "fields": list(field_codes or []),
            "required_certifications": [], "min_trl": None,
            "budget": float(budget) if budget is not None else None, "deadline": deadline}


def _solution_offers_stamp() -> tuple:
    """What the fitted engine depends on: the published solution offers' count, newest change and top id."""
    return tuple(db.session.execute(
        select(func.count(Offer.id), func.max(Offer.updated_at), func.max(Offer.id))
        .where(Offer.status == "published", Offer.kind.in_(SOLUTION_KINDS))).one())


def _fitted_engine() -> tuple[MatchingEngine | None, dict[str, dict]]:
    """An engine fitted on the published solution offers, kept while they do not change."""
    stamp = _solution_offers_stamp()
    if not stamp[0]:
        return None, {}
    with _engine_lock:
        cached = _engine_cache.get("solutions")
        if cached is not None and cached[0] == stamp:
            return cached[1], cached[2]
        offers = db.session.scalars(
            select(Offer).where(Offer.status == "published", Offer.kind.in_(SOLUTION_KINDS))
            .options(selectinload(Offer.fields), selectinload(Offer.organization), selectinload(Offer.patent),
                     selectinload(Offer.financial)).order_by(Offer.id))
        records = {str(o.id): offer_record(o) for o in offers}
        engine = MatchingEngine().fit(list(records.values()))
        _engine_cache["solutions"] = (stamp, engine, records)
        return engine, records


def rank_offers(record: dict, limit: int) -> list[dict]:
    """The engine's matches for a need-like record (``{"offer", "score", "reasons", ...}``), best first, without
    the record's own organisation or group (``matching.grouping.exclude_own``, as ``refine`` does for needs;
    its other steps concern procurement and financing needs, and organisations are grouped here anyway)."""
    engine, records = _fitted_engine()
    if engine is None:
        return []
    result = engine.rank_one(record, top_k=limit)
    return exclude_own(record, result["matches"], records, org_groups())


def rank_organisations(user, record: dict, reader_view, *, limit: int = 20,
                       invited_org_ids: set[int] = frozenset()) -> list[SolverCandidate]:
    """Organisations ranked for a need-like ``record``; reasons trimmed for ``user`` against ``reader_view``
    (the record's side as this reader may see it)."""
    matches = rank_offers(record, limit * OFFERS_SHOWN * 2)
    if not matches:
        return []
    offers = {o.id: o for o in db.session.scalars(
        select(Offer).where(Offer.id.in_([int(m["offer"]) for m in matches]))
        .options(selectinload(Offer.organization)))}
    by_org: dict[int, SolverCandidate] = {}
    raw_reasons: dict[int, list] = {}
    for match in matches:
        offer = offers.get(int(match["offer"]))
        if offer is None or offer.organization is None:
            continue
        candidate = by_org.get(offer.organization_id)
        score = float(match["score"])
        if candidate is None:
            candidate = by_org[offer.organization_id] = SolverCandidate(
                offer.organization, score, invited=offer.organization_id in invited_org_ids)
        else:
            candidate.score += EXTRA_OFFER_BONUS * float(candidate.offers[0].score)
        if len(candidate.offers) < OFFERS_SHOWN:
            candidate.offers.append(CandidateOffer(offer, score))
            raw_reasons[offer.id] = match.get("reasons") or []
    ranked = sorted(by_org.values(), key=lambda c: (-c.score, c.organization.id))[:limit]
    best = ranked[0].score if ranked and ranked[0].score > 0 else 1.0
    for candidate in ranked:  # reasons only for what is shown
        candidate._strength = max(0, min(100, round(100 * candidate.score / best)))
        for shown in candidate.offers:
            shown.reasons = match_reasons.safe_reasons_for_view(user, reader_view, shown.offer,
                                                                raw_reasons[shown.offer.id])
    return ranked


def reader_view(record: dict) -> SimpleNamespace:
    """The record's side as its reader sees it: the record holds only public parts, so all of it."""
    return SimpleNamespace(title_zh=record["title_zh"], title_en=record["title_en"],
                           description_zh=record["description_zh"], description_en=record["description_en"],
                           tags=record["tags"], details_shown=True)


# --- challenges ------------------------------------------------------------------------------------------

INVITABLE_STATUSES = ("published",)
MESSAGE_LIMIT = 1000


def may_invite(user, challenge: Challenge) -> bool:
    """The challenger's members, technology managers and operators look for solvers and invite them."""
    return getattr(user, "is_authenticated", False) and (
        access.is_member_of(user, challenge.organization_id) or access.is_broker(user))


def require_inviter(user, challenge: Challenge | None) -> Challenge:
    """The challenge, when ``user`` may look for solvers for it (404 otherwise: drafts stay hidden)."""
    if challenge is None or not may_invite(user, challenge):
        raise NotFound(_l("This challenge does not exist."))
    return challenge


def challenge_record(challenge: Challenge) -> dict:
    """The challenge's public parts (title, summary, problem, requirements and targets) as a need-like record;
    the confidential part is left out so no reason can quote it."""
    def text(lang: str) -> str:
        return " ".join(filter(None, (getattr(challenge, f"{stem}_{lang}") for stem in
                                      ("summary", "problem", "requirements"))))
    return need_like_record(record_id=f"challenge:{challenge.id}", organization_id=challenge.organization_id,
                            title_zh=challenge.title_zh, title_en=challenge.title_en, text_zh=text("zh"),
                            text_en=text("en"), tags=[], field_codes=[f.code for f in challenge.fields])


def invitations(challenge: Challenge) -> list[ChallengeInvitation]:
    """The challenge's invitations, newest first."""
    return list(db.session.scalars(select(ChallengeInvitation).where(ChallengeInvitation.challenge_id == challenge.id)
                                   .order_by(ChallengeInvitation.id.desc())))


def rank_solvers(user, challenge: Challenge, limit: int = 20) -> list[SolverCandidate]:
    """Organisations ranked for the challenge, with their best offers and patents and the reasons ``user`` may
    read; organisations already invited are marked."""
    require_inviter(user, challenge)
    record = challenge_record(challenge)
    invited = {i.organization_id for i in invitations(challenge)}
    return rank_organisations(user, record, reader_view(record), limit=limit, invited_org_ids=invited)


def invite(user, challenge: Challenge, organization_id, message: str = "") -> ChallengeInvitation:
    """Invite an organisation to propose a solution (once per organisation) and tell its members. The offers and
    reasons that ranked it are kept with the invitation."""
    require_inviter(user, challenge)
    challenge = locks.lock_instance(challenge)
    if challenge.status not in INVITABLE_STATUSES:
        raise Conflict(_l("Solvers are invited while the challenge is open for proposals."))
    org = db.session.get(Organization, parse_id(organization_id) or 0)
    if org is None:
        raise NotFound(_l("This organisation does not exist."))
    if org.id == challenge.organization_id:
        raise ValidationFailed(_l("The challenger cannot invite itself."))
    message = plain_text(message)
    if len(message) > MESSAGE_LIMIT:
        raise ValidationFailed(_l("At most %(n)d characters.", n=MESSAGE_LIMIT), field_errors={"message": _l("Too long.")})
    existing = db.session.scalar(select(ChallengeInvitation).where(
        ChallengeInvitation.challenge_id == challenge.id, ChallengeInvitation.organization_id == org.id))
    if existing is not None:
        return existing  # invited already (a second click, or by someone else): nobody is told twice
    candidate = next((c for c in rank_solvers(user, challenge, limit=50) if c.organization.id == org.id), None)
    offers = candidate.offers if candidate else []
    invitation = ChallengeInvitation(
        challenge_id=challenge.id, organization_id=org.id, invited_by_id=user.id, message=message,
        offer_ids=[c.offer.id for c in offers if c.offer.kind != "patent"],
        patent_ids=[c.offer.id for c in offers if c.offer.kind == "patent"],
        reasons=[r for c in offers for r in c.reasons][:10])
    db.session.add(invitation)
    db.session.flush()
    stored = challenge.deadline if challenge.deadline.tzinfo else challenge.deadline.replace(tzinfo=timezone.utc)
    deadline = stored.astimezone(ZoneInfo(challenge.timezone or "Asia/Shanghai"))  # SQLite returns naive UTC
    params = {"title": bilingual(challenge, "title"), "org": bilingual(challenge.organization, "name"),
              "deadline": deadline.strftime("%Y-%m-%d %H:%M"), "message": message}
    notifications.notify(members_of(org.id), "challenge_invitation", "challenge_invited", params,
                         path_for("challenges.detail", challenge_id=challenge.id), exclude=[user.id],
                         about=challenge)
    return invitation
