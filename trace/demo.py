"""A realistic demo data set, loaded once through the domain functions.

Three products of a small-appliance maker, two lines with their stations, inspectors,
material lots from several suppliers, and batches in every state, serialized, with
inspections, an out-of-spec brazing window, shipments and repairs (trace/demo_records.py).
On top,
the stories the public scan page tells (trace/scans/demo.py): a genuine kettle with its
inspection, process parameters, delivery and a repair; a kettle whose code was scanned
like a copied label; a rice cooker of a recalled lot. `demo_urls` names them.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from trace.auth.models import Role
from trace.auth.services import create_api_key
from trace.catalog import services as catalog
from trace.catalog.models import Product, StationKind
from trace.demo_records import load_records
from trace.production import services as production
from trace.production.models import BatchStatus
from trace.production.serialization import serialize
from trace.scans import demo as demo_story

ACTOR = "demo"
MARKER_SKU = "KT-2200-WH"

PRODUCTS = [
    {
        "sku": MARKER_SKU,
        "gtin": "06901234567892",
        "name": "Electric kettle 1.7 L, white",
        "warranty_months": 24,
        "public_attributes": {"capacity": "1.7 L", "power": "2200 W"},
    },
    {
        "sku": "RC-500-BK",
        "gtin": "06901234567908",
        "name": "Rice cooker 5 L",
        "warranty_months": 36,
        "public_attributes": {"capacity": "5 L", "inner pot": "ceramic coated"},
        "use_digital_link": True,
    },
    {
        "sku": "HD-1800",
        "gtin": "06901234567915",
        "name": "Hair dryer 1800 W",
        "warranty_months": 12,
        "serial_format": "HD{yy}{seq:7}",
    },
    {  # a spare part with a code of its own: service fits it, and takes it out again
        "sku": "HM-1800",
        "name": "Hair dryer heater module 1800 W (spare)",
        "warranty_months": 6,
        "serial_format": "HM{yy}{seq:7}",
    },
]
LINES = [
    {"code": "NB-A1", "name": "Ningbo plant, assembly line 1", "public_name": "Ningbo line A"},
    {"code": "NB-A2", "name": "Ningbo plant, assembly line 2", "public_name": "Ningbo line B"},
]
STATIONS = [
    ("ASM", "Assembly", StationKind.process),
    ("HIPOT", "Hi-pot and function test", StationKind.inspection),
    ("PACK", "Packing", StationKind.packing),
]
INSPECTORS = [
    ("QC-0117", "Chen Jing", "IPC-A-610 Class 2"),
    ("QC-0231", "Li Wei", "Hi-pot tester"),
    ("QC-0342", "Zhao Min", "Final QA"),
    ("QC-0409", "Sun Hao", "Final QA"),
]
MATERIAL_LOTS = [
    ("HEAT-2200", "Heating element 2200 W", "Ningbo Thermal Co.", "NT-26-0913"),
    ("THERM-STRIX", "Kettle thermostat", "Strix (Guangzhou)", "SG-0926-117"),
    ("BODY-PP-WH", "PP body, white", "Yuyao Plastics", "YP-2609-44"),
    ("POT-5L-CER", "Ceramic-coated inner pot 5 L", "Zhongshan Cookware", "ZC-26Q3-08"),
    ("PCB-RC-V3", "Rice cooker control board v3", "Shenzhen EMS Ltd.", "SZ-PCB-26-771"),
    ("MOTOR-DC18", "Dryer DC motor 1800 W", "Changzhou Motors", "CM-2610-B2"),
]
# (product index, line index, lot, material lots, items, status, reason)
BATCHES = [
    (0, 0, "KT2609A", [0, 1, 2], 120, BatchStatus.released, None),
    (0, 0, "KT2610A", [0, 1, 2], 80, BatchStatus.open, None),
    (1, 1, "RC2610A", [3, 4], 60, BatchStatus.on_hold, "PCB supplier deviation under review"),
    (1, 1, "RC2608B", [3, 4], 40, BatchStatus.recalled, "Inner pot coating may flake: stop use"),
    (2, 1, "HD2610A", [5], 50, BatchStatus.released, None),
    (3, 1, "HM2610A", [], 10, BatchStatus.released, None),
]


def load_demo(session: Session, instance_path: Path | None = None) -> str:
    """Load the demo once; returns what was done. A second call changes nothing but
    the copied label's scans, renewed once they have aged out of the suspicion window.

    The scan-page stories are a second, separately marked part, so a database that got
    the first part from an older version gets them added on the next call.
    """
    if session.scalar(select(Product.id).where(Product.sku == MARKER_SKU)):
        summary = "demo data already loaded"
    else:
        summary = _load_catalogue_and_batches(session, instance_path)
    if not demo_story.is_loaded(session):
        summary += "\n" + demo_story.load_stories(session)
    elif refreshed := demo_story.refresh_copied_label(session):
        summary += "\n" + refreshed
    return summary


def demo_urls(session: Session, base_url: str) -> list[tuple[str, str]]:
    """(what, URL) of the demo's scan pages worth opening; empty before the demo is loaded."""
    return demo_story.urls(session, base_url)


def _load_catalogue_and_batches(session: Session, instance_path: Path | None) -> str:
    products = [catalog.create_product(session, ACTOR, **data) for data in PRODUCTS]
    lines = [_line_with_stations(session, data) for data in LINES]
    for badge, name, qualification in INSPECTORS:
        catalog.create_inspector(
            session, ACTOR, badge=badge, name=name, qualification=qualification
        )
    lots = [_material_lot(session, *row, days_ago=30 + i) for i, row in enumerate(MATERIAL_LOTS)]
    items = sum(_batch(session, products, lines, lots, *row) for row in BATCHES)
    summary = f"demo data loaded: {len(products)} products, {len(BATCHES)} batches, {items} items"
    summary += "\n" + load_records(session)
    if instance_path is not None:
        summary += "\n" + _admin_key(session, instance_path)
    return summary


def _line_with_stations(session: Session, data: dict):
    line = catalog.create_line(session, ACTOR, **data)
    for suffix, name, kind in STATIONS:
        catalog.create_station(
            session, ACTOR, code=f"{line.code}-{suffix}", name=name, line_id=line.id, kind=kind
        )
    return line


def _material_lot(session, part_number, description, supplier, supplier_lot, days_ago):
    return catalog.create_material_lot(
        session,
        ACTOR,
        part_number=part_number,
        description=description,
        supplier=supplier,
        supplier_lot=supplier_lot,
        received_on=dt.date.today() - dt.timedelta(days=days_ago),
    )


def _batch(session, products, lines, lots, product, line, lot, lot_ids, count, status, reason):
    started = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(days=20)
    batch = production.open_batch(
        session,
        ACTOR,
        product_id=products[product].id,
        lot_number=lot,
        line_id=lines[line].id,
        planned_quantity=count,
        started_at=started,
        material_lot_ids=[lots[i].id for i in lot_ids],
    )
    serialize(session, ACTOR, batch, count=count, produced_at=started + dt.timedelta(hours=6))
    if status is BatchStatus.recalled:
        production.change_batch_status(session, ACTOR, batch, BatchStatus.released)
    if status is not BatchStatus.open:
        production.change_batch_status(session, ACTOR, batch, status, reason)
    return count


def _admin_key(session: Session, instance_path: Path) -> str:
    """An admin key for the demo, kept in instance/ so `make run` can show it again."""
    _, plaintext = create_api_key(session, ACTOR, role=Role.admin, name="demo admin")
    path = instance_path / "demo-admin-key"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(plaintext + "\n")
    path.chmod(0o600)
    return f"admin API key written to {path}"
