"""EPCIS 2.0 JSON-LD exports, validated against GS1's EPCIS 2.0 JSON Schema (offline).

The schema ships in tests/data/epcis/ (source and licence in the README there). Formats are
checked too: every eventID, EPC, location and extension key must be a URI, every time an
RFC 3339 date-time.
"""

import copy
import hashlib
import json
from pathlib import Path

import pytest
from jsonschema import Draft7Validator

from tests.history_data import CONTACT, DESCRIPTION, build_story
from trace.production.models import Item

SCHEMA_FILE = Path(__file__).parent.parent / "data" / "epcis" / "EPCIS-JSON-Schema.json"
SCHEMA_SHA256 = "bcab07516c8b90db6e48227bbc7d0a8d7f0b1c89697bbe93964b1a0a399fdbc0"
BASE = "https://trace.example.com"  # the test configuration's public base URL


@pytest.fixture(scope="module")
def validator() -> Draft7Validator:
    schema = json.loads(SCHEMA_FILE.read_text())
    Draft7Validator.check_schema(schema)
    return Draft7Validator(schema, format_checker=Draft7Validator.FORMAT_CHECKER)


def assert_valid(validator, document: dict) -> None:
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:10])


@pytest.fixture
def story(session):
    story = build_story(session)
    session.commit()
    return story


def _export(client, path: str) -> dict:
    response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/ld+json"
    return json.loads(response.get_data(as_text=True))


def _events(document: dict, **match) -> list[dict]:
    return [
        e
        for e in document["epcisBody"]["eventList"]
        if all(e.get(key) == value for key, value in match.items())
    ]


def test_the_shipped_schema_is_the_one_we_took_from_gs1():
    assert hashlib.sha256(SCHEMA_FILE.read_bytes()).hexdigest() == SCHEMA_SHA256


def test_the_validator_checks_formats_so_a_bad_document_fails(validator, api, story):
    document = _export(api("viewer"), f"/api/v1/items/{story.item.code}/epcis")
    for breaking in (
        lambda d: d["epcisBody"]["eventList"][0].update(eventTimeZoneOffset="8:00"),
        lambda d: d["epcisBody"]["eventList"][0].update(eventID="not a uri"),
        lambda d: d["epcisBody"]["eventList"][0].update(eventTime="yesterday"),
        lambda d: d["epcisBody"]["eventList"][0].update(unknownField=1),
    ):
        broken = copy.deepcopy(document)
        breaking(broken)
        assert list(validator.iter_errors(broken))


def test_a_rich_item_exports_a_valid_epcis_document(validator, api, story):
    document = _export(api("viewer"), f"/api/v1/items/{story.item.code}/epcis")
    assert_valid(validator, document)
    assert document["type"] == "EPCISDocument" and document["schemaVersion"] == "2.0"
    assert document["@context"][0] == "https://ref.gs1.org/standards/epcis/epcis-context.jsonld"
    steps = {e.get("bizStep") for e in document["epcisBody"]["eventList"]}
    assert {"commissioning", "inspecting", "shipping", "receiving", "repairing"} <= steps
    assert {"sensor_reporting", "installing", "removing", "holding"} <= steps
    ids = [e["eventID"] for e in document["epcisBody"]["eventList"]]
    assert len(ids) == len(set(ids))


def test_a_batch_exports_a_valid_epcis_document(validator, api, story):
    document = _export(api("viewer"), f"/api/v1/batches/{story.batch.id}/epcis")
    assert_valid(validator, document)
    [commissioning] = _events(document, bizStep="commissioning")
    lot = commissioning["quantityList"][0]
    assert lot["epcClass"].endswith(f"/10/{story.batch.lot_number}")
    assert lot["quantity"] == 2
    assert commissioning["ilmd"]["cbvmda:lotNumber"] == story.batch.lot_number
    assert not any("epcList" in e for e in document["epcisBody"]["eventList"])


def test_an_item_without_gtin_is_named_by_sku_and_serial_not_by_its_code(validator, api, session):
    story = build_story(session, gtin=False)
    session.commit()
    document = _export(api("viewer"), f"/api/v1/items/{story.item.code}/epcis")
    assert_valid(validator, document)
    [commissioning] = _events(document, bizStep="commissioning")
    sku, serial = story.product.sku, story.item.serial
    assert commissioning["epcList"] == [f"{BASE}/id/products/{sku}/{serial}"]
    assert story.item.code not in json.dumps(document)
    batch_document = _export(api("viewer"), f"/api/v1/batches/{story.batch.id}/epcis")
    assert_valid(validator, batch_document)


def test_units_of_a_gtin_product_are_digital_link_uris(api, story):
    document = _export(api("viewer"), f"/api/v1/items/{story.item.code}/epcis")
    gtin = story.product.gtin.zfill(14)
    [commissioning] = _events(document, bizStep="commissioning")
    assert commissioning["epcList"] == [f"https://id.gs1.org/01/{gtin}/21/{story.item.serial}"]
    assert commissioning["action"] == "ADD" and commissioning["disposition"] == "active"
    assert commissioning["bizLocation"]["id"] == f"{BASE}/id/lines/{story.batch.line.code}"
    lots = {m["trace:supplierLot"] for m in commissioning["ilmd"]["trace:materialLots"]}
    assert lots == {lot.supplier_lot for lot in story.batch.material_lots}


def test_times_carry_the_configured_zone(api, story):
    document = _export(api("viewer"), f"/api/v1/items/{story.item.code}/epcis")
    for event in document["epcisBody"]["eventList"]:
        assert event["eventTimeZoneOffset"] == "+08:00"  # Asia/Shanghai, no daylight saving
        assert event["eventTime"].endswith("+08:00")


def test_inspections_become_conformant_or_not_with_their_measurements(api, story):
    document = _export(api("viewer"), f"/api/v1/items/{story.item.code}/epcis")
    by_id = {e["eventID"]: e for e in _events(document, bizStep="inspecting")}
    failed = by_id[f"urn:uuid:{story.inspections['failed'].event_id}"]
    rework = by_id[f"urn:uuid:{story.inspections['rework'].event_id}"]
    passed = by_id[f"urn:uuid:{story.inspections['passed'].event_id}"]
    sampling = by_id[f"urn:uuid:{story.inspections['sampling'].event_id}"]
    assert failed["disposition"] == rework["disposition"] == "non_conformant"
    assert passed["disposition"] == sampling["disposition"] == "conformant"
    assert failed["trace:defectCodes"] == ["LEAK"] and failed["trace:finalInspection"] is True
    leak, gloss = failed["sensorElementList"][0]["sensorReport"]
    assert (leak["type"], leak["uom"], leak["value"]) == ("ElectricCurrent", "4K", 0.9)
    assert leak["exception"] == "ALARM_CONDITION"
    # A unit we cannot map keeps the reading under the parameter's own type URI.
    assert gloss["type"] == f"{BASE}/ns/epcis/parameters/gloss"
    assert gloss["trace:unit"] == "GU" and "uom" not in gloss
    # The batch's sampling inspection is about the lot, counted, not about this unit.
    assert "epcList" not in sampling and sampling["quantityList"][0]["quantity"] == 2
    assert failed["readPoint"]["id"].startswith(f"{BASE}/id/stations/")


def test_process_parameters_become_sensor_reports(api, story):
    document = _export(api("viewer"), f"/api/v1/items/{story.item.code}/epcis")
    by_id = {e["eventID"]: e for e in _events(document, bizStep="sensor_reporting")}
    hot = by_id[f"urn:uuid:{story.process_records['hot'].event_id}"]
    [report] = hot["sensorElementList"][0]["sensorReport"]
    assert (report["type"], report["uom"], report["value"]) == ("Temperature", "CEL", 236.5)
    assert report["exception"] == "ALARM_CONDITION" and report["trace:inSpec"] is False
    assert report["trace:upperLimit"] == 230.0 and report["trace:parameter"] == "oven_temp"
    own = by_id[f"urn:uuid:{story.process_records['own'].event_id}"]
    [torque] = own["sensorElementList"][0]["sensorReport"]
    assert (torque["type"], torque["uom"]) == ("Torque", "NU")
    assert "exception" not in torque


def test_a_voided_record_declares_its_error_and_points_at_its_replacement(api, story):
    document = _export(api("viewer"), f"/api/v1/items/{story.item.code}/epcis")
    events = {e["eventID"]: e for e in document["epcisBody"]["eventList"]}
    wrong = events[f"urn:uuid:{story.process_records['wrong'].event_id}"]
    fixed_id = f"urn:uuid:{story.process_records['fixed'].event_id}"
    declaration = wrong["errorDeclaration"]
    assert declaration["reason"] == "incorrect_data"
    assert declaration["correctiveEventIDs"] == [fixed_id]
    assert declaration["trace:reason"] == "decimal point misplaced"
    assert events[fixed_id]["trace:replaces"] == wrong["eventID"]
    assert "errorDeclaration" not in events[fixed_id]


def test_a_corrected_logistics_event_points_at_an_event_in_the_same_document(api, story):
    document = _export(api("viewer"), f"/api/v1/items/{story.item.code}/epcis")
    declared = [e for e in document["epcisBody"]["eventList"] if "errorDeclaration" in e]
    ids = {e["eventID"] for e in document["epcisBody"]["eventList"]}
    assert len(declared) == 3  # the process record, the logistics event and the scrap
    for event in declared:
        assert set(event["errorDeclaration"]["correctiveEventIDs"]) <= ids


def test_shipping_and_receiving(api, story):
    document = _export(api("viewer"), f"/api/v1/items/{story.item.code}/epcis")
    shipping = _events(document, bizStep="shipping")
    assert {e["disposition"] for e in shipping} == {"in_transit"}
    [direct] = [e for e in shipping if "epcList" in e]
    assert direct["bizTransactionList"] == [
        {"type": "desadv", "bizTransaction": f"{BASE}/id/shipments/SH-1001"}
    ]
    assert direct["trace:trackingNumber"] == "SF123456789CN"
    [receiving] = _events(document, bizStep="receiving")  # the logged delivery
    assert receiving["disposition"] == "active" and "epcList" in receiving
    # The rest of the batch went whole-batch: its confirmed delivery is in their story.
    sibling = _export(api("viewer"), f"/api/v1/items/{story.sibling.code}/epcis")
    [confirmed] = _events(sibling, bizStep="receiving")
    assert confirmed["disposition"] == "active" and "epcList" in confirmed
    assert _events(document, bizStep="transporting")
    assert "Shanghai DC receiving" not in json.dumps(document)  # consignees stay inside


def test_repairs_and_batch_holds(api, story):
    document = _export(api("viewer"), f"/api/v1/items/{story.item.code}/epcis")
    [repair] = _events(document, bizStep="repairing")
    assert repair["disposition"] == "conformant"
    assert repair["eventTime"].startswith("2026-10-17")  # when it was completed
    assert repair["trace:partsInstalled"][0]["trace:partNumber"] == "PUMP-7"
    assert "Zhang Wei" not in json.dumps(document)  # nor technicians' names
    [hold] = _events(document, bizStep="holding")
    assert hold["disposition"] == "non_sellable_other"
    assert hold["trace:reason"] == "seal leak complaints"


def test_genealogy_as_aggregation_events(api, story, session):
    document = _export(api("viewer"), f"/api/v1/items/{story.item.code}/epcis")
    installing = _events(document, type="AggregationEvent", action="ADD")
    unit = _events(document, bizStep="commissioning")[0]["epcList"][0]
    parents = {e["parentID"] for e in installing}
    kit = session.get(Item, story.kit.id)  # a product without a GTIN
    assert parents == {unit, f"{BASE}/id/products/{kit.product.sku}/{kit.serial}"}
    [removed] = _events(document, type="AggregationEvent", action="DELETE")
    assert removed["bizStep"] == "removing"
    assert removed["childQuantityList"][0]["epcClass"] == f"{BASE}/id/parts/GASKET-3/lots/G-2026-09"


def test_the_same_event_keeps_its_id_across_exports_and_views_do_not_collide(api, story):
    client = api("viewer")
    item_doc = _export(client, f"/api/v1/items/{story.item.code}/epcis")
    again = _export(client, f"/api/v1/items/{story.item.code}/epcis")
    batch_doc = _export(client, f"/api/v1/batches/{story.batch.id}/epcis")
    item_ids = [e["eventID"] for e in item_doc["epcisBody"]["eventList"]]
    assert item_ids == [e["eventID"] for e in again["epcisBody"]["eventList"]]
    hot = f"urn:uuid:{story.process_records['hot'].event_id}"
    assert hot in item_ids and hot in {e["eventID"] for e in batch_doc["epcisBody"]["eventList"]}
    # The direct shipment is told for the unit in one and for the lot in the other.
    [unit_shipping] = [e for e in _events(item_doc, bizStep="shipping") if "epcList" in e]
    lot_shipping = _events(batch_doc, bizStep="shipping")
    assert unit_shipping["eventID"] not in {e["eventID"] for e in lot_shipping}


def test_no_personal_data_in_the_exports(api, story):
    client = api("viewer")
    text = client.get(f"/api/v1/items/{story.item.code}/epcis").get_data(as_text=True)
    text += client.get(f"/api/v1/batches/{story.batch.id}/epcis").get_data(as_text=True)
    for secret in [*CONTACT.values(), DESCRIPTION, "PRIVATE", "C-2026-0001"]:
        assert secret not in text


def test_an_installation_has_one_id_in_the_parent_and_in_the_component(api, story):
    client = api("viewer")
    unit_doc = _export(client, f"/api/v1/items/{story.item.code}/epcis")
    kit_doc = _export(client, f"/api/v1/items/{story.kit.code}/epcis")
    unit = _events(unit_doc, bizStep="commissioning")[0]["epcList"][0]
    [in_kit] = _events(kit_doc, type="AggregationEvent", childEPCs=[unit])
    [in_unit] = _events(unit_doc, type="AggregationEvent", childEPCs=[unit])
    assert in_kit == in_unit


def test_a_time_the_zone_cannot_show_is_exported_in_utc(api, session, validator):
    # Stored before the API refused such times: in Shanghai it would be the year 10000.
    import datetime as dt

    from tests import factories
    from tests.trace import scan_helpers as records
    from trace.logistics.models import ShipmentStatus

    item = factories.make_item(session, factories.make_batch(session))
    late = dt.datetime(9999, 12, 31, 20, 0, tzinfo=dt.UTC)
    records.shipment(session, items=[item], events=[(ShipmentStatus.in_transit, late, "Hub")])
    session.commit()
    document = _export(api("viewer"), f"/api/v1/items/{item.code}/epcis")
    assert_valid(validator, document)
    times = {(e["eventTime"], e["eventTimeZoneOffset"]) for e in document["epcisBody"]["eventList"]}
    assert ("9999-12-31T20:00:00.000+00:00", "+00:00") in times


def test_one_client_id_posted_to_two_resources_names_two_events(api, session, validator):
    # A tester's run posted as an inspection and as its process record under one id.
    import uuid

    from tests import factories

    item = factories.make_item(session)
    station = factories.make_station(session)
    inspector = factories.make_inspector(session)
    session.commit()
    line = api("line")
    shared = str(uuid.uuid4())
    test_run = {"station": station.code, "occurred_at": "2026-11-01T08:00:00Z"}
    inspection = {**test_run, "item_code": item.code, "inspector": inspector.badge}
    inspection |= {"event_id": shared, "result": "pass"}
    # About the batch, so that the batch's document has it too.
    reading = {"batch_id": item.batch_id, "parameter": "leak", "value": 0.9, "unit": "mA"}
    reading["upper_limit"] = 0.5
    assert line.post("/api/v1/inspections", json=inspection).status_code == 201
    wrong = line.post("/api/v1/process-records", json={**test_run, **reading, "event_id": shared})
    assert wrong.status_code == 201
    fixed_id = str(uuid.uuid4())
    fix = {**test_run, **reading, "value": 0.09, "event_id": fixed_id}
    fix |= {"replaces": wrong.json["id"], "void_reason": "decimal point"}
    assert line.post("/api/v1/process-records", json=fix).status_code == 201

    def named(document: dict) -> dict:
        events = document["epcisBody"]["eventList"]
        ids = [e["eventID"] for e in events]
        assert len(ids) == len(set(ids))
        return {
            e["bizStep"]: e for e in events if e["bizStep"] in ("inspecting", "sensor_reporting")
        }

    viewer = api("viewer")
    document = _export(viewer, f"/api/v1/items/{item.code}/epcis")
    assert_valid(validator, document)
    first = named(document)
    # The inspection was posted first and keeps the id; the process record gets another,
    # and its correction points at that one in both directions.
    assert first["inspecting"]["eventID"] == f"urn:uuid:{shared}"
    assert "trace:clientEventID" not in first["inspecting"]
    readings = _events(document, bizStep="sensor_reporting")
    [voided] = [e for e in readings if "errorDeclaration" in e]
    [correction] = [e for e in readings if "errorDeclaration" not in e]
    assert voided["eventID"] != f"urn:uuid:{shared}"
    assert voided["trace:clientEventID"] == f"urn:uuid:{shared}"
    assert correction["trace:replaces"] == voided["eventID"]
    assert voided["errorDeclaration"]["correctiveEventIDs"] == [f"urn:uuid:{fixed_id}"]
    batch_document = _export(viewer, f"/api/v1/batches/{item.batch_id}/epcis")
    assert voided["eventID"] in {e["eventID"] for e in batch_document["epcisBody"]["eventList"]}
    assert _export(viewer, f"/api/v1/items/{item.code}/epcis")["epcisBody"] == document["epcisBody"]
