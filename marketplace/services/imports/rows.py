"""Applying imported rows: each row creates or updates one offer, patent or need through the form
services, in the organisation it names. Every row is checked first (``check_table``, nothing written), then
applied (``import_rows``, a slice of the rows at a time when the caller commits in chunks)."""
from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.identifiers import is_valid_patent_number, normalise_patent_number, normalise_uscc
from marketplace.models import Field, Need, Offer, Organization, PatentDetail
from marketplace.models.catalogue import OFFER_KINDS
from marketplace.models.needs import NEED_KINDS
from marketplace.services import access, confidentiality
from marketplace.services import needs as need_service
from marketplace.services import offers as offer_service
from marketplace.services.errors import DomainError, PermissionDenied, ValidationFailed
from marketplace.services.imports.columns import IMPORT_ENTITIES
from marketplace.services.imports.table import ImportRejected, ImportTable, ImportTimedOut, RowError
from marketplace.services.patent_value import indicators_of, value_score

OFFER_IMPORT_KINDS = tuple(k for k in OFFER_KINDS if k != "patent")
PROGRESS_EVERY = 50  # rows between two progress reports
CHECK_ROWS = 2000  # rows checked per round of lookups (bounded memory for a file of 100,000 rows)
_IN_BATCH = 500  # values per IN (...) lookup


@dataclass
class ImportResult:
    """What a successful import did."""

    entity: str
    created: int = 0
    updated: int = 0
    skipped_rows: list[int] = field(default_factory=list)
    created_ids: list[int] = field(default_factory=list)
    updated_ids: list[int] = field(default_factory=list)

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


@dataclass
class _Lookups:
    """What the rows refer to, read in a few IN (...) queries before the first row instead of one query per
    row: organisations by credit code and id, earlier imports by key, listed patents by application number."""

    org_by_uscc: dict = field(default_factory=dict)
    org_ids: set = field(default_factory=set)
    offers_by_key: dict = field(default_factory=dict)
    needs_by_key: dict = field(default_factory=dict)
    patents_by_number: dict = field(default_factory=dict)


def _chunks(values: list) -> list[list]:
    return [values[i:i + _IN_BATCH] for i in range(0, len(values), _IN_BATCH)]


def _load_organizations(rows: list[tuple[int, dict]]) -> _Lookups:
    lookups = _Lookups()
    usccs = sorted({normalise_uscc(str(d.get("org_uscc") or "")) for _, d in rows} - {""})
    ids = set()
    for _, data in rows:
        try:
            ids.add(int(str(data.get("organization_id")).strip()))
        except ValueError:
            pass
    for chunk in _chunks(usccs):
        lookups.org_by_uscc.update((uscc, org_id) for uscc, org_id in db.session.execute(
            select(Organization.uscc, Organization.id).where(Organization.uscc.in_(chunk))))
    for chunk in _chunks(sorted(ids)):
        lookups.org_ids.update(db.session.scalars(select(Organization.id).where(Organization.id.in_(chunk))))
    return lookups


def _load_records(lookups: _Lookups, entity: str, keys: list[str], numbers: list[str]) -> None:
    model = Need if entity == "needs" else Offer
    target = lookups.needs_by_key if entity == "needs" else lookups.offers_by_key
    for chunk in _chunks(sorted(set(keys))):
        target.update((r.import_key, r) for r in db.session.scalars(select(model).where(model.import_key.in_(chunk))))
    for chunk in _chunks(sorted(set(numbers))):
        lookups.patents_by_number.update((number, offer) for number, offer in db.session.execute(
            select(PatentDetail.application_number, Offer).join(PatentDetail, PatentDetail.offer_id == Offer.id)
            .where(PatentDetail.application_number.in_(chunk))))


def _resolve_organization(user, data: dict, default_organization_id: int | None,
                          lookups: _Lookups) -> tuple[int | None, RowError | None]:
    """Organisation a row goes to: its org_uscc / organization_id column, else the one chosen on the form."""
    uscc = normalise_uscc(str(data.get("org_uscc") or ""))
    raw_id = data.get("organization_id")
    organization_id = None
    if uscc:
        organization_id = lookups.org_by_uscc.get(uscc)
        if organization_id is None:
            return None, RowError(0, "org_uscc", _l("No organisation has this credit code."))
    elif raw_id not in (None, ""):
        try:
            organization_id = int(str(raw_id).strip())
        except ValueError:
            return None, RowError(0, "organization_id", _l("Enter a whole number."))
        if organization_id not in lookups.org_ids:
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


def _patent_number(data: dict) -> str | None:
    number = normalise_patent_number(str(data.get("application_number") or ""))
    return number if number and is_valid_patent_number(number) else None


def _import_offer_row(user, row: int, data: dict, kind: str, organization_id: int, seen: dict,
                      weights: dict | None, result: ImportResult, lookups: _Lookups,
                      write: bool = True) -> list[RowError]:
    key = import_key_for(organization_id, f"offer:{kind}", data)
    key_column = "external_id" if data.get("external_id") else "title_zh"
    if key in seen:
        return [RowError(row, key_column, _l("This row repeats row %(n)d.", n=seen[key]))]
    seen[key] = row
    existing = lookups.offers_by_key.get(key)
    number = _patent_number(data) if kind == "patent" else None
    if number:
        if ("patent", number) in seen:
            return [RowError(row, "application_number",
                             _l("This row repeats row %(n)d.", n=seen[("patent", number)]))]
        seen[("patent", number)] = row
        listed = lookups.patents_by_number.get(number)
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
        if write:
            result.skipped_rows.append(row)
        return []
    if not write:
        _, errors, _, _ = offer_service.clean_offer(data, kind)
        confidentiality.nda_from_form(data, errors)
        return [RowError(row, column, message) for column, message in errors.items()]
    try:
        if existing is None and not _has_nda(data):
            # built now, flushed with the rest of the slice: one batch of INSERTs instead of one per row
            offer = offer_service.build_offer(user, organization_id, kind, data)
            result.created += 1
        elif existing is None:
            offer = offer_service.create_offer(user, organization_id, kind, data)
            result.created += 1
        else:
            offer = offer_service.update_offer(user, existing, data)
            result.updated += 1
    except DomainError as exc:
        return _errors_to_rows(row, exc, key_column)
    # the key and score go out with the next flush
    offer.import_key = key
    if kind == "patent":
        _score_patent(offer, weights)
    # a built offer has no id before the slice's flush: ``import_rows`` turns it into its id then
    (result.created_ids if existing is None else result.updated_ids).append(offer.id or offer)
    return []


def _has_nda(data: dict) -> bool:
    return "nda_text_zh" in data or "nda_text_en" in data


def _import_need_row(user, row: int, data: dict, kind: str, organization_id: int, seen: dict,
                     result: ImportResult, lookups: _Lookups, write: bool = True) -> list[RowError]:
    key = import_key_for(organization_id, f"need:{kind}", data)
    key_column = "external_id" if data.get("external_id") else "title_zh"
    if key in seen:
        return [RowError(row, key_column, _l("This row repeats row %(n)d.", n=seen[key]))]
    seen[key] = row
    existing = lookups.needs_by_key.get(key)
    if existing is not None and existing.kind != kind:
        return [RowError(row, "kind", _l("An earlier import of this record has another kind; the kind cannot "
                                         "change."))]
    if not write:
        _, errors = need_service.clean_need(data)
        confidentiality.nda_from_form(data, errors)
        return [RowError(row, column, message) for column, message in errors.items()]
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
    (result.created_ids if existing is None else result.updated_ids).append(need.id)
    return []


def _row_kind(entity: str, data: dict) -> tuple[str | None, RowError | None]:
    if entity == "patents":
        return "patent", None
    kind = str(data.get("kind") or "").strip()
    allowed = NEED_KINDS if entity == "needs" else OFFER_IMPORT_KINDS
    if kind in allowed:
        return kind, None
    return None, RowError(0, "kind", _l("Not a valid choice: %(v)s.", v=kind) if kind
                          else _l("This field is required."))


def _field_errors_only(entity: str, row: int, data: dict, kind: str | None) -> list[RowError]:
    """A row that cannot be saved (no organisation or kind) still gets its other problems checked, so the
    report lists every problem of the row at once."""
    if entity == "needs":
        _, errors = need_service.clean_need(data)
    else:
        _, errors, _, _ = offer_service.clean_offer(data, kind or "technology")
    return [RowError(row, column, message) for column, message in errors.items() if column != "kind"]


def _require_importer(user, entity: str) -> None:
    if entity not in IMPORT_ENTITIES:
        raise ValidationFailed(_l("Unknown import type."))
    if not getattr(user, "is_authenticated", False):
        raise PermissionDenied(_l("Log in to import."))


def _prepare(user, entity: str, rows: list[tuple[int, dict]], organization_id: int | None) -> tuple[list, _Lookups]:
    """Each row with its organisation, kind and early problems, and the lookups the rows need."""
    lookups = _load_organizations(rows)
    planned = []
    keys, numbers = [], []
    for row, data in rows:
        org_id, org_error = _resolve_organization(user, data, organization_id, lookups)
        kind, kind_error = _row_kind(entity, data)
        planned.append((row, data, org_id, kind, [e for e in (org_error, kind_error) if e is not None]))
        if org_id is not None and kind is not None:
            keys.append(import_key_for(org_id, f"{'need' if entity == 'needs' else 'offer'}:{kind}", data))
            if kind == "patent" and _patent_number(data):
                numbers.append(_patent_number(data))
    _load_records(lookups, entity, keys, numbers)
    return planned, lookups


def _check_deadline(deadline: float | None, time_limit_seconds: float | None) -> None:
    if deadline is not None and time.monotonic() > deadline:
        raise ImportTimedOut(_l("The import took longer than %(n)d seconds and was stopped; nothing was "
                                "imported. Split the file into smaller files.", n=int(time_limit_seconds or 0)))


def check_table(user, entity: str, table: ImportTable, *, organization_id: int | None = None,
                deadline: float | None = None, time_limit_seconds: float | None = None) -> None:
    """Check every row as the import would, writing nothing: raises ImportRejected listing every problem of
    every invalid row (bad values, unknown organisations, rows repeating another, patents listed elsewhere).

    Rows are looked up ``CHECK_ROWS`` at a time, so memory stays bounded for a file of 100,000 rows.
    ``deadline`` is a ``time.monotonic()`` instant past which ``ImportTimedOut`` is raised."""
    _require_importer(user, entity)
    problems: list[RowError] = []
    seen: dict = {}
    scratch = ImportResult(entity=entity)
    db.session.info[offer_service.FIELDS_BY_CODE] = {f.code: f for f in db.session.scalars(select(Field))}
    try:
        for start in range(0, len(table.rows), CHECK_ROWS):
            planned, lookups = _prepare(user, entity, table.rows[start:start + CHECK_ROWS], organization_id)
            for row, data, org_id, kind, row_problems in planned:
                _check_deadline(deadline, time_limit_seconds)
                problems.extend(_row_problems(user, entity, row, data, org_id, kind, row_problems, seen, None,
                                              scratch, lookups, write=False))
    finally:
        db.session.info.pop(offer_service.FIELDS_BY_CODE, None)
    if problems:
        problems.sort(key=lambda e: e.row)  # stable: a row's problems keep their column order
        raise ImportRejected(_l("Nothing was imported: %(n)d problems in %(r)d rows. Correct them and import the "
                                "file again.", n=len(problems), r=len({e.row for e in problems})), problems)


def import_rows(user, entity: str, table: ImportTable, start: int = 0, stop: int | None = None, *,
                organization_id: int | None = None, weights: dict | None = None,
                progress: Callable[[int, int], None] | None = None, deadline: float | None = None,
                time_limit_seconds: float | None = None) -> ImportResult:
    """Create or update one record per row of ``table.rows[start:stop]`` (already checked by ``check_table``),
    all of them or none: a problem found now (another import saved the same patent meanwhile) raises
    ImportRejected and the caller's unit of work rolls the slice back.

    Members import into their own organisations (``organization_id`` from the form, or a row's org_uscc /
    organization_id column naming one of them); staff into any. Offers and patents arrive as drafts, needs
    open (as the form posts them); imported patents start in the curation funnel as 'screened' with a value
    score computed with ``weights`` (default weights when None). ``progress(rows done, rows total)`` is called
    every few rows, counting from the start of the table."""
    _require_importer(user, entity)
    stop = len(table.rows) if stop is None else min(stop, len(table.rows))
    planned, lookups = _prepare(user, entity, table.rows[start:stop], organization_id)
    db.session.info[offer_service.FIELDS_BY_CODE] = {f.code: f for f in db.session.scalars(select(Field))}
    result = ImportResult(entity=entity)
    problems: list[RowError] = []
    seen: dict = {}
    total = len(table.rows)
    try:
        for done, (row, data, org_id, kind, row_problems) in enumerate(planned, start=start + 1):
            _check_deadline(deadline, time_limit_seconds)
            # each row flushes once when it is done; the services' lookups in between need not flush first
            with db.session.no_autoflush:
                problems.extend(_row_problems(user, entity, row, data, org_id, kind, row_problems, seen, weights,
                                              result, lookups, write=True))
            if progress is not None and (done % PROGRESS_EVERY == 0 or done == total):
                progress(done, total)
    finally:
        db.session.info.pop(offer_service.FIELDS_BY_CODE, None)
    if not problems:
        db.session.flush()  # the built offers and the last keys: a clash with another import shows here
        result.created_ids = [r if isinstance(r, int) else r.id for r in result.created_ids]
    if problems:
        problems.sort(key=lambda e: e.row)
        raise ImportRejected(_l("Nothing was imported: %(n)d problems in %(r)d rows. Correct them and import the "
                                "file again.", n=len(problems), r=len({e.row for e in problems})), problems)
    return result


def import_table(user, entity: str, table: ImportTable, *, organization_id: int | None = None,
                 weights: dict | None = None, progress: Callable[[int, int], None] | None = None,
                 time_limit_seconds: float | None = None) -> ImportResult:
    """Check every row, then import them all in the caller's unit of work: all or nothing (see ``check_table``
    and ``import_rows``). Past ``time_limit_seconds`` the import stops with ``ImportTimedOut``."""
    deadline = time.monotonic() + time_limit_seconds if time_limit_seconds is not None else None
    check_table(user, entity, table, organization_id=organization_id, deadline=deadline,
                time_limit_seconds=time_limit_seconds)
    return import_rows(user, entity, table, organization_id=organization_id, weights=weights, progress=progress,
                       deadline=deadline, time_limit_seconds=time_limit_seconds)


def _row_problems(user, entity: str, row: int, data: dict, org_id: int | None, kind: str | None,
                  row_problems: list[RowError], seen: dict, weights: dict | None, result: ImportResult,
                  lookups: _Lookups, *, write: bool) -> list[RowError]:
    if row_problems:
        for problem in row_problems:
            problem.row = row
        return row_problems + _field_errors_only(entity, row, data, kind)
    if entity == "needs":
        return _import_need_row(user, row, data, kind, org_id, seen, result, lookups, write)
    return _import_offer_row(user, row, data, kind, org_id, seen, weights, result, lookups, write)


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
