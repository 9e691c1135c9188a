"""Inspections and process records: post one, post many, read, void, query out-of-spec."""

from api import bp, roles
from api.capture import post_bulk, post_one
from api.endpoint import endpoint
from api.schemas.capture import BulkOut, VoidIn, bulk_in
from api.schemas.quality import (
    InspectionIn,
    InspectionOut,
    OutOfSpecOut,
    OutOfSpecQuery,
    ProcessRecordIn,
    ProcessRecordOut,
)
from trace.db import get_existing
from trace.quality import services as quality
from trace.quality.models import Inspection, ProcessRecord


@endpoint(
    bp,
    "/inspections",
    "POST",
    summary="Record an inspection of an item or a batch",
    roles=roles.CAPTURE_QUALITY,
    body=InspectionIn,
    response=InspectionOut,
    status=201,
    tag="quality",
    idempotent=True,
)
def post_inspection(call):
    return post_one(call, quality.record_inspections, Inspection)


@endpoint(
    bp,
    "/inspections/bulk",
    "POST",
    summary="Record up to 10,000 inspections, all or nothing",
    roles=roles.CAPTURE_QUALITY,
    body=bulk_in(InspectionIn),
    response=BulkOut,
    status=201,
    tag="quality",
    idempotent=True,
)
def post_inspections(call):
    return post_bulk(call, quality.record_inspections)


@endpoint(
    bp,
    "/inspections/<int:inspection_id>",
    summary="Get an inspection",
    response=InspectionOut,
    tag="quality",
)
def get_inspection(call, inspection_id):
    return get_existing(call.session, Inspection, inspection_id, field="inspection_id")


@endpoint(
    bp,
    "/inspections/<int:inspection_id>/void",
    "POST",
    summary="Void an inspection with a reason (its poster or quality)",
    roles=roles.CAPTURE_QUALITY,
    body=VoidIn,
    response=InspectionOut,
    tag="quality",
)
def void_inspection(call, inspection_id):
    inspection = get_existing(call.session, Inspection, inspection_id, field="inspection_id")
    return quality.void_inspection(call.session, call.principal, inspection, call.body["reason"])


@endpoint(
    bp,
    "/process-records",
    "POST",
    summary="Record a process parameter of an item or a batch",
    roles=roles.CAPTURE_QUALITY,
    body=ProcessRecordIn,
    response=ProcessRecordOut,
    status=201,
    tag="quality",
    idempotent=True,
)
def post_process_record(call):
    return post_one(call, quality.record_process_records, ProcessRecord)


@endpoint(
    bp,
    "/process-records/bulk",
    "POST",
    summary="Record up to 10,000 process parameters, all or nothing",
    roles=roles.CAPTURE_QUALITY,
    body=bulk_in(ProcessRecordIn),
    response=BulkOut,
    status=201,
    tag="quality",
    idempotent=True,
)
def post_process_records(call):
    return post_bulk(call, quality.record_process_records)


@endpoint(
    bp,
    "/process-records/<int:record_id>",
    summary="Get a process record",
    response=ProcessRecordOut,
    tag="quality",
)
def get_process_record(call, record_id):
    return get_existing(call.session, ProcessRecord, record_id, field="record_id")


@endpoint(
    bp,
    "/process-records/<int:record_id>/void",
    "POST",
    summary="Void a process record with a reason (its poster or quality)",
    roles=roles.CAPTURE_QUALITY,
    body=VoidIn,
    response=ProcessRecordOut,
    tag="quality",
)
def void_process_record(call, record_id):
    record = get_existing(call.session, ProcessRecord, record_id, field="record_id")
    return quality.void_process_record(call.session, call.principal, record, call.body["reason"])


@endpoint(
    bp,
    "/process-records/out-of-spec",
    summary="Batches whose parameter left its limits between two times",
    query=OutOfSpecQuery,
    response=OutOfSpecOut,
    many=True,
    tag="quality",
)
def out_of_spec(call):
    query = dict(call.query)
    direction = query.pop("direction", None)
    above = None if direction is None else direction == "above"
    rows = quality.out_of_spec(call.session, above=above, **query)
    return [_out_of_spec_row(batch, row) for batch, row in rows]


def _out_of_spec_row(batch, row) -> dict:
    return {
        "batch_id": batch.id,
        "lot_number": batch.lot_number,
        "product_id": batch.product_id,
        **row._asdict(),
    }
