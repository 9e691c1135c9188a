"""Recording shipments and their logistics events; delivery confirmation; voiding.

What a shipment may carry:
- items by code and whole batches by id. A whole batch means the batch's items in stock
  (status produced or failed) made by the time it left and not inside another unit; its
  items already shipped, delivered, in repair or scrapped are not part of it, so a batch
  can go out in parts.
- an item in an open shipment cannot be shipped again (409 naming the item and the other
  shipment); the partial unique index on open shipment items is the backstop. An item in
  repair or scrapped cannot be shipped at all.
- items of a batch on hold or recalled, and items whose last final inspection failed, go
  out only with an `override_reason` (409 without one), stored on the shipment and audited.
- shipment numbers are never reused, not even by a correction: the replacement of a wrong
  shipment gets a number of its own (the voided one keeps its number, as history).

Events: a `delivered` or `returned` event closes the shipment (its items leave the open
shipment; delivered items get status delivered, returned ones go back to what their
records say); a shipment has at most one live closing event, so a second one is a
conflict until the first is voided or replaced. Other events set the shipment's status
while it is open. Voiding the closing event reopens the shipment; voiding the shipment
releases its items.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial

from sqlalchemy import and_, func, insert, select, true, update
from sqlalchemy.orm import Session, aliased

from trace.audit.services import record_audit
from trace.auth.services import Principal
from trace.capture import (
    LOOKUP_CHUNK,
    Recorded,
    References,
    RowsRefused,
    check_time,
    items_by_code,
    lookup,
    record_many,
    replacing,
    require_poster_or_quality,
)
from trace.errors import Conflict, DomainError, Invalid, NotFound
from trace.logistics.models import (
    Shipment,
    ShipmentEvent,
    ShipmentItem,
    ShipmentStatus,
    shipment_batch,
)
from trace.pagination import Page, paginate
from trace.production.models import Batch, BatchStatus, Item, ItemStatus
from trace.production.services import inside_a_unit, installed_parts
from trace.production.status import ITEM, derive_statuses
from trace.records import void_record

SHIPMENT_ITEM = ShipmentItem.__table__
SHIPMENT = Shipment.__table__
IN_STOCK = (ItemStatus.produced, ItemStatus.failed)
# Statuses a shipment moves an item between; repairs and scrapping are not its business.
MOVABLE = (ItemStatus.produced, ItemStatus.failed, ItemStatus.shipped, ItemStatus.delivered)
HELD = (BatchStatus.on_hold, BatchStatus.recalled)
UNSHIPPABLE = (ItemStatus.in_repair, ItemStatus.scrapped)
CLOSING = (ShipmentStatus.delivered, ShipmentStatus.returned)


def record_shipments(
    session: Session, principal: Principal, records: Sequence[dict]
) -> list[Recorded]:
    """Record shipments with the items and whole batches they carry, all or nothing.

    Shipped items get status shipped. See the module text for what may be shipped.
    """
    stock = Stock(session, records)
    return record_many(
        session,
        principal,
        Shipment,
        records,
        partial(_shipment_row, stock),
        _after_shipments,
    )


class Stock:
    """What the shipments of one post refer to and may take, looked up once for the post."""

    def __init__(self, session: Session, records: Sequence[dict]):
        self.session = session
        codes = {code for r in records for code in r.get("item_codes", ())}
        self.items = items_by_code(session, codes)
        self.whole = sorted({b for r in records for b in r.get("batch_ids", ())})
        of_items = {item.batch_id for item in self.items.values() if isinstance(item, Item)}
        # Shared locks: a hold or recall of one of these batches committed meanwhile is
        # read, and one under way waits for this post (and the post for it).
        self.batches = lookup(session, Batch.id, of_items.union(self.whole), lock="share")
        self.numbers = lookup(session, Shipment.number, {r["number"] for r in records})
        # What earlier records of this post took: item id, batch id, number -> shipment number.
        self.taken_items: dict[int, str] = {}
        self.taken_batches: dict[int, str] = {}
        self.batches_with_taken_items: dict[int, str] = {}
        self.taken_numbers: set[str] = set()
        self.refresh()

    def refresh(self) -> None:
        """Read again what is in open shipments and in stock: a correction changes both."""
        item_ids = [item.id for item in self.items.values() if isinstance(item, Item)]
        self.open_shipment = open_shipment_numbers(self.session, item_ids)
        self.installed = installed_parts(self.session, item_ids) if item_ids else {}
        self.batch_stock = _batch_stock(self.session, self.whole)

    def take(self, number: str, items: list[Item], batches: list[Batch]) -> None:
        self.taken_numbers.add(number)
        for item in items:
            self.taken_items[item.id] = number
            self.batches_with_taken_items[item.batch_id] = number
        for batch in batches:
            self.taken_batches[batch.id] = number


def open_shipment_numbers(session: Session, item_ids: list[int]) -> dict[int, str]:
    """The number of the open shipment each of the items is in, if any."""
    found = {}
    for start in range(0, len(item_ids), LOOKUP_CHUNK):
        query = (
            select(ShipmentItem.item_id, Shipment.number)
            .join(Shipment, Shipment.id == ShipmentItem.shipment_id)
            .where(ShipmentItem.item_id.in_(item_ids[start : start + LOOKUP_CHUNK]))
            .where(ShipmentItem.open)
        )
        found.update(session.execute(query).all())
    return found


@dataclass
class BatchStock:
    """A batch's items in stock and not inside another unit: the first one made, and when
    each failed one was made (a whole-batch shipment takes those made by the time it left)."""

    first_made: dt.datetime | None = None
    failed_made: list[dt.datetime] = field(default_factory=list)

    def failed_by(self, moment: dt.datetime) -> int:
        return bisect.bisect_right(self.failed_made, moment)


def _batch_stock(session: Session, batch_ids: list[int]) -> dict[int, BatchStock]:
    if not batch_ids:
        return {}
    in_stock = (Item.batch_id.in_(batch_ids), Item.status.in_(IN_STOCK), ~inside_a_unit(Item.id))
    stock = {batch_id: BatchStock() for batch_id in batch_ids}
    first = select(Item.batch_id, func.min(Item.produced_at)).where(*in_stock)
    for batch_id, first_made in session.execute(first.group_by(Item.batch_id)):
        stock[batch_id].first_made = first_made
    failed = select(Item.batch_id, Item.produced_at).where(
        *in_stock, Item.status == ItemStatus.failed
    )
    for batch_id, made in session.execute(failed.order_by(Item.produced_at)):
        stock[batch_id].failed_made.append(made)  # in order, as failed_by's bisect needs
    return stock


def _shipment_row(stock: Stock, refs: References, data: dict, digest: str) -> dict:
    shipped_at = check_time(data["shipped_at"], "shipped_at")
    _check_expected(data, shipped_at)
    replaced_id = _replaced_shipment(refs, stock, data)
    _check_number(stock, data["number"])
    items = _explicit_items(stock, data.get("item_codes", []))
    _check_made_by(items, shipped_at)
    batches = _whole_batches(stock, data.get("batch_ids", []), shipped_at)
    override = _override(stock, data, items, batches, shipped_at)
    stock.take(data["number"], items, batches)
    return {
        "event_id": data["event_id"],
        "payload_hash": digest,
        "recorded_by": refs.principal.actor,
        "number": data["number"],
        "carrier": data["carrier"],
        "tracking_number": data.get("tracking_number"),
        "origin": data["origin"],
        "destination": data["destination"],
        "consignee": data["consignee"],
        "status": ShipmentStatus.shipped,
        "shipped_at": shipped_at,
        "expected_at": data.get("expected_at"),
        "override_reason": data.get("override_reason"),
        "replaces_id": replaced_id,
        "_item_ids": [item.id for item in items],
        "_batch_ids": [batch.id for batch in batches],
        "_override": override,
    }


def _check_made_by(items: list[Item], shipped_at) -> None:
    """A unit cannot leave before it was made (a whole batch takes the units made by then)."""
    early = [item.code for item in items if item.produced_at > shipped_at]
    if early:
        raise Invalid(
            "shipped before its items were made",
            {"shipped_at": [f"before {code} was made" for code in early[:10]]},
        )


def _check_expected(data: dict, shipped_at) -> None:
    if data.get("expected_at") and data["expected_at"] < shipped_at:
        raise Invalid("expected before it was shipped", {"expected_at": ["before shipped_at"]})


def _replaced_shipment(refs: References, stock: Stock, data: dict) -> int | None:
    if data.get("replaces") is None:
        return None
    old = replacing(refs.session, refs.principal, Shipment, data)
    _sync_items(refs.session, old)  # its items are free again for the replacement
    stock.refresh()
    return old.id


def _check_number(stock: Stock, number: str) -> None:
    existing = stock.numbers.get(number)
    if existing is not None or number in stock.taken_numbers:
        where = f"shipment {existing.id}" if existing else "another shipment of this post"
        raise Conflict(
            f"shipment number {number!r} is taken; numbers are never reused",
            {"number": [f"already used by {where}"]},
        )


def _explicit_items(stock: Stock, codes: list[str]) -> list[Item]:
    """The items named by code, each once; every unknown or unshippable one is reported."""
    items, unknown = {}, {}
    for index, code in enumerate(codes):
        found = stock.items[code]
        if isinstance(found, DomainError):
            unknown[str(index)] = found
        else:
            items.setdefault(found.id, (str(index), found))
    if unknown:
        kind = NotFound if all(isinstance(e, NotFound) for e in unknown.values()) else Invalid
        fields = {i: error.fields["item_code"] for i, error in unknown.items()}
        raise kind("unknown or malformed item codes", {"item_codes": fields})
    busy = {i: [why] for i, item in items.values() if (why := _why_not_shippable(stock, item))}
    if busy:
        raise _refusal(busy, "item_codes", "items cannot be shipped")
    return [item for _, item in items.values()]


def _why_not_shippable(stock: Stock, item: Item) -> str | None:
    if item.id in stock.open_shipment:
        return f"item {item.code} is already in open shipment {stock.open_shipment[item.id]}"
    if item.id in stock.taken_items:
        return f"item {item.code} is in shipment {stock.taken_items[item.id]} of this post"
    if item.batch_id in stock.taken_batches:
        number = stock.taken_batches[item.batch_id]
        return f"item {item.code}'s batch is shipped whole by {number} of this post"
    if item.status in UNSHIPPABLE:
        return f"item {item.code} is {item.status.value}"
    if item.id in stock.installed:
        host = stock.session.get(Item, stock.installed[item.id].item_id)
        return f"item {item.code} is installed in unit {host.code}: a repair removes it first"
    return None


def _whole_batches(stock: Stock, batch_ids: list[int], shipped_at: dt.datetime) -> list[Batch]:
    """The batches named by id, each once; every unknown or empty one is reported."""
    batches = {}
    for index, batch_id in enumerate(batch_ids):
        batches.setdefault(batch_id, (str(index), stock.batches.get(batch_id)))
    unknown = {i: ["unknown id"] for i, batch in batches.values() if batch is None}
    if unknown:
        raise NotFound("unknown batches", {"batch_ids": unknown})
    busy = {i: [why] for i, b in batches.values() if (why := _why_not_whole(stock, b, shipped_at))}
    if busy:
        raise _refusal(busy, "batch_ids", "batches cannot be shipped whole")
    return [batch for _, batch in batches.values()]


def _why_not_whole(stock: Stock, batch: Batch, shipped_at: dt.datetime) -> str | None:
    for taken in (stock.taken_batches, stock.batches_with_taken_items):
        if batch.id in taken:
            return f"batch {batch.lot_number} is in shipment {taken[batch.id]} of this post"
    first_made = stock.batch_stock[batch.id].first_made
    if first_made is None:
        return f"no item of batch {batch.lot_number} is in stock"
    if first_made > shipped_at:
        return f"no item of batch {batch.lot_number} in stock was made by shipped_at"
    return None


def _refusal(problems: dict, field: str, summary: str) -> Conflict:
    message = next(iter(problems.values()))[0] if len(problems) == 1 else summary
    return Conflict(message, {field: problems})


def _override(
    stock: Stock, data: dict, items: list[Item], batches: list[Batch], shipped_at: dt.datetime
) -> dict | None:
    """What the shipment overrides (held batches, failed items), refused without a reason."""
    reasons = _needs_override(stock, items, batches, shipped_at)
    if not reasons:
        return None
    if not data.get("override_reason"):
        raise Conflict(
            "held, recalled or failed items ship only with an override_reason",
            {"override_reason": [f"required: {'; '.join(reasons)}"]},
        )
    return {"number": data["number"], "reason": data["override_reason"], "overrides": reasons}


def _needs_override(
    stock: Stock, items: list[Item], batches: list[Batch], shipped_at: dt.datetime
) -> list[str]:
    involved = {batch.id: batch for batch in batches}
    involved |= {item.batch_id: stock.batches[item.batch_id] for item in items}
    reasons = [
        f"batch {b.lot_number} is {b.status.value}" for b in involved.values() if b.status in HELD
    ]
    reasons += [
        f"item {item.code} failed its final inspection"
        for item in items
        if item.status is ItemStatus.failed
    ]
    reasons += [
        f"batch {batch.lot_number} has {failed} failed items"
        for batch in batches
        if (failed := stock.batch_stock[batch.id].failed_by(shipped_at))
    ]
    return reasons


def _after_shipments(session: Session, rows: list[dict]) -> None:
    # Plain executemany, not COPY: a unique violation from a concurrent post must surface
    # as an IntegrityError, which the API answers with a retry (and then a 409).
    explicit = [
        {"shipment_id": row["id"], "item_id": item_id, "open": True}
        for row in rows
        for item_id in row["_item_ids"]
    ]
    if explicit:
        session.execute(insert(SHIPMENT_ITEM), explicit)
    whole = [{"shipment_id": row["id"], "batch_id": b} for row in rows for b in row["_batch_ids"]]
    if whole:
        session.execute(insert(shipment_batch), whole)
        _ship_whole_batches(session, sorted({link["shipment_id"] for link in whole}))
        _check_carrying(
            session, [row for row in rows if row["_batch_ids"] and not row["_item_ids"]]
        )
        _settle_failed_taken(session, [row for row in rows if row["_batch_ids"]])
    _mark_shipped(session, [row["id"] for row in rows])
    for row in rows:
        if row["_override"]:
            _audit_override(session, row)


def _ship_whole_batches(session: Session, shipment_ids: list[int]) -> None:
    """One INSERT ... SELECT puts the in-stock items of every linked batch in its shipment."""
    link = shipment_batch.c
    listed = select(SHIPMENT_ITEM.c.item_id).where(
        SHIPMENT_ITEM.c.shipment_id == link.shipment_id, SHIPMENT_ITEM.c.item_id == ITEM.c.id
    )
    # In stock, made by the time it left, and not inside another unit.
    items = (
        select(link.shipment_id, ITEM.c.id, true())
        .join_from(shipment_batch, ITEM, ITEM.c.batch_id == link.batch_id)
        .join(SHIPMENT, SHIPMENT.c.id == link.shipment_id)
        .where(link.shipment_id.in_(shipment_ids), ITEM.c.status.in_(IN_STOCK))
        .where(ITEM.c.produced_at <= SHIPMENT.c.shipped_at)
        .where(~listed.exists(), ~inside_a_unit(ITEM.c.id))
    )
    columns = ["shipment_id", "item_id", "open"]
    session.execute(insert(SHIPMENT_ITEM).from_select(columns, items))


def _check_carrying(session: Session, rows: list[dict]) -> None:
    """A shipment of whole batches only must take something. Each batch was seen with a
    unit to take (_why_not_whole); on PostgreSQL another post may have taken it since."""
    if not rows:
        return
    carrying = set(
        session.scalars(
            select(SHIPMENT_ITEM.c.shipment_id).where(
                SHIPMENT_ITEM.c.shipment_id.in_([row["id"] for row in rows])
            )
        )
    )
    empty = [row["number"] for row in rows if row["id"] not in carrying]
    if empty:
        raise Conflict(
            f"shipment {empty[0]} would carry nothing: its batches have no unit to take then",
            {"batch_ids": ["no unit in stock, made by shipped_at and not inside another unit"]},
        )


def _settle_failed_taken(session: Session, rows: list[dict]) -> None:
    """The failed units the whole batches took, as against those counted when each record
    was checked: a correction later in the post may have freed one from the shipment it
    replaced (and on PostgreSQL a unit may have failed since). A shipment given no reason
    is refused, by its index; one given a reason nobody asked for then overrides them."""
    if not rows:
        return
    by_id = {row["id"]: row for row in rows}
    taken: dict[int, list[str]] = {}
    query = (
        select(SHIPMENT_ITEM.c.shipment_id, ITEM.c.code)
        .join(ITEM, ITEM.c.id == SHIPMENT_ITEM.c.item_id)
        .where(SHIPMENT_ITEM.c.shipment_id.in_(by_id), ITEM.c.status == ItemStatus.failed)
        .order_by(ITEM.c.code)
    )
    for shipment_id, code in session.execute(query):
        taken.setdefault(shipment_id, []).append(code)
    refused = {}
    for shipment_id, codes in taken.items():
        row = by_id[shipment_id]
        reasons = [f"item {code} failed its final inspection" for code in codes]
        if not row["override_reason"]:
            refused[row["_index"]] = Conflict(
                f"shipment {row['number']} would take failed unit {codes[0]} with its batch",
                {"override_reason": [f"required: {reasons[0]}"]},
            )
        elif not row["_override"]:
            row["_override"] = {
                "number": row["number"],
                "reason": row["override_reason"],
                "overrides": reasons,
            }
    if refused:
        raise RowsRefused(refused)


def _mark_shipped(session: Session, shipment_ids: list[int]) -> None:
    """Ship the carried items, all of them or the post is a conflict: a unit scrapped or
    taken in for repair meanwhile (PostgreSQL lets both posts read it free) must not
    leave with it."""
    carried = select(SHIPMENT_ITEM.c.item_id).where(SHIPMENT_ITEM.c.shipment_id.in_(shipment_ids))
    session.flush()
    session.execute(
        update(ITEM)
        .where(ITEM.c.id.in_(carried), ITEM.c.status.not_in(UNSHIPPABLE))
        .values(status=ItemStatus.shipped)
    )
    taken = session.scalar(
        select(ITEM.c.code).where(ITEM.c.id.in_(carried), ITEM.c.status.in_(UNSHIPPABLE)).limit(1)
    )
    if taken is not None:
        raise Conflict(
            f"item {taken} was scrapped or taken in for repair while this was posted",
            {"item_codes": [f"{taken} changed meanwhile"]},
        )
    # The items' rows are held now: a repair that put one inside a unit meanwhile has
    # committed (and is seen here) or waits for this post and then finds it shipped.
    inside = session.scalar(
        select(ITEM.c.code).where(ITEM.c.id.in_(carried), inside_a_unit(ITEM.c.id)).limit(1)
    )
    if inside is not None:
        raise Conflict(
            f"item {inside} was installed in a unit while this was posted",
            {"item_codes": [f"{inside} changed meanwhile"]},
        )
    session.expire_all()  # loaded items must not keep a status the database no longer has


def _audit_override(session: Session, row: dict) -> None:
    record_audit(
        session,
        actor=row["recorded_by"],
        action="shipment.override",
        entity_type="shipment",
        entity_id=row["id"],
        data=row["_override"],
    )


# Events -------------------------------------------------------------------------------


def record_shipment_events(
    session: Session, principal: Principal, records: Sequence[dict]
) -> list[Recorded]:
    """Record logistics events of shipments (by `shipment_id` or `shipment_number`).

    A delivered event confirms the delivery: the shipment is delivered at the event's time
    and its items are delivered. See the module text for the rest.
    """
    found = Shipments(session, records)
    return record_many(
        session, principal, ShipmentEvent, records, partial(_event_row, found), _after_events
    )


class Shipments:
    """The shipments the events of one post are about, and their live closing events."""

    def __init__(self, session: Session, records: Sequence[dict]):
        # Locked, and read as committed once locked: an event posted while the shipment is
        # voided, or two closing events posted at once, take turns and see each other.
        ids = {r.get("shipment_id") for r in records} - {None}
        numbers = {r.get("shipment_number") for r in records} - {None}
        if numbers:
            known = lookup(session, Shipment.number, numbers)
            ids |= {shipment.id for shipment in known.values()}
        self.by_id = lookup(session, Shipment.id, ids, lock="update")
        self.by_number = {s.number: s for s in self.by_id.values() if s.number in numbers}
        self.closing = _closing_events(session, list(self.by_id))
        self.closed_in_post: dict[int, ShipmentStatus] = {}

    def find(self, data: dict) -> Shipment:
        if data.get("shipment_id") is not None:
            shipment, field = self.by_id.get(data["shipment_id"]), "shipment_id"
        else:
            shipment, field = self.by_number.get(data.get("shipment_number")), "shipment_number"
        if shipment is None:
            raise NotFound("no such shipment", {field: ["unknown shipment"]})
        if shipment.is_voided:
            raise Conflict(f"shipment {shipment.number} was voided", {field: ["voided"]})
        return shipment

    def close(self, shipment: Shipment, status: ShipmentStatus) -> None:
        """Note a closing event, refused if the shipment has a live one already."""
        live = self.closing.get(shipment.id)
        if live is not None and not live.is_voided:
            raise Conflict(
                f"shipment {shipment.number} was already {live.status.value} "
                f"at {live.occurred_at.isoformat()}; void or replace that event first",
                {"status": [f"already {live.status.value}"]},
            )
        if shipment.id in self.closed_in_post:
            done = self.closed_in_post[shipment.id].value
            raise Conflict(
                f"shipment {shipment.number} is {done} by another event of this post",
                {"status": [f"already {done}"]},
            )
        self.closed_in_post[shipment.id] = status


def _closing_events(session: Session, shipment_ids: list[int]) -> dict[int, ShipmentEvent]:
    query = select(ShipmentEvent).where(
        ShipmentEvent.shipment_id.in_(shipment_ids),
        ShipmentEvent.status.in_(CLOSING),
        ShipmentEvent.voided_at.is_(None),
    )
    return {event.shipment_id: event for event in session.scalars(query)}


def _event_row(found: Shipments, refs: References, data: dict, digest: str) -> dict:
    shipment = found.find(data)
    occurred_at = check_time(data["occurred_at"])
    if occurred_at < shipment.shipped_at:
        raise Invalid(
            "the event is before the shipment left", {"occurred_at": ["before shipped_at"]}
        )
    replaced_id = _replaced_event(refs, shipment, data)
    if data["status"] in CLOSING:
        found.close(shipment, data["status"])
    return {
        "event_id": data["event_id"],
        "payload_hash": digest,
        "recorded_by": refs.principal.actor,
        "shipment_id": shipment.id,
        "occurred_at": occurred_at,
        "location": data.get("location"),
        "status": data["status"],
        "latitude": data.get("latitude"),
        "longitude": data.get("longitude"),
        "note": data.get("note"),
        "replaces_id": replaced_id,
    }


def _replaced_event(refs: References, shipment: Shipment, data: dict) -> int | None:
    if data.get("replaces") is None:
        return None
    old = refs.session.get(ShipmentEvent, data["replaces"])
    if old is not None and old.shipment_id != shipment.id:
        raise Invalid("a correction stays with its shipment", {"replaces": ["another shipment's"]})
    return replacing(refs.session, refs.principal, ShipmentEvent, data).id


def _after_events(session: Session, rows: list[dict]) -> None:
    for shipment_id in sorted({row["shipment_id"] for row in rows}):
        settle_shipment(session, session.get(Shipment, shipment_id))


def settle_shipment(session: Session, shipment: Shipment) -> Shipment:
    """Bring a shipment's status, delivery time and items in line with its live events.

    A live closing event (delivered, returned) decides; otherwise the latest event does,
    or `shipped` when there is none.
    """
    if shipment.is_voided:
        return shipment
    events = _live_events(session, shipment.id)
    closing = [event for event in events if event.status in CLOSING]
    last = (closing or events)[-1] if events else None
    before = shipment.status
    shipment.status = last.status if last else ShipmentStatus.shipped
    delivered = shipment.status is ShipmentStatus.delivered
    shipment.delivered_at = last.occurred_at if delivered else None
    session.flush()
    if shipment.status is not before and (shipment.status in CLOSING or before in CLOSING):
        _sync_items(session, shipment)
    return shipment


def _live_events(session: Session, shipment_id: int) -> list[ShipmentEvent]:
    query = (
        select(ShipmentEvent)
        .where(ShipmentEvent.shipment_id == shipment_id, ShipmentEvent.voided_at.is_(None))
        .order_by(ShipmentEvent.occurred_at, ShipmentEvent.id)
    )
    return list(session.scalars(query))


def _sync_items(session: Session, shipment: Shipment) -> None:
    """Open or close the shipment's items as its state says; their status follows."""
    is_open = not shipment.is_voided and shipment.status not in CLOSING
    if is_open:
        _check_reopenable(session, shipment)
    session.execute(
        update(SHIPMENT_ITEM)
        .where(SHIPMENT_ITEM.c.shipment_id == shipment.id, SHIPMENT_ITEM.c.open != is_open)
        .values(open=is_open)
    )
    carried = select(SHIPMENT_ITEM.c.item_id).where(SHIPMENT_ITEM.c.shipment_id == shipment.id)
    derive_statuses(session, and_(ITEM.c.id.in_(carried), ITEM.c.status.in_(MOVABLE)))


def _check_reopenable(session: Session, shipment: Shipment) -> None:
    """An item that left with this shipment and is now in another open one, in repair or
    scrapped since, blocks reopening (it cannot be on its way and in the workshop)."""
    busy = session.execute(
        select(Item.code, Item.status)
        .join(ShipmentItem, ShipmentItem.item_id == Item.id)
        .where(
            ShipmentItem.shipment_id == shipment.id,
            Item.status.in_(UNSHIPPABLE),
        )
        .limit(1)
    ).first()
    if busy:
        code, status = busy.code, busy.status.value.replace("_", " ")
        raise Conflict(
            f"item {code} is {status} now; shipment {shipment.number} cannot reopen",
            {"items": [f"{code} is {status}"]},
        )
    other = aliased(ShipmentItem)
    query = (
        select(Item.code, Shipment.number)
        .select_from(ShipmentItem)
        .join(other, and_(other.item_id == ShipmentItem.item_id, other.open))
        .join(Item, Item.id == other.item_id)
        .join(Shipment, Shipment.id == other.shipment_id)
        .where(ShipmentItem.shipment_id == shipment.id, other.shipment_id != shipment.id)
        .limit(1)
    )
    clash = session.execute(query).first()
    if clash:
        raise Conflict(
            f"item {clash.code} is now in open shipment {clash.number}; "
            f"shipment {shipment.number} cannot reopen",
            {"items": [f"{clash.code} is in open shipment {clash.number}"]},
        )


# Voiding and reading -------------------------------------------------------------------


def void_shipment(
    session: Session, principal: Principal, shipment: Shipment, reason: str | None
) -> Shipment:
    """Void a shipment (its poster or quality); its items are released to their former status."""
    require_poster_or_quality(principal, shipment)
    void_record(session, principal.actor, shipment, reason)
    _sync_items(session, shipment)
    return shipment


def void_shipment_event(
    session: Session, principal: Principal, event: ShipmentEvent, reason: str | None
) -> ShipmentEvent:
    """Void a logistics event (its poster or quality); voiding a delivery reopens the shipment."""
    require_poster_or_quality(principal, event)
    void_record(session, principal.actor, event, reason)
    settle_shipment(session, session.get(Shipment, event.shipment_id))
    return event


def list_shipment_items(
    session: Session, shipment: Shipment, after: int | None = None, limit: int = 50
) -> Page:
    """The items a shipment carried, by item id."""
    query = (
        select(Item)
        .join(ShipmentItem, ShipmentItem.item_id == Item.id)
        .where(ShipmentItem.shipment_id == shipment.id)
    )
    return paginate(session, query, Item.id, after, limit)
