"""Who may see what, defined once.

Each kind of item has a ``Rule``: a list of grants, each a token with the condition under which the item carries
it. A viewer holds tokens too (``public`` for everybody, ``org:<id>`` per membership, ``user:<id>``, roles). The
same rule gives

* a SQL clause (``Rule.clause``) for queries,
* a Python predicate (``Rule.allows``) for a loaded row,
* search tokens (``Rule.tokens`` for documents, ``Viewer.tokens`` for queries),

so the three forms cannot drift apart. ``OPEN`` rules say who may list and open an item, ``DETAIL`` rules who sees
its details without asking (public items, the owner organisation, operators); access requests and NDAs add to the
latter in ``services.confidentiality``.

``SafeView`` is what a page, API response, export, search document or match reason may show of an offer or need:
the item's public fields, and its detail fields only when the details are shown.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from sqlalchemy import and_, false, or_, select, true

from marketplace.models import (
    Challenge,
    ChallengePanelMember,
    ChallengeProposal,
    Event,
    Introduction,
    LiaisonReport,
    Need,
    Offer,
    Organization,
    PolicyMeasure,
    SupplyChain,
    Survey,
)
from marketplace.models.base import bilingual
from marketplace.models.challenges import challenge_proposal_members

STAFF_ROLES = ("operator", "admin")
BROKER_ROLES = ("broker", "operator", "admin")
ORGANISER_ROLES = ("organiser", "operator", "admin")
PUBLIC = "public"
TEASER_CHARS = 140


# --- viewers ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Viewer:
    """What the rules need to know about a user (anonymous visitors hold only ``public``)."""

    user_id: int | None = None
    org_ids: frozenset[int] = frozenset()
    roles: frozenset[str] = frozenset()
    # The sub-parks whose firms this viewer serves (SubParkStaff posts); filled in by ``with_sub_parks``.
    sub_parks: frozenset[str] = frozenset()

    @property
    def is_staff(self) -> bool:
        return bool(self.roles & set(STAFF_ROLES))

    @property
    def is_broker(self) -> bool:
        return bool(self.roles & set(BROKER_ROLES))

    @property
    def is_organiser(self) -> bool:
        return self.user_id is not None and bool(self.roles & set(ORGANISER_ROLES))

    @property
    def tokens(self) -> frozenset[str]:
        """The tokens this viewer holds; an item is visible when it carries one of them."""
        tokens = {PUBLIC} | {f"org:{i}" for i in self.org_ids}
        if self.user_id is not None:
            tokens.add(f"user:{self.user_id}")
        if self.is_organiser:
            tokens.add(f"organiser:{self.user_id}")
        if self.is_broker:
            tokens.add("role:broker")
        if self.is_staff:
            tokens.add("role:operator")
        tokens.update(f"subpark:{code}" for code in self.sub_parks)
        return frozenset(tokens)


ANONYMOUS = Viewer()


def viewer_of(user) -> Viewer:
    """The ``Viewer`` of a user object (a ``Viewer`` passes through; None and anonymous users are ANONYMOUS)."""
    if isinstance(user, Viewer):
        return user
    if user is None or not getattr(user, "is_authenticated", False):
        return ANONYMOUS
    return Viewer(user_id=user.id, org_ids=frozenset(user.org_ids), roles=frozenset(user.role_names))


def with_sub_parks(user, sub_parks) -> Viewer:
    """The viewer of ``user`` holding also the tokens of the sub-parks it serves (policy desk rules)."""
    return replace(viewer_of(user), sub_parks=frozenset(sub_parks or ()))


def viewer_tokens(user) -> list[str]:
    """The sorted search tokens of a viewer."""
    return sorted(viewer_of(user).tokens)


# --- conditions ---------------------------------------------------------------------------------------

class Cond:
    """A condition on an item's columns, evaluable in SQL and in Python."""

    def sql(self, model):
        raise NotImplementedError

    def test(self, obj) -> bool:
        raise NotImplementedError


class Always(Cond):
    def sql(self, model):
        return true()

    def test(self, obj) -> bool:
        return True


@dataclass(frozen=True)
class Is(Cond):
    """``attr`` is (or with ``negate`` is not) ``value``."""

    attr: str
    value: str
    negate: bool = False

    def sql(self, model):
        column = getattr(model, self.attr)
        return column != self.value if self.negate else column == self.value

    def test(self, obj) -> bool:
        return (getattr(obj, self.attr) == self.value) != self.negate


@dataclass(frozen=True)
class All(Cond):
    parts: tuple[Cond, ...]

    def sql(self, model):
        return and_(*(p.sql(model) for p in self.parts))

    def test(self, obj) -> bool:
        return all(p.test(obj) for p in self.parts)


@dataclass(frozen=True)
class In(Cond):
    """``attr`` is one of ``values``."""

    attr: str
    values: tuple

    def sql(self, model):
        return getattr(model, self.attr).in_(self.values)

    def test(self, obj) -> bool:
        return getattr(obj, self.attr) in self.values


ALWAYS = Always()


@dataclass(frozen=True)
class Grant:
    """Items meeting ``when`` carry ``token``; ``token`` is a fixed token (``public``, ``role:broker``) or
    ``prefix:{column}`` (the item carries ``prefix:<value of column>``, e.g. ``org:{organization_id}``)."""

    token: str
    when: Cond = ALWAYS
    name: str = ""  # why the grant applies (public, owner, staff, ...), reported as a detail reason

    @property
    def column(self) -> str | None:
        return self.token.split("{", 1)[1].rstrip("}") if "{" in self.token else None

    @property
    def prefix(self) -> str:
        return self.token.split("{", 1)[0]

    def item_token(self, obj) -> str | None:
        if not self.when.test(obj):
            return None
        if self.column is None:
            return self.token
        value = getattr(obj, self.column)
        return None if value is None else f"{self.prefix}{value}"

    def sql(self, model, tokens: frozenset[str]):
        if self.column is None:
            return self.when.sql(model) if self.token in tokens else false()
        column = getattr(model, self.column)
        cast = column.type.python_type  # ids are numbers, sub-park codes are words
        ids = sorted(cast(t[len(self.prefix):]) for t in tokens if t.startswith(self.prefix))
        return and_(column.in_(ids), self.when.sql(model)) if ids else false()


@dataclass(frozen=True)
class Rule:
    """Who may see items of ``model``: the item is visible to a viewer holding any token the item carries."""

    model: type
    grants: tuple[Grant, ...] = field(default_factory=tuple)

    def tokens(self, obj) -> list[str]:
        """The tokens an item carries (stored in its search document)."""
        return sorted({t for g in self.grants if (t := g.item_token(obj)) is not None})

    def grant_for(self, user, obj) -> Grant | None:
        """The first grant letting ``user`` see ``obj`` (None when none does)."""
        held = viewer_of(user).tokens
        return next((g for g in self.grants if g.item_token(obj) in held), None)

    def allows(self, user, obj) -> bool:
        """Python predicate: may ``user`` see the loaded ``obj``?"""
        return self.grant_for(user, obj) is not None

    def clause(self, user):
        """SQL condition selecting the rows ``user`` may see."""
        tokens = viewer_of(user).tokens
        if "role:operator" in tokens and any(g.token == "role:operator" and isinstance(g.when, Always)
                                             for g in self.grants):
            return true()
        return or_(false(), *(g.sql(self.model, tokens) for g in self.grants))


STAFF = Grant("role:operator", name="staff")
OWNER = Grant("org:{organization_id}", name="owner")
NOT_CONFIDENTIAL = Is("visibility", "confidential", negate=True)

# Published offers are listed to everybody unless confidential; brokers see confidential ones too.
OFFER_OPEN = Rule(Offer, (STAFF, OWNER, Grant("role:broker", Is("status", "published")),
                          Grant(PUBLIC, All((Is("status", "published"), NOT_CONFIDENTIAL)))))
# Needs are listed once posted (any status but draft).
NEED_OPEN = Rule(Need, (STAFF, OWNER, Grant("role:broker", Is("status", "draft", negate=True)),
                        Grant(PUBLIC, All((Is("status", "draft", negate=True), NOT_CONFIDENTIAL)))))
# Details shown without asking: public items, their owner organisation and operators.
OFFER_DETAIL = Rule(Offer, (Grant(PUBLIC, Is("visibility", "public"), name="public"), OWNER, STAFF))
NEED_DETAIL = Rule(Need, (Grant(PUBLIC, Is("visibility", "public"), name="public"), OWNER, STAFF))
ORGANIZATION_OPEN = Rule(Organization, (Grant(PUBLIC),))
# Members' requests that ask for mediation are open to every technology manager until one takes them on.
AWAITING_MEDIATOR = All((Is("mediation_requested", True), Is("broker_id", None)))
INTRODUCTION_OPEN = Rule(Introduction, (STAFF, Grant("user:{broker_id}"), Grant("org:{need_organization_id}"),
                                        Grant("org:{offer_organization_id}"),
                                        Grant("role:broker", AWAITING_MEDIATOR, name="mediation")))
EVENT_OPEN = Rule(Event, (STAFF, Grant("organiser:{organiser_id}"), Grant(PUBLIC, Is("status", "draft", negate=True))))

# Policy desk. A sub-park's staff hold ``subpark:<code>`` (``with_sub_parks``), so these rules see them only when
# the caller built the viewer with its posts. Liaison reports: the firm, its sub-park's staff, operators.
SUB_PARK = Grant("subpark:{sub_park}", name="sub_park")
LIAISON_REPORT_OPEN = Rule(LiaisonReport, (STAFF, OWNER, SUB_PARK))
# Who acts on a report: its sub-park's staff and operators (who also take reports of firms with no sub-park).
LIAISON_REPORT_HANDLE = Rule(LiaisonReport, (STAFF, SUB_PARK))
# A manufacturer's supply chain: its members, its sub-park's staff and operators; nobody else, suppliers included.
SUPPLY_CHAIN_OPEN = Rule(SupplyChain, (STAFF, OWNER, SUB_PARK))
# Support measures in force are public; archived ones only for operators.
POLICY_MEASURE_OPEN = Rule(PolicyMeasure, (STAFF, Grant(PUBLIC, Is("status", "active"))))
# A survey's questions are not secret once it is sent; who may answer is the survey's audience (services).
SURVEY_OPEN = Rule(Survey, (STAFF, Grant(PUBLIC, Is("status", "draft", negate=True))))

# Challenges are public once an operator approved them; before, their organisation and operators see them.
CHALLENGE_PUBLIC_STATUSES = ("published", "closed", "in_evaluation", "awarded", "delivered")
CHALLENGE_OPEN = Rule(Challenge, (STAFF, OWNER, Grant(PUBLIC, In("status", CHALLENGE_PUBLIC_STATUSES))))
# The confidential part of a challenge: its organisation and operators; others after an approved request and
# the NDA (services.confidentiality). ``Challenge.visibility`` is "teaser" when there is a confidential part.
CHALLENGE_DETAIL = Rule(Challenge, (Grant(PUBLIC, Is("visibility", "public"), name="public"), OWNER, STAFF))


class ProposalRule:
    """Who may open a proposal: the members of its lead and consortium organisations always; once it left the
    draft, the challenger's members and the challenge's evaluation panel; operators. Never other solvers.

    Consortium and panel membership live in other tables, so this rule is written out rather than as grants; it
    has the same two forms (``allows`` for a loaded row, ``clause`` for queries)."""

    model = ChallengeProposal
    SHOWN_TO_CHALLENGER = ("submitted", "withdrawn", "shortlisted", "awarded", "not_selected")

    def allows(self, user, proposal) -> bool:
        viewer = viewer_of(user)
        if viewer.is_staff:
            return True
        if viewer.user_id is None:
            return False
        if proposal.lead_organization_id in viewer.org_ids or \
                any(o.id in viewer.org_ids for o in proposal.members):
            return True
        if proposal.status not in self.SHOWN_TO_CHALLENGER:
            return False
        challenge = proposal.challenge
        return challenge.organization_id in viewer.org_ids or \
            any(m.user_id == viewer.user_id for m in challenge.panel_members)

    def clause(self, user):
        viewer = viewer_of(user)
        if viewer.is_staff:
            return true()
        if viewer.user_id is None:
            return false()
        orgs = sorted(viewer.org_ids)
        model = ChallengeProposal
        member_of = select(challenge_proposal_members.c.proposal_id).where(
            challenge_proposal_members.c.organization_id.in_(orgs))
        challenger_of = select(Challenge.id).where(Challenge.organization_id.in_(orgs))
        panel_of = select(ChallengePanelMember.challenge_id).where(ChallengePanelMember.user_id == viewer.user_id)
        return or_(model.lead_organization_id.in_(orgs), model.id.in_(member_of),
                   and_(model.status.in_(self.SHOWN_TO_CHALLENGER),
                        or_(model.challenge_id.in_(challenger_of), model.challenge_id.in_(panel_of))))


PROPOSAL_OPEN = ProposalRule()

OPEN = {Offer: OFFER_OPEN, Need: NEED_OPEN, Organization: ORGANIZATION_OPEN, Introduction: INTRODUCTION_OPEN,
        Event: EVENT_OPEN, LiaisonReport: LIAISON_REPORT_OPEN, SupplyChain: SUPPLY_CHAIN_OPEN,
        PolicyMeasure: POLICY_MEASURE_OPEN, Survey: SURVEY_OPEN, Challenge: CHALLENGE_OPEN,
        ChallengeProposal: PROPOSAL_OPEN}
DETAIL = {Offer: OFFER_DETAIL, Need: NEED_DETAIL, Challenge: CHALLENGE_DETAIL}


def can_open(user, obj) -> bool:
    """May ``user`` list and open ``obj`` (an offer, need, organisation, introduction, event, challenge or
    challenge proposal)?"""
    return OPEN[type(obj)].allows(user, obj)


def open_clause(user, model):
    """SQL condition selecting the rows of ``model`` that ``user`` may list."""
    return OPEN[model].clause(user)


def open_tokens(obj) -> list[str]:
    """Search tokens of an item: who may find it."""
    return OPEN[type(obj)].tokens(obj)


def detail_grant(user, item) -> Grant | None:
    """The grant showing ``user`` the details of an offer or need without a request (None if none does)."""
    return DETAIL[type(item)].grant_for(user, item)


def shows_details(user, item) -> bool:
    """Details without a request or NDA: public items, the owner organisation, operators. Outputs that are not
    logged as a detail view (exports, search documents, match reasons) show details only under this rule."""
    return detail_grant(user, item) is not None


# --- safe views ---------------------------------------------------------------------------------------

OFFER_DETAIL_FIELDS = frozenset({
    "description_zh", "description_en", "problem_zh", "problem_en", "advantage_zh", "advantage_en",
    "scenarios_zh", "scenarios_en", "ip_status", "price_terms", "price_rmb", "capacity", "lead_time_days"})
NEED_DETAIL_FIELDS = frozenset({"quantity", "unit", "budget_min_rmb", "budget_max_rmb", "required_certifications",
                                "close_reason", "term_months", "max_rate_pct", "collateral_available"})
PATENT_PUBLIC_FIELDS = ("patent_type", "transfer_willingness", "market_prospect", "transfer_modes", "value_score",
                        "curation_stage")
PATENT_DETAIL_FIELDS = frozenset({"application_number", "ipc_classes", "applicants", "inventors", "filing_date",
                                  "grant_date", "legal_status", "claims_count", "citations", "family_size"})
LIST_FIELDS = frozenset({"regulatory_statuses", "partnership_modes", "required_certifications", "ipc_classes",
                         "applicants", "inventors", "tags"})


def teaser_of(text: str | None) -> str:
    """The first ``TEASER_CHARS`` characters of a text (with an ellipsis when cut)."""
    text = (text or "").strip()
    return text if len(text) <= TEASER_CHARS else text[:TEASER_CHARS].rstrip() + "…"


def _blank(name: str):
    return [] if name in LIST_FIELDS else ("" if name.endswith(("_zh", "_en")) or name in
                                           ("ip_status", "price_terms", "capacity", "unit", "close_reason")
                                           else None)


class _Masked:
    """Attribute access to a row with some fields masked (read-only)."""

    _hidden: frozenset[str] = frozenset()

    def __init__(self, source, shown: bool):
        object.__setattr__(self, "_source", source)
        object.__setattr__(self, "details_shown", shown)

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        if not self.details_shown and name in self._hidden:
            return self._masked(name)
        return getattr(self._source, name)

    def __setattr__(self, name, value):
        raise AttributeError("a safe view is read-only")

    def _masked(self, name: str):
        return _blank(name)

    def text(self, stem: str, locale: str = "zh") -> str:
        return bilingual(self, stem, locale)

    def title(self, locale: str = "zh") -> str:
        return bilingual(self, "title", locale)


class PatentView(_Masked):
    """A patent's public indicators; its bibliographic data only with the details."""

    _hidden = PATENT_DETAIL_FIELDS

    def as_dict(self) -> dict:
        """Every patent field; hidden ones as None."""
        out = {k: getattr(self._source, k) for k in PATENT_PUBLIC_FIELDS}
        out.update({k: getattr(self._source, k) if self.details_shown else None for k in PATENT_DETAIL_FIELDS})
        return out


class SafeView(_Masked):
    """An offer or need as ``viewer`` may be shown it: public fields always, detail fields only when shown."""

    def __init__(self, item, shown: bool):
        super().__init__(item, shown)
        object.__setattr__(self, "_hidden", OFFER_DETAIL_FIELDS if isinstance(item, Offer) else
                           NEED_DETAIL_FIELDS | {"description_zh", "description_en"})

    @property
    def item_type(self) -> str:
        return "offer" if isinstance(self._source, Offer) else "need"

    @property
    def source(self):
        """The row itself, for code that needs identity (links, attachments), never for display."""
        return self._source

    def _masked(self, name: str):
        if name in ("description_zh", "description_en") and self.item_type == "need":
            # Teaser needs show the start of their description; confidential ones show nothing.
            return teaser_of(getattr(self._source, name)) if self._source.visibility == "teaser" else ""
        return _blank(name)

    @property
    def patent(self) -> PatentView | None:
        patent = getattr(self._source, "patent", None)
        return None if patent is None else PatentView(patent, self.details_shown)

    @property
    def financial(self):
        return getattr(self._source, "financial", None) if self.details_shown else None

    def summary(self, locale: str = "zh") -> str:
        return bilingual(self, "summary", locale)

    def description(self, locale: str = "zh") -> str:
        return bilingual(self, "description", locale)

    def teaser(self, locale: str = "zh") -> str:
        """The need's teaser text when its details are hidden ("" for offers and when details are shown)."""
        if self.details_shown or self.item_type != "need":
            return ""
        return self.description(locale)


def safe_view(item, shown: bool) -> SafeView:
    """The safe view of an offer or need, with the details when ``shown`` (decided by the caller's rule)."""
    if isinstance(item, SafeView):
        return SafeView(item.source, shown and item.details_shown)
    return SafeView(item, shown)


def static_view(user, item) -> SafeView:
    """The safe view under the static detail rule (``shows_details``), for outputs that are not logged."""
    return safe_view(item, shows_details(user, item))
