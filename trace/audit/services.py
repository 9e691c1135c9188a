"""Appending to and verifying the hash-chained audit trail."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from trace.audit.models import GENESIS_HASH, AuditEntry, AuditHead
from trace.db import Prepared, utcnow

HEAD_ID = 1


CANONICAL = {"sort_keys": True, "separators": (",", ":"), "ensure_ascii": False, "default": str}


def canonical_json(data) -> str:
    """The one serialisation that is hashed: sorted keys, no spaces, UTF-8 kept as is."""
    return _encode(data)


def _dumps(data) -> str:
    return json.dumps(data, **CANONICAL)


def _encoder():
    # json.dumps builds its C encoder anew on every call, and every record posted is
    # hashed (10,000 in a bulk post): build it once, as dumps would (minus the check for
    # circular data, which hashed data never is), where it gives dumps' very output.
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return _dumps
    encode = make(None, str, json.encoder.encode_basestring, None, ":", ",", True, False, True)

    def encoded(data) -> str:
        return "".join(encode(data, 0))

    sample = {"b": [1.5, None, True, "é\n", float("nan")], "a": {"z": dt.date(2026, 1, 1)}}
    return encoded if encoded(sample) == _dumps(sample) else _dumps


_encode = _encoder()


def entry_hash(
    prev_hash: str,
    seq: int,
    occurred_at: dt.datetime,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: str | None,
    data: str,
) -> str:
    """SHA-256 over the previous hash and every field of the entry, in a fixed order."""
    parts = [prev_hash, str(seq), occurred_at.isoformat(), actor, action, entity_type]
    parts += [entity_id or "", data]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


HEAD = AuditHead.__table__
# FOR UPDATE makes concurrent writers queue here on PostgreSQL; SQLite writers are
# already serialised by BEGIN IMMEDIATE. Without it two appends could share a parent.
READ_HEAD = select(HEAD.c.seq, HEAD.c.hash).where(HEAD.c.id == HEAD_ID).with_for_update()
ADD_HEAD = insert(HEAD).values(id=HEAD_ID)
MOVE_HEAD = (
    update(HEAD).where(HEAD.c.id == HEAD_ID).values(seq=bindparam("seq"), hash=bindparam("hash"))
)
# Moves the head only if it still is where this process left it (see _LastHeads).
# These two run on every write: straight to the driver (trace.db.Prepared).
MOVE_HEAD_FROM = Prepared(
    MOVE_HEAD.where(HEAD.c.seq == bindparam("prev_seq"), HEAD.c.hash == bindparam("prev_hash"))
)
ENTRY = AuditEntry.__table__
ADD_ENTRY = Prepared(insert(ENTRY).values({c.key: bindparam(c.key, type_=c.type) for c in ENTRY.c}))


class _LastHeads:
    """The head each SQLite database had after this process's last append to it.

    SQLite has one writer at a time and the embedded deployment one process, so the head
    this process left is nearly always the head: the append moves it on with one
    conditional UPDATE and skips reading it (two statements, not three). The condition
    names the head exactly (seq and hash), so a stale guess (another process appended,
    or the guessing transaction was rolled back) moves nothing, and the head is then read
    and locked as usual. PostgreSQL deployments run several writing processes whose
    guesses would mostly miss; they always read the head.
    """

    def __init__(self):
        self.heads: dict[object, tuple[int, str]] = {}

    def guess(self, connection) -> tuple[int, str] | None:
        if connection.dialect.name != "sqlite":
            return None
        return self.heads.get(connection.engine.url.database)

    def remember(self, connection, seq: int, hash_: str) -> None:
        # By the database's path: hashing the whole URL on every append costs more.
        if connection.dialect.name == "sqlite":
            self.heads[connection.engine.url.database] = (seq, hash_)


_last_heads = _LastHeads()


def record_audit(
    session: Session, *, actor: str, action: str, entity_type: str, entity_id, data: dict
) -> int:
    """Append one entry for a write and advance the chain's head; flushes, never commits.

    Written with plain statements: every write of the service comes through here. Returns
    the entry's sequence number.
    """
    session.flush()
    connection = session.connection()
    entry = {
        "occurred_at": utcnow(),
        "actor": actor,
        "action": action,
        "entity_type": entity_type,
        "entity_id": None if entity_id is None else str(entity_id),
        "data": canonical_json(data),
    }
    guess = _last_heads.guess(connection)
    if guess is None or not _move_head(connection, entry, *guess):
        head = connection.execute(READ_HEAD).one_or_none()
        if head is None:
            _chain(entry, 0, GENESIS_HASH)
            connection.execute(ADD_HEAD, {"seq": entry["seq"], "hash": entry["hash"]})
        else:
            _chain(entry, head.seq, head.hash)
            connection.execute(MOVE_HEAD, {"seq": entry["seq"], "hash": entry["hash"]})
    ADD_ENTRY.execute(connection, entry)
    _last_heads.remember(connection, entry["seq"], entry["hash"])
    return entry["seq"]


def _chain(entry: dict, prev_seq: int, prev_hash: str) -> None:
    """Make `entry` the one after the head (prev_seq, prev_hash), with its own hash."""
    entry.pop("hash", None)
    entry.update(seq=prev_seq + 1, prev_hash=prev_hash)
    entry["hash"] = entry_hash(**entry)


def _move_head(connection, entry: dict, prev_seq: int, prev_hash: str) -> bool:
    """Chain `entry` to the guessed head and move the head to it, if the guess is right."""
    _chain(entry, prev_seq, prev_hash)
    moved = MOVE_HEAD_FROM.execute(
        connection,
        {"seq": entry["seq"], "hash": entry["hash"], "prev_seq": prev_seq, "prev_hash": prev_hash},
    )
    return moved.rowcount == 1


def audit_write(session: Session, actor: str, action: str, obj, data: dict) -> int:
    """Audit a write to a model instance: flushes first so the entity has its id."""
    session.flush()
    return record_audit(
        session,
        actor=actor,
        action=action,
        entity_type=obj.__tablename__,
        entity_id=getattr(obj, "id", None),
        data=data,
    )


def _hash_of(entry: AuditEntry) -> str:
    return entry_hash(
        entry.prev_hash,
        entry.seq,
        entry.occurred_at,
        entry.actor,
        entry.action,
        entry.entity_type,
        entry.entity_id,
        entry.data,
    )


@dataclass(frozen=True)
class ChainReport:
    checked: int
    broken_at: int | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def verify_chain(session: Session, batch_size: int = 5000) -> ChainReport:
    """Walk the chain in order and report the first entry whose link or hash is wrong."""
    expected_prev, expected_seq, checked = GENESIS_HASH, 1, 0
    # populate_existing: check what is stored, not entries this session still holds in memory.
    query = (
        select(AuditEntry)
        .order_by(AuditEntry.seq)
        .execution_options(yield_per=batch_size, populate_existing=True)
    )
    # Closed on every way out: yield_per streams through a server-side cursor on PostgreSQL.
    with session.scalars(query) as rows:
        for entry in rows:
            problem = _problem(entry, expected_seq, expected_prev)
            if problem:
                return ChainReport(checked, entry.seq, problem)
            expected_prev, expected_seq, checked = entry.hash, entry.seq + 1, checked + 1
    head = session.get(AuditHead, HEAD_ID, populate_existing=True)
    if head is not None and (head.seq, head.hash) != (expected_seq - 1, expected_prev):
        return ChainReport(checked, head.seq, "the head does not match the last entry")
    return ChainReport(checked)


def _problem(entry: AuditEntry, expected_seq: int, expected_prev: str) -> str | None:
    if entry.seq != expected_seq:
        return f"entry {expected_seq} is missing"
    if entry.prev_hash != expected_prev:
        return "its link does not match the previous entry's hash"
    if entry.hash != _hash_of(entry):
        return "its content does not match its hash"
    return None
