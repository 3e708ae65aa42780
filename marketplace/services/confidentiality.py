"""Tiered confidentiality of offers and needs (issue 6, item 4).

Visibility levels (``Offer.visibility`` / ``Need.visibility``):

* ``public``: everybody sees everything.
* ``teaser``: everybody sees the teaser (title, summary or the first ``TEASER_CHARS`` characters of a need's
  description, kind, fields, maturity, and the owner organisation's name and kind); the details (description,
  problem / advantage / scenarios, IP status, price, capacity, patent and financial details, a need's quantity,
  budget and required certifications) are shown to the owner organisation, operators, brokers and to people
  whose access request the owner approved. Approval is personal: it covers the requesting person, not their
  whole organisation. A declined request is final (one request per person and item).
* ``confidential``: only the owner organisation, brokers and operators see the item at all (unchanged rules in
  ``services.access``).

When the owner set an NDA text (``NdaTerms``), brokers and approved requesters must accept it before the details
are shown; a changed text must be accepted again (acceptances are tied to the text's hash). Operators review
everything and are not asked to accept NDAs. Every view of the details of a teaser or confidential item by someone
outside the owner organisation, and every NDA acceptance, is written to ``DetailAccessLog``, which only members of
the owner organisation can read.

Services only flush; views commit with ``unit_of_work``.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from marketplace import visibility
from marketplace.extensions import db
from marketplace.links import path_for
from marketplace.models import AccessRequest, Challenge, DetailAccessLog, NdaAcceptance, NdaTerms, Need, Offer
from marketplace.services import access, audit
from marketplace.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed

TEASER_CHARS = visibility.TEASER_CHARS
MAX_MESSAGE = 2000
MAX_NDA = 20000
DECISIONS = {"approve": "approved", "decline": "declined"}


def _now() -> datetime:
    return datetime.now(UTC)


def _uid(user) -> int | None:
    return getattr(user, "id", None) if getattr(user, "is_authenticated", False) else None


# A challenge's confidential part follows the same tiers (issue 17): it is a "teaser" item while it has one.
ITEM_MODELS = {"offer": Offer, "need": Need, "challenge": Challenge}


def item_type_of(item) -> str:
    return "offer" if isinstance(item, Offer) else "challenge" if isinstance(item, Challenge) else "need"


def get_item(user, item_type: str, item_id: int):
    """The offer or need the user may see (teaser included), or NotFound."""
    if item_type == "offer":
        return access.require_offer_view(user, db.session.get(Offer, item_id))
    if item_type == "need":
        return access.require_need_view(user, db.session.get(Need, item_id))
    if item_type == "challenge":
        challenge = db.session.get(Challenge, item_id)
        if challenge is not None and visibility.can_open(user, challenge):
            return challenge
    raise NotFound(_l("This item does not exist."))


def is_owner(user, item) -> bool:
    return _uid(user) is not None and access.is_member_of(user, item.organization_id)


def teaser_text(need: Need, locale: str = "zh") -> str:
    """The first characters of a need's description, shown to everybody for teaser needs (nothing of a
    confidential need before its details may be shown)."""
    return visibility.safe_view(need, False).teaser(locale)


# --- NDA texts ------------------------------------------------------------------------------------------

def text_hash(text_zh: str, text_en: str) -> str:
    return hashlib.sha256(f"{text_zh}\x00{text_en}".encode()).hexdigest()


def nda_for(item) -> NdaTerms | None:
    return db.session.scalar(select(NdaTerms).where(NdaTerms.item_type == item_type_of(item),
                                                    NdaTerms.item_id == item.id))


def nda_form_values(item) -> dict:
    nda = nda_for(item) if item is not None and item.id else None
    return {"nda_text_zh": nda.text_zh if nda else "", "nda_text_en": nda.text_en if nda else ""}


def clean_nda(data: dict) -> tuple[str, str]:
    text_zh = (data.get("nda_text_zh") or "").strip()
    text_en = (data.get("nda_text_en") or "").strip()
    errors = {k: _l("At most %(n)d characters.", n=MAX_NDA)
              for k, v in (("nda_text_zh", text_zh), ("nda_text_en", text_en)) if len(v) > MAX_NDA}
    if errors:
        raise ValidationFailed(_l("Please correct the highlighted fields."), field_errors=errors)
    return text_zh, text_en


def can_manage(user, item) -> bool:
    """Members of the owner organisation (and operators) set the NDA text."""
    return is_owner(user, item) or access.is_staff(user)


def apply_nda(user, item, text_zh: str, text_en: str) -> NdaTerms | None:
    """Store (or, with both texts empty, remove) the item's NDA text; the item must be flushed. Only flushes."""
    nda = nda_for(item)
    if not text_zh and not text_en:
        if nda is not None:
            db.session.delete(nda)
            db.session.flush()
        return None
    digest = text_hash(text_zh, text_en)
    if nda is None:
        nda = NdaTerms(item_type=item_type_of(item), item_id=item.id)
        db.session.add(nda)
    if nda.text_hash != digest:
        nda.text_zh, nda.text_en, nda.text_hash = text_zh, text_en, digest
        nda.updated_by_id, nda.updated_at = _uid(user), _now()
    db.session.flush()
    return nda


def set_nda(user, item, data: dict) -> NdaTerms | None:
    if not can_manage(user, item):
        raise PermissionDenied(_l("Only the owner organisation sets the NDA text."))
    text_zh, text_en = clean_nda(data)
    return apply_nda(user, item, text_zh, text_en)


def has_accepted(user, item, nda: NdaTerms) -> bool:
    return db.session.scalar(select(NdaAcceptance.id).where(
        NdaAcceptance.user_id == user.id, NdaAcceptance.item_type == item_type_of(item),
        NdaAcceptance.item_id == item.id, NdaAcceptance.text_hash == nda.text_hash)) is not None


# --- who sees the details -------------------------------------------------------------------------------

@dataclass
class DetailAccess:
    show: bool                            # render the detail blocks
    reason: str                           # public, owner, staff, broker, approved, teaser
    nda: NdaTerms | None = None           # an NDA still to accept before the details are shown
    request: AccessRequest | None = None  # the viewer's own request for this item, if any
    can_request: bool = False             # the viewer may ask for access
    logged: bool = False                  # views by this viewer are written to the access log

    @property
    def needs_nda(self) -> bool:
        return self.nda is not None


def own_request(user, item) -> AccessRequest | None:
    if _uid(user) is None:
        return None
    return db.session.scalar(select(AccessRequest).where(
        AccessRequest.item_type == item_type_of(item), AccessRequest.item_id == item.id,
        AccessRequest.requester_id == user.id).order_by(AccessRequest.id.desc()).limit(1))


def detail_access(user, item) -> DetailAccess:
    """What ``user`` may see of an item they can already see (``visibility``); no writes."""
    grant = visibility.detail_grant(user, item)
    if grant is not None:  # public, owner or staff; views by staff are logged for the owner
        return DetailAccess(True, grant.name, logged=grant.name == "staff")
    if _uid(user) is None:
        return DetailAccess(False, "teaser")
    request = own_request(user, item)
    if access.is_broker(user):
        reason = "broker"
    elif item.visibility == "teaser" and request is not None and request.status == "approved":
        reason = "approved"
    else:
        return DetailAccess(False, "teaser", request=request,
                            can_request=item.visibility == "teaser" and request is None and bool(user.org_ids))
    nda = nda_for(item)
    if nda is not None and not has_accepted(user, item, nda):
        return DetailAccess(False, reason, nda=nda, request=request)
    return DetailAccess(True, reason, request=request, logged=True)


def _log(user, item, kind: str, remote_addr: str = "", details: dict | None = None) -> DetailAccessLog:
    """Write the owner's access log entry and, alongside, the operators' audit entry."""
    orgs = sorted(user.org_ids)
    entry = DetailAccessLog(item_type=item_type_of(item), item_id=item.id, owner_organization_id=item.organization_id,
                            user_id=user.id, organization_id=orgs[0] if orgs else None, kind=kind, at=_now())
    db.session.add(entry)
    what = "accepted the NDA of" if kind == "nda_accept" else "viewed the details of"
    audit.record(db.session, actor_id=user.id, action="confidential_view", object_type=item_type_of(item),
                 object_id=item.id, organization_id=item.organization_id,
                 summary=f"{what} {item.visibility} {item_type_of(item)} {item.id}",
                 details=dict(details or {}, kind=kind, visibility=item.visibility), remote_addr=remote_addr)
    return entry


def open_details(user, item, *, remote_addr: str = "", details: dict | None = None) -> DetailAccess:
    """``detail_access`` for a page view (or an attachment download, described by ``details``), logging the view
    when the details of a teaser or confidential item are shown to someone outside the owner organisation.
    Only flushes."""
    result = detail_access(user, item)
    if result.show and result.logged:
        _log(user, item, "view", remote_addr, details)
        db.session.flush()
    return result


def accept_nda(user, item, *, remote_addr: str = "") -> NdaAcceptance:
    """The viewer accepts the item's current NDA text (brokers, approved requesters). Only flushes."""
    if _uid(user) is None:
        raise PermissionDenied(_l("Log in to accept the NDA."))
    result = detail_access(user, item)
    nda = nda_for(item)
    if nda is None or result.reason not in ("broker", "approved"):
        raise PermissionDenied(_l("There is no NDA for you to accept on this item."))
    existing = db.session.scalar(select(NdaAcceptance).where(
        NdaAcceptance.user_id == user.id, NdaAcceptance.item_type == item_type_of(item),
        NdaAcceptance.item_id == item.id, NdaAcceptance.text_hash == nda.text_hash))
    if existing is not None:
        return existing
    acceptance = NdaAcceptance(user_id=user.id, item_type=item_type_of(item), item_id=item.id,
                               text_hash=nda.text_hash, accepted_at=_now())
    db.session.add(acceptance)
    _log(user, item, "nda_accept", remote_addr, {"text_hash": nda.text_hash})
    db.session.flush()
    return acceptance


# --- access requests ------------------------------------------------------------------------------------

def _item_params(item) -> dict:
    return {"title": {"zh": item.title("zh"), "en": item.title("en")}}


def _item_path(item) -> str:
    from marketplace.services.notifications import path_for
    if isinstance(item, Offer):
        return path_for("catalogue.detail", offer_id=item.id)
    if isinstance(item, Challenge):
        return path_for("challenges.detail", challenge_id=item.id)
    return path_for("needs.detail", need_id=item.id)


def request_access(user, item, message: str = "", organization_id: int | None = None) -> AccessRequest:
    """A member of another organisation asks for the details of a teaser item. Only flushes."""
    from marketplace.services import notifications
    if _uid(user) is None:
        raise PermissionDenied(_l("Log in to request access."))
    if item.visibility != "teaser":
        raise Conflict(_l("Access requests are only for items that show a teaser."))
    if is_owner(user, item):
        raise Conflict(_l("Your organisation owns this item."))
    org_ids = user.org_ids
    if not org_ids:
        raise PermissionDenied(_l("Join an organisation before requesting access."))
    org_id = organization_id if organization_id in org_ids else min(org_ids)
    if own_request(user, item) is not None:
        raise Conflict(_l("You have already requested access to this item."))
    message = (message or "").strip()
    if len(message) > MAX_MESSAGE:
        raise ValidationFailed(_l("At most %(n)d characters.", n=MAX_MESSAGE),
                               field_errors={"message": _l("Too long.")})
    req = AccessRequest(item_type=item_type_of(item), item_id=item.id, owner_organization_id=item.organization_id,
                        requester_id=user.id, requester_organization_id=org_id, message=message,
                        status="pending", created_at=_now())
    db.session.add(req)
    db.session.flush()
    from marketplace.models import Organization
    org = db.session.get(Organization, org_id)
    notifications.notify(notifications.members_of(item.organization_id), "access", "access_requested",
                         dict(_item_params(item), user=user.display_name or user.email,
                              org={"zh": org.name_zh, "en": org.name_en or ""}, message=message),
                         path_for("confidentiality.item_log", item_type=req.item_type,
                                                item_id=item.id),
                         dedupe_key=f"access_request:{req.id}")
    return req


def item_of(req: AccessRequest):
    return db.session.get(ITEM_MODELS.get(req.item_type, Need), req.item_id)


def get_request_to_decide(user, request_id: int) -> AccessRequest:
    """A request addressed to one of the user's organisations; NotFound for anybody else."""
    req = db.session.get(AccessRequest, request_id)
    if req is None or _uid(user) is None or not access.is_member_of(user, req.owner_organization_id):
        raise NotFound(_l("This access request does not exist."))
    return req


def decide(user, request_id: int, decision: str, *, remote_addr: str = "") -> AccessRequest:
    """A member of the owner organisation approves or declines a pending request. Only flushes."""
    from marketplace.services import notifications
    req = get_request_to_decide(user, request_id)
    if decision not in DECISIONS:
        raise ValidationFailed(_l("Choose to approve or decline."))
    if req.status != "pending":
        raise Conflict(_l("This request has already been answered."))
    item = item_of(req)
    if item is None or item.organization_id != req.owner_organization_id:
        raise NotFound(_l("This access request does not exist."))
    req.status, req.decided_by_id, req.decided_at = DECISIONS[decision], user.id, _now()
    db.session.flush()
    audit.record(db.session, actor_id=user.id, action="access_decision", object_type=req.item_type,
                 object_id=req.item_id, organization_id=req.owner_organization_id,
                 summary=f"{req.status} access request {req.id} of user {req.requester_id}",
                 details={"request_id": req.id, "decision": req.status, "requester_id": req.requester_id,
                          "requester_organization_id": req.requester_organization_id}, remote_addr=remote_addr)
    org = item.organization
    notifications.notify([req.requester_id], "access", f"access_{req.status}",
                         dict(_item_params(item), org={"zh": org.name_zh, "en": org.name_en or ""}),
                         _item_path(item), dedupe_key=f"access_decided:{req.id}")
    return req


def _requires_owner(user, item) -> None:
    if not is_owner(user, item):
        raise PermissionDenied(_l("Only the owner organisation sees who accessed this item."))


def requests_for_item(user, item) -> list[AccessRequest]:
    _requires_owner(user, item)
    return list(db.session.scalars(select(AccessRequest).where(
        AccessRequest.item_type == item_type_of(item), AccessRequest.item_id == item.id)
        .order_by((AccessRequest.status == "pending").desc(), AccessRequest.created_at.desc(),
                  AccessRequest.id.desc())))


def access_log(user, item, limit: int = 500) -> list[DetailAccessLog]:
    """Views and NDA acceptances of the item, newest first; for the owner organisation only."""
    _requires_owner(user, item)
    return list(db.session.scalars(select(DetailAccessLog).where(
        DetailAccessLog.item_type == item_type_of(item), DetailAccessLog.item_id == item.id,
        DetailAccessLog.owner_organization_id == item.organization_id)
        .order_by(DetailAccessLog.at.desc(), DetailAccessLog.id.desc()).limit(limit)))


def incoming_requests(user) -> list[AccessRequest]:
    """Requests addressed to the user's organisations, pending first."""
    if _uid(user) is None or not user.org_ids:
        return []
    return list(db.session.scalars(select(AccessRequest).where(
        AccessRequest.owner_organization_id.in_(user.org_ids))
        .order_by((AccessRequest.status == "pending").desc(), AccessRequest.created_at.desc()).limit(500)))


def outgoing_requests(user) -> list[AccessRequest]:
    if _uid(user) is None:
        return []
    return list(db.session.scalars(select(AccessRequest).where(AccessRequest.requester_id == user.id)
                                   .order_by(AccessRequest.created_at.desc()).limit(500)))


def items_for(requests) -> dict[tuple[str, int], object]:
    """The offers and needs the requests are about, keyed by (type, id)."""
    found: dict[tuple[str, int], object] = {}
    for item_type, model in ITEM_MODELS.items():
        ids = {r.item_id for r in requests if r.item_type == item_type}
        if ids:
            for item in db.session.scalars(select(model).where(model.id.in_(ids))):
                found[(item_type, item.id)] = item
    return found


def show_details_for_export(user, item) -> bool:
    """Exports include details of public items, and of teaser / confidential items only for their owner and
    operators (exports are not logged, so brokers and approved requesters read details on the item's page)."""
    return visibility.shows_details(user, item)


def safe_view(user, item, *, open_page: bool = False, remote_addr: str = "",
              details: DetailAccess | None = None) -> visibility.SafeView:
    """What ``user`` may be shown of an offer or need they may open: pages, API responses, notifications.

    ``open_page`` counts as a view of the details (``open_details``: logged for the owner, only flushes);
    otherwise the decision is ``detail_access`` without writing. ``details`` reuses a decision already made.
    Exports, search documents and match reasons, which are not logged, use ``visibility.static_view``.
    """
    if details is None:
        details = (open_details(user, item, remote_addr=remote_addr) if open_page and _uid(user) is not None
                   else detail_access(user, item))
    return visibility.safe_view(item, details.show)



def nda_from_form(data: dict, errors: dict) -> tuple[str, str] | None:
    """The NDA texts of an offer or need form (None when the form has no NDA fields); errors go to ``errors``."""
    if "nda_text_zh" not in data and "nda_text_en" not in data:
        return None
    try:
        return clean_nda(data)
    except ValidationFailed as exc:
        errors.update(exc.field_errors)
        return None
