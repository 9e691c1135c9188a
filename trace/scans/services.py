"""Public scans of item codes: the verdict of each scan, and recording it.

A verdict answers the customer's two questions, is this genuine and is it safe:

* unknown: no item has the code (a malformed code is treated the same, so nothing
  tells a near miss from a far one);
* recalled: the item exists and its batch is recalled;
* suspicious: the item exists, but its code was scanned more often, or by more distinct
  clients, within a recent window than one buyer plausibly does: a copied label;
* genuine: otherwise;
* unverified: a unit's GS1 Digital Link was opened, which names it by serial and proves
  nothing (serial_scan_verdict). Such scans are recorded but left out of a code's counts.

Client data is kept coarse: a keyed hash of the address (counts distinct clients,
reveals no address), the page language and the user agent's family.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import Connection, and_, bindparam, func, insert, select
from sqlalchemy.orm import Session

from trace import codes
from trace.catalog.models import Line, Product
from trace.db import Prepared, utcnow
from trace.production.models import Batch, BatchStatus, Item, ItemStatus
from trace.scans.models import Scan, Verdict
from trace.scans.queries import (
    CompiledQuery,
    iso_text,
    joined_texts,
    json_value,
    utc,
)

# Matched in order against the User-Agent: in-app browsers and bots first, because
# their strings also name the engine they embed (Chrome, Safari).
_USER_AGENT_FAMILIES = (
    ("wechat", ("micromessenger",)),
    ("alipay", ("alipayclient",)),
    ("bot", ("bot", "spider", "crawl", "slurp", "preview")),
    ("curl", ("curl/",)),
    ("python", ("python",)),
    ("edge", ("edg/", "edga/", "edgios/")),
    ("opera", ("opr/", "opera")),
    ("samsung", ("samsungbrowser",)),
    ("uc", ("ucbrowser",)),
    ("qq", ("qqbrowser",)),
    ("huawei", ("huaweibrowser",)),
    ("xiaomi", ("miuibrowser", "xiaomi")),
    ("firefox", ("firefox/", "fxios/")),
    ("chrome", ("chrome/", "crios/", "chromium/")),
    ("safari", ("safari/",)),
)
_ADDRESS_HASH_CONTEXT = b"trace.scan.client-address\x00"


@dataclass(frozen=True)
class SuspicionRules:
    """When a genuine code counts as suspicious: more than `max_scans` scans or more
    than `max_clients` distinct clients within `window`, this scan included."""

    window: dt.timedelta = dt.timedelta(hours=72)
    max_scans: int = 30
    max_clients: int = 6


@dataclass(frozen=True)
class ScannedItem:
    """The item a code names, with what the scan page needs of its product, batch and
    line, read in one statement. Internal ids are here for the queries, never shown."""

    id: int
    batch_id: int
    code: str
    serial: str
    status: str
    produced_at: dt.datetime
    product: dict
    batch: dict
    line: str | None

    @property
    def recalled(self) -> bool:
        return self.batch["status"] == BatchStatus.recalled.value


@dataclass(frozen=True)
class ScanCheck:
    """What a scan of a code found, before it is recorded."""

    item: ScannedItem | None
    verdict: Verdict
    # Why a genuine code looks suspicious: many_scans, many_clients, scrapped.
    reasons: tuple[str, ...] = ()
    scan_count: int = 1  # every scan of this item so far, this one included
    first_scanned_at: dt.datetime | None = None


def hash_client_address(secret: str, address: str | None) -> str:
    """A keyed hash (HMAC-SHA256) of a client address: stable per secret, irreversible."""
    key = _ADDRESS_HASH_CONTEXT + secret.encode()
    return hmac.new(key, (address or "").encode(), hashlib.sha256).hexdigest()


def user_agent_family(user_agent: str | None) -> str | None:
    """The family of a User-Agent (chrome, safari, wechat, bot, ...), "other", or None."""
    if not user_agent:
        return None
    return _family(user_agent[:512])


# Phones of one model send one User-Agent: the few hundred in use are each read once.
@lru_cache(maxsize=1024)
def _family(user_agent: str) -> str:
    lowered = user_agent.lower()
    for family, needles in _USER_AGENT_FAMILIES:
        if any(needle in lowered for needle in needles):
            return family
    return "other"


_ITEM_COLUMNS = (
    Item.id,
    Item.batch_id,
    Item.code,
    Item.serial,
    Item.status,
    Item.produced_at,
    Product.sku,
    Product.name,
    Product.gtin,
    Product.description,
    Product.public_attributes,
    Product.warranty_months,
    Batch.lot_number,
    Batch.status,
    Batch.status_reason,
    Line.public_name,
)


def _of_code(statement):
    return (
        statement.join(Product, Product.id == Item.product_id)
        .join(Batch, Batch.id == Item.batch_id)
        .join(Line, Line.id == Batch.line_id)
        .where(Item.code == bindparam("code"))
    )


_ITEM = CompiledQuery(_of_code(select(*_ITEM_COLUMNS)))
# The item of a code and its scans, as the scan page needs them, in one statement: the
# scan count and first time, and the latest scans (up to the limit) as one text of
# "<client hash> <time>" pairs. Each is an aggregate over the (item_id, scanned_at,
# client_hash) index, the latest walking it backwards and stopping at the limit. (Window
# functions would sort every scan of a heavily scanned code, a copied label's, first:
# seventeen times slower.)
_ITEM_SCANS = Scan.__table__.alias("item_scans")
# The scans that count for a code leave out its unit's Digital Link scans: a serial can
# be worked out for a whole lot from one label, and counting those would let anyone make
# the genuine codes of a lot look copied. The verdict is in the index too.
_COUNTED = and_(_ITEM_SCANS.c.item_id == Item.id, _ITEM_SCANS.c.verdict != Verdict.unverified.value)
_LATEST = (
    select(_ITEM_SCANS.c.client_hash, _ITEM_SCANS.c.scanned_at)
    .where(_COUNTED)
    .order_by(_ITEM_SCANS.c.scanned_at.desc())
    .limit(bindparam("limit"))
    .correlate(Item)
    .subquery("latest")
)
_ITEM_AND_SCANS = CompiledQuery(
    _of_code(
        select(
            *_ITEM_COLUMNS,
            select(func.count()).where(_COUNTED).scalar_subquery(),
            select(func.min(_ITEM_SCANS.c.scanned_at)).where(_COUNTED).scalar_subquery(),
            select(
                joined_texts(_LATEST.c.client_hash + " " + iso_text(_LATEST.c.scanned_at))
            ).scalar_subquery(),
        )
    )
)


def find_and_check_scan(
    session: Session | Connection,
    text: str,
    client_hash: str,
    rules: SuspicionRules,
    now: dt.datetime,
    pending_of: Callable[[int], Sequence[tuple[str, dt.datetime]]] = lambda _item_id: (),
) -> ScanCheck:
    """The item whose code was scanned (as find_scanned_item finds it) and the verdict of
    this scan, read in one statement; `pending_of(item_id)` gives the item's scans taken
    but not yet written."""
    try:
        code = codes.normalize_code(text)
    except codes.MalformedCode:
        return ScanCheck(None, Verdict.unknown)
    rows = _ITEM_AND_SCANS.rows(session, code=code, limit=rules.max_scans)
    if not rows:
        return ScanCheck(None, Verdict.unknown)
    *columns, count, first, latest = rows[0]
    item = _scanned_item(columns)
    stored = [_stored_scan(pair) for pair in latest.split(",")] if latest else []
    return _judged(item, client_hash, rules, now, count, first, stored, pending_of(item.id))


def _stored_scan(pair: str) -> tuple[str, dt.datetime]:
    hashed, _, scanned_at = pair.partition(" ")
    return hashed, utc(scanned_at)


def find_scanned_item(session: Session | Connection, text: str) -> ScannedItem | None:
    """The item whose code was scanned; None when the text is no code at all or nobody's
    code (the two look alike to the public)."""
    try:
        code = codes.normalize_code(text)
    except codes.MalformedCode:
        return None
    rows = _ITEM.rows(session, code=code)
    return _scanned_item(rows[0]) if rows else None


def _scanned_item(row) -> ScannedItem:
    (item_id, batch_id, code, serial, status, produced_at, *product, lot, batch_status,
     reason, line) = row  # fmt: skip
    sku, name, gtin, description, attributes, warranty_months = product
    return ScannedItem(
        id=item_id,
        batch_id=batch_id,
        code=code,
        serial=serial,
        status=status,
        produced_at=utc(produced_at),
        product={
            "sku": sku,
            "name": name,
            "gtin": gtin,
            "description": description,
            "public_attributes": json_value(attributes) or {},
            "warranty_months": warranty_months,
        },
        batch={"lot_number": lot, "status": batch_status, "status_reason": reason},
        line=line,
    )


def _judged(item, client_hash, rules, now, count, first, stored, pending) -> ScanCheck:
    """The verdict of scanning `item` now, from this client, counting this scan and the
    `pending` ones, taken but not yet written: (client hash, time) each, oldest first;
    `stored` are the latest (client hash, time) of the `count` written ones."""
    # A batch the recorder committed after it was asked may be in the rows already: the
    # newest rows, which the query returns first, so a scan is counted once either way.
    seen = set(stored)
    pending = [scan for scan in pending if tuple(scan) not in seen]
    since = now - rules.window
    recent = [hashed for hashed, scanned_at in reversed(stored) if scanned_at >= since]
    recent += [hashed for hashed, scanned_at in pending if scanned_at >= since]
    reasons = _suspicion_reasons(item, [*recent, client_hash], rules)
    verdict = _verdict(item, reasons)
    first = utc(first) or (pending[0][1] if pending else now)
    return ScanCheck(item, verdict, reasons, count + len(pending) + 1, first)


def _suspicion_reasons(item: ScannedItem, window_hashes: list[str], rules: SuspicionRules):
    reasons = []
    if len(window_hashes) > rules.max_scans:
        reasons.append("many_scans")
    if len(set(window_hashes)) > rules.max_clients:
        reasons.append("many_clients")
    if item.status == ItemStatus.scrapped.value:  # a scrapped unit should be in nobody's hands
        reasons.append("scrapped")
    return tuple(reasons)


def _verdict(item: ScannedItem, reasons: tuple[str, ...]) -> Verdict:
    # A recall outranks everything: whatever else is true, the customer must stop using it.
    if item.recalled:
        return Verdict.recalled
    return Verdict.suspicious if reasons else Verdict.genuine


def serial_scan_verdict(item: Item | None) -> Verdict:
    """The verdict of a scan of a unit's GS1 Digital Link, which names it by serial:
    unverified, since a serial can be read off another label (a recalled unit's page
    still shows the recall first), or unknown when no unit has it."""
    return Verdict.unknown if item is None else Verdict.unverified


# inline(): no RETURNING of the new ids, which nobody reads.
INSERT_SCAN = Prepared(
    insert(Scan)
    .inline()
    .values(
        item_id=bindparam("item_id"),
        scanned_at=bindparam("scanned_at"),
        verdict=bindparam("verdict"),
        client_hash=bindparam("client_hash"),
        language=bindparam("language"),
        user_agent_family=bindparam("user_agent_family"),
    )
)


def scan_row(
    item: ScannedItem | None,
    verdict: Verdict,
    client_address: str | None,
    language: str | None,
    user_agent: str | None,
    *,
    secret: str,
    scanned_at: dt.datetime | None = None,
    client_hash: str | None = None,
) -> dict:
    """The row of one public scan, with coarse client data only; `secret` keys the hash
    of the client address (`client_hash`, when the caller has it already). `record_scan`
    writes it, or a ScanRecorder in a batch."""
    if client_hash is None:
        client_hash = hash_client_address(secret, client_address)
    return {
        "item_id": None if item is None else item.id,
        "scanned_at": scanned_at or utcnow(),
        "verdict": verdict,
        "client_hash": client_hash,
        "language": (language or None) and language[:16],
        "user_agent_family": user_agent_family(user_agent),
    }


def record_scan(session: Session, *scan, **details) -> None:
    """Record one public scan (the arguments of `scan_row`) in the session's transaction,
    in a single INSERT (no flush of anything else, no read back)."""
    write_scans(session.connection(), [scan_row(*scan, **details)])


def write_scans(connection: Connection, rows: list[dict]) -> None:
    """Write scan rows (`scan_row`) in the connection's transaction: one executemany on
    the driver (trace.db.Prepared). SQLAlchemy's per-row work cost four times the
    driver's, and a busy scan page writes hundreds of scans a second (DESIGN.md §8)."""
    if rows:
        INSERT_SCAN.execute_many(connection, rows)
