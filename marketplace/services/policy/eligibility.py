"""Which support measures may fit an organisation, why, and what is missing.

A measure's conditions are data: ``{"fact": "size_class", "op": "in", "value": ["micro", "small"]}``. Facts
come from the organisation's profile, its published offers and needs, and the short questionnaire its members
answer. Each condition is met, unmet or unknown; an unknown one says which action settles it (complete the
profile, answer a question, list an offer). The same evaluation serves the firm's own list and the operators'
"likely to qualify and not filed" view.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from marketplace import vocabulary
from marketplace.extensions import db
from marketplace.models import Need, Offer, Organization, PolicyAnswer, PolicyMeasure

YES, NO = "yes", "no"


@dataclass(frozen=True)
class Fact:
    """Something known (or not) about an organisation; ``source`` says where it comes from and so how to fix it."""

    label: object
    source: str  # "profile" | "offers" | "questionnaire"
    question: object = None  # the questionnaire's wording, for questionnaire facts


FACTS: dict[str, Fact] = {
    "org_kind": Fact(_l("Kind of organisation"), "profile"),
    "registered_in_park": Fact(_l("Registered in the park"), "profile"),
    "size_class": Fact(_l("Size"), "profile"),
    "sub_park": Fact(_l("Sub-park"), "profile"),
    "directions": Fact(_l("Support direction"), "offers"),
    "has_published_offer": Fact(_l("A published technology, product or service"), "offers"),
    "epidemic_response": Fact(_l("Takes part in the epidemic response"), "questionnaire",
                              _l("Do your products or services take part in the epidemic response?")),
    "rd_spending": Fact(_l("R&D spending declared"), "questionnaire",
                        _l("Did you spend on research and development for these products this year?")),
    "financing": Fact(_l("Needs financing"), "questionnaire",
                      _l("Do you need a loan, leasing or a bond issue?")),
    "platform_service": Fact(_l("Offers third-party R&D or production services"), "questionnaire",
                             _l("Do you do research, production or testing for other organisations?")),
    "transfer_or_incubation": Fact(_l("Technology transfer or incubation body"), "questionnaire",
                                   _l("Are you a technology-transfer body or an incubator?")),
    "social_organisation": Fact(_l("Social organisation"), "questionnaire",
                                _l("Are you an association, an industry alliance or a non-profit research body?")),
    "production_space": Fact(_l("Needs production space in the park"), "questionnaire",
                             _l("Do you need new or converted space in the park for production?")),
    "first_application": Fact(_l("First-of-its-kind product"), "questionnaire",
                              _l("Is one of your products the first of its kind to be applied (首台套)?")),
}
QUESTIONS = [key for key, fact in FACTS.items() if fact.source == "questionnaire"]
ACTIONS = {"profile": _l("Complete the organisation profile"), "offers": _l("List an offer in the catalogue"),
           "questionnaire": _l("Answer the questionnaire")}
VERDICT_LABELS = {"likely": _l("Likely to qualify"), "possible": _l("May qualify: information missing"),
                  "unlikely": _l("Does not qualify")}
OPS = ("is", "in", "any_of", "known")


@dataclass
class Check:
    """One condition evaluated for one organisation."""

    fact: str
    label: str
    status: str  # "met" | "unmet" | "unknown"
    shown: str  # the organisation's value, in words
    action: str = ""  # how to settle an unknown or unmet condition
    source: str = ""


@dataclass
class MeasureFit:
    measure: PolicyMeasure
    checks: list[Check] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        statuses = {c.status for c in self.checks}
        if "unmet" in statuses:
            return "unlikely"
        return "possible" if "unknown" in statuses else "likely"

    @property
    def verdict_label(self) -> str:
        return str(VERDICT_LABELS[self.verdict])

    @property
    def share_met(self) -> float:
        return sum(c.status == "met" for c in self.checks) / len(self.checks) if self.checks else 1.0

    @property
    def missing(self) -> list[Check]:
        return [c for c in self.checks if c.status != "met"]


def validate_conditions(conditions) -> list[str]:
    """Problems with a list of conditions entered by an operator (empty when it is usable)."""
    problems = []
    if not isinstance(conditions, list):
        return [str(_l("Conditions must be a list."))]
    for n, cond in enumerate(conditions, 1):
        if not isinstance(cond, dict) or cond.get("fact") not in FACTS or cond.get("op") not in OPS:
            problems.append(str(_l("Condition %(n)d names an unknown fact or test.", n=n)))
        elif cond["op"] in ("in", "any_of") and not isinstance(cond.get("value"), list):
            problems.append(str(_l("Condition %(n)d needs a list of values.", n=n)))
    return problems


def facts_for(org: Organization) -> dict:
    """Every fact about ``org`` (None where nothing is known)."""
    directions = {f.code.split(".")[0] for f in org.fields}
    offers = list(db.session.scalars(select(Offer).where(Offer.organization_id == org.id,
                                                         Offer.status == "published")))
    for offer in offers:
        directions.update(f.code.split(".")[0] for f in offer.fields)
    answers = {a.question: a.value for a in db.session.scalars(
        select(PolicyAnswer).where(PolicyAnswer.organization_id == org.id))}
    facts = {
        "org_kind": org.kind, "registered_in_park": bool(org.registered_in_park), "size_class": org.size_class,
        "sub_park": org.sub_park, "directions": sorted(directions) or None, "has_published_offer": bool(offers),
    }
    for question in QUESTIONS:
        value = answers.get(question)
        facts[question] = None if value is None else value == YES
    if not facts["financing"]:
        open_financing = db.session.scalar(select(Need.id).where(
            Need.organization_id == org.id, Need.kind == "financing", Need.status == "open").limit(1))
        if open_financing:
            facts["financing"] = True
    return facts


def _shown(fact: str, value, lang: str) -> str:
    if value is None:
        return str(_l("unknown"))
    if isinstance(value, bool):
        return str(_l("yes") if value else _l("no"))
    if fact == "org_kind":
        return vocabulary.label("org_kind", value)
    if fact == "size_class":
        return vocabulary.label("size_class", value)
    if fact == "sub_park":
        return vocabulary.label("sub_park", value)
    if fact == "directions":
        from marketplace.queries.taxonomy import field_names
        names = field_names(value, lang)
        return ("、" if lang.startswith("zh") else ", ").join(names[c] for c in value if c in names)
    return str(value)


def _test(op: str, expected, value) -> str:
    if value is None:
        return "unknown"
    if op == "known":
        return "met" if value not in (None, "", []) else "unknown"
    if op == "is":
        return "met" if value == expected else "unmet"
    if op == "in":
        return "met" if value in (expected or []) else "unmet"
    if op == "any_of":
        return "met" if set(value) & set(expected or []) else "unmet"
    return "unknown"


def evaluate(measure: PolicyMeasure, facts: dict, lang: str = "zh") -> MeasureFit:
    """The measure's conditions checked against ``facts``."""
    fit = MeasureFit(measure)
    for cond in measure.conditions or []:
        fact = FACTS.get(cond.get("fact"))
        if fact is None:
            continue
        value = facts.get(cond["fact"])
        status = _test(cond.get("op"), cond.get("value"), value)
        action = str(ACTIONS[fact.source]) if status != "met" else ""
        fit.checks.append(Check(cond["fact"], str(fact.label), status, _shown(cond["fact"], value, lang), action,
                                fact.source))
    return fit


def measures_for(org: Organization, measures: list[PolicyMeasure], lang: str = "zh") -> list[MeasureFit]:
    """Every active measure evaluated for ``org``: likely first, then possible, each by share of conditions met."""
    facts = facts_for(org)
    order = {"likely": 0, "possible": 1, "unlikely": 2}
    fits = [evaluate(m, facts, lang) for m in measures]
    return sorted(fits, key=lambda f: (order[f.verdict], -f.share_met, f.measure.number))


def save_answers(org: Organization, answers: dict) -> None:
    """Record the questionnaire (``{question: "yes" | "no" | ""}``; blank removes an answer) and flush."""
    existing = {a.question: a for a in db.session.scalars(
        select(PolicyAnswer).where(PolicyAnswer.organization_id == org.id))}
    for question in QUESTIONS:
        value = answers.get(question, "")
        if value not in (YES, NO, ""):
            continue
        row = existing.get(question)
        if value == "" and row is not None:
            db.session.delete(row)
        elif value and row is None:
            db.session.add(PolicyAnswer(organization_id=org.id, question=question, value=value))
        elif value and row is not None:
            row.value = value
    db.session.flush()


def answers_of(org: Organization) -> dict[str, str]:
    return {a.question: a.value for a in db.session.scalars(
        select(PolicyAnswer).where(PolicyAnswer.organization_id == org.id))}
