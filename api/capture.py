"""The shape every capture endpoint shares: post one, post in bulk, void."""

from __future__ import annotations

import functools

from sqlalchemy import inspect
from sqlalchemy.orm import joinedload, selectinload

from api.endpoint import Call, Reply
from trace.capture import Recorded, record_one
from trace.db import get_existing
from trace.errors import NotFound
from trace.quality import services as quality
from trace.quality.models import Inspection, ProcessRecord

# Records answered as plain data: a new one from the values written, a retry read back
# with plain statements (see trace.quality.services). Others are loaded as objects.
ANSWERS = {
    Inspection: (quality.written_inspection, quality.read_inspection),
    ProcessRecord: (quality.written_process_record, quality.read_process_record),
}


def post_one(call: Call, record_many_fn, model) -> Reply:
    """201 with the new record, or 200 with the original when this was a retry."""
    recorded = record_one(record_many_fn, call.session, call.principal, call.body)
    return Reply(_answer(call, model, recorded), 201 if recorded.created else 200)


def _answer(call: Call, model, recorded: Recorded):
    if model not in ANSWERS:
        return get_existing(call.session, model, recorded.id, field="id", options=_related(model))
    written, read = ANSWERS[model]
    if recorded.created:
        return written(recorded.row, call.body)
    record = read(call.session, recorded.id)
    if record is None:
        raise NotFound(f"no {model.__tablename__} with id {recorded.id}", {"id": ["unknown id"]})
    return record


@functools.cache
def _related(model) -> tuple:
    # What a record refers to is loaded with it, not one attribute access at a time.
    return tuple(
        (selectinload if relation.uselist else joinedload)(getattr(model, relation.key))
        for relation in inspect(model).relationships
    )


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
