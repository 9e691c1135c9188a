"""The shape every capture endpoint shares: post one, post in bulk, void."""

from __future__ import annotations

from api.endpoint import Call, Reply
from trace.capture import record_one
from trace.db import get_existing


def post_one(call: Call, record_many_fn, model) -> Reply:
    """201 with the new record, or 200 with the original when this was a retry."""
    recorded = record_one(record_many_fn, call.session, call.principal, call.body)
    record = get_existing(call.session, model, recorded.id, field="id")
    return Reply(record, 201 if recorded.created else 200)


def post_bulk(call: Call, record_many_fn) -> Reply:
    """201 when anything was created, 200 when the whole post was a retry."""
    results = record_many_fn(call.session, call.principal, call.body["records"])
    created = sum(result.created for result in results)
    body = {
        "created": created,
        "replayed": len(results) - created,
        "results": [
            {"index": i, "id": r.id, "event_id": r.event_id, "created": r.created}
            for i, r in enumerate(results)
        ],
    }
    return Reply(body, 201 if created else 200)
