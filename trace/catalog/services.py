"""Creating and listing the catalog: products, sites, lines, stations, inspectors, material lots."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from trace import gs1
from trace.audit.services import audit_write
from trace.catalog.models import (
    Inspector,
    Line,
    MaterialLot,
    Product,
    Site,
    Station,
    StationKind,
)
from trace.db import get_existing
from trace.errors import Conflict, Invalid
from trace.pagination import Page, paginate
from trace.production.serials import InvalidSerialFormat, compile_format


def _refuse_duplicate(session: Session, model, field: str, value) -> None:
    if value is not None and session.scalar(select(model.id).where(getattr(model, field) == value)):
        raise Conflict(
            f"{model.__tablename__} with {field} {value!r} exists", {field: ["already exists"]}
        )


def _valid_gtin(gtin: str | None) -> str | None:
    if gtin is None:
        return None
    try:
        return gs1.to_gtin14(gtin)
    except gs1.InvalidGTIN as error:
        raise Invalid("invalid GTIN", {"gtin": [str(error)]}) from None


def _valid_serial_format(serial_format: str | None) -> None:
    if serial_format is None:
        return
    try:
        compile_format(serial_format)
    except InvalidSerialFormat as error:
        raise Invalid("invalid serial format", {"serial_format": [str(error)]}) from None


def create_product(
    session: Session,
    actor: str,
    *,
    sku: str,
    name: str,
    gtin: str | None = None,
    description: str = "",
    warranty_months: int = 0,
    public_attributes: dict | None = None,
    serial_format: str | None = None,
    use_digital_link: bool = False,
) -> Product:
    """Add a product; a GTIN is checked (and stored as GTIN-14), SKU and GTIN are unique."""
    gtin = _valid_gtin(gtin)
    _valid_serial_format(serial_format)
    if use_digital_link and gtin is None:
        raise Invalid("Digital Link labels need a GTIN", {"use_digital_link": ["needs a GTIN"]})
    _refuse_duplicate(session, Product, "sku", sku)
    _refuse_duplicate(session, Product, "gtin", gtin)
    product = Product(
        sku=sku,
        name=name,
        gtin=gtin,
        description=description,
        warranty_months=warranty_months,
        public_attributes=public_attributes or {},
        serial_format=serial_format,
        use_digital_link=use_digital_link,
    )
    session.add(product)
    audit_write(session, actor, "product.create", product, {"sku": sku, "gtin": gtin})
    return product


def list_products(session: Session, *, after: int | None = None, limit: int = 50) -> Page:
    return paginate(session, select(Product), Product.id, after, limit)


def create_site(session: Session, actor: str, *, code: str, name: str, country=None) -> Site:
    _refuse_duplicate(session, Site, "code", code)
    site = Site(code=code, name=name, country=country)
    session.add(site)
    audit_write(session, actor, "site.create", site, {"code": code})
    return site


def create_line(
    session: Session,
    actor: str,
    *,
    code: str,
    name: str,
    public_name: str | None = None,
    site_id: int | None = None,
) -> Line:
    """A production line, optionally at a site; `public_name` is what customers may see."""
    if site_id is not None:
        get_existing(session, Site, site_id, field="site_id")
    _refuse_duplicate(session, Line, "code", code)
    line = Line(code=code, name=name, public_name=public_name, site_id=site_id)
    session.add(line)
    audit_write(session, actor, "line.create", line, {"code": code})
    return line


def list_lines(session: Session, *, after: int | None = None, limit: int = 50) -> Page:
    return paginate(session, select(Line), Line.id, after, limit)


def create_station(
    session: Session, actor: str, *, code: str, name: str, line_id: int, kind: StationKind
) -> Station:
    """A station on a line: process, inspection or packing."""
    get_existing(session, Line, line_id, field="line_id")
    _refuse_duplicate(session, Station, "code", code)
    station = Station(code=code, name=name, line_id=line_id, kind=kind)
    session.add(station)
    audit_write(session, actor, "station.create", station, {"code": code, "line_id": line_id})
    return station


def list_stations(
    session: Session, *, line_id: int | None = None, after: int | None = None, limit: int = 50
) -> Page:
    query = select(Station)
    if line_id is not None:
        query = query.where(Station.line_id == line_id)
    return paginate(session, query, Station.id, after, limit)


def create_inspector(
    session: Session,
    actor: str,
    *,
    badge: str,
    name: str,
    qualification: str | None = None,
    active: bool = True,
) -> Inspector:
    """A qualified inspector, known publicly only by a masked badge."""
    _refuse_duplicate(session, Inspector, "badge", badge)
    inspector = Inspector(badge=badge, name=name, qualification=qualification, active=active)
    session.add(inspector)
    audit_write(session, actor, "inspector.create", inspector, {"badge": badge})
    return inspector


def list_inspectors(session: Session, *, after: int | None = None, limit: int = 50) -> Page:
    return paginate(session, select(Inspector), Inspector.id, after, limit)


def create_material_lot(
    session: Session,
    actor: str,
    *,
    part_number: str,
    supplier: str,
    supplier_lot: str,
    received_on: dt.date,
    description: str = "",
    quantity: float | None = None,
    unit: str | None = None,
) -> MaterialLot:
    """A lot of material received from a supplier; the supplier's lot number is unique per part."""
    exists = session.scalar(
        select(MaterialLot.id).where(
            MaterialLot.supplier == supplier,
            MaterialLot.part_number == part_number,
            MaterialLot.supplier_lot == supplier_lot,
        )
    )
    if exists:
        raise Conflict(
            "this supplier lot of this part is already registered",
            {"supplier_lot": ["already registered for this supplier and part"]},
        )
    lot = MaterialLot(
        part_number=part_number,
        supplier=supplier,
        supplier_lot=supplier_lot,
        received_on=received_on,
        description=description,
        quantity=quantity,
        unit=unit,
    )
    session.add(lot)
    audit_write(
        session,
        actor,
        "material_lot.create",
        lot,
        {"part_number": part_number, "supplier_lot": supplier_lot},
    )
    return lot


def list_material_lots(
    session: Session, *, part_number: str | None = None, after: int | None = None, limit: int = 50
) -> Page:
    query = select(MaterialLot)
    if part_number:
        query = query.where(MaterialLot.part_number == part_number)
    return paginate(session, query, MaterialLot.id, after, limit)
