"""Agenda items: catalogue candidates, presenters, who should attend."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from marketplace.services.events.common import aware, bump_sequence, parse_local, require_manage, to_int, zone
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from marketplace.extensions import db
from marketplace.models import (
    AgendaItem,
    Event,
    MatchSuggestion,
    Membership,
    Need,
    Offer,
    Organization,
    PatentDetail,
    User,
)
from marketplace.services import access, funder_fit, notifications
from marketplace.services.cleaning import Cleaner, parse_id
from marketplace.services.errors import Conflict, NotFound, ValidationFailed

# --- agenda -------------------------------------------------------------------------------------------

def catalogue_candidates(user, q: str = "", limit: int = 20) -> list[Offer]:
    """Published offers to put on an agenda: by number, or title words; high-value patents first."""
    query = (select(Offer).outerjoin(PatentDetail, PatentDetail.offer_id == Offer.id)
             .where(access.offer_visibility_clause(user), Offer.status == "published", Offer.kind != "financial"))
    q = (q or "").strip()[:100]
    if parse_id(q) is not None:
        query = query.where(Offer.id == parse_id(q))
    elif q:
        like = f"%{q}%"
        query = query.where(or_(Offer.title_zh.ilike(like), Offer.title_en.ilike(like)))
    else:
        query = query.where(PatentDetail.curation_stage == "high_value")
    query = query.order_by((PatentDetail.curation_stage == "high_value").desc(),
                           PatentDetail.value_score.desc().nulls_last(), Offer.id).limit(limit)
    return list(db.session.scalars(query.options(selectinload(Offer.organization), selectinload(Offer.patent))))


def add_item(user, event: Event, data: dict) -> AgendaItem:
    require_manage(user, event)
    if event.status in ("cancelled", "finished"):
        raise Conflict(_l("A cancelled or finished event can no longer be changed."))
    c = Cleaner(data)
    offer_id = c.integer("offer_id", min_value=1)
    c.text("project_title_zh", max_length=300)
    c.text("project_title_en", max_length=300)
    c.text("project_summary", max_length=5000)
    presenter_id = c.integer("presenter_id", min_value=1)
    c.integer("meeting_capacity", min_value=0, max_value=48)
    tz = zone(event.timezone)
    starts = parse_local(c, "starts_at", tz, required=True)
    ends = parse_local(c, "ends_at", tz, required=True)
    offer = None
    if offer_id:
        offer = db.session.get(Offer, offer_id)
        if offer is None or offer.status != "published" or not access.can_view_offer(user, offer):
            c.error("offer_id", _l("No published offer has this number."))
    elif not (c.values["project_title_zh"] or c.values["project_title_en"]):
        c.error("offer_id", _l("Pick an offer or patent, or describe a project."))
    presenter = db.session.get(User, presenter_id) if presenter_id else None
    if presenter_id and presenter is None:
        c.error("presenter_id", _l("Unknown user."))
    if offer is not None and not c.errors:
        members = organisation_members(offer.organization_id)
        if presenter is None and members:  # the item's own organisation presents it by default
            presenter, presenter_id = members[0], members[0].id
        elif presenter is not None and presenter.id not in {m.id for m in members}:
            c.error("presenter_id", _l("The presenter must be a member of the offer's organisation."))
    capacity = c.values["meeting_capacity"] if c.values["meeting_capacity"] is not None else 4
    if capacity > 0 and presenter is None and "presenter_id" not in c.errors:
        c.error("presenter_id", _l("Items with 1:1 meetings need a presenter (or set the meetings to 0)."))
    if starts and ends:
        if ends <= starts:
            c.error("ends_at", _l("The end must be after the start."))
        elif starts < aware(event.starts_at) or ends > aware(event.ends_at):
            c.error("starts_at", _l("The time slot must lie within the event."))
    if c.errors:
        raise ValidationFailed(_l("Please correct the highlighted fields."), field_errors=c.errors)
    org_id = offer.organization_id if offer else None
    if org_id is None and presenter is not None and presenter.org_ids:
        org_id = min(presenter.org_ids)
    item = AgendaItem(event_id=event.id, offer_id=offer.id if offer else None, presenter_id=presenter_id,
                      project_title_zh=c.values["project_title_zh"], project_title_en=c.values["project_title_en"],
                      project_summary=c.values["project_summary"], organization_id=org_id, starts_at=starts,
                      ends_at=ends, meeting_capacity=capacity)
    db.session.add(item)
    db.session.flush()
    if presenter is not None:
        notifications.presenter_assigned(item, user)
    bump_sequence(event)
    return item


def remove_item(user, event: Event, item: AgendaItem) -> None:
    require_manage(user, event)
    if item.event_id != event.id:
        raise NotFound(_l("This agenda item does not exist."))
    db.session.delete(item)
    db.session.flush()


def organisation_members(org_id: int | None) -> list[User]:
    """Active members of one organisation, owners first (the first is the default presenter)."""
    if org_id is None:
        return []
    rows = db.session.execute(select(User, Membership.role).join(Membership, Membership.user_id == User.id)
                              .where(Membership.organization_id == org_id, User.active.is_(True))
                              .order_by(User.display_name, User.id)).all()
    return [user for user, role in sorted(rows, key=lambda r: r[1] != "owner")]


def presenter_choices(event: Event, offer_id=None) -> list[tuple[Organization | None, list[User]]]:
    """Who may present, grouped by organisation: for an offer, the members of its organisation only; for a
    free project, members of organisations (the project belongs to the presenter's organisation)."""
    offer = db.session.get(Offer, to_int(offer_id) or 0) if offer_id else None
    if offer is not None and offer.status == "published":
        return [(offer.organization, organisation_members(offer.organization_id))]
    users = list(db.session.scalars(select(User).where(User.active.is_(True), User.id.in_(
        select(Membership.user_id))).options(selectinload(User.memberships)).order_by(User.display_name)
        .limit(500)))
    groups: dict[int, list[User]] = {}
    for user in users:
        groups.setdefault(min(user.org_ids), []).append(user)
    orgs = {o.id: o for o in db.session.scalars(select(Organization).where(Organization.id.in_(groups)))}
    return sorted(((orgs.get(org_id), members) for org_id, members in groups.items()),
                  key=lambda group: group[0].name_zh if group[0] else "")


def attendance_suggestions(user, item: AgendaItem, limit: int = 8) -> dict:
    """Who should attend for this item: organisations whose open needs the matching engine pairs with the
    item's offer, and funders whose financial products fit the presenting organisation's financing needs."""
    firms, funders = [], []
    if item.offer_id:
        rows = db.session.execute(
            select(Organization, func.max(MatchSuggestion.score), func.count(MatchSuggestion.id))
            .join(Need, Need.organization_id == Organization.id)
            .join(MatchSuggestion, MatchSuggestion.need_id == Need.id)
            .where(MatchSuggestion.offer_id == item.offer_id, Need.status.in_(("open", "matched")),
                   access.need_visibility_clause(user))
            .group_by(Organization.id).order_by(func.max(MatchSuggestion.score).desc()).limit(limit)).all()
        firms = [{"organization": org, "score": score, "needs": n} for org, score, n in rows]
    if item.organization_id:
        rows = db.session.execute(
            select(Organization, func.max(MatchSuggestion.score))
            .join(Offer, Offer.organization_id == Organization.id)
            .join(MatchSuggestion, MatchSuggestion.offer_id == Offer.id)
            .join(Need, Need.id == MatchSuggestion.need_id)
            .where(Need.organization_id == item.organization_id, Need.kind == "financing",
                   Offer.kind == "financial", Offer.status == "published")
            .group_by(Organization.id).order_by(func.max(MatchSuggestion.score).desc()).limit(limit)).all()
        funders = [{"organization": org, "score": score} for org, score in rows]
        if not funders:  # no financing need yet: funders whose products fit the firm's profile
            funders = [{"organization": org, "score": None}
                       for org in funder_fit.funders_for_firm(user, item.organization_id)]
        if not funders:  # nothing structured to compare: funders whose products are published, for a general fit
            rows = db.session.scalars(select(Organization).where(
                Organization.kind.in_(("bank", "guarantee", "vc")),
                Organization.id.in_(select(Offer.organization_id).where(Offer.kind == "financial",
                                                                        Offer.status == "published")))
                .order_by(Organization.id).limit(3))
            funders = [{"organization": org, "score": None} for org in rows]
    return {"firms": firms, "funders": funders}
