"""Recording repairs: warranty, parts replaced and the genealogy they change, the unit's status.

- A repair is open until it has `completed_at`; its outcome is `pending` exactly while it
  is open. Completing an open repair is a correction: post the completed repair with
  `replaces` (the open one's id) and a `void_reason`.
- Times: `completed_at` not before `received_at`, `received_at` not before the unit was
  produced, neither in the future.
- Status: an open repair takes the unit in (status in_repair). When no open repair is left
  (completed by a correction, or voided) the unit gets back the status its other records
  give (trace.production.status). A repair posted already completed leaves the status as
  it is. A unit has at most one open repair; a unit in an open shipment cannot be taken
  in, and a scrapped one gets no repairs at all (409).
- Warranty: under warranty when received within the product's warranty months (calendar
  months) of the unit's first delivery, or of its production when it was never delivered;
  a product with 0 warranty months has none. The poster may set `under_warranty`; when it
  differs from the computed value `warranty_override_reason` is required (422), and the
  override is audited with the computed value.
- Parts: each removed or installed part has a part number and a serial or lot; a part
  that is itself a tracked item is named by `item_code`. An installed part becomes a
  component of the unit (item_component) from the repair's completion (or receipt) time;
  a removed part closes the unit's matching open component (by tracked item, else by part
  number and serial or lot) when there is one. A tracked part still installed in another
  unit must be removed there first (409), and a unit cannot take in a part it is itself
  inside, directly or further up (409). Voiding a repair undoes its genealogy.
- Time order: a tracked part's stays in units may not overlap, nor end before they
  begin. A post whose repairs would make them do so (a part fitted into one unit before
  the time another repair took it out of the last) is refused (409, naming the part).
  Every post locks the tracked parts it moves, so two posts moving one part take turns
  and the second sees the first's times.
- Corrections: a correction of the same unit that lists the very same parts takes over
  the genealogy of the repair it replaces, moved to its own time, rather than undoing it
  and doing it again: a removed part may be back with its supplier by then, an installed
  one taken out again by a later repair. The move keeps the time order (409 naming the
  time field), and on a scrapped unit stays before the scrap (422). A correction with
  other parts undoes the old genealogy first, which needs the removed parts free and the
  installed ones not moved on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from functools import partial

from sqlalchemy import and_, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.orm import Session

from trace.audit.services import record_audit
from trace.auth.services import Principal
from trace.capture import (
    Recorded,
    References,
    check_time,
    items_by_code,
    record_many,
    replacing,
    require_poster_or_quality,
)
from trace.errors import Conflict, DomainError, Invalid
from trace.logistics.models import Shipment, ShipmentItem, ShipmentStatus
from trace.logistics.services import open_shipment_numbers
from trace.production.models import Item, ItemComponent, ItemStatus, Scrap
from trace.production.services import (
    FREE_PART,
    fitted_again,
    hold_free_parts,
    installed_parts,
    lock_parts,
)
from trace.production.status import ITEM, derive_statuses, open_repair
from trace.records import void_record
from trace.service.models import PartDirection, Repair, RepairOutcome, RepairPart
from trace.times import add_months

COMPONENT = ItemComponent.__table__


def record_repairs(
    session: Session, principal: Principal, records: Sequence[dict]
) -> list[Recorded]:
    """Record repairs of items (by code) with their parts, all or nothing; see the module text."""
    known = Workshop(session, records)
    return record_many(
        session, principal, Repair, records, partial(_repair_row, known), _after_repairs
    )


def under_warranty(months: int, start: dt.datetime, received_at: dt.datetime) -> bool:
    """Whether a unit received at `received_at` is within `months` calendar months of `start`."""
    return months > 0 and received_at <= add_months(start, months)


class Workshop:
    """What the repairs of one post refer to, looked up once for the post."""

    def __init__(self, session: Session, records: Sequence[dict]):
        self.session = session
        units = {r["item_code"] for r in records if r.get("item_code")}
        parts = {p["item_code"] for r in records for p in r.get("parts", ()) if p.get("item_code")}
        self.items = items_by_code(session, units | parts)
        self.unit_ids = [self.items[c].id for c in units if isinstance(self.items[c], Item)]
        self.part_ids = [self.items[c].id for c in parts if isinstance(self.items[c], Item)]
        self.opened: set[int] = set()  # units taken in by this post
        self.installing: set[int] = set()  # tracked parts installed by this post
        self.closing: set[int] = set()  # components removed by this post
        # Where this post puts tracked parts: part id -> the unit it goes into (None: out).
        self.moved: dict[int, int | None] = {}
        self.refresh()

    def refresh(self) -> None:
        """Read again what a correction may have changed: open repairs, shipments, genealogy."""
        self.first_delivery = _first_deliveries(self.session, self.unit_ids)
        self.open_repairs = _open_repairs(self.session, self.unit_ids)
        self.open_shipment = open_shipment_numbers(self.session, self.unit_ids)
        self.installed = installed_parts(self.session, self.part_ids)
        self.units_inside = installed_parts(self.session, self.unit_ids)
        self.components = _components_of(self.session, self.unit_ids)

    def host_of(self, unit_id: int) -> int | None:
        """The unit one of the post's units is inside, as this post leaves it."""
        if unit_id in self.moved:
            return self.moved[unit_id]
        link = self.units_inside.get(unit_id)
        return link.item_id if link else None

    def hosts_of(self, item_id: int) -> list[int]:
        """The units that will hold `item_id` once this post is in (see _hosts_of)."""
        return _hosts_of(self.session, item_id, self.moved)

    def part_item(self, code: str | None) -> Item | None:
        if not code:
            return None
        found = self.items[code]
        if isinstance(found, DomainError):
            raise found
        return found


# Deeper than any real assembly: a genealogy this deep is already a loop.
MAX_ASSEMBLY_DEPTH = 64


def _hosts_of(
    session: Session, item_id: int, moved: dict[int, int | None] | None = None
) -> list[int]:
    """The units that hold `item_id` now, innermost first: its host, its host's host, ...

    Each unit sits in at most one other at a time (a part must be removed before it is
    installed elsewhere), so this is a chain, walked one indexed step per level. `moved`
    gives the hosts a post's earlier records change (part id -> new host or None).
    """
    hosts, current, moved = [], item_id, moved or {}
    for _ in range(MAX_ASSEMBLY_DEPTH):
        if current in moved:
            current = moved[current]
        else:
            current = session.scalar(
                select(ItemComponent.item_id).where(
                    ItemComponent.component_item_id == current, ItemComponent.removed_at.is_(None)
                )
            )
        if current is None or current in hosts:
            return hosts
        hosts.append(current)
    return hosts


def _first_deliveries(session: Session, item_ids: list[int]) -> dict[int, dt.datetime]:
    query = (
        select(ShipmentItem.item_id, func.min(Shipment.delivered_at))
        .join(Shipment, Shipment.id == ShipmentItem.shipment_id)
        .where(
            ShipmentItem.item_id.in_(item_ids),
            Shipment.status == ShipmentStatus.delivered,
            Shipment.voided_at.is_(None),
        )
        .group_by(ShipmentItem.item_id)
    )
    return dict(session.execute(query).all())


def _open_repairs(session: Session, item_ids: list[int]) -> dict[int, Repair]:
    query = select(Repair).where(
        Repair.item_id.in_(item_ids), Repair.completed_at.is_(None), Repair.voided_at.is_(None)
    )
    return {repair.item_id: repair for repair in session.scalars(query)}


def _components_of(session: Session, unit_ids: list[int]) -> dict[int, list[ItemComponent]]:
    query = (
        select(ItemComponent)
        .where(ItemComponent.item_id.in_(unit_ids), ItemComponent.removed_at.is_(None))
        .order_by(ItemComponent.id)
    )
    found: dict[int, list[ItemComponent]] = {}
    for component in session.scalars(query):
        found.setdefault(component.item_id, []).append(component)
    return found


def _repair_row(known: Workshop, refs: References, data: dict, digest: str) -> dict:
    item, _ = refs.subject(data)
    received_at, completed_at = _times(item, data)
    outcome = _outcome(data, completed_at)
    moment = completed_at or received_at  # when its parts go in and come out
    old = known.session.get(Repair, data["replaces"]) if data.get("replaces") else None
    same_parts = old is not None and _posted_part_keys(known, data) == _recorded_part_keys(old)
    # A correction of a live repair of this unit listing its very parts takes them over.
    repeats = same_parts and not old.is_voided and old.item_id == item.id and bool(old.parts)
    scrapped = item.status is ItemStatus.scrapped
    if scrapped:
        _check_correctable_on_scrapped(known, item, completed_at, old, same_parts)
    if repeats:  # whose it is first, then whether its parts may move to this time
        require_poster_or_quality(refs.principal, old)
        field = "completed_at" if completed_at else "received_at"
        _check_take_over(known.session, old.id, moment, field)
    replaced_id = _replaced_repair(refs, known, data, old, repeats)
    _check_intake(known, item, completed_at)
    warranty, reason, override = _warranty(known, item, data, received_at)
    parts = _parts(known, item, data.get("parts", []), moment, moving=not repeats)
    return {
        "event_id": data["event_id"],
        "payload_hash": digest,
        "recorded_by": refs.principal.actor,
        "item_id": item.id,
        "technician": data["technician"],
        "received_at": received_at,
        "completed_at": completed_at,
        "symptom": data["symptom"],
        "diagnosis": data.get("diagnosis"),
        "action": data.get("action"),
        "outcome": outcome,
        "under_warranty": warranty,
        "warranty_override_reason": reason,
        "replaces_id": replaced_id,
        "_scrapped": scrapped,  # a correction on a scrapped unit, checked above
        "_takes_over": replaced_id if repeats else None,  # the genealogy of that repair
        "_parts": parts,
        "_override": override,
    }


def _times(item: Item, data: dict) -> tuple[dt.datetime, dt.datetime | None]:
    received_at = check_time(data["received_at"], "received_at")
    if received_at < item.produced_at:
        raise Invalid("received before it was made", {"received_at": ["before produced_at"]})
    completed_at = data.get("completed_at")
    if completed_at is None:
        return received_at, None
    if check_time(completed_at, "completed_at") < received_at:
        raise Invalid("completed before received", {"completed_at": ["before received_at"]})
    return received_at, completed_at


def _outcome(data: dict, completed_at: dt.datetime | None) -> RepairOutcome:
    outcome = data.get("outcome") or (None if completed_at else RepairOutcome.pending)
    if outcome is None:
        raise Invalid("a completed repair has an outcome", {"outcome": ["required"]})
    if completed_at and outcome is RepairOutcome.pending:
        raise Invalid("a completed repair is not pending", {"outcome": ["pending"]})
    if not completed_at and outcome is not RepairOutcome.pending:
        raise Invalid(
            "an outcome other than pending needs completed_at",
            {"completed_at": [f"required when the outcome is {outcome.value}"]},
        )
    return outcome


def _replaced_repair(
    refs: References, known: Workshop, data: dict, old: Repair | None, repeats: bool
) -> int | None:
    """The repair a correction replaces (`old`, if it exists), voided; its genealogy
    undone, unless the correction `repeats` its parts and takes it over."""
    if data.get("replaces") is None:
        return None
    if old is not None and not old.is_voided and not repeats:
        _check_undoable(refs.session, old)
    old = replacing(refs.session, refs.principal, Repair, data)
    if not repeats:
        _undo(refs.session, old)
    known.refresh()
    return old.id


# What tells one recorded part from another.
PART_KEY = ("direction", "part_number", "serial", "lot", "component_item_id")


def _check_correctable_on_scrapped(
    known: Workshop,
    item: Item,
    completed_at: dt.datetime | None,
    old: Repair | None,
    same_parts: bool,
) -> None:
    """A scrapped unit gets no repairs, only corrections of what its completed repairs
    say (a repair that found it not repairable, with a typo): a correction of a live,
    completed repair of this unit, itself completed, with the very same parts (so that
    its genealogy is taken over, not undone), and completed by the time of the scrap."""
    if (
        old is None
        or old.item_id != item.id
        or old.is_voided
        or old.completed_at is None
        or completed_at is None
        or not same_parts
    ):
        raise _scrapped_refusal(item)
    scrapped_at = known.session.scalar(
        select(Scrap.occurred_at).where(Scrap.item_id == item.id, Scrap.voided_at.is_(None))
    )
    if scrapped_at is not None and completed_at > scrapped_at:
        raise Invalid(
            "a scrapped unit's repair was completed by the time it was scrapped",
            {"completed_at": ["after the unit was scrapped"]},
        )


def _posted_part_keys(known: Workshop, data: dict) -> list[tuple] | None:
    try:
        return _part_keys(_part_row(known, part)[0] for part in data.get("parts", []))
    except DomainError:  # a part that names no item matches no recorded one
        return None


def _recorded_part_keys(repair: Repair) -> list[tuple]:
    return _part_keys(
        {column: getattr(part, column) for column in PART_KEY} for part in repair.parts
    )


def _part_keys(rows) -> list[tuple]:
    """Part rows comparable as a whole, whatever their order."""
    return sorted((tuple(row[column] for column in PART_KEY) for row in rows), key=repr)


def _scrapped_refusal(item: Item) -> Conflict:
    return Conflict(
        f"item {item.code} is scrapped: only what a completed repair of it says can be corrected",
        {"item_code": ["scrapped"]},
    )


def _check_intake(known: Workshop, item: Item, completed_at: dt.datetime | None) -> None:
    """An open repair needs the unit free to take in (a scrapped one gets no repair at all:
    _check_correctable_on_scrapped)."""
    if completed_at is not None:
        return
    if item.id in known.open_repairs:
        other = known.open_repairs[item.id].id
        raise Conflict(f"item {item.code} is in open repair {other}", {"item_code": ["in repair"]})
    if item.id in known.opened:
        raise Conflict(
            f"item {item.code} is taken in by another repair of this post",
            {"item_code": ["in repair"]},
        )
    host_id = known.host_of(item.id)
    if host_id is not None:
        host = known.session.get(Item, host_id)
        raise Conflict(
            f"item {item.code} is inside unit {host.code}: take that in, or remove it first",
            {"item_code": [f"inside unit {host.code}"]},
        )
    if item.id in known.open_shipment:
        number = known.open_shipment[item.id]
        raise Conflict(
            f"item {item.code} is in open shipment {number}",
            {"item_code": [f"in open shipment {number}"]},
        )
    known.opened.add(item.id)


def _warranty(known: Workshop, item: Item, data: dict, received_at: dt.datetime):
    """(under warranty, override reason, what to audit): computed, or the poster's override."""
    start = known.first_delivery.get(item.id) or item.produced_at
    computed = under_warranty(item.product.warranty_months, start, received_at)
    given, reason = data.get("under_warranty"), data.get("warranty_override_reason")
    if given is None:
        if reason:
            raise Invalid("an override reason needs the override", {"under_warranty": ["required"]})
        return computed, None, None
    if given == computed:
        return given, reason, None
    if not reason:
        raise Invalid(
            f"the computed warranty is {computed}; overriding it needs a reason",
            {"warranty_override_reason": [f"required: the computed value is {computed}"]},
        )
    return given, reason, {"computed": computed, "under_warranty": given, "reason": reason}


def _parts(
    known: Workshop, item: Item, parts: list[dict], moment: dt.datetime, moving: bool = True
) -> list[dict]:
    """The parts as rows, fitted or taken out at `moment`; every bad one is reported by
    its index. Not `moving`, they are where a replaced repair put them (a take-over)."""
    rows, errors = [], {}
    for index, part in enumerate(parts):
        try:
            rows.append(_part(known, item, part, moment, moving))
        except DomainError as error:
            errors[str(index)] = error
    if errors:
        raise _parts_refused(errors)
    return rows


def _parts_refused(errors: dict[str, DomainError]) -> DomainError:
    first = next(iter(errors.values()))
    message = first.message if len(errors) == 1 else f"{len(errors)} parts were refused"
    kind = type(first) if len({e.status for e in errors.values()}) == 1 else Invalid
    return kind(message, {"parts": {i: e.fields for i, e in errors.items()}})


def _part(known: Workshop, item: Item, part: dict, moment: dt.datetime, moving: bool) -> dict:
    row, tracked = _part_row(known, part)
    if tracked and row["serial"] != tracked.serial:
        raise Invalid("serial and item differ", {"serial": [f"item's serial is {tracked.serial}"]})
    if not (row["serial"] or row["lot"]):
        raise Invalid(
            "a part needs a serial or a lot", {"serial": ["give serial, lot or item_code"]}
        )
    if part["direction"] is PartDirection.installed:
        if tracked and tracked.produced_at > moment:
            raise Invalid("fitted before it was made", {"item_code": ["made after this repair"]})
        if moving:
            _check_installable(known, item, tracked)
    elif moving:
        row["_closes"] = _matching_component(known, item, row, moment)
        if row["_closes"] is not None and tracked is not None:
            known.moved[tracked.id] = None
    return row


def _part_row(known: Workshop, part: dict) -> tuple[dict, Item | None]:
    """A posted part as its row (a tracked part's serial is its item's unless given), and
    the tracked item if it is one."""
    tracked = known.part_item(part.get("item_code"))
    row = {
        "direction": part["direction"],
        "part_number": part["part_number"],
        "serial": part.get("serial") or (tracked.serial if tracked else None),
        "lot": part.get("lot"),
        "component_item_id": tracked.id if tracked else None,
        "_closes": None,
    }
    return row, tracked


def _check_installable(known: Workshop, item: Item, tracked: Item | None) -> None:
    if tracked is None:
        return
    if tracked.id == item.id:
        raise Invalid("a unit cannot contain itself", {"item_code": ["the repaired item"]})
    if tracked.id in known.hosts_of(item.id):
        raise Conflict(
            f"the repaired unit is itself inside part {tracked.code}; a unit cannot contain "
            "what contains it",
            {"item_code": ["contains the repaired unit"]},
        )
    # Not scrapped, on its way or in the workshop.
    if tracked.status not in FREE_PART:
        where = tracked.status.value.replace("_", " ")
        raise Conflict(f"part {tracked.code} is {where}", {"item_code": [where]})
    host = known.installed.get(tracked.id)
    if tracked.id in known.installing or (host is not None and host.id not in known.closing):
        where = "another repair of this post" if host is None else f"item id {host.item_id}"
        raise Conflict(
            f"part {tracked.code} is installed in {where}; remove it there first",
            {"item_code": ["installed elsewhere"]},
        )
    known.installing.add(tracked.id)
    known.moved[tracked.id] = item.id


def _matching_component(known: Workshop, item: Item, part: dict, moment) -> int | None:
    """The unit's open component a removed part is, if the genealogy knows it."""
    for component in known.components.get(item.id, []):
        # An untracked part fitted after `moment` is not the one taken out then (a tracked
        # one is: _check_timelines refuses the removal by name).
        if part["component_item_id"] is None and component.installed_at > moment:
            continue
        if component.id not in known.closing and _same_part(component, part):
            known.closing.add(component.id)
            return component.id
    return None


def _same_part(component: ItemComponent, part: dict) -> bool:
    if part["component_item_id"] is not None:
        return component.component_item_id == part["component_item_id"]
    if component.part_number != part["part_number"]:
        return False
    return component.serial == part["serial"] if part["serial"] else component.lot == part["lot"]


def _after_repairs(session: Session, rows: list[dict]) -> None:
    parts = [(row, part) for row in rows for part in row["_parts"]]
    if parts:
        tracked = sorted({p["component_item_id"] for _, p in parts if p["component_item_id"]})
        # Held until commit: another post moving these parts waits, then sees where they are.
        lock_parts(session, tracked)
        session.execute(insert(RepairPart), [_part_values(row, part) for row, part in parts])
        _record_genealogy(session, [(row, part) for row, part in parts if not row["_takes_over"]])
        for row in rows:
            if row["_takes_over"]:
                _take_over_genealogy(session, row)
        _check_timelines(session, [row["id"] for row in rows], tracked)
    item_ids = list({row["item_id"] for row in rows})
    _settle_items(session, item_ids)
    _check_not_scrapped_meanwhile(session, [r["item_id"] for r in rows if not r["_scrapped"]])
    _hold_installed_parts(session, [(row, part) for row, part in parts if not row["_takes_over"]])
    _check_not_shipped_meanwhile(session, [r["item_id"] for r in rows if not r["completed_at"]])
    for row in rows:
        if row["_override"]:
            _audit_override(session, row)


def _check_not_scrapped_meanwhile(session: Session, item_ids: list[int]) -> None:
    # Each unit was checked as not scrapped, but on PostgreSQL a scrap committed since
    # may have slipped in between (its own update then waits for ours, or ours skipped
    # its unit): the repair must not stand on a scrapped unit.
    scrapped = session.scalar(
        select(Item.code).where(Item.id.in_(item_ids), Item.status == ItemStatus.scrapped).limit(1)
    )
    if scrapped is not None:
        raise Conflict(
            f"item {scrapped} was scrapped while this repair was posted",
            {"item_code": ["scrapped"]},
        )


def _hold_installed_parts(session: Session, parts: list[tuple[dict, dict]]) -> None:
    # Each tracked part was checked as not scrapped; a scrap of it committed since must
    # not leave it scrapped inside a unit (and one under way waits for this repair).
    installing = [
        part["component_item_id"]
        for _, part in parts
        if part["direction"] is PartDirection.installed and part["component_item_id"]
    ]
    if not hold_free_parts(session, installing):
        raise Conflict(
            "a part this repair installs was scrapped, shipped or taken in while it was posted",
            {"parts": ["a part was taken meanwhile; post again"]},
        )


def _check_not_shipped_meanwhile(session: Session, taken_in: list[int]) -> None:
    # The same race with a shipment: a unit taken in must not be on its way too (a
    # shipment that commits second finds the unit in repair and refuses).
    shipped = open_shipment_numbers(session, taken_in) if taken_in else {}
    if shipped:
        item_id, number = next(iter(shipped.items()))
        code = session.scalar(select(Item.code).where(Item.id == item_id))
        raise Conflict(
            f"item {code} left in shipment {number} while this repair was posted",
            {"item_code": [f"in open shipment {number}"]},
        )


def _part_values(row: dict, part: dict) -> dict:
    values = {key: value for key, value in part.items() if not key.startswith("_")}
    return {"repair_id": row["id"], **values}


def _record_genealogy(session: Session, parts: list[tuple[dict, dict]]) -> None:
    installed = [
        {
            "item_id": row["item_id"],
            "component_item_id": part["component_item_id"],
            "part_number": part["part_number"],
            "serial": part["serial"],
            "lot": part["lot"],
            "installed_at": _moment(row),
            "installed_by_repair_id": row["id"],
        }
        for row, part in parts
        if part["direction"] is PartDirection.installed
    ]
    removed = [
        {
            "component": part["_closes"],
            "at": _moment(row),
            "repair": row["id"],
        }
        for row, part in parts
        if part["_closes"] is not None
    ]
    # Closed first: a part one record of the post removes, another may install elsewhere.
    if removed:
        session.connection().execute(_CLOSE_COMPONENT, removed)
        _check_closed(session, removed)
    if installed:
        session.execute(insert(ItemComponent), installed)


_CLOSE_COMPONENT = (
    update(COMPONENT)
    .where(COMPONENT.c.id == bindparam("component"), COMPONENT.c.removed_at.is_(None))
    .values(
        removed_at=bindparam("at", type_=COMPONENT.c.removed_at.type),
        removed_by_repair_id=bindparam("repair"),
    )
)


def _moment(row: dict) -> dt.datetime:
    """When a repair's parts go in and come out: its completion, or its receipt while open."""
    return row["completed_at"] or row["received_at"]


def _check_closed(session: Session, removed: list[dict]) -> None:
    # Each link was open when the post was checked; on PostgreSQL another post may have
    # closed it, or a void taken it away, before this one held the part.
    closed = session.scalar(
        select(func.count()).where(
            COMPONENT.c.id.in_([link["component"] for link in removed]),
            COMPONENT.c.removed_by_repair_id.in_({link["repair"] for link in removed}),
        )
    )
    if closed != len(removed):
        raise Conflict(
            "a part this repair removes was moved by another post meanwhile",
            {"parts": ["changed meanwhile; post again"]},
        )


def _take_over_genealogy(session: Session, row: dict) -> None:
    """The links the replaced repair made or closed become the correction's, at its time."""
    old = row["_takes_over"]
    for by, at in (
        (COMPONENT.c.installed_by_repair_id, "installed_at"),
        (COMPONENT.c.removed_by_repair_id, "removed_at"),
    ):
        session.execute(
            update(COMPONENT).where(by == old).values({by.key: row["id"], at: _moment(row)})
        )


def _check_timelines(session: Session, repair_ids: list[int], part_ids: list[int]) -> None:
    """Refuse what the post's repairs did to the genealogy if a tracked part now comes out
    of a unit before it went in, or is in two units at once (a repair of another post, or
    another record of this one, may have moved it in between)."""
    c = COMPONENT.c
    touched = or_(c.installed_by_repair_id.in_(repair_ids), c.removed_by_repair_id.in_(repair_ids))
    query = select(c.component_item_id, c.installed_at, c.removed_at, touched).where(
        c.component_item_id.in_(part_ids)
    )
    wrong = _out_of_order(sorted(session.execute(query), key=_stay_order))
    if wrong is not None:
        code = session.scalar(select(Item.code).where(Item.id == wrong))
        raise Conflict(
            f"part {code} would come out of a unit before it went in, or be in two units at "
            "once; the times of the repairs that move it disagree",
            {"parts": [f"{code}: out of order with its other installations"]},
        )


def _check_take_over(session: Session, old: int, moment: dt.datetime, field: str) -> None:
    """Refuse to move the links of repair `old` to `moment` if a part would then come out
    before it went in, or be in two units at once."""
    c = COMPONENT.c
    by_old = or_(c.installed_by_repair_id == old, c.removed_by_repair_id == old)
    tracked = select(c.component_item_id).where(by_old, c.component_item_id.is_not(None))
    query = select(
        c.component_item_id,
        c.installed_at,
        c.removed_at,
        c.installed_by_repair_id == old,
        c.removed_by_repair_id == old,
    ).where(or_(by_old, c.component_item_id.in_(tracked)))
    links = []  # as they would be: part, installed, removed, moved
    for part, installed_at, removed_at, fitted, taken in session.execute(query):
        installed_at = moment if fitted else installed_at
        links.append((part, installed_at, moment if taken else removed_at, bool(fitted or taken)))
    links.sort(key=lambda link: (link[0] is None, link[0] or 0, *_stay_order(link)[1:]))
    if _out_of_order(links, untracked=True) is not None:
        raise Conflict(
            "at this time a part of the repair would come out before it went in, or be in "
            "two units at once; correct the other repair first",
            {field: ["out of order with the part's other installations"]},
        )


def _stay_order(link):
    # By part, then start; of stays starting together, one that ends there first, an open one last.
    part, installed_at, removed_at = link[0], link[1], link[2]
    return (part, installed_at, removed_at is None, removed_at or installed_at)


OUT_OF_ORDER = object()  # an untracked part's link: it has no id to name


def _out_of_order(links, untracked: bool = False):
    """The part of the first moved link that ends before it starts, or overlaps the link of
    the same tracked part before or after it; None if there is none. `links`: part,
    installed, removed, moved; ordered by part, then installation (untracked parts, with
    no part id, only when `untracked`). Disorder among links not moved is not this post's
    doing."""
    previous = None
    for link in links:
        part_id, installed_at, removed_at, moved = link
        if moved and removed_at is not None and removed_at < installed_at:
            return OUT_OF_ORDER if part_id is None else part_id
        if (
            part_id is not None
            and previous is not None
            and previous[0] == part_id
            and (moved or previous[3])
            and (previous[2] is None or previous[2] > installed_at)
        ):
            return part_id
        previous = link
    return None


def _settle_items(session: Session, item_ids: list[int]) -> None:
    """An open repair takes a unit in; with none left, a unit in repair gets its status back."""
    in_repair = or_(ITEM.c.status == ItemStatus.in_repair, open_repair())
    derive_statuses(session, and_(ITEM.c.id.in_(item_ids), in_repair))


def _audit_override(session: Session, row: dict) -> None:
    record_audit(
        session,
        actor=row["recorded_by"],
        action="repair.warranty_override",
        entity_type="repair",
        entity_id=row["id"],
        data=row["_override"],
    )


# Voiding ------------------------------------------------------------------------------


def void_repair(
    session: Session, principal: Principal, repair: Repair, reason: str | None
) -> Repair:
    """Void a repair (its poster or quality); its genealogy is undone, the unit's status follows."""
    require_poster_or_quality(principal, repair)
    if not repair.is_voided:
        _check_undoable(session, repair)
    void_record(session, principal.actor, repair, reason)
    _undo(session, repair)
    return repair


def _check_undoable(session: Session, repair: Repair) -> None:
    """Refuse to undo a repair whose parts later repairs or a scrap moved on. Its tracked
    parts are held first: a post moving one of them waits for the undo, or was seen."""
    lock_parts(session, [part.component_item_id for part in repair.parts if part.component_item_id])
    removed_since = select(
        ItemComponent.removed_by_repair_id, ItemComponent.removed_by_scrap_id
    ).where(
        ItemComponent.installed_by_repair_id == repair.id, ItemComponent.removed_at.is_not(None)
    )
    later = session.execute(removed_since.limit(1)).first()
    if later is not None:
        by = f"repair {later[0]}" if later[0] is not None else f"scrap {later[1]}"
        raise Conflict(
            f"{by} removed a part this repair installed; void that first",
            {"repair": [f"{by} depends on it"]},
        )
    _check_installed_parts_not_scrapped(session, repair)
    removed = list(session.scalars(_removed_parts(repair)))
    # Held until the undo commits: a scrap, shipment or intake of a removed part under way
    # waits, or was seen.
    if not hold_free_parts(session, removed):
        raise _removed_part_taken(session, removed)
    back = fitted_again(session, lambda link: link.removed_by_repair_id == repair.id)
    if back is not None:
        raise Conflict(
            f"part {back[0]}, which this repair removed, went into unit {back[1]} since; "
            "undoing the repair would put it in two units",
            {"repair": ["a removed part was fitted again since"]},
        )
    # Putting a removed part back must not close a loop: the unit may since have gone
    # inside that very part.
    if set(_hosts_of(session, repair.item_id)) & set(removed):
        raise Conflict(
            "the repaired unit is now inside a part this repair removed; undoing it would "
            "put that part back inside the unit",
            {"repair": ["the unit is inside a part it removed"]},
        )
    if removed and repair.item.status is ItemStatus.scrapped:
        raise Conflict(
            "the unit is scrapped: undoing this repair would put a part it removed back "
            "inside it; void the scrap first",
            {"repair": ["the unit is scrapped"]},
        )


def _check_installed_parts_not_scrapped(session: Session, repair: Repair) -> None:
    gone = session.scalar(
        select(Item.code)
        .join(ItemComponent, ItemComponent.component_item_id == Item.id)
        .where(
            ItemComponent.installed_by_repair_id == repair.id,
            ItemComponent.removed_at.is_(None),
            Item.status == ItemStatus.scrapped,
        )
        .limit(1)
    )
    if gone is not None:
        raise Conflict(
            f"part {gone}, which this repair installed, was scrapped with the unit; "
            "void the scrap first",
            {"repair": ["an installed part was scrapped since"]},
        )


def _removed_part_taken(session: Session, removed: list[int]) -> Conflict:
    """Why a part the repair removed cannot go back: scrapped, shipped or in repair since."""
    code, status = session.execute(
        select(Item.code, Item.status).where(Item.id.in_(removed), Item.status.not_in(FREE_PART))
    ).first() or ("?", None)
    if status is ItemStatus.scrapped:
        return Conflict(
            f"part {code}, which this repair removed, was scrapped since; void that first",
            {"repair": ["a removed part was scrapped since"]},
        )
    return Conflict(
        f"part {code}, which this repair removed, was shipped or taken in since",
        {"repair": ["a removed part is no longer free"]},
    )


def _removed_parts(repair: Repair):
    """The tracked parts `repair` took out of its unit."""
    return select(ItemComponent.component_item_id).where(
        ItemComponent.removed_by_repair_id == repair.id,
        ItemComponent.component_item_id.is_not(None),
    )


def _undo(session: Session, repair: Repair) -> None:
    """Take back the repair's genealogy; the unit's status follows what is left."""
    session.execute(delete(COMPONENT).where(COMPONENT.c.installed_by_repair_id == repair.id))
    session.execute(
        update(COMPONENT)
        .where(COMPONENT.c.removed_by_repair_id == repair.id)
        .values(removed_at=None, removed_by_repair_id=None)
    )
    _settle_items(session, [repair.item_id])
