"""Appending to and verifying the hash-chained audit trail."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from trace.audit.models import GENESIS_HASH, AuditEntry, AuditHead
from trace.db import utcnow

HEAD_ID = 1


def canonical_json(data) -> str:
    """The one serialisation that is hashed: sorted keys, no spaces, UTF-8 kept as is."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


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


def _locked_head(session: Session) -> AuditHead:
    # FOR UPDATE makes concurrent writers queue here on PostgreSQL; SQLite writers are
    # already serialised by BEGIN IMMEDIATE. Without it two appends could share a parent.
    head = session.scalars(
        select(AuditHead).where(AuditHead.id == HEAD_ID).with_for_update()
    ).one_or_none()
    if head is None:
        head = AuditHead(id=HEAD_ID, seq=0, hash=GENESIS_HASH)
        session.add(head)
    return head


def record_audit(
    session: Session, *, actor: str, action: str, entity_type: str, entity_id, data: dict
) -> AuditEntry:
    """Append one entry for a write and advance the chain's head; flushes, never commits."""
    head = _locked_head(session)
    entry = AuditEntry(
        seq=head.seq + 1,
        occurred_at=utcnow(),
        actor=actor,
        action=action,
        entity_type=entity_type,
        entity_id=None if entity_id is None else str(entity_id),
        data=canonical_json(data),
        prev_hash=head.hash,
    )
    entry.hash = _hash_of(entry)
    head.seq, head.hash = entry.seq, entry.hash
    session.add(entry)
    session.flush()
    return entry


def audit_write(session: Session, actor: str, action: str, obj, data: dict) -> AuditEntry:
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
