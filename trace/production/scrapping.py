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
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from sqlalchemy import update
from sqlalchemy.orm import Session

from trace.auth.services import Principal
from trace.capture import (
    Recorded,
    References,
    check_time,
    record_many,
    replacing,
    require_poster_or_quality,
)
from trace.errors import Conflict, Forbidden, Invalid
from trace.production.models import Item, ItemComponent, ItemStatus, Scrap
from trace.production.services import installed_parts
from trace.production.status import ITEM, derive_statuses
from trace.records import void_record

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
    """What the checks of one post's records share: the units it scraps so far, and where
    each of its items is installed (one query, on first use)."""

    def __init__(self):
        self.units: set[int] = set()
        self._installed: dict[int, ItemComponent] | None = None

    def installed(self, refs: References) -> dict[int, ItemComponent]:
        if self._installed is None:
            self._installed = _installed(refs)
        return self._installed


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
    replaced = _replaced(refs, item, data, post.installed(refs))
    if replaced is None:
        _check_scrappable(refs.session, item, post.installed(refs))
    if item.id in post.units:
        raise Conflict(
            f"item {item.code} is scrapped twice in this post",
            {"item_code": ["twice in this post"]},
        )
    post.units.add(item.id)
    # A correction of a live scrap finds its unit scrapped already, and leaves it so.
    kept = replaced is not None and item.status is ItemStatus.scrapped
    return row | {"replaces_id": replaced.id if replaced else None, "_kept": kept}


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
    if data.get("station"):
        return refs.station(data["station"]).id
    principal = refs.principal
    if principal.station_id is not None or principal.line_id is not None:
        raise Forbidden(
            "this key is bound to a line or station: name the station",
            {"station": ["required for this key"]},
        )
    return None


def _replaced(
    refs: References, item: Item, data: dict, installed: dict[int, ItemComponent]
) -> Scrap | None:
    """The scrap this one corrects, if it is a correction; None when the unit is not kept
    scrapped by it (the replaced scrap was voided before), so it must be scrappable."""
    if data.get("replaces") is None:
        return None
    old = refs.session.get(Scrap, data["replaces"])
    if old is not None and old.item_id != item.id:
        raise Invalid(
            "a correction replaces a scrap of the same unit",
            {"replaces": ["a scrap of another unit"]},
        )
    was_live = old is not None and not old.is_voided
    old = replacing(refs.session, refs.principal, Scrap, data)
    if not was_live:
        refs.session.refresh(item)
        _check_scrappable(refs.session, item, installed)
    return old


def _installed(refs: References) -> dict[int, ItemComponent]:
    """Where each of the post's items is installed now, if anywhere."""
    ids = [found.id for found in refs.items.values() if isinstance(found, Item)]
    return installed_parts(refs.session, ids) if ids else {}


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
    if not item_ids:
        return
    # Only from the statuses checked: a shipment or repair that took a unit meanwhile
    # (PostgreSQL lets both read it free) makes this post a conflict, not a scrap of it.
    changed = session.execute(
        update(ITEM)
        .where(ITEM.c.id.in_(item_ids), ITEM.c.status.in_(SCRAPPABLE))
        .values(status=ItemStatus.scrapped),
        execution_options={"synchronize_session": False},
    )
    if changed.rowcount != len(item_ids):
        raise Conflict(
            "a unit was shipped, taken in for repair or scrapped while this was posted",
            {"item_code": ["changed meanwhile; post again"]},
        )
    session.expire_all()  # loaded items must not keep a status the database no longer has


def void_scrap(session: Session, principal: Principal, scrap: Scrap, reason: str | None) -> Scrap:
    """Void a scrap (its poster or quality); the unit gets the status its records give."""
    require_poster_or_quality(principal, scrap)
    void_record(session, principal.actor, scrap, reason)
    derive_statuses(session, ITEM.c.id == scrap.item_id, unscrap=True)
    return scrap
