"""Keyset pagination: stable under inserts and as fast on page 1,000 as on page 1."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select
from sqlalchemy.orm import Session

MAX_PAGE = 500


@dataclass(frozen=True)
class Page:
    items: list
    next_after: int | None


def paginate(session: Session, query: Select, key, after: int | None, limit: int) -> Page:
    """Rows of `query` with `key` greater than `after`, in key order, at most `limit` of them."""
    limit = max(1, min(limit, MAX_PAGE))
    if after is not None:
        query = query.where(key > after)
    rows = list(session.scalars(query.order_by(key).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, getattr(rows[-1], key.key) if more else None)
