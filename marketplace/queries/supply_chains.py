"""Reads for supply-chain coordination: the chains a viewer may see with their status counts, a chain's linked
liaison reports, and the organisations offered as suppliers."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from marketplace import visibility
from marketplace.extensions import db
from marketplace.models import LiaisonReport, Organization, SupplyChain, SupplyInput
from marketplace.models.supply_chains import SUPPLIER_STATUSES, SUPPLIER_TROUBLE

MAX_SUPPLIER_CHOICES = 1000


def chains_for(viewer, *, org_ids=None) -> list[dict]:
    """The chains ``viewer`` (a ``visibility.Viewer`` carrying its sub-park posts) may see, optionally only those
    of ``org_ids``: each with its inputs counted per status; chains with blocked inputs first."""
    stmt = (select(SupplyChain).where(visibility.SUPPLY_CHAIN_OPEN.clause(viewer))
            .options(selectinload(SupplyChain.organization)))
    if org_ids is not None:
        stmt = stmt.where(SupplyChain.organization_id.in_(list(org_ids) or [0]))
    chains = list(db.session.scalars(stmt.order_by(SupplyChain.id)))
    counts: dict[int, dict[str, int]] = {c.id: dict.fromkeys(SUPPLIER_STATUSES, 0) for c in chains}
    if chains:
        for chain_id, status, n in db.session.execute(
                select(SupplyInput.chain_id, SupplyInput.status, func.count(SupplyInput.id))
                .where(SupplyInput.chain_id.in_(list(counts))).group_by(SupplyInput.chain_id, SupplyInput.status)):
            counts[chain_id][status] = n
    rows = [{"chain": c, "counts": counts[c.id], "trouble": sum(counts[c.id][s] for s in SUPPLIER_TROUBLE),
             "total": sum(counts[c.id].values())} for c in chains]
    return sorted(rows, key=lambda r: (-r["counts"]["blocked"], -r["trouble"], r["chain"].id))


def chain_with_inputs(chain_id: int) -> SupplyChain | None:
    """A chain with its inputs and their suppliers loaded (the caller checks who may see it)."""
    return db.session.scalar(select(SupplyChain).where(SupplyChain.id == chain_id).options(
        selectinload(SupplyChain.inputs).selectinload(SupplyInput.supplier)))


def linked_reports(chain_id: int) -> list[LiaisonReport]:
    """Liaison reports that name the chain, newest first."""
    return list(db.session.scalars(select(LiaisonReport).where(LiaisonReport.supply_chain_id == chain_id)
                                   .order_by(LiaisonReport.created_at.desc(), LiaisonReport.id.desc())))


def chains_of(org_id: int) -> list[SupplyChain]:
    """An organisation's own chains (for the supply-chain report form)."""
    return list(db.session.scalars(select(SupplyChain).where(SupplyChain.organization_id == org_id)
                                   .order_by(SupplyChain.id)))


def supplier_choices(exclude_org_id: int | None = None) -> list[Organization]:
    """Organisations that may be named as suppliers, by name."""
    stmt = select(Organization).order_by(Organization.name_zh, Organization.id).limit(MAX_SUPPLIER_CHOICES)
    if exclude_org_id is not None:
        stmt = stmt.where(Organization.id != exclude_org_id)
    return list(db.session.scalars(stmt))
