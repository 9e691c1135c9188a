"""Batches: opening, material lots, status; looking items up by code and by serial."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.orm import Session, aliased

from trace import codes
from trace.audit.services import audit_write
from trace.catalog.models import Line, MaterialLot, Product
from trace.db import get_existing
from trace.errors import Conflict, Invalid, NotFound
from trace.pagination import Page, paginate
from trace.production.models import (
    Batch,
    BatchStatus,
    Item,
    ItemComponent,
    ItemStatus,
    batch_material,
)

# Where a batch may go from each status. A recall is final; everything else can be held.
TRANSITIONS: dict[BatchStatus, frozenset[BatchStatus]] = {
    BatchStatus.open: frozenset({BatchStatus.released, BatchStatus.on_hold, BatchStatus.recalled}),
    BatchStatus.released: frozenset(
        {BatchStatus.on_hold, BatchStatus.recalled, BatchStatus.closed}
    ),
    BatchStatus.on_hold: frozenset({BatchStatus.open, BatchStatus.released, BatchStatus.recalled}),
    BatchStatus.closed: frozenset({BatchStatus.on_hold, BatchStatus.recalled}),
    BatchStatus.recalled: frozenset(),
}
NEEDS_REASON = frozenset({BatchStatus.on_hold, BatchStatus.recalled})


def open_batch(
    session: Session,
    actor: str,
    *,
    product_id: int,
    lot_number: str,
    line_id: int,
    planned_quantity: int = 0,
    started_at: dt.datetime | None = None,
    ended_at: dt.datetime | None = None,
    material_lot_ids: list[int] = (),
) -> Batch:
    """Open a batch (lot) of a product on a line; the lot number is unique per product."""
    product = get_existing(session, Product, product_id, field="product_id")
    get_existing(session, Line, line_id, field="line_id")
    # Stored in UTC either way; converting now makes the object agree with a fresh read.
    started_at, ended_at = (t.astimezone(dt.UTC) if t else None for t in (started_at, ended_at))
    if started_at and ended_at and ended_at < started_at:
        raise Invalid(
            "the production window ends before it starts", {"ended_at": ["before started_at"]}
        )
    duplicate = select(Batch.id).where(
        Batch.product_id == product.id, Batch.lot_number == lot_number
    )
    if session.scalar(duplicate):
        raise Conflict(
            f"lot {lot_number!r} exists for this product", {"lot_number": ["already exists"]}
        )
    batch = Batch(
        product_id=product.id,
        lot_number=lot_number,
        line_id=line_id,
        planned_quantity=planned_quantity,
        started_at=started_at,
        ended_at=ended_at,
        status=BatchStatus.open,
    )
    batch.material_lots = _material_lots(session, material_lot_ids)
    session.add(batch)
    audit_write(
        session,
        actor,
        "batch.open",
        batch,
        {
            "product_id": product.id,
            "lot_number": lot_number,
            "material_lot_ids": list(material_lot_ids),
        },
    )
    return batch


def _material_lots(session: Session, ids) -> list[MaterialLot]:
    ids = list(dict.fromkeys(ids))
    found = {
        lot.id: lot for lot in session.scalars(select(MaterialLot).where(MaterialLot.id.in_(ids)))
    }
    missing = [i for i in ids if i not in found]
    if missing:
        raise NotFound(
            "unknown material lots", {"material_lot_ids": [f"unknown id {i}" for i in missing]}
        )
    return [found[i] for i in ids]


def link_material_lots(
    session: Session, actor: str, batch: Batch, material_lot_ids: list[int]
) -> Batch:
    """Record that the batch consumed these material lots (lots already linked stay once)."""
    if batch.status is BatchStatus.recalled:
        raise Conflict("a recalled batch cannot change", {"status": ["recalled"]})
    new = [
        lot for lot in _material_lots(session, material_lot_ids) if lot not in batch.material_lots
    ]
    if not new:
        return batch  # all were linked already: nothing to write, nothing to audit
    batch.material_lots.extend(new)
    audit_write(
        session,
        actor,
        "batch.link_material_lots",
        batch,
        {"material_lot_ids": [lot.id for lot in new]},
    )
    return batch


def change_batch_status(
    session: Session, actor: str, batch: Batch, status: BatchStatus, reason: str | None = None
) -> Batch:
    """Move a batch along its workflow; holds and recalls need a reason."""
    if status not in TRANSITIONS[batch.status]:
        allowed = ", ".join(sorted(s.value for s in TRANSITIONS[batch.status])) or "none"
        raise Conflict(
            f"a batch that is {batch.status.value} cannot become {status.value}",
            {"status": [f"from {batch.status.value} allowed: {allowed}"]},
        )
    if status in NEEDS_REASON and not (reason and reason.strip()):
        raise Invalid(
            f"a reason is required to put a batch {status.value}", {"reason": ["required"]}
        )
    previous = batch.status
    batch.status, batch.status_reason = status, (reason or "").strip() or None
    audit_write(
        session,
        actor,
        "batch.status",
        batch,
        {"from": previous.value, "to": status.value, "reason": batch.status_reason},
    )
    return batch


def get_batch(session: Session, batch_id: int) -> Batch:
    return get_existing(session, Batch, batch_id, field="batch_id")


def list_batches(
    session: Session,
    *,
    product_id: int | None = None,
    status: BatchStatus | None = None,
    material_lot_id: int | None = None,
    after: int | None = None,
    limit: int = 50,
) -> Page:
    """Batches, filtered by product, status, or the material lot they consumed."""
    query = select(Batch)
    if product_id is not None:
        query = query.where(Batch.product_id == product_id)
    if status is not None:
        query = query.where(Batch.status == status)
    if material_lot_id is not None:
        query = query.join(batch_material).where(
            batch_material.c.material_lot_id == material_lot_id
        )
    return paginate(session, query, Batch.id, after, limit)


def find_item_by_code(session: Session, text: str) -> Item:
    """The item whose code a person typed or a scanner read.

    A malformed code (wrong length, a character outside the alphabet, a failed check) is
    Invalid, so a typo can be told apart from a code that is well-formed but unknown.
    """
    try:
        code = codes.normalize_code(text)
    except codes.MalformedCode as error:
        raise Invalid("malformed item code", {"code": [str(error)]}) from None
    item = session.scalar(select(Item).where(Item.code == code))
    if item is None:
        raise NotFound("no item has this code", {"code": ["unknown code"]})
    return item


def find_item_by_serial(session: Session, sku: str, serial: str) -> Item:
    """The item of product `sku` with this serial."""
    query = select(Item).join(Product).where(Product.sku == sku, Item.serial == serial)
    item = session.scalar(query)
    if item is None:
        raise NotFound(f"no item {serial!r} of product {sku!r}", {"serial": ["unknown serial"]})
    return item


def list_items(
    session: Session, batch: Batch, *, after: int | None = None, limit: int = 100
) -> Page:
    return paginate(session, select(Item).where(Item.batch_id == batch.id), Item.id, after, limit)


def lock_parts(session: Session, item_ids) -> None:
    """Hold the tracked parts `item_ids` until commit, in id order as every post takes
    them (FOR NO KEY UPDATE: records that merely refer to a part are not held up).
    SQLite's writers take turns anyway."""
    if item_ids:
        query = select(Item.id).where(Item.id.in_(sorted(item_ids))).order_by(Item.id)
        session.execute(query.with_for_update(key_share=True))


def fitted_again(session: Session, taken_out_by, before=None) -> tuple[str, str] | None:
    """Of the component links `taken_out_by(link)` picks (those a repair or scrap closed),
    one whose part went into a unit again since it went into that one (and before
    `before`, if given): the part's code and the unit's. Opening such a link again, or
    closing it only after that moment, would put the part in two units at once."""
    taken_out, since = aliased(ItemComponent), aliased(ItemComponent)
    part, unit = aliased(Item), aliased(Item)
    query = (
        select(part.code, unit.code)
        .select_from(taken_out)
        .join(since, since.component_item_id == taken_out.component_item_id)
        .join(part, part.id == since.component_item_id)
        .join(unit, unit.id == since.item_id)
        .where(
            taken_out_by(taken_out),
            since.id != taken_out.id,
            since.installed_at >= taken_out.installed_at,
        )
    )
    if before is not None:
        query = query.where(since.installed_at < before)
    return session.execute(query.limit(1)).first()


def inside_a_unit(item_id):
    """Whether the item `item_id` (a column of the outer query) is installed in a unit now."""
    return (
        select(ItemComponent.id)
        .where(ItemComponent.component_item_id == item_id, ItemComponent.removed_at.is_(None))
        .exists()
    )


def installed_parts(session: Session, part_ids: list[int]) -> dict[int, ItemComponent]:
    """Where each tracked part is installed now, if anywhere: its component link by the
    part's item id."""
    query = select(ItemComponent).where(
        ItemComponent.component_item_id.in_(part_ids), ItemComponent.removed_at.is_(None)
    )
    return {component.component_item_id: component for component in session.scalars(query)}


# A tracked part that may go inside a unit: not scrapped, on its way or in the workshop.
FREE_PART = (ItemStatus.produced, ItemStatus.failed, ItemStatus.delivered)


def hold_free_parts(session: Session, item_ids: list[int]) -> bool:
    """Lock the items for the rest of the transaction, if each is free to go inside a unit
    (FREE_PART): whether so.

    Putting a tracked part into a unit writes only the genealogy, not the part; a scrap,
    shipment or repair intake of the part at the same moment (PostgreSQL lets both read
    it free) would not clash with it. Taking the part's row makes the two take turns: the
    other sees the part installed, or this sees it taken.
    """
    if not item_ids:
        return True
    held = session.execute(
        update(Item)
        .where(Item.id.in_(item_ids), Item.status.in_(FREE_PART))
        .values(status=Item.status),
        execution_options={"synchronize_session": False},
    )
    return held.rowcount == len(set(item_ids))
