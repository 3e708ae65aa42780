"""Supply-chain coordination (item 6 of the policy desk): a manufacturer lists a product's inputs and their
suppliers with each supplier's status; a blocked input becomes, with one action, an open marketplace need that
other suppliers and the sub-park see (the same route as a liaison report turned into a need:
``needs.post_need_for``). Who sees a chain is ``visibility.SUPPLY_CHAIN_OPEN``: the manufacturer's members, the
staff of its sub-park and operators."""
from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l

from marketplace import visibility
from marketplace.extensions import db
from marketplace.models import Organization, SupplyChain, SupplyInput
from marketplace.models.supply_chains import SUPPLIER_STATUSES, SUPPLIER_TROUBLE
from marketplace.services import access, audit, versions
from marketplace.services import needs as need_service
from marketplace.services.cleaning import Cleaner, parse_id
from marketplace.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from marketplace.services.locks import lock_instance
from marketplace.services.policy import posts

MAX_INPUTS = 500  # a product's bill of inputs; the ventilator example has about 50
# Status order on every page: what holds the product back first.
STATUS_ORDER = {status: n for n, status in enumerate(SUPPLIER_STATUSES)}


def can_see(user, chain: SupplyChain) -> bool:
    """The manufacturer's members, its sub-park's staff and operators."""
    return visibility.SUPPLY_CHAIN_OPEN.allows(posts.viewer(user), chain)


def can_edit(user, chain: SupplyChain) -> bool:
    """Only the manufacturer's members change the chain itself."""
    return access.is_member_of(user, chain.organization_id)


def get_chain(user, chain_id) -> SupplyChain:
    """The chain if ``user`` may see it; NotFound otherwise (no hint that it exists)."""
    chain = db.session.get(SupplyChain, parse_id(chain_id) or 0)
    if chain is None or not can_see(user, chain):
        raise NotFound(_l("No such supply chain."))
    return chain


def get_input(user, input_id) -> SupplyInput:
    """An input of a chain ``user`` may see; NotFound otherwise."""
    item = db.session.get(SupplyInput, parse_id(input_id) or 0)
    if item is None or not can_see(user, item.chain):
        raise NotFound(_l("No such supply chain."))
    return item


def _require_edit(user, chain: SupplyChain) -> None:
    if not can_edit(user, chain):
        raise PermissionDenied(_l("Only members of the manufacturer may change its supply chain."))


def create_chain(user, org: Organization, data: dict) -> SupplyChain:
    """A new product chain for ``org`` (``product_zh`` and/or ``product_en``, ``note``); flushes."""
    if not access.is_member_of(user, org.id):
        raise PermissionDenied(_l("Only members of the manufacturer may change its supply chain."))
    c = Cleaner(data)
    product_zh = c.text("product_zh", max_length=200)
    product_en = c.text("product_en", max_length=200)
    note = c.text("note", max_length=5000)
    if not product_zh and not product_en:
        c.error("product_zh", _l("Name the product in Chinese or English."))
    if c.errors:
        raise ValidationFailed(_l("Please correct the highlighted fields."), field_errors=dict(c.errors))
    chain = SupplyChain(organization_id=org.id, sub_park=org.sub_park, product_zh=product_zh or product_en,
                        product_en=product_en, note=note)
    db.session.add(chain)
    db.session.flush()
    audit.record(db.session, actor_id=audit.actor_of(user), action="policy", object_type="supply_chain",
                 object_id=chain.id, organization_id=org.id, summary=chain.product_zh, details={"action": "create"})
    return chain


def _clean_status(c: Cleaner, today: date) -> tuple[str, str, date]:
    status = c.choice("status", SUPPLIER_STATUSES, required=True)
    note = c.text("status_note", max_length=2000)
    status_on = c.date("status_on") or today
    if status in SUPPLIER_TROUBLE and not note and "status" not in c.errors:
        c.error("status_note", _l("Say what holds this input back: the sub-park and suppliers read it."))
    return status, note, status_on


def add_input(user, chain: SupplyChain, data: dict, *, today: date) -> SupplyInput:
    """Add a part or input with its supplier (``supplier_org_id`` on the platform or ``supplier_name`` off it)
    and status; flushes. Refused input changes nothing."""
    _require_edit(user, chain)
    chain = lock_instance(chain)  # serialise additions to one chain (the count limit below)
    c = Cleaner(data)
    part_name = c.text("part_name", required=True, max_length=200)
    supplier_name = c.text("supplier_name", max_length=200)
    supplier = None
    if data.get("supplier_org_id") not in (None, ""):
        supplier = db.session.get(Organization, parse_id(data.get("supplier_org_id")) or 0)
        if supplier is None:
            c.error("supplier_org_id", _l("Choose a supplier from the list, or type its name."))
    if supplier is None and not supplier_name and "supplier_org_id" not in c.errors:
        c.error("supplier_name", _l("Choose a supplier from the list, or type its name."))
    status, note, status_on = _clean_status(c, today)
    if len(chain.inputs) >= MAX_INPUTS:
        c.error("part_name", _l("A chain holds at most %(n)d inputs.", n=MAX_INPUTS))
    if c.errors:
        raise ValidationFailed(_l("Please correct the highlighted fields."), field_errors=dict(c.errors))
    item = SupplyInput(part_name=part_name, supplier_org_id=supplier.id if supplier else None,
                       supplier_name="" if supplier else supplier_name, status=status, status_note=note,
                       status_on=status_on)
    chain.inputs.append(item)
    chain.sub_park = chain.organization.sub_park  # the manufacturer may have moved
    db.session.flush()
    return item


def set_status(user, input_id, data: dict, *, today: date) -> SupplyInput:
    """The manufacturer records a supplier's new status (``status``, ``status_note``, ``status_on``); the form's
    ``version`` guards against overwriting a colleague's newer entry. Flushes."""
    item = get_input(user, input_id)
    _require_edit(user, item.chain)
    c = Cleaner(data)
    status, note, status_on = _clean_status(c, today)
    if c.errors:
        raise ValidationFailed(_l("Please correct the highlighted fields."), field_errors=dict(c.errors))
    item = versions.claim(item, data.get("version"))
    before = item.status
    item.status, item.status_note, item.status_on = status, note, status_on
    db.session.flush()
    audit.record(db.session, actor_id=audit.actor_of(user), action="policy", object_type="supply_chain",
                 object_id=item.chain_id, organization_id=item.chain.organization_id,
                 summary=f"{item.part_name}: {before} → {status}", details={"input": item.id})
    return item


def post_need(user, input_id) -> SupplyInput:
    """Turn a blocked or delayed input into an open need of the manufacturer (one action, once), for other
    suppliers to answer; the manufacturer's members, its sub-park's staff and operators may do it. Flushes."""
    item = get_input(user, input_id)
    item = lock_instance(item)  # two clicks at once post one need
    if item.status not in SUPPLIER_TROUBLE:
        raise Conflict(_l("Only a blocked or delayed input becomes a need."))
    if item.need_id is not None:
        raise Conflict(_l("This input is already posted as a need."))
    chain = item.chain
    # The need's Chinese and English fields get the text in their own language, whoever clicks.
    supplier_zh, supplier_en = item.supplier_label("zh"), item.supplier_label("en")
    need = need_service.post_need_for(user, chain.organization_id, "manufacturing_supply", {
        "title_zh": f"{item.part_name}（{chain.product('zh')}）"[:300],
        "description_zh": f"我们的产品“{chain.product('zh')}”所需的“{item.part_name}”供应受阻（供应商：{supplier_zh}）。"
                          f"{item.status_note} 现寻求其他供应商。",
        "description_en": f"Input \"{item.part_name}\" of our product \"{chain.product('en')}\" is held back "
                          f"(supplier: {supplier_en}). {item.status_note} We are looking for other suppliers."})
    item.need_id = need.id
    db.session.flush()
    audit.record(db.session, actor_id=audit.actor_of(user), action="policy", object_type="supply_chain",
                 object_id=chain.id, organization_id=chain.organization_id, summary=item.part_name,
                 details={"input": item.id, "need": need.id})
    return item


def status_counts(inputs) -> dict[str, int]:
    """Inputs per status, every status present (zero when none)."""
    counts = {status: 0 for status in SUPPLIER_STATUSES}
    for item in inputs:
        counts[item.status] = counts.get(item.status, 0) + 1
    return counts


def ordered_inputs(inputs) -> list[SupplyInput]:
    """Blocked first, then delayed imports, then running; the oldest status first within each."""
    return sorted(inputs, key=lambda i: (STATUS_ORDER.get(i.status, 9), i.status_on or date.max, i.id))
