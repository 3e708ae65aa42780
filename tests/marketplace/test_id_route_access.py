"""Every route whose URL names an object refuses people who may not see or change that object.

The routes come from ``app.url_map``: every rule with a converter argument (``<int:offer_id>``, ``<token>`` …) is
either in ``ROUTE_OBJECTS`` (endpoint → the builders of private objects of organisation A the route is tried on)
or in ``PUBLIC_ROUTES`` (with the reason it is public); ``test_every_id_route_is_covered`` fails otherwise, so a
new route cannot slip through unchecked. For each mapped route, builder and HTTP method of the rule (one test id
each, e.g. ``catalogue.edit-draft_offer-POST``):

* a logged-in plain member of organisation B gets 403 or 404 and no row in the database changes;
* an anonymous visitor never gets the object (302 to the login page, 401, 403 or 404) and nothing changes;
* a rightful user (owner, organiser, broker, operator) is not refused, which proves the object and the form are
  real and the refusals above come from the access rules;
* on introduction URLs, a broker who is not the introduction's broker gets 404.

To cover more routes (e.g. the API), add ``endpoint: (builder, …)`` to ``ROUTE_OBJECTS`` (a builder takes the
``World`` and returns a ``Case`` whose ``values`` hold every URL argument the rule needs; extra keys are ignored),
a form to ``FORMS`` when a POST needs data to be meaningful, and, for a prefix that is not signed in with the
session (``api_``), a function ``(app, client, email) -> client`` to ``SIGN_IN``; then remove the prefix from
``SKIPPED_PREFIXES``.
"""
from __future__ import annotations

import functools
import hashlib
import io
import secrets
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

from flask import url_for
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import (AccessRequest, AgendaItem, ApiToken, CalendarToken, Event, EventInterest,
                                EventOutcome,
                                FollowupRating, Introduction, IntroductionMessage, IntroductionTask, MatchSuggestion,
                                MeetingRequest, Membership, NdaTerms, Notification, OrganizationInvitation,
                                OrganizationVerification, Registration, SavedSearch, StoredFile, User)
from marketplace.models.events import MeetingWindow
from marketplace.services.confidentiality import text_hash
from tests.conftest import login
from tests.marketplace import test_challenge_evaluation_routes as challenge_evaluation_routes
from tests.factories import other_uscc

# The JSON API's blueprints (``api_offers.…``, ``api_docs.…`` under /api/v1) sign in with bearer tokens and are
# covered by their own tests.
SKIPPED_PREFIXES: tuple[str, ...] = ("api.", "api_")

# Rules with arguments that name nothing private. One line each: why anybody may open them.
PUBLIC_ROUTES: dict[str, str] = {
    "static": "bundled CSS, JavaScript and images",
    "bootstrap.static": "Bootstrap's bundled assets (served locally, no CDN)",
    "main.switch_language": "<code> is a language code, not an object",
    "catalogue.batch": "batches exist only once released, so every batch page is public; its offers are "
                       "filtered by offer_visibility_clause",
    "transfer.export_batch": "the same public batch as a file; rows filtered by offer_visibility_clause",
    "transfer.export_offers": "<fmt> is a file format; rows filtered by the viewer's visibility (test_transfer)",
    "transfer.export_needs": "<fmt> is a file format; rows filtered by the viewer's visibility (test_transfer)",
    "transfer.export_patents": "<fmt> is a file format; only published high-value patents",
    "transfer.template": "<entity>.<fmt> names a blank import template",
    "organizations.profile": "organisation profiles are public; offers and needs on it are filtered by visibility",
    "events.series": "series pages are public; the events listed are filtered by events.visible_events",
    "uploads.logo": "logos are shown on the public organisation profiles",
}

OUTSIDER_STATUSES = (403, 404)
ANONYMOUS_STATUSES = (302, 401, 403, 404)
# Rows a refused request may legitimately add (not part of the "nothing changed" comparison).
SNAPSHOT_IGNORED_TABLES = {"login_attempts", "audit_entries"}


# --- the people and the objects -----------------------------------------------------------------------

@dataclass(frozen=True)
class Person:
    user: int
    email: str
    org: int | None = None


class World:
    """Organisation A owns the private objects; B is the outsider; C is the other side of A's dealings; the staff
    are platform users without an organisation. People are created when a builder or a test first needs them."""

    def __init__(self, app, make):
        self.app, self.make = app, make

    def _member(self, kind: str) -> Person:
        org, user, email = self.make.member(kind)
        return Person(user, email, org)

    def _staff(self, role: str) -> Person:
        return Person(*self.make.staff(role))

    a = functools.cached_property(lambda self: self._member("hospital"))
    b = functools.cached_property(lambda self: self._member("firm"))
    c = functools.cached_property(lambda self: self._member("firm"))
    broker = functools.cached_property(lambda self: self._staff("broker"))
    other_broker = functools.cached_property(lambda self: self._staff("broker"))
    organiser = functools.cached_property(lambda self: self._staff("organiser"))
    operator = functools.cached_property(lambda self: self._staff("operator"))

    def add(self, *objects) -> list[int]:
        """Commit new rows and return their ids."""
        with self.app.app_context():
            db.session.add_all(objects)
            db.session.commit()
            return [o.id for o in objects]


@dataclass
class Case:
    """A private object of organisation A as URL values, and who may rightfully use it (an e-mail of the
    world's people, ``None`` for an anonymous visitor) with the values they use."""

    values: dict
    rightful: str | None
    rightful_values: dict | None = None
    extra: dict = field(default_factory=dict)


def _now() -> datetime:
    return datetime.now(UTC)


def _offer_case(w: World, rightful: str, **kw) -> Case:
    offer_id = w.make.offer(w.a.org, **kw)
    return Case({"offer_id": offer_id, "item_type": "offer", "item_id": offer_id}, rightful)


def _need_case(w: World, rightful: str, **kw) -> Case:
    need_id = w.make.need(w.a.org, **kw)
    return Case({"need_id": need_id, "item_type": "need", "item_id": need_id}, rightful)


def draft_offer(w: World) -> Case:
    return _offer_case(w, w.a.email, status="draft", title_zh="甲方草稿")


def submitted_offer(w: World) -> Case:
    return _offer_case(w, w.operator.email, status="submitted")


def archived_offer(w: World) -> Case:
    return _offer_case(w, w.operator.email, status="archived")


def published_offer(w: World) -> Case:
    return _offer_case(w, w.operator.email, status="published")


def confidential_offer(w: World) -> Case:
    return _offer_case(w, w.operator.email, status="published", visibility="confidential")


def draft_need(w: World) -> Case:
    return _need_case(w, w.a.email, status="draft")


def confidential_need(w: World) -> Case:
    return _need_case(w, w.a.email, visibility="confidential")


def open_need(w: World) -> Case:
    return _need_case(w, w.a.email)


def closed_need(w: World) -> Case:
    """Still shown to everybody, but only A (and staff) reopen it."""
    return _need_case(w, w.a.email, status="closed", close_reason="已采购")


def confidential_closed_need(w: World) -> Case:
    return _need_case(w, w.a.email, status="closed", visibility="confidential")


def _with_nda(w: World, case: Case) -> Case:
    w.add(NdaTerms(item_type=case.values["item_type"], item_id=case.values["item_id"], text_zh="保密协议",
                   text_en="NDA", text_hash=text_hash("保密协议", "NDA")))
    return case


def teaser_offer_with_nda(w: World) -> Case:
    return _with_nda(w, _offer_case(w, w.a.email, status="published", visibility="teaser"))


def teaser_need_with_nda(w: World) -> Case:
    return _with_nda(w, _need_case(w, w.a.email, visibility="teaser"))


def _pairing(w: World, need: Case) -> Case:
    offer_id = w.make.offer(w.c.org)
    w.add(MatchSuggestion(need_id=need.values["need_id"], offer_id=offer_id, rank=1, score=0.9))
    need.values["offer_id"] = offer_id
    return need


def confidential_need_pairing(w: World) -> Case:
    return _pairing(w, confidential_need(w))


def open_need_pairing(w: World) -> Case:
    return _pairing(w, open_need(w))


def access_request(w: World) -> Case:
    """C asked for the details of A's teaser offer; only A decides."""
    offer = teaser_offer_with_nda(w)
    (req_id,) = w.add(AccessRequest(item_type="offer", item_id=offer.values["offer_id"], owner_organization_id=w.a.org,
                                    requester_id=w.c.user, requester_organization_id=w.c.org, status="pending"))
    return Case({"request_id": req_id}, w.a.email)


def _introduction(w: World, stage: str) -> Introduction:
    need_id, offer_id = w.make.need(w.a.org), w.make.offer(w.c.org)
    return Introduction(need_id=need_id, offer_id=offer_id, need_organization_id=w.a.org,
                        offer_organization_id=w.c.org, broker_id=w.broker.user, message="两家可以谈谈", stage=stage,
                        expires_at=_now() + timedelta(days=14))


def introduction(w: World) -> Case:
    """A proposed introduction between A's need and C's offer, with one open follow-up."""
    (intro_id,) = w.add(_introduction(w, "proposed"))
    (task_id,) = w.add(IntroductionTask(introduction_id=intro_id, title="核对参数", owner_id=w.broker.user,
                                        due_on=date.today() + timedelta(days=3)))
    return Case({"intro_id": intro_id, "task_id": task_id}, w.broker.email)


def accepted_introduction(w: World) -> Case:
    """A's need and C's offer, both sides accepted: the conversation is open to A, C and the broker."""
    intro = _introduction(w, "accepted")
    intro.need_response = intro.offer_response = "accepted"
    (intro_id,) = w.add(intro)
    return Case({"intro_id": intro_id}, w.a.email)


def mediation_request(w: World) -> Case:
    """A member of C asked A for an introduction and for a technology manager to mediate (none yet)."""
    (intro_id,) = w.add(Introduction(need_id=w.make.need(w.a.org), offer_id=None, need_organization_id=w.a.org,
                                     offer_organization_id=w.c.org, source="request", requested_by_id=w.c.user,
                                     requester_side="offer", purpose="purchase", mediation_requested=True,
                                     offer_response="accepted", message="请居间", stage="proposed",
                                     expires_at=_now() + timedelta(days=14)))
    return Case({"intro_id": intro_id}, w.broker.email)


def conversation_message(w: World) -> Case:
    """A message from C with a file in the conversation of an accepted introduction with A."""
    intro_id = accepted_introduction(w).values["intro_id"]
    file_id = _stored_file(w, "message", PDF, "pdf")
    (message_id,) = w.add(IntroductionMessage(introduction_id=intro_id, author_id=w.c.user, side="offer",
                                              body="报价单见附件", attachment_id=file_id))
    return Case({"message_id": message_id, "intro_id": intro_id}, w.a.email)


def followup_rating(w: World) -> Case:
    """A's side of a signed introduction is asked what became of it."""
    (intro_id,) = w.add(_introduction(w, "signed"))
    (rating_id,) = w.add(FollowupRating(introduction_id=intro_id, organization_id=w.a.org, side="need",
                                        outcome="signed"))
    return Case({"rating_id": rating_id}, w.a.email)


def _event(w: World, status: str) -> tuple[int, int]:
    """An organiser's event with one agenda item: A's published offer, presented by A's member."""
    start = (_now() + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    (event_id,) = w.add(Event(organiser_id=w.organiser.user, kind="roadshow", status=status, title_zh="路演",
                              title_en="Roadshow", starts_at=start, ends_at=start + timedelta(hours=2),
                              meeting_slots=2, meeting_tables=2, audience=[],
                              published_at=_now() if status == "published" else None))
    (item_id,) = w.add(AgendaItem(event_id=event_id, offer_id=w.make.offer(w.a.org), presenter_id=w.a.user,
                                  organization_id=w.a.org, starts_at=start, ends_at=start + timedelta(minutes=20),
                                  meeting_capacity=2))
    return event_id, item_id


def draft_event(w: World) -> Case:
    event_id, item_id = _event(w, "draft")
    return Case({"event_id": event_id, "item_id": item_id}, w.organiser.email)


def published_event(w: World) -> Case:
    """Visible to everybody, but only its organiser manages it and only registrants ask for meetings."""
    event_id, item_id = _event(w, "published")
    w.add(Registration(event_id=event_id, user_id=w.c.user, status="confirmed", confirmed_at=_now()))
    return Case({"event_id": event_id, "item_id": item_id}, w.organiser.email)


def meeting_request(w: World) -> Case:
    """C asked A's presenter for a 1:1 meeting; only the presenter (or the organiser) answers."""
    case = published_event(w)
    (meeting_id,) = w.add(MeetingRequest(event_id=case.values["event_id"], agenda_item_id=case.values["item_id"],
                                         requester_id=w.c.user, presenter_id=w.a.user, reason="谈许可"))
    return Case({**case.values, "meeting_id": meeting_id}, w.a.email)


def event_participant(w: World) -> Case:
    """A's presenter is a participant of the published event; C (registered) may see and ask them."""
    case = published_event(w)
    return Case({**case.values, "user_id": w.a.user}, w.c.email)


def meeting_window(w: World) -> Case:
    """An extra window of meeting slots on the organiser's published event."""
    case = published_event(w)
    (window_id,) = w.add(MeetingWindow(event_id=case.values["event_id"], starts_at=_now() + timedelta(days=4),
                                       slots=2, minutes=15))
    return Case({**case.values, "window_id": window_id}, w.organiser.email)


def event_outcome(w: World) -> Case:
    """An outcome the organiser recorded for the event; only the organiser and operators remove it."""
    case = published_event(w)
    (outcome_id,) = w.add(EventOutcome(event_id=case.values["event_id"], organization_id=w.a.org, kind="deal",
                                       note="许可合同", recorded_by_id=w.organiser.user))
    return Case({**case.values, "outcome_id": outcome_id}, w.organiser.email)


def follow_up(w: World) -> Case:
    """C's interest in A's agenda item, a follow-up owned by A's presenter (C has a need to pair it with)."""
    case = published_event(w)
    c_need = w.make.need(w.c.org)
    (interest_id,) = w.add(EventInterest(event_id=case.values["event_id"], agenda_item_id=case.values["item_id"],
                                         user_id=w.c.user, organization_id=w.c.org, kind="license",
                                         owner_id=w.a.user, status="open"))
    return Case({"interest_id": interest_id}, w.a.email, extra={"need_id": c_need})


def _calendar_token(w: World) -> str:
    token = secrets.token_urlsafe(24)
    w.add(CalendarToken(user_id=w.a.user, token=token))
    return token


def guessed_calendar_token(w: World) -> Case:
    """The feed token is the credential: a token that is almost A's opens nothing."""
    token = _calendar_token(w)
    guess = token[:-1] + ("A" if token[-1] != "A" else "B")
    return Case({"token": guess}, None, rightful_values={"token": token})


def deactivated_users_calendar_token(w: World) -> Case:
    """A user who was switched off keeps no working feed."""
    token = _calendar_token(w)
    with w.app.app_context():
        db.session.get(User, w.a.user).active = False
        db.session.commit()
    return Case({"token": token}, None)


def api_token(w: World) -> Case:
    """A's member's personal access token; only its owner revokes it."""
    (token_id,) = w.add(ApiToken(user_id=w.a.user, name="脚本", prefix="tb_test", scope="write",
                                 token_hash=hashlib.sha256(secrets.token_bytes(16)).hexdigest()))
    return Case({"token_id": token_id}, w.a.email)


def user_session(w: World) -> Case:
    """A's member signed in on another browser; only they sign it out."""
    from marketplace.models import UserSession
    (session_id,) = w.add(UserSession(user_id=w.a.user, token_hash=hashlib.sha256(secrets.token_bytes(16)).hexdigest(),
                                      user_agent="Phone", remote_addr="10.0.0.1"))
    return Case({"session_id": session_id}, w.a.email)


PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _stored_file(w: World, purpose: str, data: bytes, extension: str, **owner) -> int:
    """A stored file of organisation A, with its bytes in the upload folder (as the upload service leaves it)."""
    name = f"{uuid.uuid4().hex}.{extension}"
    folder = Path(w.app.config["UPLOAD_FOLDER"])
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)
    (file_id,) = w.add(StoredFile(storage_name=name, original_name=f"资料.{extension}", size=len(data),
                                  content_type="application/pdf" if extension == "pdf" else "image/png",
                                  sha256=hashlib.sha256(data).hexdigest(), purpose=purpose, organization_id=w.a.org,
                                  uploaded_by_id=w.a.user, **owner))
    return file_id


def _attachment(w: World, case: Case) -> Case:
    owner = {f"{case.values['item_type']}_id": case.values["item_id"]}
    return Case({"file_id": _stored_file(w, "attachment", PDF, "pdf", **owner)}, case.rightful)


def draft_offer_attachment(w: World) -> Case:
    return _attachment(w, draft_offer(w))


def teaser_offer_attachment(w: World) -> Case:
    """Details of a teaser item, attachments included, are for A, staff, brokers and approved requesters."""
    return _attachment(w, teaser_offer_with_nda(w))


def confidential_need_attachment(w: World) -> Case:
    return _attachment(w, confidential_need(w))


def published_offer_attachment(w: World) -> Case:
    """Anybody downloads it, but only A (while it may edit) and staff delete it."""
    return _attachment(w, published_offer(w))


def organisation(w: World) -> Case:
    """Organisation A's profile: only its owners and staff change the logo."""
    return Case({"org_id": w.a.org}, w.a.email)


def organisation_with_logo(w: World) -> Case:
    _stored_file(w, "logo", PNG, "png")
    return organisation(w)


def second_member(w: World) -> Case:
    """A plain member of A: only A's owners and operators change their role or take them out."""
    user_id = w.make.user()
    (membership_id,) = w.add(Membership(user_id=user_id, organization_id=w.a.org, role="member"))
    return Case({"org_id": w.a.org, "membership_id": membership_id}, w.a.email)


def _invitation(w: World, email: str) -> tuple[int, str]:
    token = secrets.token_urlsafe(32)
    (invitation_id,) = w.add(OrganizationInvitation(organization_id=w.a.org, email=email, role="owner",
                                                    token_hash=hashlib.sha256(token.encode()).hexdigest(),
                                                    invited_by_id=w.a.user, expires_at=_now() + timedelta(days=7)))
    return invitation_id, token


def open_invitation(w: World) -> Case:
    """A's invitation of a colleague: only A's owners and operators withdraw it."""
    invitation_id, _token = _invitation(w, "colleague@example.com")
    return Case({"org_id": w.a.org, "invitation_id": invitation_id}, w.a.email)


def invitation_to_c(w: World) -> Case:
    """An invitation into A sent to C's address: only C accepts it from the account page."""
    invitation_id, _token = _invitation(w, w.c.email)
    return Case({"invitation_id": invitation_id}, w.c.email)


def guessed_invitation_token(w: World) -> Case:
    """The link's token is the credential: a token that is almost right opens nothing; C holds the real one."""
    _invitation_id, token = _invitation(w, "someone@example.com")
    guess = token[:-1] + ("A" if token[-1] != "A" else "B")
    return Case({"token": guess}, w.c.email, rightful_values={"token": token})


def verification_request(w: World) -> Case:
    """A's request to be verified, with its business licence: for A's owners and operators only."""
    file_id = _stored_file(w, "licence", PDF, "pdf")
    (request_id,) = w.add(OrganizationVerification(organization_id=w.a.org, uscc=other_uscc(9001),
                                                   licence_file_id=file_id, submitted_by_id=w.a.user, reason=""))
    return Case({"org_id": w.a.org, "request_id": request_id, "file_id": file_id}, w.operator.email)


def member_account(w: World) -> Case:
    """A's member's account: only operators and admins change platform roles."""
    return Case({"user_id": w.a.user}, w.operator.email)


def own_account(w: World) -> Case:
    """The outsider's own account: nobody grants themselves a platform role."""
    return Case({"user_id": w.b.user}, w.operator.email)


def notification(w: World) -> Case:
    (note_id,) = w.add(Notification(user_id=w.a.user, kind="introduction", message_key="introduction_proposed",
                                    params={}, link="/brokering/mine"))
    return Case({"notification_id": note_id}, w.a.email)


def saved_search(w: World) -> Case:
    (saved_id,) = w.add(SavedSearch(user_id=w.a.user, kind="search", name="呼吸机",
                                    params={"scope": "offers", "q": "呼吸机"}, frequency="daily"))
    return Case({"saved_id": saved_id}, w.a.email)


def _with_post(w: World, model, **kw) -> str:
    """A new staff member holding a post (an office's reviewer, a sub-park's staff); returns the e-mail."""
    person = w._staff("broker")
    w.add(model(user_id=person.user, **kw))
    return person.email


def policy_filing_part(w: World) -> Case:
    """A's filing for measure 7: A's members see it; only the startup office's staff review its part."""
    from marketplace.models import PolicyFiling, PolicyFilingPart, PolicyMeasure, PolicyOffice, PolicyOfficeStaff
    from marketplace.services.policy import catalogue
    with w.app.app_context():
        catalogue.load_reference(db.session)
        db.session.commit()
        measure = db.session.scalar(select(PolicyMeasure).where(PolicyMeasure.number == 7))
        office_id = db.session.scalar(select(PolicyOffice.id).where(PolicyOffice.code == "startup"))
        filing = PolicyFiling(organization_id=w.a.org, title="20200206 甲（第7条）", project_name="p",
                              filed_on=date(2020, 2, 6))
        filing.parts.append(PolicyFilingPart(measure_id=measure.id, measure_number=7, office_id=office_id))
        db.session.add(filing)
        db.session.commit()
        ids = {"filing_id": filing.id, "part_id": filing.parts[0].id}
    reviewer = _with_post(w, PolicyOfficeStaff, office_id=office_id)
    return Case(ids, reviewer)


def archived_measure(w: World) -> Case:
    """A measure no longer in force: only operators open or edit it."""
    from marketplace.models import PolicyMeasure
    with w.app.app_context():
        from marketplace.services.policy import catalogue
        catalogue.load_reference(db.session)
        measure = db.session.scalar(select(PolicyMeasure).where(PolicyMeasure.number == 8))
        measure.status = "archived"
        db.session.commit()
        return Case({"measure_id": measure.id}, w.operator.email)


def funding_programme(w: World) -> Case:
    """Only operators record loans, investments and grants under a programme."""
    from marketplace.models import FundingProgramme
    with w.app.app_context():
        from marketplace.services.policy import catalogue
        catalogue.load_reference(db.session)
        db.session.commit()
        return Case({"programme_id": db.session.scalar(select(FundingProgramme.id).limit(1))}, w.operator.email)


def liaison_report(w: World) -> Case:
    """A's report to the Haidian sub-park: A's members and Haidian's staff see it; only the staff act on it."""
    from marketplace.models import LiaisonReport, SubParkStaff
    (report_id,) = w.add(LiaisonReport(organization_id=w.a.org, sub_park="haidian", topic="legal", title="t",
                                       body="b", respond_by=_now() + timedelta(days=3)))
    return Case({"report_id": report_id}, _with_post(w, SubParkStaff, sub_park="haidian"))


def supply_chain_input(w: World) -> Case:
    """A's ventilator chain with a blocked input: A's members, Haidian's staff and operators see it; only A's
    members change it."""
    from marketplace.models import Organization, SupplyChain, SupplyInput
    with w.app.app_context():
        db.session.get(Organization, w.a.org).sub_park = "haidian"
        chain = SupplyChain(organization_id=w.a.org, sub_park="haidian", product_zh="呼吸机")
        chain.inputs.append(SupplyInput(part_name="涡轮风机", supplier_name="某厂", status="blocked",
                                        status_note="停工"))
        db.session.add(chain)
        db.session.commit()
        ids = {"chain_id": chain.id, "input_id": chain.inputs[0].id}
    return Case(ids, w.a.email)


def _survey(w: World, status: str) -> tuple[int, int]:
    from marketplace.models import Organization, Survey, SurveyQuestion
    with w.app.app_context():
        db.session.get(Organization, w.a.org).sub_park = "haidian"
        survey = Survey(title_zh="复工周报", status=status, audience_sub_parks=["haidian"],
                        closes_on=date.today() + timedelta(days=30),
                        questions=[SurveyQuestion(position=1, kind="number", prompt_zh="返岗比例")])
        db.session.add(survey)
        db.session.commit()
        return survey.id, survey.questions[0].id


def draft_survey(w: World) -> Case:
    """A survey not yet sent: only operators open, send, close or export it."""
    survey_id, question_id = _survey(w, "draft")
    return Case({"survey_id": survey_id}, w.operator.email, extra={"question_id": question_id})


def open_survey(w: World) -> Case:
    """A survey asking Haidian's organisations (A among them): A answers; B, elsewhere, is not asked."""
    survey_id, question_id = _survey(w, "open")
    return Case({"survey_id": survey_id}, w.a.email, extra={"question_id": question_id})


def import_run(w: World) -> Case:
    """A's import run: only the person who started it (and operators) see its progress and report."""
    from marketplace.models.imports import ImportRun
    (run_id,) = w.add(ImportRun(user_id=w.a.user, organization_id=w.a.org, entity="offers", filename="a.xlsx",
                                file_sha256="0" * 64, status="done"))
    return Case({"run_id": run_id}, w.a.email)


def _challenge(w: World, status: str) -> int:
    from tests import challenge_builders
    return challenge_builders.challenge(w.app, w.a.org, status=status)


def draft_challenge(w: World) -> Case:
    """A's draft challenge: nobody outside A (and operators) sees it."""
    return Case({"challenge_id": _challenge(w, "draft")}, w.a.email)


def submitted_challenge(w: World) -> Case:
    """A's challenge waiting for verification: operators decide it."""
    return Case({"challenge_id": _challenge(w, "submitted")}, w.operator.email)


def challenge_question(w: World) -> Case:
    """C's unanswered question on A's published challenge: only C and A read it, only A answers."""
    from marketplace.models import ChallengeQuestion
    challenge_id = _challenge(w, "published")
    (question_id,) = w.add(ChallengeQuestion(challenge_id=challenge_id, asker_id=w.c.user, text="私下的问题"))
    return Case({"challenge_id": challenge_id, "question_id": question_id}, w.a.email)


def challenge_proposal(w: World) -> Case:
    """C's submitted proposal to A's published challenge: never shown to another solver (B)."""
    from tests import challenge_builders
    challenge_id = _challenge(w, "published")
    proposal_id = challenge_builders.proposal(w.app, challenge_id, w.c.org)
    return Case({"challenge_id": challenge_id, "proposal_id": proposal_id}, w.c.email)


def challenge_proposal_file(w: World) -> Case:
    from marketplace.models.challenges import challenge_proposal_files
    case = challenge_proposal(w)
    file_id = _stored_file(w, "attachment", PDF, "pdf")
    with w.app.app_context():
        db.session.execute(challenge_proposal_files.insert().values(proposal_id=case.values["proposal_id"],
                                                                    file_id=file_id))
        db.session.commit()
    return Case(dict(case.values, file_id=file_id), w.a.email)


Builder = Callable[[World], Case]
EVENT = (draft_event, published_event)

# endpoint → the private objects the route is tried on. An outsider must get 403/404 on every one.
ROUTE_OBJECTS: dict[str, tuple[Builder, ...]] = {
    "catalogue.detail": (draft_offer, submitted_offer, archived_offer, confidential_offer),
    "catalogue.edit": (draft_offer, confidential_offer, published_offer),
    "catalogue.submit": (draft_offer, published_offer),
    "operator.review": (submitted_offer,),
    "needs.detail": (draft_need, confidential_need),
    "needs.edit": (draft_need, confidential_need, open_need),
    "needs.close": (draft_need, confidential_need, open_need),
    "needs.publish": (draft_need, open_need),  # open_need: an outsider is refused before any state check
    "needs.reopen": (closed_need, confidential_closed_need),
    "matches.feedback": (confidential_need_pairing, open_need_pairing),
    "confidentiality.request_access": (draft_offer, confidential_need),
    "confidentiality.accept_nda": (draft_offer, teaser_offer_with_nda, teaser_need_with_nda),
    "confidentiality.nda": (draft_offer, teaser_offer_with_nda, teaser_need_with_nda),
    "confidentiality.item_log": (draft_need, teaser_offer_with_nda, teaser_need_with_nda),
    "confidentiality.decide": (access_request,),
    "brokering.detail": (introduction,),
    "docking.post_message": (accepted_introduction,),
    "docking.poll_messages": (accepted_introduction,),
    "docking.join": (mediation_request,),
    "docking.message_file": (conversation_message,),
    "docking.report_message": (conversation_message,),
    "brokering.respond": (introduction,),
    "brokering.move": (introduction,),
    "brokering.deal_value": (introduction,),
    "brokering.add_task": (introduction,),
    "brokering.complete_task": (introduction,),
    "events.detail": (draft_event,),
    "events.event_ics": (draft_event,),
    "events.register": (draft_event,),
    "events.unregister": (draft_event,),
    "events.meetings": (draft_event,),
    "events.follow_ups": (draft_event,),
    "events.edit": EVENT,
    "events.publish": EVENT,
    "events.cancel": EVENT,
    "events.finish": EVENT,
    "events.agenda": EVENT,
    "events.schedule": EVENT,
    "events.remove_item": EVENT,
    "events.request_meeting": EVENT,
    "events.interest": EVENT,
    "events.answer_meeting": (meeting_request,),
    "events.reschedule": (meeting_request,),
    "events.cancel_meeting": (meeting_request,),
    "events.check_in_meeting": (meeting_request,),
    "events.meeting_note": (meeting_request,),
    "events.meeting_interest": (meeting_request,),
    "events.participants": (published_event,),
    "events.profile": (published_event,),
    "events.availability": (published_event,),
    "events.my_agenda": (published_event,),
    "events.check_in": (published_event,),
    "events.participant": (event_participant,),
    "events.request_person": (event_participant,),
    "events.add_window": EVENT,
    "events.remove_window": (meeting_window,),
    "events.claim": (follow_up,),
    "events.close": (follow_up,),
    "events.introduce": (follow_up,),
    "events.feed": (guessed_calendar_token, deactivated_users_calendar_token),
    "event_reports.report": EVENT,
    "event_reports.report_export": EVENT,
    "event_reports.record_outcome": EVENT,
    "event_reports.remove_outcome": (event_outcome,),
    "event_reports.feedback": EVENT,
    "event_reports.recommendations": EVENT,
    "account.revoke_token": (api_token,),
    "account.revoke_session": (user_session,),
    "operator.change_role": (member_account, own_account),
    "uploads.upload_attachment": (draft_offer, confidential_need, published_offer, open_need),
    "uploads.download": (draft_offer_attachment, teaser_offer_attachment, confidential_need_attachment),
    "uploads.delete_attachment": (draft_offer_attachment, teaser_offer_attachment, confidential_need_attachment,
                                  published_offer_attachment),
    "uploads.upload_logo": (organisation,),
    "uploads.delete_logo": (organisation_with_logo,),
    "organizations.edit": (organisation,),
    "organizations.verification": (organisation,),
    "organizations.licence": (verification_request,),
    "operator.organization_review": (verification_request,),
    "memberships.members": (organisation,),
    "memberships.invite": (organisation,),
    "memberships.revoke_invitation": (open_invitation,),
    "memberships.change_role": (second_member,),
    "memberships.remove": (second_member,),
    "memberships.leave": (organisation,),
    "memberships.invitation": (guessed_invitation_token,),
    "account.accept_invitation": (invitation_to_c,),
    "account.contact": (organisation,),
    "notifications.open_notification": (notification,),
    "notifications.delete_saved_search": (saved_search,),
    "notifications.rating": (followup_rating,),
    "policy.filing": (policy_filing_part,),
    "policy.filing_print": (policy_filing_part,),
    "policy.filing_pdf": (policy_filing_part,),
    "policy.review": (policy_filing_part,),
    "policy.measure": (archived_measure,),
    "policy.edit": (archived_measure,),
    "policy.candidates": (archived_measure,),
    "policy.remind": (archived_measure,),
    "policy.record_entry": (funding_programme,),
    "liaison.detail": (liaison_report,),
    "liaison.handle": (liaison_report,),
    "supply_chains.detail": (supply_chain_input,),
    "supply_chains.add_input": (supply_chain_input,),
    "supply_chains.set_status": (supply_chain_input,),
    "supply_chains.post_need": (supply_chain_input,),
    "surveys.detail": (draft_survey, open_survey),
    "surveys.answer": (draft_survey, open_survey),
    "surveys.send": (draft_survey,),
    "surveys.close": (draft_survey,),
    "surveys.export": (draft_survey, open_survey),
    "transfer.import_run": (import_run,),
    "transfer.import_run_status": (import_run,),
    "challenges.detail": (draft_challenge,),
    "challenges.edit": (draft_challenge,),
    "challenges.submit": (draft_challenge,),
    "challenges.withdraw": (draft_challenge,),
    "challenges.follow": (draft_challenge,),
    "challenges.ask": (draft_challenge,),
    "challenges.start_proposal": (draft_challenge,),
    "challenges.review": (submitted_challenge,),
    "challenges.answer": (challenge_question,),
    "challenges.proposal": (challenge_proposal,),
    "challenges.edit_proposal": (challenge_proposal,),
    "challenges.submit_proposal": (challenge_proposal,),
    "challenges.withdraw_proposal": (challenge_proposal,),
    "challenges.upload_file": (challenge_proposal,),
    "challenges.download_file": (challenge_proposal_file,),
}
ROUTE_OBJECTS.update(challenge_evaluation_routes.ROUTES)  # open challenges, the deciding side


def _event_form(w: World, case: Case) -> dict:
    start = (_now() + timedelta(days=5)).astimezone(timezone(timedelta(hours=8)))
    return {"kind": "spark", "title_zh": "篡改", "timezone": "Asia/Shanghai",
            "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")}


# What a POST would send to change the object if it were allowed (so a refusal is about access, not input).
FORMS: dict[str, dict | Callable[[World, Case], dict]] = {
    "catalogue.edit": {"title_zh": "篡改", "summary_zh": "篡改", "action": "submit"},
    "operator.review": {"decision": "approve"},
    "needs.edit": {"title_zh": "篡改", "description_zh": "篡改"},
    "needs.close": {"reason": "篡改"},
    "matches.feedback": {"decision": "dismissed", "reason": "篡改"},
    "confidentiality.request_access": {"message": "请开放"},
    "confidentiality.accept_nda": {"agree": "1"},
    "confidentiality.nda": {"nda_text_zh": "篡改", "nda_text_en": ""},
    "confidentiality.decide": {"decision": "approve"},
    "brokering.respond": {"decision": "declined", "reason": "篡改"},
    "docking.post_message": {"body": "篡改"},
    "docking.report_message": {"reason": "篡改"},
    "policy.review": {"status": "declined", "note": "篡改"},
    "policy.record_entry": {"amount_rmb": "1"},
    "liaison.handle": {"action": "close", "text": "篡改"},
    "supply_chains.add_input": {"part_name": "篡改", "supplier_name": "篡改", "status": "running"},
    "supply_chains.set_status": {"status": "running"},
    "surveys.answer": lambda w, case: {f"q{case.extra['question_id']}": "99"},
    "brokering.move": {"to_stage": "lost", "reason": "篡改"},
    "brokering.deal_value": {"deal_value_rmb": "1000"},
    "brokering.add_task": lambda w, case: {"title": "篡改", "due_on": "2030-01-01", "owner_id": str(w.broker.user)},
    "events.edit": _event_form,
    "events.agenda": lambda w, case: {**_event_form(w, case), "project_title_zh": "篡改"},
    "events.cancel": {"reason": "篡改"},
    "events.request_meeting": {"reason": "篡改", "priority": "2"},
    "events.answer_meeting": {"decision": "accepted"},
    "events.reschedule": {"slot": "1"},
    "events.cancel_meeting": {"reason": "篡改"},
    "events.meeting_note": {"body": "篡改"},
    "events.meeting_interest": {"kind": "invest"},
    "events.profile": {"headline": "篡改"},
    "events.availability": {"slot": ["0"]},
    "events.request_person": {"reason": "篡改"},
    "events.add_window": lambda w, case: {"window_starts_at": _event_form(w, case)["starts_at"], "window_slots": "2",
                                          "window_minutes": "15"},
    "events.interest": {"kind": "invest"},
    "events.close": {"reason": "篡改"},
    "events.introduce": lambda w, case: {"need_id": str(case.extra["need_id"])},
    "notifications.rating": {"answer": "agreement", "comment": "篡改"},
    "operator.change_role": {"role": "operator", "change": "grant"},
    "uploads.upload_attachment": lambda w, case: {"file": (io.BytesIO(PDF), "篡改.pdf")},
    "uploads.upload_logo": lambda w, case: {"file": (io.BytesIO(PNG), "logo.png")},
    "organizations.edit": {"name_zh": "篡改", "website": "https://evil.example.com"},
    "organizations.verification": lambda w, case: {"uscc": other_uscc(9002), "file": (io.BytesIO(PDF), "执照.pdf")},
    "operator.organization_review": {"decision": "approve"},
    "memberships.invite": {"email": "intruder@example.com", "role": "owner"},
    "memberships.change_role": {"role": "owner"},
    "account.contact": {"contact_email": "intruder@example.com", "contact_phone": "1"},
    "event_reports.record_outcome": {"kind": "deal", "note": "篡改"},
    "event_reports.feedback": {"rating": "1", "comment": "篡改"},
    "challenges.edit": {"title_zh": "篡改"},
    "challenges.review": {"decision": "approve"},
    "challenges.ask": {"text": "篡改"},
    "challenges.answer": {"answer": "篡改", "visibility": "public"},
    "challenges.start_proposal": {"title": "篡改", "approach": "篡改"},
    "challenges.edit_proposal": {"title": "篡改", "approach": "篡改"},
    "challenges.upload_file": lambda w, case: {"file": (io.BytesIO(PDF), "篡改.pdf")},
}
FORMS.update(challenge_evaluation_routes.FORMS)

# Who is the rightful user when it is not the builder's: by (endpoint, builder) or by endpoint.
RIGHTFUL: dict[str | tuple[str, str], Callable[[World], Person]] = {
    "confidentiality.accept_nda": lambda w: w.broker,  # brokers (and approved requesters) accept NDAs
    "brokering.respond": lambda w: w.a,                # the sides answer, not the broker
    ("events.request_meeting", "published_event"): lambda w: w.c,  # a registrant asks for a meeting
    "events.participants": lambda w: w.c,              # registrants see the participant list
    "events.profile": lambda w: w.c,                   # ... and keep their own profile, free times, agenda
    "events.availability": lambda w: w.c,
    "events.my_agenda": lambda w: w.c,
    "events.check_in": lambda w: w.c,
    "events.claim": lambda w: w.broker,                # technology managers take follow-ups over
    "events.introduce": lambda w: w.broker,            # only brokers propose introductions
    ("event_reports.feedback", "published_event"): lambda w: w.c,  # a participant rates the event
    ("uploads.delete_attachment", "teaser_offer_attachment"): lambda w: w.operator,  # A stops editing once published
    ("surveys.export", "open_survey"): lambda w: w.operator,  # firms answer; operators read the answers
}
# (endpoint, builder) where nobody may use the route at all, so there is no rightful user to compare with.
NO_RIGHTFUL_USER: dict[tuple[str, str], str] = {
    ("catalogue.submit", "published_offer"): "a published offer is never submitted again",
    ("confidentiality.accept_nda", "draft_offer"): "nobody outside A sees a draft, and A accepts no NDA of its own",
    ("events.feed", "deactivated_users_calendar_token"): "a switched-off account's feed is closed for everybody",
    ("surveys.answer", "draft_survey"): "nobody answers a survey before it is sent, operators included",
}
# How a prefix's users sign in (default: the session login form). The API would add a bearer-token function.
SIGN_IN: dict[str, Callable] = {}


# --- the routes from the URL map ----------------------------------------------------------------------

@dataclass(frozen=True)
class Route:
    endpoint: str
    rule: str
    method: str
    builder: str

    @property
    def id(self) -> str:
        return f"{self.endpoint}-{self.builder}-{self.method}"


def id_rules(app) -> list:
    """Rules taking arguments, except the skipped prefixes."""
    return [rule for rule in app.url_map.iter_rules()
            if rule.arguments and not rule.endpoint.startswith(SKIPPED_PREFIXES)]


@functools.cache
def _collection_app():
    """An app built only to read its URL map while the tests are collected (no database is opened)."""
    from marketplace import create_app
    return create_app("testing", overrides={"SQLALCHEMY_DATABASE_URI": "sqlite://", "MEILI_URL": None,
                                            "REDIS_URL": None, "INSTANCE_DIR": tempfile.gettempdir()})


def _routes(only: Callable[[Route], bool] = lambda r: True) -> list[Route]:
    routes = []
    for rule in sorted(id_rules(_collection_app()), key=lambda r: (r.endpoint, r.rule)):
        for builder in ROUTE_OBJECTS.get(rule.endpoint, ()):
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                route = Route(rule.endpoint, rule.rule, method, builder.__name__)
                if only(route):
                    routes.append(route)
    return routes


def _is_introduction_route(route: Route) -> bool:
    return route.builder in ("introduction", "followup_rating")


def pytest_generate_tests(metafunc):
    for name, only in (("route", lambda r: True), ("intro_route", _is_introduction_route)):
        if name in metafunc.fixturenames:
            routes = _routes(only)
            metafunc.parametrize(name, routes, ids=[r.id for r in routes])


# --- helpers ------------------------------------------------------------------------------------------

_BUILDERS = {b.__name__: b for builders in ROUTE_OBJECTS.values() for b in builders}


def _url(app, route: Route, values: dict) -> str:
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == route.endpoint and r.rule == route.rule)
    missing = rule.arguments - set(values)
    assert not missing, f"builder {route.builder} gives no {sorted(missing)} for {route.rule}"
    with app.test_request_context():
        return url_for(route.endpoint, **{k: values[k] for k in rule.arguments})


def _form(route: Route, w: World, case: Case) -> dict | None:
    if route.method == "GET":
        return None
    form = FORMS.get(route.endpoint, {})
    return dict(form(w, case) if callable(form) else form)


def _client(app, route: Route | None, email: str | None):
    """A test client signed in as ``email`` the way the route's users sign in (anonymous for ``None``)."""
    client = app.test_client()
    if email is not None:
        sign_in = next((f for prefix, f in SIGN_IN.items() if route and route.endpoint.startswith(prefix)), None)
        if sign_in is not None:
            return sign_in(app, client, email)
        assert login(client, email).status_code == 302, f"{email} could not log in"
    return client


def _snapshot(app) -> dict[str, list[tuple]]:
    """Every row of every table (except the logs a refusal may write), in primary-key order."""
    with app.app_context():
        out = {}
        for table in db.metadata.sorted_tables:
            if table.name in SNAPSHOT_IGNORED_TABLES:
                continue
            rows = db.session.execute(select(table).order_by(*table.primary_key.columns)).all()
            out[table.name] = [tuple(row) for row in rows]
        db.session.rollback()
        return out


def _changes(before: dict, after: dict) -> list[str]:
    return [f"{name}: {len(before[name])} → {len(after[name])} rows"
            + ("" if len(before[name]) != len(after[name]) else " (values changed)")
            for name in before if before[name] != after[name]]


def _open(client, route: Route, url: str, form: dict | None):
    return client.open(url, method=route.method, data=form, follow_redirects=False)


def _setup(app, make, route: Route) -> tuple[World, Case, str]:
    w = World(app, make)
    case = _BUILDERS[route.builder](w)
    return w, case, _url(app, route, case.values)


# --- the tests ----------------------------------------------------------------------------------------

def test_every_id_route_is_covered(app):
    """A route that takes an object id must be tried with a private object, or be listed as public with a reason."""
    endpoints = {rule.endpoint for rule in id_rules(app)}
    unmapped = sorted(endpoints - set(ROUTE_OBJECTS) - set(PUBLIC_ROUTES))
    assert not unmapped, ("routes taking an id with no private object to try them on (add them to ROUTE_OBJECTS, "
                          f"or to PUBLIC_ROUTES with a reason): {unmapped}")
    stale = sorted((set(ROUTE_OBJECTS) | set(PUBLIC_ROUTES)) - endpoints)
    assert not stale, f"listed routes that no longer exist (or lost their arguments): {stale}"
    assert not set(ROUTE_OBJECTS) & set(PUBLIC_ROUTES), "a route is both private and public"
    assert all(reason.strip() for reason in PUBLIC_ROUTES.values())
    assert not set(FORMS) - set(ROUTE_OBJECTS), "forms for routes that are not tried"
    # the parametrised test below was collected from the same URL map
    assert {r.endpoint for r in _routes()} == set(ROUTE_OBJECTS) & endpoints


def test_private_object_is_refused_to_outsiders(app, make, route):
    """One route, one private object, one method:

    1. a plain member of organisation B gets 403 or 404 (not a login redirect: they are logged in), and no row
       changes;
    2. an anonymous visitor gets the login page, 401, 403 or 404, never the object, and no row changes;
    3. the control: somebody who may use the route is not refused, so 1 and 2 are about access, not a missing
       object or a broken form.
    """
    w, case, url = _setup(app, make, route)
    form = _form(route, w, case)
    outsider = _client(app, route, w.b.email)
    before = _snapshot(app)
    response = _open(outsider, route, url, form)
    assert response.status_code in OUTSIDER_STATUSES, (
        f"{route.method} {url} answered {response.status_code} to a member of another organisation "
        f"{response.headers.get('Location', '')}")
    changed = _changes(before, _snapshot(app))
    assert not changed, f"{route.method} {url} by a member of another organisation changed {changed}"

    response = _open(app.test_client(), route, url, _form(route, w, case))
    assert response.status_code in ANONYMOUS_STATUSES, (
        f"{route.method} {url} answered {response.status_code} to an anonymous visitor")
    if response.status_code == 302:
        assert "/login" in response.headers["Location"], f"{url} sent a visitor to {response.headers['Location']}"
    changed = _changes(before, _snapshot(app))
    assert not changed, f"{route.method} {url} by an anonymous visitor changed {changed}"

    if (route.endpoint, route.builder) in NO_RIGHTFUL_USER:
        return
    who = RIGHTFUL.get((route.endpoint, route.builder)) or RIGHTFUL.get(route.endpoint)
    email = who(w).email if who else case.rightful
    if case.rightful_values is not None:
        url = _url(app, route, case.rightful_values)
    response = _open(_client(app, route, email), route, url, _form(route, w, case))
    assert response.status_code not in (401, 403, 404) and response.status_code < 500, (
        f"control: {route.method} {url} refused the rightful user {email}: {response.status_code}")
    assert "/login" not in response.headers.get("Location", ""), f"control: {email} was sent to log in"


def test_other_broker_does_not_find_the_introduction(app, make, intro_route):
    """Brokers see only their own introductions: another broker gets 404, and nothing changes."""
    route = intro_route
    w, case, url = _setup(app, make, route)
    form = _form(route, w, case)
    client = _client(app, route, w.other_broker.email)
    before = _snapshot(app)
    response = _open(client, route, url, form)
    assert response.status_code == 404, f"{route.method} {url} answered {response.status_code} to another broker"
    changed = _changes(before, _snapshot(app))
    assert not changed, f"{route.method} {url} by another broker changed {changed}"


def test_event_calendar_file_gives_the_meeting_link_only_to_its_audience(app, make):
    """A published event's .ics is public, its online meeting link is not: like the event page, the file names it
    for confirmed registrants, presenters and the organiser only."""
    w = World(app, make)
    case = published_event(w)  # C is registered, A's member presents
    with app.app_context():
        db.session.get(Event, case.values["event_id"]).meeting_url = "https://meeting.example.cn/room-42"
        db.session.commit()
    url = f"/events/{case.values['event_id']}.ics"
    for email, sees in ((None, False), (w.b.email, False), (w.other_broker.email, False), (w.c.email, True),
                        (w.a.email, True), (w.organiser.email, True)):
        response = _client(app, None, email).get(url)
        assert response.status_code == 200
        body = response.get_data(as_text=True)
        assert "BEGIN:VEVENT" in body
        assert ("meeting.example.cn/room-42" in body) is sees, f"{email or 'anonymous'}: link shown = {not sees}"
