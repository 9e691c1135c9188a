"""Fixtures the public pages' tests share."""

import datetime as dt

import pytest

from tests import factories
from tests.trace import scan_helpers as records
from trace.logistics.models import ShipmentStatus
from trace.quality.models import Measurement
from trace.service.models import PartDirection


@pytest.fixture
def kettle(session):
    product = factories.make_product(
        session,
        name="Electric kettle 1.7 L",
        gtin="04006381333931",
        public_attributes={"capacity": "1.7 L"},
    )
    line = factories.make_line(session, name="Internal assembly line 7", public_name="Ningbo A")
    batch = factories.make_batch(session, product=product, line=line, lot_number="KT2609A")
    item = factories.make_item(session, batch, serial="KT2609A-000001")
    inspector = factories.make_inspector(session, badge="QC-0342", name="Zhao Min")
    measurement = Measurement(name="Leakage current", value=0.12, unit="mA", upper_limit=0.75)
    records.inspection(session, item, final=True, inspector=inspector, measurements=[measurement])
    records.process_record(session, batch=batch, parameter="Brazing temperature")
    records.shipment(
        session,
        batches=[batch],
        status=ShipmentStatus.delivered,
        delivered_at=records.T0 + dt.timedelta(days=2),
        events=[(ShipmentStatus.in_transit, records.T0 + dt.timedelta(days=1), "Hangzhou hub")],
    )
    records.repair(
        session,
        item,
        parts=[(PartDirection.removed, "THERM-A"), (PartDirection.installed, "THERM-B")],
    )
    session.commit()
    return item
