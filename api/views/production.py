"""Batch and item endpoints."""

from api import bp, roles
from api.endpoint import endpoint
from api.schemas.common import PageQuery
from api.schemas.production import (
    BatchIn,
    BatchOut,
    BatchQuery,
    BatchStatusIn,
    ItemListOut,
    ItemLookupQuery,
    ItemOut,
    MaterialLotLinkIn,
)
from trace.auth.services import require_line
from trace.production import services as production


@endpoint(
    bp,
    "/batches",
    "POST",
    summary="Open a batch (lot)",
    roles=roles.BATCHES,
    body=BatchIn,
    response=BatchOut,
    status=201,
    tag="production",
)
def open_batch(call):
    require_line(call.principal, call.body["line_id"])
    return production.open_batch(call.session, call.actor, **call.body)


@endpoint(
    bp,
    "/batches",
    summary="List batches; filter by product, status or material lot",
    query=BatchQuery,
    response=BatchOut,
    many=True,
    tag="production",
)
def list_batches(call):
    return production.list_batches(call.session, **call.query)


@endpoint(bp, "/batches/<int:batch_id>", summary="Get a batch", response=BatchOut, tag="production")
def get_batch(call, batch_id):
    return production.get_batch(call.session, batch_id)


@endpoint(
    bp,
    "/batches/<int:batch_id>/material-lots",
    "POST",
    summary="Link material lots the batch consumed",
    roles=roles.BATCHES,
    body=MaterialLotLinkIn,
    response=BatchOut,
    tag="production",
)
def link_material_lots(call, batch_id):
    batch = production.get_batch(call.session, batch_id)
    require_line(call.principal, batch.line_id, "batch_id")
    return production.link_material_lots(call.session, call.actor, batch, **call.body)


@endpoint(
    bp,
    "/batches/<int:batch_id>/status",
    "POST",
    summary="Release, hold, recall, reopen or close a batch",
    roles=roles.BATCH_STATUS,
    body=BatchStatusIn,
    response=BatchOut,
    tag="production",
)
def change_batch_status(call, batch_id):
    batch = production.get_batch(call.session, batch_id)
    require_line(call.principal, batch.line_id, "batch_id")
    return production.change_batch_status(call.session, call.actor, batch, **call.body)


@endpoint(
    bp,
    "/batches/<int:batch_id>/items",
    summary="List a batch's items",
    query=PageQuery,
    response=ItemListOut,
    many=True,
    tag="production",
)
def list_batch_items(call, batch_id):
    batch = production.get_batch(call.session, batch_id)
    return production.list_items(call.session, batch, **call.query)


@endpoint(
    bp, "/items/<code>", summary="Look an item up by its code", response=ItemOut, tag="production"
)
def get_item(call, code):
    return production.find_item_by_code(call.session, code)


@endpoint(
    bp,
    "/items",
    summary="Look an item up by product SKU and serial",
    query=ItemLookupQuery,
    response=ItemOut,
    tag="production",
)
def find_item(call):
    return production.find_item_by_serial(call.session, **call.query)
