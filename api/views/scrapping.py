"""Scrapping units: post one, post many, read, void."""

from api import bp, roles
from api.capture import post_bulk, post_one
from api.endpoint import endpoint
from api.schemas.capture import BulkOut, VoidIn, bulk_in
from api.schemas.production import ScrapIn, ScrapOut
from trace.db import get_existing
from trace.production import scrapping
from trace.production.models import Scrap


@endpoint(
    bp,
    "/scraps",
    "POST",
    summary="Scrap a unit, with the reason; it can no longer be shipped or repaired",
    roles=roles.SCRAPS,
    body=ScrapIn,
    response=ScrapOut,
    status=201,
    tag="production",
    idempotent=True,
)
def post_scrap(call):
    return post_one(call, scrapping.record_scraps, Scrap)


@endpoint(
    bp,
    "/scraps/bulk",
    "POST",
    summary="Scrap up to 10,000 units, all or nothing",
    roles=roles.SCRAPS,
    body=bulk_in(ScrapIn),
    response=BulkOut,
    status=201,
    tag="production",
    idempotent=True,
)
def post_scraps(call):
    return post_bulk(call, scrapping.record_scraps)


@endpoint(bp, "/scraps/<int:scrap_id>", summary="Get a scrap", response=ScrapOut, tag="production")
def get_scrap(call, scrap_id):
    return get_existing(call.session, Scrap, scrap_id, field="scrap_id")


@endpoint(
    bp,
    "/scraps/<int:scrap_id>/void",
    "POST",
    summary="Void a scrap (its poster or quality); the unit gets its status back",
    roles=roles.SCRAPS,
    body=VoidIn,
    response=ScrapOut,
    tag="production",
)
def void_scrap(call, scrap_id):
    scrap = get_existing(call.session, Scrap, scrap_id, field="scrap_id")
    return scrapping.void_scrap(call.session, call.principal, scrap, call.body["reason"])
