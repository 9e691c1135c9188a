"""The unit's story on the scan page: what it shows, what it never shows, and voiding."""

import datetime as dt
import json
import uuid
from zoneinfo import ZoneInfo

import pytest

from tests import factories
from tests.trace import scan_helpers as records
from trace.logistics.models import ShipmentEvent, ShipmentStatus
from trace.production import services as production
from trace.production.models import BatchStatus
from trace.quality.models import InspectionResult, Measurement
from trace.scans import services as scans
from trace.scans import story
from trace.scans.models import Verdict
from trace.service.models import PartDirection, RepairOutcome
from trace.times import add_months

T0 = records.T0
NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)


def at(days: float = 0, hours: float = 0) -> dt.datetime:
    return T0 + dt.timedelta(days=days, hours=hours)


@pytest.fixture
def item(session):
    product = factories.make_product(session, name="Kettle", warranty_months=24)
    line = factories.make_line(session, name="Ningbo assembly line 1", public_name="Ningbo A")
    batch = factories.make_batch(session, product=product, line=line, lot_number="KT2609A")
    return factories.make_item(session, batch, serial="KT2609A-000001", produced_at=at())


def story_of(session, item, now=NOW, zone=dt.UTC) -> dict:
    return story.item_story(session, scans.find_scanned_item(session, item.code), now, zone)


def test_the_basic_facts(session, item):
    view = story_of(session, item)
    assert view["serial"] == "KT2609A-000001"
    assert view["product"]["name"] == "Kettle"
    assert view["batch"] == {"lot_number": "KT2609A", "status": "open", "recalled": False}
    assert view["line"] == "Ningbo A"
    assert view["produced_at"] == at()
    assert (view["inspection"], list(view["process_parameters"])) == (None, [])
    assert (list(view["shipments"]), view["repairs"]) == ([], [])


def test_a_recalled_batch_says_why_and_a_held_one_does_not(session, item):
    production.change_batch_status(
        session, "test", item.batch, BatchStatus.on_hold, "PCB deviation"
    )
    assert "recall_reason" not in story_of(session, item)["batch"]
    assert "PCB deviation" not in json.dumps(story.jsonable(story_of(session, item)))
    production.change_batch_status(session, "test", item.batch, BatchStatus.recalled, "Lid cracks")
    batch = story_of(session, item)["batch"]
    assert (batch["recalled"], batch["recall_reason"]) == (True, "Lid cracks")


# --- inspection ---------------------------------------------------------------------------


def test_the_final_inspection_speaks_for_the_item(session, item):
    inspector = factories.make_inspector(session, badge="QC-0342", name="Zhao Min")
    records.inspection(session, item, final=True, at=at(hours=1), inspector=inspector)
    records.inspection(session, item, result=InspectionResult.rework, at=at(hours=2))
    view = story_of(session, item)["inspection"]
    assert (view["result"], view["final"], view["scope"]) == ("pass", True, "item")
    assert view["inspected_at"] == at(hours=1)
    assert view["inspector"] == "•••••42"


def test_without_a_final_inspection_the_latest_one(session, item):
    records.inspection(session, item, at=at(hours=1))
    records.inspection(session, item, result=InspectionResult.failed, at=at(hours=3))
    records.inspection(session, item, result=InspectionResult.rework, at=at(hours=2))
    view = story_of(session, item)["inspection"]
    assert (view["result"], view["final"]) == ("fail", False)


def test_the_items_own_inspection_before_its_batch_sample(session, item):
    records.inspection(session, batch=item.batch, final=True, at=at(hours=5))
    assert story_of(session, item)["inspection"]["scope"] == "batch"
    records.inspection(session, item, at=at(hours=1))
    assert story_of(session, item)["inspection"]["scope"] == "item"


def test_a_voided_inspection_is_not_shown(session, item):
    records.inspection(session, item, at=at(hours=1))
    records.inspection(
        session,
        item,
        result=InspectionResult.failed,
        final=True,
        at=at(hours=2),
        **records.voided(),
    )
    assert story_of(session, item)["inspection"]["result"] == "pass"


def test_measurements_with_their_limits(session, item):
    measurements = [
        Measurement(name="Leakage current", value=0.12, unit="mA", upper_limit=0.75),
        Measurement(name="Insulation", value=1.5, unit="MΩ", lower_limit=2.0),
    ]
    records.inspection(session, item, final=True, measurements=measurements)
    leakage, insulation = story_of(session, item)["inspection"]["measurements"]
    assert leakage == {
        "name": "Leakage current",
        "value": 0.12,
        "unit": "mA",
        "lower_limit": None,
        "upper_limit": 0.75,
        "in_spec": True,
    }
    assert insulation["in_spec"] is False


# --- process parameters -------------------------------------------------------------------


def test_only_public_standing_parameters_of_the_item_and_its_batch(session, item):
    records.process_record(session, item, parameter="Thermostat cut-off", value=100.4, lower=98)
    records.process_record(session, batch=item.batch, parameter="Brazing temperature")
    records.process_record(session, batch=item.batch, parameter="Conveyor speed", public=False)
    records.process_record(session, item, parameter="Torque", **records.voided())
    other = factories.make_item(session)
    records.process_record(session, other, parameter="Other unit's parameter")
    names = [p["parameter"] for p in story_of(session, item)["process_parameters"]]
    assert names == ["Brazing temperature", "Thermostat cut-off"]


def test_a_parameter_shows_its_latest_reading_and_counts_the_bad_ones(session, item):
    for hours, value in [(1, 836.0), (2, 860.0), (3, 830.0)]:
        records.process_record(session, batch=item.batch, value=value, at=at(hours=hours))
    (parameter,) = story_of(session, item)["process_parameters"]
    assert (parameter["value"], parameter["recorded_at"]) == (830.0, at(hours=3))
    assert (parameter["in_spec"], parameter["readings"], parameter["out_of_spec"]) == (True, 3, 1)
    assert (parameter["lower_limit"], parameter["upper_limit"], parameter["unit"]) == (
        820.0,
        850.0,
        "°C",
    )


# --- shipments ----------------------------------------------------------------------------


def test_a_delivered_shipment_of_the_item(session, item):
    records.shipment(
        session,
        items=[item],
        status=ShipmentStatus.delivered,
        shipped_at=at(days=1),
        delivered_at=at(days=3),
        events=[
            (ShipmentStatus.in_transit, at(days=2), "Hangzhou hub"),
            (ShipmentStatus.delivered, at(days=3), "Shanghai"),
        ],
    )
    (shipment,) = story_of(session, item)["shipments"]
    assert shipment["status"] == "delivered"
    assert (shipment["shipped_at"], shipment["delivered_at"]) == (at(days=1), at(days=3))
    assert (shipment["carrier"], shipment["origin"]) == ("SF Express", "Ningbo plant")
    assert [e["location"] for e in shipment["events"]] == ["Hangzhou hub", "Shanghai"]


def test_in_transit_with_the_last_location(session, item):
    records.shipment(
        session,
        batches=[item.batch],
        shipped_at=at(days=1),
        events=[
            (ShipmentStatus.in_transit, at(days=2), "Hangzhou hub"),
            (ShipmentStatus.in_transit, at(days=2, hours=5), None),
            (ShipmentStatus.in_transit, at(days=2, hours=3), "Wuhan hub"),
        ],
    )
    (shipment,) = story_of(session, item)["shipments"]
    assert shipment["status"] == "in_transit"
    assert shipment["last_location"] == "Wuhan hub"
    assert shipment["last_event_at"] == at(days=2, hours=5)
    assert shipment["delivered_at"] is None


def test_a_delivery_event_settles_a_shipment_without_a_delivery_time(session, item):
    records.shipment(
        session, items=[item], events=[(ShipmentStatus.delivered, at(days=4), "Shanghai")]
    )
    (shipment,) = story_of(session, item)["shipments"]
    assert (shipment["status"], shipment["delivered_at"]) == ("delivered", at(days=4))


def test_voided_shipments_and_events_are_not_shown(session, item):
    records.shipment(session, items=[item], **records.voided())
    kept = records.shipment(session, batches=[item.batch], events=[])
    records.shipment(session, items=[factories.make_item(session)])
    session.add(
        ShipmentEvent(
            shipment_id=kept.id,
            occurred_at=at(days=2),
            location="Wrong hub",
            status=ShipmentStatus.in_transit,
            **records.record_columns(),
            **records.voided(),
        )
    )
    session.flush()
    session.expire(kept, ["events"])
    (shipment,) = story_of(session, item)["shipments"]
    assert (list(shipment["events"]), shipment["last_location"], shipment["status"]) == (
        [],
        None,
        "shipped",
    )


def test_a_shipment_carrying_the_batch_and_the_item_appears_once(session, item):
    records.shipment(session, items=[item], batches=[item.batch])
    assert len(story_of(session, item)["shipments"]) == 1


# --- repairs ------------------------------------------------------------------------------


def test_repairs_with_parts_replaced(session, item):
    records.repair(
        session,
        item,
        received_at=at(days=30),
        completed_at=at(days=32),
        parts=[(PartDirection.removed, "THERM-A"), (PartDirection.installed, "THERM-B")],
    )
    records.repair(session, item, received_at=at(days=40), outcome=RepairOutcome.pending)
    records.repair(session, item, received_at=at(days=35), **records.voided())
    first, second = story_of(session, item)["repairs"]
    assert first == {
        "received_at": at(days=30),
        "completed_at": at(days=32),
        "action": "Replaced the thermostat",
        "outcome": "repaired",
        "under_warranty": True,
        "parts_removed": ["THERM-A"],
        "parts_installed": ["THERM-B"],
    }
    assert (second["outcome"], second["completed_at"]) == ("pending", None)


# --- warranty -----------------------------------------------------------------------------


def test_warranty_from_production_when_nothing_was_delivered(session, item):
    warranty = story_of(session, item)["warranty"]
    assert warranty == {
        "months": 24,
        "basis": "production",
        "starts_on": dt.date(2026, 10, 1),
        "ends_on": dt.date(2028, 10, 1),
        "active": True,
    }


def test_warranty_from_the_first_delivery_as_the_service_desk_counts_it(session, item):
    records.shipment(session, items=[item], status=ShipmentStatus.delivered, delivered_at=at(5))
    # Shipped back after a repair: delivered again, which starts no new warranty.
    records.shipment(session, items=[item], delivered_at=at(9), shipped_at=at(8))
    records.shipment(session, items=[item], delivered_at=at(20), status=ShipmentStatus.returned)
    warranty = story_of(session, item)["warranty"]
    assert (warranty["basis"], warranty["starts_on"]) == ("delivery", dt.date(2026, 10, 6))
    assert warranty["ends_on"] == dt.date(2028, 10, 6)


def test_warranty_days_are_counted_in_the_display_zone(session, item):
    late_evening = dt.datetime(2026, 10, 31, 17, 30, tzinfo=dt.UTC)  # 1 Nov in Shanghai
    records.shipment(session, items=[item], delivered_at=late_evening)
    warranty = story_of(session, item, zone=ZoneInfo("Asia/Shanghai"))["warranty"]
    assert (warranty["starts_on"], warranty["ends_on"]) == (
        dt.date(2026, 11, 1),
        dt.date(2028, 11, 1),
    )


def test_an_expired_warranty(session, item):
    later = dt.datetime(2028, 10, 2, tzinfo=dt.UTC)
    assert story_of(session, item, now=later)["warranty"]["active"] is False
    last_day = dt.datetime(2028, 10, 1, 23, tzinfo=dt.UTC)
    assert story_of(session, item, now=last_day)["warranty"]["active"] is True


def test_no_warranty(session):
    product = factories.make_product(session, warranty_months=0)
    item = factories.make_item(session, factories.make_batch(session, product=product))
    assert story_of(session, item)["warranty"] is None


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (dt.date(2026, 1, 31), 1, dt.date(2026, 2, 28)),
        (dt.date(2028, 1, 31), 1, dt.date(2028, 2, 29)),
        (dt.date(2026, 11, 15), 14, dt.date(2028, 1, 15)),
        (dt.date(2026, 12, 31), 12, dt.date(2027, 12, 31)),
        (dt.date(9999, 6, 1), 24, dt.date.max),  # past the last day there is
    ],
)
def test_add_months(day, months, expected):
    assert add_months(day, months) == expected


def test_a_warranty_from_a_time_the_zone_cannot_show(session, item):
    # Stored before the API refused such times: in Shanghai it would be the year 10000.
    late = dt.datetime(9999, 12, 31, 20, 0, tzinfo=dt.UTC)
    records.shipment(session, items=[item], status=ShipmentStatus.delivered, delivered_at=late)
    warranty = story_of(session, item, zone=ZoneInfo("Asia/Shanghai"))["warranty"]
    assert (warranty["starts_on"], warranty["ends_on"]) == (dt.date(9999, 12, 31), dt.date.max)
    assert warranty["active"] is True


# --- the whole view -----------------------------------------------------------------------


def test_the_view_never_holds_private_data(session, item):
    inspector = factories.make_inspector(session, badge="QC-7781", name="Zhao Min")
    records.inspection(session, item, final=True, inspector=inspector, notes="fixture retested")
    records.process_record(session, item, parameter="Secret speed", public=False)
    records.shipment(
        session,
        items=[item],
        events=[(ShipmentStatus.in_transit, at(days=1), "Hub")],
        override_reason="shipped on hold by manager",
    )
    records.repair(session, item, warranty_override_reason="goodwill")
    check = scans.find_and_check_scan(session, item.code, "c" * 64, scans.SuspicionRules(), NOW)
    text = json.dumps(story.jsonable(story.public_scan_view(session, check, NOW)))
    for private in [
        "Zhao Min",
        "QC-7781",
        "fixture retested",
        "Secret speed",
        "Zhang San",
        "Private Road",
        "SF1402668730021",
        "driver called",
        "Wu Qiang",
        "thermostat worn",
        "PART-SERIAL-1",
        "goodwill",
        "shipped on hold",
        "Ningbo assembly line 1",
        '"id"',
        "_id",
        '"test"',  # recorded_by
    ]:
        assert private not in text, private


def test_public_scan_view_keeps_the_earlier_json_shape(session, item):
    check = scans.find_and_check_scan(session, item.code, "c" * 64, scans.SuspicionRules(), NOW)
    view = story.jsonable(story.public_scan_view(session, check, NOW))
    assert (view["verdict"], view["code"], view["serial"]) == ("genuine", item.code, item.serial)
    assert set(view["product"]) == {
        "sku",
        "name",
        "gtin",
        "description",
        "public_attributes",
        "warranty_months",
    }
    assert view["produced_at"] == "2026-10-01T08:00:00+00:00"
    assert view["status"] == "produced"
    assert view["scans"] == {
        "count": 1,
        "first_at": "2026-11-20T12:00:00+00:00",
        "suspicious": False,
        "reasons": [],
    }
    assert view["warranty"]["ends_on"] == "2028-10-01"


def test_jsonable():
    value = {
        "when": dt.datetime(2026, 1, 2, 3, 4, tzinfo=dt.UTC),
        "day": dt.date(2026, 1, 2),
        "list": (Verdict.genuine, 1.5, None),
        "id": uuid.UUID(int=0).hex,
    }
    assert story.jsonable(value) == {
        "when": "2026-01-02T03:04:00+00:00",
        "day": "2026-01-02",
        "list": ["genuine", 1.5, None],
        "id": "0" * 32,
    }


def test_units_of_a_batch_share_its_parts_and_nobody_can_change_them(session, item):
    records.process_record(session, batch=item.batch)
    other = factories.make_item(session, item.batch)
    records.shipment(session, batches=[item.batch])  # carrying both units
    first, second = story_of(session, item), story_of(session, other)
    for part in ("process_parameters", "shipments"):
        assert first[part] is second[part] and story.is_shared(first[part])
        with pytest.raises(AttributeError):  # a tuple: no append, sort or pop
            first[part].append({})
        with pytest.raises(TypeError):  # nor can an entry of it be changed
            first[part][0]["status" if part == "shipments" else "value"] = "changed"
    with pytest.raises(AttributeError):  # nor the events of a shipment
        first["shipments"][0]["events"].append({})


def test_a_new_record_of_the_batch_is_a_new_part(session, item):
    records.process_record(session, batch=item.batch, value=836.0)
    before = story_of(session, item)["process_parameters"]
    records.process_record(session, batch=item.batch, value=900.0, at=at(hours=1))
    after = story_of(session, item)["process_parameters"]
    assert after is not before
    assert (before[0]["value"], after[0]["value"], after[0]["out_of_spec"]) == (836.0, 900.0, 1)


def test_a_part_of_many_rows_is_the_pages_own(session, item, monkeypatch):
    monkeypatch.setattr(story, "SHARED_ROWS", 1)
    records.process_record(session, batch=item.batch)
    records.process_record(session, batch=item.batch, at=at(hours=1))
    parameters = story_of(session, item)["process_parameters"]
    assert not story.is_shared(parameters) and parameters[0]["readings"] == 2
