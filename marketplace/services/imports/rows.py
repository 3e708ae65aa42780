"""Applying imported rows: each row creates or updates one offer, patent or need through the form
services, in the organisation it names, all rows or none."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.identifiers import is_valid_patent_number, normalise_patent_number, normalise_uscc
from marketplace.models import Need, Offer, Organization, PatentDetail
from marketplace.models.catalogue import OFFER_KINDS
from marketplace.models.needs import NEED_KINDS
from marketplace.services import access
from marketplace.services import needs as need_service
from marketplace.services import offers as offer_service
from marketplace.services.errors import DomainError, PermissionDenied, ValidationFailed
from marketplace.services.imports.columns import IMPORT_ENTITIES
from marketplace.services.imports.table import ImportRejected, ImportTable, RowError
from marketplace.services.patent_value import indicators_of, value_score

OFFER_IMPORT_KINDS = tuple(k for k in OFFER_KINDS if k != "patent")


@dataclass
class ImportResult:
    """What a successful import did."""

    entity: str
    created: int = 0
    updated: int = 0
    skipped_rows: list[int] = field(default_factory=list)

    @property
    def total(self) -> int:
        """Rows that created or updated a record."""
        return self.created + self.updated


# --- import keys and organisations ----------------------------------------------------------------------

def _normalised_title(data: dict) -> str:
    title = str(data.get("title_zh") or data.get("title_en") or "")
    return " ".join(title.split()).casefold()


def import_key_for(organization_id: int, entity_kind: str, data: dict) -> str:
    """Stable key of an imported record within its organisation and kind (e.g. 'offer:product'): from
    ``external_id`` when given, else from the normalised title (a SHA-1, 40 hex characters, fits the column).

    Scoping by organisation means one organisation's file can never overwrite another's records."""
    external_id = str(data.get("external_id") or "").strip()
    basis = f"ext|{external_id}" if external_id else f"title|{_normalised_title(data)}"
    return hashlib.sha1(f"{organization_id}|{entity_kind}|{basis}".encode()).hexdigest()


def _resolve_organization(user, data: dict, default_organization_id: int | None) -> tuple[int | None, RowError | None]:
    """Organisation a row goes to: its org_uscc / organization_id column, else the one chosen on the form."""
    uscc = normalise_uscc(str(data.get("org_uscc") or ""))
    raw_id = data.get("organization_id")
    organization_id = None
    if uscc:
        organization_id = db.session.scalar(select(Organization.id).where(Organization.uscc == uscc))
        if organization_id is None:
            return None, RowError(0, "org_uscc", _l("No organisation has this credit code."))
    elif raw_id not in (None, ""):
        try:
            organization_id = int(str(raw_id).strip())
        except ValueError:
            return None, RowError(0, "organization_id", _l("Enter a whole number."))
        if db.session.get(Organization, organization_id) is None:
            return None, RowError(0, "organization_id", _l("No organisation has this ID."))
    else:
        organization_id = default_organization_id
    column = "org_uscc" if uscc else "organization_id"
    if organization_id is None:
        return None, RowError(0, column, _l("Choose the organisation to import into."))
    if not (access.is_staff(user) or access.is_member_of(user, organization_id)):
        return None, RowError(0, column, _l("You are not a member of this organisation."))
    return organization_id, None


# --- importing ------------------------------------------------------------------------------------------

def _errors_to_rows(row: int, exc: DomainError, fallback_column: str) -> list[RowError]:
    if exc.field_errors:
        return [RowError(row, column, message) for column, message in exc.field_errors.items()]
    return [RowError(row, fallback_column, exc.message)]


def _score_patent(offer: Offer, weights: dict | None) -> None:
    if offer.patent is not None:
        offer.patent.value_score, _ = value_score(indicators_of(offer.patent), weights)


def _import_offer_row(user, row: int, data: dict, kind: str, organization_id: int, seen: dict,
                      weights: dict | None, result: ImportResult) -> list[RowError]:
    key = import_key_for(organization_id, f"offer:{kind}", data)
    key_column = "external_id" if data.get("external_id") else "title_zh"
    if key in seen:
        return [RowError(row, key_column, _l("This row repeats row %(n)d.", n=seen[key]))]
    seen[key] = row
    existing = db.session.scalar(select(Offer).where(Offer.import_key == key))
    if kind == "patent" and data.get("application_number"):
        number = normalise_patent_number(str(data["application_number"]))
        if is_valid_patent_number(number):
            if ("patent", number) in seen:
                return [RowError(row, "application_number",
                                 _l("This row repeats row %(n)d.", n=seen[("patent", number)]))]
            seen[("patent", number)] = row
            listed = db.session.scalar(select(Offer).join(PatentDetail)
                                       .where(PatentDetail.application_number == number))
            if listed is not None and existing is None:
                if listed.organization_id != organization_id:
                    message = (_l("This patent is already listed by another organisation.")
                               if access.can_view_offer(user, listed) else offer_service.NUMBER_UNAVAILABLE)
                    return [RowError(row, "application_number", message)]
                existing = listed
    if existing is not None and existing.kind != kind:
        return [RowError(row, "kind", _l("An earlier import of this record has another kind; the kind cannot "
                                         "change."))]
    if existing is not None and not access.can_edit_offer(user, existing):
        result.skipped_rows.append(row)
        return []
    try:
        if existing is None:
            offer = offer_service.create_offer(user, organization_id, kind, data)
            result.created += 1
        else:
            offer = offer_service.update_offer(user, existing, data)
            result.updated += 1
    except DomainError as exc:
        return _errors_to_rows(row, exc, key_column)
    offer.import_key = key
    if kind == "patent":
        _score_patent(offer, weights)
    db.session.flush()
    return []


def _import_need_row(user, row: int, data: dict, kind: str, organization_id: int, seen: dict,
                     result: ImportResult) -> list[RowError]:
    key = import_key_for(organization_id, f"need:{kind}", data)
    key_column = "external_id" if data.get("external_id") else "title_zh"
    if key in seen:
        return [RowError(row, key_column, _l("This row repeats row %(n)d.", n=seen[key]))]
    seen[key] = row
    existing = db.session.scalar(select(Need).where(Need.import_key == key))
    if existing is not None and existing.kind != kind:
        return [RowError(row, "kind", _l("An earlier import of this record has another kind; the kind cannot "
                                         "change."))]
    try:
        if existing is None:
            need = need_service.create_need(user, organization_id, kind, data, publish=True)
            result.created += 1
        else:
            need = need_service.update_need(user, existing, data)
            result.updated += 1
    except DomainError as exc:
        return _errors_to_rows(row, exc, key_column)
    need.import_key = key
    db.session.flush()
    return []


def import_table(user, entity: str, table: ImportTable, *, organization_id: int | None = None,
                 weights: dict | None = None) -> ImportResult:
    """Create or update one record per row, all or nothing.

    Members import into their own organisations (``organization_id`` from the form, or a row's org_uscc /
    organization_id column naming one of them); staff into any. Offers and patents arrive as drafts, needs
    open (as the form posts them); imported patents start in the curation funnel as 'screened' with a value
    score computed with ``weights`` (default weights when None). Raises ImportRejected listing every invalid
    row; the caller's unit of work then rolls back whatever earlier rows flushed.
    """
    if entity not in IMPORT_ENTITIES:
        raise ValidationFailed(_l("Unknown import type."))
    if not getattr(user, "is_authenticated", False):
        raise PermissionDenied(_l("Log in to import."))
    result = ImportResult(entity=entity)
    problems: list[RowError] = []
    seen: dict = {}
    for row, data in table.rows:
        org_id, org_error = _resolve_organization(user, data, organization_id)
        if org_error is not None:
            org_error.row = row
            problems.append(org_error)
            continue
        if entity == "needs":
            kind = str(data.get("kind") or "").strip()
            if kind not in NEED_KINDS:
                problems.append(RowError(row, "kind", _l("Not a valid choice: %(v)s.", v=kind) if kind
                                         else _l("This field is required.")))
                continue
            problems.extend(_import_need_row(user, row, data, kind, org_id, seen, result))
            continue
        kind = "patent" if entity == "patents" else str(data.get("kind") or "").strip()
        if kind not in (OFFER_IMPORT_KINDS if entity == "offers" else ("patent",)):
            problems.append(RowError(row, "kind", _l("Not a valid choice: %(v)s.", v=kind) if kind
                                     else _l("This field is required.")))
            continue
        problems.extend(_import_offer_row(user, row, data, kind, org_id, seen, weights, result))
    if problems:
        problems.sort(key=lambda e: (e.row, e.column))
        raise ImportRejected(_l("Nothing was imported: %(n)d problems in %(r)d rows. Correct them and import the "
                                "file again.", n=len(problems), r=len({e.row for e in problems})), problems)
    return result


def default_organization_for(user, chosen: str | int | None) -> int | None:
    """The organisation chosen on the import form, checked; a member of exactly one needs not choose."""
    if chosen not in (None, ""):
        try:
            organization_id = int(chosen)
        except (TypeError, ValueError):
            raise ValidationFailed(_l("Choose the organisation to import into.")) from None
        access.require_member(user, organization_id)
        return organization_id
    org_ids = sorted(getattr(user, "org_ids", set()) or set())
    return org_ids[0] if len(org_ids) == 1 else None
