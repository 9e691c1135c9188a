"""Catalog endpoints: products, sites, lines, stations, inspectors, material lots."""

from api import bp, roles
from api.endpoint import endpoint
from api.schemas.catalog import (
    InspectorIn,
    InspectorOut,
    LineIn,
    LineOut,
    MaterialLotIn,
    MaterialLotOut,
    MaterialLotQuery,
    ProductIn,
    ProductOut,
    SiteIn,
    SiteOut,
    StationIn,
    StationOut,
    StationQuery,
)
from api.schemas.common import PageQuery
from trace.catalog import services as catalog
from trace.catalog.models import MaterialLot, Product
from trace.db import get_existing


@endpoint(
    bp,
    "/products",
    "POST",
    summary="Create a product",
    roles=roles.PRODUCTS,
    body=ProductIn,
    response=ProductOut,
    status=201,
    tag="catalog",
)
def create_product(call):
    return catalog.create_product(call.session, call.actor, **call.body)


@endpoint(
    bp,
    "/products",
    summary="List products",
    query=PageQuery,
    response=ProductOut,
    many=True,
    tag="catalog",
)
def list_products(call):
    return catalog.list_products(call.session, **call.query)


@endpoint(
    bp, "/products/<int:product_id>", summary="Get a product", response=ProductOut, tag="catalog"
)
def get_product(call, product_id):
    return get_existing(call.session, Product, product_id, field="product_id")


@endpoint(
    bp,
    "/sites",
    "POST",
    summary="Create a site",
    roles=roles.CATALOG,
    body=SiteIn,
    response=SiteOut,
    status=201,
    tag="catalog",
)
def create_site(call):
    return catalog.create_site(call.session, call.actor, **call.body)


@endpoint(
    bp,
    "/lines",
    "POST",
    summary="Create a production line",
    roles=roles.CATALOG,
    body=LineIn,
    response=LineOut,
    status=201,
    tag="catalog",
)
def create_line(call):
    return catalog.create_line(call.session, call.actor, **call.body)


@endpoint(
    bp,
    "/lines",
    summary="List production lines",
    query=PageQuery,
    response=LineOut,
    many=True,
    tag="catalog",
)
def list_lines(call):
    return catalog.list_lines(call.session, **call.query)


@endpoint(
    bp,
    "/stations",
    "POST",
    summary="Create a station on a line",
    roles=roles.CATALOG,
    body=StationIn,
    response=StationOut,
    status=201,
    tag="catalog",
)
def create_station(call):
    return catalog.create_station(call.session, call.actor, **call.body)


@endpoint(
    bp,
    "/stations",
    summary="List stations",
    query=StationQuery,
    response=StationOut,
    many=True,
    tag="catalog",
)
def list_stations(call):
    return catalog.list_stations(call.session, **call.query)


@endpoint(
    bp,
    "/inspectors",
    "POST",
    summary="Register an inspector",
    roles=roles.INSPECTORS,
    body=InspectorIn,
    response=InspectorOut,
    status=201,
    tag="catalog",
)
def create_inspector(call):
    return catalog.create_inspector(call.session, call.actor, **call.body)


@endpoint(
    bp,
    "/inspectors",
    summary="List inspectors",
    query=PageQuery,
    response=InspectorOut,
    many=True,
    tag="catalog",
)
def list_inspectors(call):
    return catalog.list_inspectors(call.session, **call.query)


@endpoint(
    bp,
    "/material-lots",
    "POST",
    summary="Register a material lot received",
    roles=roles.MATERIALS,
    body=MaterialLotIn,
    response=MaterialLotOut,
    status=201,
    tag="catalog",
)
def create_material_lot(call):
    return catalog.create_material_lot(call.session, call.actor, **call.body)


@endpoint(
    bp,
    "/material-lots",
    summary="List material lots",
    query=MaterialLotQuery,
    response=MaterialLotOut,
    many=True,
    tag="catalog",
)
def list_material_lots(call):
    return catalog.list_material_lots(call.session, **call.query)


@endpoint(
    bp,
    "/material-lots/<int:material_lot_id>",
    summary="Get a material lot",
    response=MaterialLotOut,
    tag="catalog",
)
def get_material_lot(call, material_lot_id):
    return get_existing(call.session, MaterialLot, material_lot_id, field="material_lot_id")
