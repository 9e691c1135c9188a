"""Shipments and their logistics events: post one, post many, read, void."""

from dataclasses import replace

from api import bp, roles
from api.capture import post_bulk, post_one
from api.endpoint import endpoint
from api.schemas.capture import BulkOut, VoidIn, bulk_in
from api.schemas.common import PageQuery
from api.schemas.logistics import (
    EventOnShipmentIn,
    ShipmentEventIn,
    ShipmentEventOut,
    ShipmentIn,
    ShipmentOut,
)
from api.schemas.production import ItemListOut
from trace.db import get_existing
from trace.logistics import services as logistics
from trace.logistics.models import Shipment, ShipmentEvent


@endpoint(
    bp,
    "/shipments",
    "POST",
    summary="Record a shipment of items and whole batches",
    roles=roles.SHIPMENTS,
    body=ShipmentIn,
    response=ShipmentOut,
    status=201,
    tag="logistics",
    idempotent=True,
)
def post_shipment(call):
    return post_one(call, logistics.record_shipments, Shipment)


@endpoint(
    bp,
    "/shipments/bulk",
    "POST",
    summary="Record up to 10,000 shipments, all or nothing",
    roles=roles.SHIPMENTS,
    body=bulk_in(ShipmentIn),
    response=BulkOut,
    status=201,
    tag="logistics",
    idempotent=True,
)
def post_shipments(call):
    return post_bulk(call, logistics.record_shipments)


@endpoint(
    bp,
    "/shipments/<int:shipment_id>",
    summary="Get a shipment with its batches and events",
    response=ShipmentOut,
    tag="logistics",
)
def get_shipment(call, shipment_id):
    return get_existing(call.session, Shipment, shipment_id, field="shipment_id")


@endpoint(
    bp,
    "/shipments/<int:shipment_id>/items",
    summary="List the items a shipment carried",
    query=PageQuery,
    response=ItemListOut,
    many=True,
    tag="logistics",
)
def list_shipment_items(call, shipment_id):
    shipment = get_existing(call.session, Shipment, shipment_id, field="shipment_id")
    return logistics.list_shipment_items(call.session, shipment, **call.query)


@endpoint(
    bp,
    "/shipments/<int:shipment_id>/void",
    "POST",
    summary="Void a shipment with a reason (its poster or quality); its items are released",
    roles=roles.SHIPMENTS_VOID,
    body=VoidIn,
    response=ShipmentOut,
    tag="logistics",
)
def void_shipment(call, shipment_id):
    shipment = get_existing(call.session, Shipment, shipment_id, field="shipment_id")
    return logistics.void_shipment(call.session, call.principal, shipment, call.body["reason"])


@endpoint(
    bp,
    "/shipments/<int:shipment_id>/events",
    "POST",
    summary="Record a logistics event of a shipment; delivered confirms the delivery",
    roles=roles.SHIPMENTS,
    body=EventOnShipmentIn,
    response=ShipmentEventOut,
    status=201,
    tag="logistics",
    idempotent=True,
)
def post_event_on_shipment(call, shipment_id):
    call = replace(call, body={**call.body, "shipment_id": shipment_id})
    return post_one(call, logistics.record_shipment_events, ShipmentEvent)


@endpoint(
    bp,
    "/shipment-events",
    "POST",
    summary="Record a logistics event of a shipment given by id or number",
    roles=roles.SHIPMENTS,
    body=ShipmentEventIn,
    response=ShipmentEventOut,
    status=201,
    tag="logistics",
    idempotent=True,
)
def post_shipment_event(call):
    return post_one(call, logistics.record_shipment_events, ShipmentEvent)


@endpoint(
    bp,
    "/shipment-events/bulk",
    "POST",
    summary="Record up to 10,000 logistics events, all or nothing",
    roles=roles.SHIPMENTS,
    body=bulk_in(ShipmentEventIn),
    response=BulkOut,
    status=201,
    tag="logistics",
    idempotent=True,
)
def post_shipment_events(call):
    return post_bulk(call, logistics.record_shipment_events)


@endpoint(
    bp,
    "/shipment-events/<int:shipment_event_id>",
    summary="Get a logistics event",
    response=ShipmentEventOut,
    tag="logistics",
)
def get_shipment_event(call, shipment_event_id):
    return get_existing(call.session, ShipmentEvent, shipment_event_id, field="shipment_event_id")


@endpoint(
    bp,
    "/shipment-events/<int:shipment_event_id>/void",
    "POST",
    summary="Void a logistics event (its poster or quality); voiding a delivery reopens",
    roles=roles.SHIPMENTS_VOID,
    body=VoidIn,
    response=ShipmentEventOut,
    tag="logistics",
)
def void_shipment_event(call, shipment_event_id):
    event = get_existing(call.session, ShipmentEvent, shipment_event_id, field="shipment_event_id")
    return logistics.void_shipment_event(call.session, call.principal, event, call.body["reason"])
