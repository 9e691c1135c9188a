"""Repairs: post one, post many, read, void."""

from api import bp, roles
from api.capture import post_bulk, post_one
from api.endpoint import endpoint
from api.schemas.capture import BulkOut, VoidIn, bulk_in
from api.schemas.service import RepairIn, RepairOut
from trace.db import get_existing
from trace.service import services as service
from trace.service.models import Repair


@endpoint(
    bp,
    "/repairs",
    "POST",
    summary="Record a repair with its parts; the warranty is computed unless overridden",
    roles=roles.REPAIRS,
    body=RepairIn,
    response=RepairOut,
    status=201,
    tag="service",
    idempotent=True,
)
def post_repair(call):
    return post_one(call, service.record_repairs, Repair)


@endpoint(
    bp,
    "/repairs/bulk",
    "POST",
    summary="Record up to 10,000 repairs, all or nothing",
    roles=roles.REPAIRS,
    body=bulk_in(RepairIn),
    response=BulkOut,
    status=201,
    tag="service",
    idempotent=True,
)
def post_repairs(call):
    return post_bulk(call, service.record_repairs)


@endpoint(bp, "/repairs/<int:repair_id>", summary="Get a repair", response=RepairOut, tag="service")
def get_repair(call, repair_id):
    return get_existing(call.session, Repair, repair_id, field="repair_id")


@endpoint(
    bp,
    "/repairs/<int:repair_id>/void",
    "POST",
    summary="Void a repair (its poster or quality); its genealogy is undone",
    roles=roles.REPAIRS_VOID,
    body=VoidIn,
    response=RepairOut,
    tag="service",
)
def void_repair(call, repair_id):
    repair = get_existing(call.session, Repair, repair_id, field="repair_id")
    return service.void_repair(call.session, call.principal, repair, call.body["reason"])
