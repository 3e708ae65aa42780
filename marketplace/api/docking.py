"""/api/v1/introductions/{id}/messages, members' introduction requests and the contacts an introduction opens.

The conversation and the contacts open once both sides accepted; only the two organisations' members, the
introduction's broker and operators see them (everybody else gets 404).
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from marketplace.api import auth
from marketplace.api import representations as rep
from marketplace.api.common import api_blueprint, page_envelope
from marketplace.api.schemas.docking import MessageIn, MessageListArgs, MessageOut, MessagePage
from marketplace.models import Introduction, IntroductionMessage
from marketplace.queries import brokering as brokering_q
from marketplace.queries import conversations as conversations_q
from marketplace.queries.paging import api_per_page
from marketplace.services import access, brokering, conversations, docking
from marketplace.services.errors import ValidationFailed
from marketplace.services.unit_of_work import unit_of_work
from marketplace.settings import current_settings

bp = api_blueprint("api_conversations", __name__, url_prefix="/api/v1/introductions",
                   description="The conversation of an introduction between the two organisations, their "
                               "technology manager and operators; it opens once both sides accepted.")


# --- representation pieces used by the introduction resource ------------------------------------------

def organization_for(user, intro: Introduction, side: str) -> dict | None:
    """A side's organisation, or None while a "mediated only" organisation has not accepted (except for its own
    members, the introduction's broker and operators)."""
    if intro.identity_hidden(side) and not (
            access.is_staff(user) or (user is not None and intro.broker_id == user.id)
            or side in brokering.sides_of(user, intro)):
        return None
    return rep.organization_ref(intro.organization_of(side))


def contacts(user, intro: Introduction) -> list[dict]:
    """Each side's contact person once both sides accepted, for the people who read the conversation; an empty
    list before (and for anybody else who may open the introduction)."""
    if not conversations.may_read(user, intro):
        return []
    return [{k: entry[k] for k in ("side", "name", "email", "phone")} for entry in docking.contacts(user, intro)]


def message_body(message: IntroductionMessage) -> dict:
    stored = message.attachment
    return {"id": message.id, "introduction_id": message.introduction_id, "side": message.side,
            "author_id": message.author_id, "author_name": message.author.display_name if message.author else "",
            "body": message.body, "created_at": message.created_at,
            "attachment": ({"name": stored.original_name, "content_type": stored.content_type, "size": stored.size}
                           if stored is not None else None)}


# --- a member's request ------------------------------------------------------------------------------

def is_proposal(user, data: dict) -> bool:
    """A technology manager naming a need and an offer, without a purpose, proposes a brokered introduction."""
    return (access.is_broker(user) and bool(data.get("need_id")) and bool(data.get("offer_id"))
            and not data.get("purpose") and not data.get("organization_id") and not data.get("as_organization_id"))


def request_introduction(user, data: dict) -> Introduction:
    """A member's request: the one end that is not the asker's own is what they ask about.

    With two ends named (a need and an offer, or an organisation and one of them), the asker's own need or offer
    is passed on as the item the request concerns. Call inside the unit of work.
    """
    need_id, offer_id, organization_id = data.get("need_id"), data.get("offer_id"), data.get("organization_id")
    as_organization_id = data.get("as_organization_id")
    own_need_id = own_offer_id = None
    # Only the asker's own organisations are looked at (another one is refused by the service, unanswered here).
    if sum(1 for value in (need_id, offer_id, organization_id) if value) > 1 and (
            as_organization_id is None or as_organization_id in user.org_ids):
        asking = [as_organization_id] if as_organization_id else sorted(user.org_ids)
        own_need, own_offer = brokering_q.own_ends(asking, need_id, offer_id)
        if own_need:
            own_need_id, need_id = need_id, None
        elif own_offer:
            own_offer_id, offer_id = offer_id, None
        if sum(1 for value in (need_id, offer_id, organization_id) if value) > 1:
            raise ValidationFailed(_l("Name one offer, need or organisation to ask about; any other one must be "
                                      "your own need or offer."))
        if organization_id and own_offer_id:  # asking an organisation, the asker is the side with the need
            raise ValidationFailed(_l("With an organisation, name one of your own needs (not an offer)."),
                                   field_errors={"offer_id": _l("Leave this out, or name a need instead.")})
    settings = current_settings()
    return docking.request_introduction(
        user, offer_id=offer_id, need_id=need_id, organization_id=organization_id,
        as_organization_id=as_organization_id, own_need_id=own_need_id, own_offer_id=own_offer_id,
        purpose=data.get("purpose") or "", message=data["message"], mediation=data.get("mediation", False),
        expiry_days=settings.introduction_expiry_days,
        unverified_may_request=settings.unverified_may_request_introductions)


# --- the conversation ---------------------------------------------------------------------------------

@bp.route("/<int:intro_id>/messages", methods=["GET"])
@bp.arguments(MessageListArgs, location="query", as_kwargs=True)
@bp.response(200, MessagePage)
def list_messages(intro_id, page, per_page=None, after_id=0):
    """The conversation, oldest first; `after_id` returns only newer messages (poll with the last id you have)."""
    user = auth.require_caller()
    intro = brokering_q.get_introduction(user, intro_id)
    found = conversations_q.list_messages(user, intro, after_id=after_id, page=page, per_page=api_per_page(per_page))
    return page_envelope(found, message_body)


@bp.route("/<int:intro_id>/messages", methods=["POST"])
@bp.arguments(MessageIn)
@bp.response(201, MessageOut)
@auth.write_access
def post_message(data, intro_id):
    """Write to the other side (plain text); 409 until both sides accepted and once the introduction is closed."""
    user = auth.require_caller()
    with unit_of_work():
        message = conversations.post(user, brokering_q.get_introduction(user, intro_id), data["body"])
        body = message_body(message)
    return body
