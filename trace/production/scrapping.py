"""Scrapping units: the record that takes a unit out of the world, and undoing it.

A line scraps a failed unit not worth reworking, a service centre one it cannot repair,
quality one it will not release. The unit's status becomes `scrapped`: it cannot be
shipped or repaired any more, and its scan page warns whoever holds it.

Refused, each with the reason (409): a unit already scrapped, one on its way in an open
shipment, one in an open repair (the repair is completed first, `not_repairable`), and a
tracked part still installed in another unit (a repair removes it first). A key bound to
a line or station names the station it scraps at. A correction (`replaces`) replaces a
scrap of the same unit, which stays scrapped. Voiding a scrap gives the unit back the
status its other records give (trace.production.status).

Tracked parts inside the unit (a pump with a code of its own) either go with it or are
salvaged. The scrap names those taken out to be used again (`salvaged`): their component
link is closed by the scrap, and they keep their status. Every other tracked part inside,
and the parts inside those, gets a scrap of its own that points at the unit's
(`inside_scrap_id`); it stands or falls with the unit's, and cannot be voided or
corrected alone. Voiding the unit's scrap (or correcting it) voids those, and puts the
salvaged parts back, if they are still free to go back. A correction that salvages the
very same parts leaves them where they went since and takes their salvage over, at its
own time (which must still fall after each went in and before it went in anywhere else).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from functools import partial

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from trace.audit.services import record_audit
from trace.auth.services import Principal
from trace.capture import (
    LOOKUP_CHUNK,
    Recorded,
    References,
    check_time,
    insert_records,
    items_by_code,
    record_many,
    replacing,
    require_poster_or_quality,
)
from trace.errors import Conflict, DomainError, Invalid
from trace.production.models import Item, ItemComponent, ItemStatus, Scrap
from trace.production.services import (
    fitted_again,
    hold_free_parts,
    installed_parts,
    lock_parts,
)
from trace.production.status import ITEM, derive_statuses
from trace.records import require_reason, void_record
from trace.service.models import Repair

COMPONENT = ItemComponent.__table__
# The event ids of the scraps of parts that went with a unit are derived from the unit's.
PARTS_NAMESPACE = uuid.UUID("0f4c2a8e-6b1d-5e93-a7c0-3d95e1b48f62")
# Genealogy is a tree (repairs refuse loops); this only bounds a walk down it.
MAX_DEPTH = 32
MAX_SALVAGED = 100

# Why a unit in each of these statuses cannot be scrapped now: (message, field error).
_REFUSED = {
    ItemStatus.scrapped: ("is already scrapped", "already scrapped"),
    ItemStatus.shipped: ("is in an open shipment: deliver or void it first", "in a shipment"),
    ItemStatus.in_repair: ("is in repair: complete the repair first", "in repair"),
}
SCRAPPABLE = [status for status in ItemStatus if status not in _REFUSED]


def record_scraps(
    session: Session, principal: Principal, records: Sequence[dict]
) -> list[Recorded]:
    """Scrap units (by code), all or nothing; retried posts change nothing."""
    build_row = partial(_scrap_row, post=_Post())
    return record_many(session, principal, Scrap, records, build_row, _after_scraps)


class _Post:
    """What the checks of one post's records share: the units it scraps so far, where
    each of its items is installed, and the parts it salvages (one query each, on first
    use)."""

    def __init__(self):
        self.units: set[int] = set()
        self.salvaging: set[int] = set()
        self._installed: dict[int, ItemComponent] | None = None
        self._parts: dict[str, Item | DomainError] | None = None
        self._hosts: set[int] | None = None

    def installed(self, refs: References) -> dict[int, ItemComponent]:
        """Where each of the post's items is installed now, if anywhere."""
        if self._installed is None:
            ids = _item_ids(refs)
            self._installed = installed_parts(refs.session, ids) if ids else {}
        return self._installed

    def has_parts(self, refs: References, item: Item) -> bool:
        """Whether a tracked part is inside `item` (for all the post's units at once)."""
        if self._hosts is None:
            ids, self._hosts = _item_ids(refs), set()
            for start in range(0, len(ids), LOOKUP_CHUNK):
                links = refs.session.execute(_links_under(ids[start : start + LOOKUP_CHUNK]))
                self._hosts.update(host_id for host_id, *_ in links)
        return item.id in self._hosts

    def part(self, refs: References, code: str) -> Item:
        if self._parts is None:
            codes = {c for data in refs.records for c in data.get("salvaged") or ()}
            self._parts = items_by_code(refs.session, codes)
        found = self._parts[code]
        if isinstance(found, DomainError):
            why = "; ".join(found.fields.get("item_code", [found.message]))
            raise Invalid(f"salvaged part {code!r}: {why}", {"salvaged": [f"{code}: {why}"]})
        return found


def _scrap_row(refs: References, data: dict, digest: str, post: _Post) -> dict:
    item, _ = refs.subject(data)
    row = {
        "event_id": data["event_id"],
        "payload_hash": digest,
        "recorded_by": refs.principal.actor,
        "item_id": item.id,
        "station_id": _station_id(refs, data),
        "occurred_at": _occurred_at(item, data),
        "reason": _reason(data),
    }
    keeps = _repeats_salvage(refs, post, item, data)
    replaced = _replaced(refs, item, data, post.installed(refs), keeps is not None)
    if replaced is None:
        _check_scrappable(refs.session, item, post.installed(refs))
    if item.id in post.units:
        raise Conflict(
            f"item {item.code} is scrapped twice in this post",
            {"item_code": ["twice in this post"]},
        )
    post.units.add(item.id)
    if keeps is not None:  # the parts stay where they are; their salvage moves to this scrap
        _check_salvage_moves(refs.session, keeps, row["occurred_at"])
        salvaged = []
    else:
        salvaged = _salvaged(refs, post, item, data, row["occurred_at"])
    _check_after_repairs(refs.session, item, row["occurred_at"])
    if post.has_parts(refs, item):
        _check_parts_can_go(refs.session, item, salvaged)
    # A correction of a live scrap finds its unit scrapped already, and leaves it so.
    kept = replaced is not None and item.status is ItemStatus.scrapped
    return row | {
        "replaces_id": replaced.id if replaced else None,
        "inside_scrap_id": None,
        "_kept": kept,
        "_salvaged": salvaged,
        "_salvage_of": keeps.id if keeps is not None else None,
    }


def _salvaged(refs: References, post: _Post, item: Item, data: dict, occurred_at) -> list[int]:
    """The component links of the parts the scrap takes out of the unit to use again:
    each a tracked part inside this unit now, named once."""
    codes = data.get("salvaged") or []
    if len(codes) > MAX_SALVAGED:
        raise Invalid("too many salvaged parts", {"salvaged": [f"at most {MAX_SALVAGED}"]})
    parts = [post.part(refs, code) for code in codes]
    if not parts:
        return []
    links = {
        link.component_item_id: link
        for link in refs.session.scalars(
            select(ItemComponent).where(
                ItemComponent.item_id == item.id,
                ItemComponent.component_item_id.in_([part.id for part in parts]),
                ItemComponent.removed_at.is_(None),
            )
        )
    }
    for part in parts:
        if part.id in post.salvaging:
            raise Invalid(
                f"part {part.code} is salvaged twice", {"salvaged": [f"{part.code}: named twice"]}
            )
        post.salvaging.add(part.id)
        link = links.get(part.id)
        if link is None:
            raise Conflict(
                f"part {part.code} is not inside unit {item.code}",
                {"salvaged": [f"{part.code}: not inside this unit"]},
            )
        _check_installed_by(link, occurred_at)
    return [links[part.id].id for part in parts]


def _repeats_salvage(refs: References, post: _Post, item: Item, data: dict) -> Scrap | None:
    """The live scrap of this unit a correction replaces, if it salvages the very same
    parts: those keep where they went since (fitted into another unit, say), and the
    correction takes their salvage over instead of putting them back and out again."""
    codes = data.get("salvaged") or []
    old = refs.session.get(Scrap, data["replaces"]) if data.get("replaces") else None
    if not codes or old is None or old.is_voided or old.item_id != item.id:
        return None
    parts = {post.part(refs, code).id for code in codes}
    if len(parts) != len(codes) or parts != {link.component_item_id for link in old.salvaged}:
        return None
    post.salvaging.update(parts)
    return old


def _check_salvage_moves(session: Session, old: Scrap, occurred_at) -> None:
    """The salvage of `old`, moved to `occurred_at`, still takes each part out after it
    went in and before it went into a unit again."""
    lock_parts(session, [link.component_item_id for link in old.salvaged])
    for link in old.salvaged:
        _check_installed_by(link, occurred_at)
    again = fitted_again(
        session, lambda link: link.removed_by_scrap_id == old.id, before=occurred_at
    )
    if again is not None:
        raise Conflict(
            f"salvaged part {again[0]} went into unit {again[1]} before this time",
            {"occurred_at": [f"after {again[0]} was fitted again"]},
        )


def _check_installed_by(link: ItemComponent, occurred_at) -> None:
    if occurred_at < link.installed_at:
        code = link.component.code
        raise Invalid(
            f"part {code} was installed after this time",
            {"occurred_at": [f"before {code} was installed"]},
        )


def _check_after_repairs(session: Session, item: Item, occurred_at) -> None:
    """A unit is scrapped after its repairs: the parts they fitted or took out (at their
    completion, or receipt) were where they say when it was scrapped."""
    last = session.scalar(
        select(func.max(func.coalesce(Repair.completed_at, Repair.received_at))).where(
            Repair.item_id == item.id, Repair.voided_at.is_(None)
        )
    )
    if last is not None and last > occurred_at:
        raise Invalid(
            "scrapped before a repair of it was done",
            {"occurred_at": ["before a repair of this unit"]},
        )


def _occurred_at(item: Item, data: dict):
    occurred_at = check_time(data["occurred_at"])
    if occurred_at < item.produced_at:
        raise Invalid("scrapped before it was made", {"occurred_at": ["before produced_at"]})
    return occurred_at


def _reason(data: dict) -> str:
    reason = (data.get("reason") or "").strip()
    if not reason:
        raise Invalid("a reason is required to scrap a unit", {"reason": ["required"]})
    return reason


def _station_id(refs: References, data: dict) -> int | None:
    station = refs.posting_station(data)
    return station.id if station else None


def _links_under(host_ids: list[int]):
    """The live links of tracked parts inside `host_ids`: (host id, part id, part status,
    part code)."""
    return (
        select(ItemComponent.item_id, Item.id, Item.status, Item.code)
        .join(Item, Item.id == ItemComponent.component_item_id)
        .where(ItemComponent.item_id.in_(host_ids), ItemComponent.removed_at.is_(None))
    )


def _levels_inside(session: Session, host_ids: list[int], leaving_out: list[int] = ()):
    """The tracked parts inside `host_ids` a level at a time, down the tree (links as
    _links_under gives them), but those whose links are `leaving_out`."""
    for _ in range(MAX_DEPTH):
        query = _links_under(host_ids)
        if leaving_out:
            query = query.where(ItemComponent.id.not_in(leaving_out))
        links = session.execute(query).all()
        if not links:
            return
        yield links
        host_ids = [part_id for _, part_id, _, _ in links]
    raise Conflict("the parts inside this unit nest too deep", {"item_code": ["too deep"]})


def _check_parts_can_go(session: Session, item: Item, salvaged: list[int]) -> None:
    """Every tracked part left inside (down the tree) must be one that can be scrapped."""
    for links in _levels_inside(session, [item.id], salvaged):
        for _, _, status, code in links:
            if status in _REFUSED:
                raise _part_refusal(code, status)


def _part_refusal(code: str, status: ItemStatus | None) -> Conflict:
    reason = _REFUSED[status][1] if status in _REFUSED else "changed meanwhile"
    return Conflict(
        f"part {code} inside the unit cannot go with it: {reason}",
        {"item_code": [f"part {code} inside: {reason}"]},
    )


def _replaced(
    refs: References,
    item: Item,
    data: dict,
    installed: dict[int, ItemComponent],
    keeps_salvage: bool = False,
) -> Scrap | None:
    """The scrap this one corrects, if it is a correction; None when the unit is not kept
    scrapped by it (the replaced scrap was voided before), so it must be scrappable. With
    `keeps_salvage` the salvaged parts stay out (_repeats_salvage)."""
    if data.get("replaces") is None:
        return None
    old = refs.session.get(Scrap, data["replaces"])
    if old is not None and old.inside_scrap_id is not None:
        raise _went_with_unit(refs.session, old, "replaces")
    if old is not None and old.item_id != item.id:
        raise Invalid(
            "a correction replaces a scrap of the same unit",
            {"replaces": ["a scrap of another unit"]},
        )
    was_live = old is not None and not old.is_voided
    if was_live:
        require_reason(data.get("void_reason"), "void_reason")
        if not keeps_salvage:
            _check_salvaged_can_go_back(refs.session, old, "replaces")
    old = replacing(refs.session, refs.principal, Scrap, data)
    if was_live:
        actor, reason = refs.principal.actor, data["void_reason"]
        _release_parts(refs.session, actor, old, reason, keep_salvage=keeps_salvage)
    else:
        refs.session.refresh(item)
        _check_scrappable(refs.session, item, installed)
    return old


def _item_ids(refs: References) -> list[int]:
    return [found.id for found in refs.items.values() if isinstance(found, Item)]


def _check_scrappable(session: Session, item: Item, installed: dict[int, ItemComponent]) -> None:
    refused = _REFUSED.get(item.status)
    if refused is not None:
        message, field_error = refused
        raise Conflict(f"item {item.code} {message}", {"item_code": [field_error]})
    if item.id in installed:
        host = session.get(Item, installed[item.id].item_id)
        raise Conflict(
            f"item {item.code} is installed in unit {host.code}: a repair removes it first",
            {"item_code": ["installed in another unit"]},
        )


def _after_scraps(session: Session, rows: list[dict]) -> None:
    item_ids = [row["item_id"] for row in rows if not row["_kept"]]
    if item_ids and _mark_scrapped(session, item_ids) != len(item_ids):
        raise Conflict(
            "a unit was shipped, taken in for repair or scrapped while this was posted",
            {"item_code": ["changed meanwhile; post again"]},
        )
    # The units' rows are held now: a repair that put one inside another unit meanwhile
    # has committed (and is seen) or waits for this post, and then finds it scrapped.
    if item_ids and installed_parts(session, item_ids):
        raise Conflict(
            "a unit was installed in another unit while this was posted",
            {"item_code": ["installed in another unit meanwhile; post again"]},
        )
    _salvage(session, rows)
    for row in rows:
        if row["_salvage_of"] is not None:
            session.execute(
                update(COMPONENT)
                .where(COMPONENT.c.removed_by_scrap_id == row["_salvage_of"])
                .values(removed_by_scrap_id=row["id"], removed_at=row["occurred_at"]),
                execution_options={"synchronize_session": False},
            )
    _scrap_parts_inside(session, rows)
    session.expire_all()  # loaded items must not keep a status the database no longer has


def _mark_scrapped(session: Session, item_ids: list[int]) -> int:
    # Only from the statuses checked: a shipment or repair that took a unit meanwhile
    # (PostgreSQL lets both read it free) makes this post a conflict, not a scrap of it.
    changed = session.execute(
        update(ITEM)
        .where(ITEM.c.id.in_(item_ids), ITEM.c.status.in_(SCRAPPABLE))
        .values(status=ItemStatus.scrapped),
        execution_options={"synchronize_session": False},
    )
    return changed.rowcount


def _salvage(session: Session, rows: list[dict]) -> None:
    """Close the component links of the salvaged parts, by the scrap that took them out."""
    for row in rows:
        if not row["_salvaged"]:
            continue
        closed = session.execute(
            update(COMPONENT)
            .where(COMPONENT.c.id.in_(row["_salvaged"]), COMPONENT.c.removed_at.is_(None))
            .values(removed_at=row["occurred_at"], removed_by_scrap_id=row["id"]),
            execution_options={"synchronize_session": False},
        )
        if closed.rowcount != len(row["_salvaged"]):
            raise Conflict(
                "a salvaged part was taken out by a repair while this was posted",
                {"salvaged": ["changed meanwhile; post again"]},
            )


def _scrap_parts_inside(session: Session, rows: list[dict]) -> None:
    """Give every tracked part still inside a newly scrapped unit (and the parts inside
    those) a scrap of its own, pointing at the scrap of the unit it is inside."""
    hosts = {row["item_id"]: row for row in rows}
    for links in _levels_inside(session, list(hosts)):
        parts = [_part_scrap(hosts[host_id], part_id) for host_id, part_id, _, _ in links]
        names = list(parts[0])
        new_ids = insert_records(session.connection(), Scrap.__table__, names, parts)
        for part, new_id in zip(parts, new_ids, strict=True):
            part["id"] = new_id
        part_ids = [part["item_id"] for part in parts]
        if _mark_scrapped(session, part_ids) != len(part_ids):
            raise _part_not_scrappable(session, part_ids)
        record_audit(
            session,
            actor=parts[0]["recorded_by"],
            action="scrap.record",
            entity_type="scrap",
            entity_id=None,
            data={"ids": [part["id"] for part in parts], "inside": True},
        )
        hosts = {part["item_id"]: part for part in parts}


def _part_scrap(host: dict, part_id: int) -> dict:
    key = f"{host['event_id']}/{part_id}"
    return {
        "event_id": uuid.uuid5(PARTS_NAMESPACE, key),
        "payload_hash": hashlib.sha256(key.encode()).hexdigest(),
        "recorded_by": host["recorded_by"],
        "recorded_at": host["recorded_at"],
        "item_id": part_id,
        "station_id": host["station_id"],
        "occurred_at": host["occurred_at"],
        "reason": host["reason"],
        "replaces_id": None,
        "inside_scrap_id": host["id"],
    }


def _part_not_scrappable(session: Session, part_ids: list[int]) -> Conflict:
    part = session.execute(
        select(Item.code, Item.status)
        .where(Item.id.in_(part_ids), Item.status.not_in(SCRAPPABLE))
        .limit(1)
    ).first()
    return _part_refusal(*(part or ("?", None)))


def void_scrap(session: Session, principal: Principal, scrap: Scrap, reason: str | None) -> Scrap:
    """Void a scrap (its poster or quality); the unit gets the status its records give,
    the parts that went with it theirs, and the salvaged parts go back inside."""
    require_poster_or_quality(principal, scrap)
    if scrap.inside_scrap_id is not None:
        raise _went_with_unit(session, scrap, "scrap_id")
    if not scrap.is_voided:
        require_reason(reason)
        _check_salvaged_can_go_back(session, scrap, "scrap_id")
    void_record(session, principal.actor, scrap, reason)
    _release_parts(session, principal.actor, scrap, reason)
    derive_statuses(session, ITEM.c.id == scrap.item_id, unscrap=True)
    return scrap


def _went_with_unit(session: Session, scrap: Scrap, field: str) -> Conflict:
    host = session.get(Scrap, scrap.inside_scrap_id)
    return Conflict(
        f"this part went with unit {host.item.code} (scrap {host.id}): void or correct that",
        {field: [f"part of scrap {host.id}"]},
    )


def _check_salvaged_can_go_back(session: Session, scrap: Scrap, field: str) -> None:
    """Undoing a scrap puts its salvaged parts back inside the unit: each must be free
    (not inside another unit, shipped, in repair or scrapped since), and is held so until
    the undo commits (a scrap, shipment or intake of it under way waits, or was seen)."""
    part_ids = [link.component_item_id for link in scrap.salvaged]
    # Held first, then read: a repair moving a part waits for the undo, or was seen.
    held = hold_free_parts(session, part_ids)
    inside = installed_parts(session, part_ids) if part_ids else {}
    for part in (link.component for link in scrap.salvaged):
        if part.id in inside or part.status in _REFUSED:
            where = "inside another unit" if part.id in inside else part.status.value
            raise Conflict(
                f"salvaged part {part.code} is {where} now: it cannot go back inside",
                {field: [f"salvaged part {part.code}: {where}"]},
            )
    again = fitted_again(session, lambda link: link.removed_by_scrap_id == scrap.id)
    if again is not None:
        raise Conflict(
            f"salvaged part {again[0]} went into unit {again[1]} since: it cannot go back inside",
            {field: [f"salvaged part {again[0]}: fitted again since"]},
        )
    if not held:
        raise Conflict(
            "a salvaged part was taken while this scrap was undone",
            {field: ["a salvaged part was taken meanwhile; try again"]},
        )


def _release_parts(
    session: Session, actor: str, scrap: Scrap, reason: str, keep_salvage: bool = False
) -> None:
    """Undo what a voided scrap did to the parts inside: the scraps of those that went
    with it are voided (and theirs, down the tree), the salvaged ones put back (unless
    the correction that voids it takes their salvage over: `keep_salvage`)."""
    if not keep_salvage:
        session.execute(
            update(COMPONENT)
            .where(COMPONENT.c.removed_by_scrap_id == scrap.id)
            .values(removed_at=None, removed_by_scrap_id=None),
            execution_options={"synchronize_session": False},
        )
    released, hosts = [], [scrap.id]
    while hosts:
        parts = session.scalars(
            select(Scrap).where(Scrap.inside_scrap_id.in_(hosts), Scrap.voided_at.is_(None))
        ).all()
        for part in parts:
            void_record(session, actor, part, f"with scrap {scrap.id}: {reason.strip()}")
        released += [part.item_id for part in parts]
        hosts = [part.id for part in parts]
    if released:
        derive_statuses(session, ITEM.c.id.in_(released), unscrap=True)
    session.expire_all()
