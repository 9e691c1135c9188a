"""Public scans of item codes, with coarse, privacy-preserving client data."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from trace.db import Base, str_enum, utcnow


class Verdict(enum.Enum):
    genuine = "genuine"
    unknown = "unknown"
    suspicious = "suspicious"
    recalled = "recalled"
    # A unit's GS1 Digital Link scanned: found by its serial, which anyone can read off
    # another label, so the page never calls it genuine (trace/resolver.py).
    unverified = "unverified"


class Scan(Base):
    __tablename__ = "scan"
    # The verdict reads an item's latest scans, their clients and verdicts (a Digital Link
    # scan does not count) from this index alone.
    __table_args__ = (
        Index(
            "ix_scan_item_id_scanned_at_client_hash_verdict",
            "item_id",
            "scanned_at",
            "client_hash",
            "verdict",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("item.id"))
    scanned_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    verdict: Mapped[Verdict] = mapped_column(str_enum(Verdict, "scan_verdict"))
    # A keyed hash of the client address: counts distinct clients, reveals no address.
    client_hash: Mapped[str] = mapped_column(String(64))
    language: Mapped[str | None] = mapped_column(String(16))
    user_agent_family: Mapped[str | None] = mapped_column(String(32))
