"""Catalog endpoints: create then read back, pages, and bad input that writes nothing."""

import contextlib
import json

import pytest

from tests import factories
from trace.audit.models import AuditEntry
from trace.catalog.models import Inspector, Line, MaterialLot, Product, Site, Station

GOOD_GTIN13 = "4006381333931"


def post_json(client, path, body):
    return client.post(path, data=json.dumps(body), content_type="application/json")


@contextlib.contextmanager
def nothing_written(session, *models):
    """Row counts of `models` and of the audit trail are the same after the block as before."""
    watched = (*models, AuditEntry)
    before = {model: factories.count(session, model) for model in watched}
    yield
    after = {model: factories.count(session, model) for model in watched}
    assert after == before


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert set(error) == {"code", "message", "fields"}
    return error


# --- happy paths ------------------------------------------------------------------------


def test_create_a_product_then_get_it(api):
    client = api("quality")
    response = post_json(
        client,
        "/api/v1/products",
        {
            "sku": "KET-1",
            "name": "  Electric kettle  ",
            "gtin": GOOD_GTIN13,
            "description": "1.7 l",
            "warranty_months": 24,
            "public_attributes": {"material": "stainless steel"},
            "use_digital_link": True,
        },
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    created = response.get_json()
    assert created["gtin"] == "0" + GOOD_GTIN13
    assert created["name"] == "Electric kettle"
    assert created["created_at"].endswith("+00:00")
    fetched = client.get(f"/api/v1/products/{created['id']}")
    assert fetched.status_code == 200
    assert fetched.get_json() == created


def test_product_defaults(api):
    created = post_json(api("admin"), "/api/v1/products", {"sku": "K", "name": "Kettle"}).get_json()
    assert created["gtin"] is None
    assert created["warranty_months"] == 0
    assert created["public_attributes"] == {}
    assert created["use_digital_link"] is False
    assert created["description"] == ""


def test_list_products_in_pages(api, session):
    ids = [factories.make_product(session).id for _ in range(5)]
    client = api("viewer")
    first = client.get("/api/v1/products?limit=2").get_json()
    assert [p["id"] for p in first["items"]] == ids[:2]
    assert first["next_after"] == ids[1]
    second = client.get(f"/api/v1/products?limit=2&after={first['next_after']}").get_json()
    assert [p["id"] for p in second["items"]] == ids[2:4]
    last = client.get(f"/api/v1/products?limit=2&after={second['next_after']}").get_json()
    assert [p["id"] for p in last["items"]] == ids[4:]
    assert last["next_after"] is None


def test_create_a_site_and_a_line_there(api):
    client = api("admin")
    site = post_json(client, "/api/v1/sites", {"code": "SZ", "name": "Shenzhen", "country": "CN"})
    assert site.status_code == 201
    assert site.get_json()["country"] == "CN"
    line = post_json(
        client,
        "/api/v1/lines",
        {
            "code": "L1",
            "name": "Kettle 1",
            "public_name": "Line 1",
            "site_id": site.get_json()["id"],
        },
    )
    assert line.status_code == 201
    listed = client.get("/api/v1/lines").get_json()["items"]
    assert listed == [line.get_json()]
    assert listed[0]["site_id"] == site.get_json()["id"]


def test_create_stations_and_list_them_by_line(api, session):
    line, other = factories.make_line(session), factories.make_line(session)
    factories.make_station(session, other)
    session.commit()
    client = api("admin")
    created = post_json(
        client,
        "/api/v1/stations",
        {"code": "ST-1", "name": "Leak test", "line_id": line.id, "kind": "inspection"},
    )
    assert created.status_code == 201
    assert created.get_json()["kind"] == "inspection"
    listed = client.get(f"/api/v1/stations?line_id={line.id}").get_json()
    assert listed == {"items": [created.get_json()], "next_after": None}


def test_create_and_list_inspectors(api):
    client = api("quality")
    created = post_json(
        client, "/api/v1/inspectors", {"badge": "QC-7", "name": "Li Na", "qualification": "IPC"}
    )
    assert created.status_code == 201
    assert created.get_json()["active"] is True
    assert client.get("/api/v1/inspectors").get_json()["items"] == [created.get_json()]


def test_create_a_material_lot_then_get_and_filter_it(api, session):
    factories.make_material_lot(session, part_number="OTHER-1")
    session.commit()
    client = api("line")
    created = post_json(
        client,
        "/api/v1/material-lots",
        {
            "part_number": "LID-7",
            "supplier": "Ningbo Thermal Co.",
            "supplier_lot": "NT-2610-04",
            "received_on": "2026-10-04",
            "quantity": 500,
            "unit": "pcs",
        },
    )
    assert created.status_code == 201, created.get_data(as_text=True)
    lot = created.get_json()
    assert (lot["received_on"], lot["quantity"]) == ("2026-10-04", 500.0)
    assert client.get(f"/api/v1/material-lots/{lot['id']}").get_json() == lot
    assert client.get("/api/v1/material-lots?part_number=LID-7").get_json()["items"] == [lot]


@pytest.mark.parametrize("part_number", ["%00LID", "LID%0A7", "LID 7", "x" * 65])
def test_a_part_number_filter_that_no_part_number_can_match_is_422(api, part_number):
    # A NUL reached PostgreSQL and failed there (500), found by schemathesis.
    response = api("viewer").get(f"/api/v1/material-lots?part_number={part_number}")
    assert "part_number" in error_of(response, 422)["fields"]


@pytest.mark.parametrize(
    "path", ["/api/v1/products/999999", "/api/v1/material-lots/999999", "/api/v1/products/0"]
)
def test_unknown_catalog_ids_are_404(api, path):
    assert error_of(api("viewer").get(path), 404)["code"] == "not_found"


def test_an_id_beyond_64_bits_is_404_not_500(api):
    assert api("viewer").get(f"/api/v1/products/{2**64}").status_code == 404


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=501",
        "limit=ten",
        "after=-1",
        "after=x",
        f"after={2**64}",
        "colour=red",
        "line_id=0",
        f"line_id={2**64}",
    ],
)
def test_bad_paging_or_filters_are_422(api, query):
    path = "/api/v1/stations" if query.startswith("line_id") else "/api/v1/products"
    response = api("viewer").get(f"{path}?{query}")
    assert error_of(response, 422)["code"] == "validation_failed"


# --- bad input ---------------------------------------------------------------------------

PRODUCT = {"sku": "KET-1", "name": "Electric kettle"}
SITE = {"code": "SZ", "name": "Shenzhen", "country": "CN"}
LINE = {"code": "L1", "name": "Kettle 1"}
INSPECTOR = {"badge": "QC-7", "name": "Li Na"}
LOT = {
    "part_number": "LID-7",
    "supplier": "Ningbo Thermal Co.",
    "supplier_lot": "NT-1",
    "received_on": "2026-10-04",
}
MISSING = object()


def _with(base: dict, **changes) -> dict:
    body = dict(base)
    for key, value in changes.items():
        if value is MISSING:
            body.pop(key)
        else:
            body[key] = value
    return body


# (path, model, body, field named in the 422); the body is the good one with one thing wrong.
BAD_BODIES = [
    # products
    ("/api/v1/products", Product, _with(PRODUCT, sku=5), "sku"),
    ("/api/v1/products", Product, _with(PRODUCT, name=7), "name"),
    ("/api/v1/products", Product, _with(PRODUCT, name=["Kettle"]), "name"),
    ("/api/v1/products", Product, _with(PRODUCT, warranty_months="24"), "warranty_months"),
    ("/api/v1/products", Product, _with(PRODUCT, warranty_months=2.5), "warranty_months"),
    ("/api/v1/products", Product, _with(PRODUCT, warranty_months=True), "warranty_months"),
    ("/api/v1/products", Product, _with(PRODUCT, warranty_months=-1), "warranty_months"),
    ("/api/v1/products", Product, _with(PRODUCT, warranty_months=10**30), "warranty_months"),
    ("/api/v1/products", Product, _with(PRODUCT, public_attributes=["a"]), "public_attributes"),
    ("/api/v1/products", Product, _with(PRODUCT, public_attributes={"a": 5}), "public_attributes"),
    ("/api/v1/products", Product, _with(PRODUCT, use_digital_link="true"), "use_digital_link"),
    ("/api/v1/products", Product, _with(PRODUCT, use_digital_link=1), "use_digital_link"),
    ("/api/v1/products", Product, _with(PRODUCT, sku=MISSING), "sku"),
    ("/api/v1/products", Product, _with(PRODUCT, name=MISSING), "name"),
    ("/api/v1/products", Product, _with(PRODUCT, name=None), "name"),
    ("/api/v1/products", Product, _with(PRODUCT, colour="red"), "colour"),
    ("/api/v1/products", Product, _with(PRODUCT, id=5), "id"),
    ("/api/v1/products", Product, _with(PRODUCT, sku="K" * 65), "sku"),
    ("/api/v1/products", Product, _with(PRODUCT, name="K" * 201), "name"),
    ("/api/v1/products", Product, _with(PRODUCT, description="d" * 4001), "description"),
    ("/api/v1/products", Product, _with(PRODUCT, sku="KET 1"), "sku"),
    ("/api/v1/products", Product, _with(PRODUCT, sku="KET-1\n"), "sku"),
    ("/api/v1/products", Product, _with(PRODUCT, sku=""), "sku"),
    ("/api/v1/products", Product, _with(PRODUCT, name="   "), "name"),
    ("/api/v1/products", Product, _with(PRODUCT, name="Kettle\x07"), "name"),
    ("/api/v1/products", Product, _with(PRODUCT, name="Kettle\x00"), "name"),
    ("/api/v1/products", Product, _with(PRODUCT, name="Kettle\x1b[31m"), "name"),
    ("/api/v1/products", Product, _with(PRODUCT, name="Kettle\ud800"), "name"),
    ("/api/v1/products", Product, _with(PRODUCT, gtin="4006381333932"), "gtin"),
    ("/api/v1/products", Product, _with(PRODUCT, gtin="40063813339"), "gtin"),
    ("/api/v1/products", Product, _with(PRODUCT, gtin=4006381333931), "gtin"),
    ("/api/v1/products", Product, _with(PRODUCT, gtin="4006381333931\n"), "gtin"),
    ("/api/v1/products", Product, _with(PRODUCT, gtin="400638133393\u0661"), "gtin"),
    ("/api/v1/products", Product, _with(PRODUCT, use_digital_link=True), "use_digital_link"),
    ("/api/v1/products", Product, _with(PRODUCT, serial_format="{"), "serial_format"),
    # sites
    ("/api/v1/sites", Site, _with(SITE, code=1), "code"),
    ("/api/v1/sites", Site, _with(SITE, country="cn"), "country"),
    ("/api/v1/sites", Site, _with(SITE, country="CHN"), "country"),
    ("/api/v1/sites", Site, _with(SITE, country="CN\n"), "country"),
    ("/api/v1/sites", Site, _with(SITE, name=MISSING), "name"),
    # lines
    ("/api/v1/lines", Line, _with(LINE, site_id="1"), "site_id"),
    ("/api/v1/lines", Line, _with(LINE, site_id=0), "site_id"),
    ("/api/v1/lines", Line, _with(LINE, site_id=2**63), "site_id"),
    ("/api/v1/lines", Line, _with(LINE, site_id={"id": 1}), "site_id"),
    ("/api/v1/lines", Line, _with(LINE, code="L 1"), "code"),
    ("/api/v1/lines", Line, _with(LINE, code="L" * 33), "code"),
    ("/api/v1/lines", Line, _with(LINE, public_name="P\x0bQ"), "public_name"),
    # stations (line_id is filled in with a real line unless the case overrides it)
    ("/api/v1/stations", Station, {"code": "S1", "name": "Test", "kind": "oven"}, "kind"),
    ("/api/v1/stations", Station, {"code": "S1", "name": "Test"}, "kind"),
    ("/api/v1/stations", Station, {"code": "S1", "name": "Test", "kind": 1}, "kind"),
    ("/api/v1/stations", Station, {"code": "S1", "kind": "process", "line_id": "1"}, "line_id"),
    ("/api/v1/stations", Station, {"code": "S1", "kind": "process", "line_id": [1]}, "line_id"),
    ("/api/v1/stations", Station, {"code": "S1", "kind": "process", "line_id": None}, "line_id"),
    # inspectors
    ("/api/v1/inspectors", Inspector, _with(INSPECTOR, active="yes"), "active"),
    ("/api/v1/inspectors", Inspector, _with(INSPECTOR, badge=MISSING), "badge"),
    ("/api/v1/inspectors", Inspector, _with(INSPECTOR, badge="QC 7"), "badge"),
    ("/api/v1/inspectors", Inspector, _with(INSPECTOR, name="N" * 201), "name"),
    ("/api/v1/inspectors", Inspector, _with(INSPECTOR, qualification=5), "qualification"),
    # material lots
    ("/api/v1/material-lots", MaterialLot, _with(LOT, received_on="2026-13-01"), "received_on"),
    ("/api/v1/material-lots", MaterialLot, _with(LOT, received_on=20261004), "received_on"),
    ("/api/v1/material-lots", MaterialLot, _with(LOT, received_on=MISSING), "received_on"),
    ("/api/v1/material-lots", MaterialLot, _with(LOT, quantity=-1), "quantity"),
    ("/api/v1/material-lots", MaterialLot, _with(LOT, quantity="5"), "quantity"),
    ("/api/v1/material-lots", MaterialLot, _with(LOT, quantity=True), "quantity"),
    ("/api/v1/material-lots", MaterialLot, _with(LOT, supplier=MISSING), "supplier"),
    ("/api/v1/material-lots", MaterialLot, _with(LOT, supplier_lot="N" * 65), "supplier_lot"),
    ("/api/v1/material-lots", MaterialLot, _with(LOT, supplier="Acme\x00"), "supplier"),
    ("/api/v1/material-lots", MaterialLot, _with(LOT, unit="u" * 17), "unit"),
]


def _case_id(case) -> str:
    path, _, body, field = case
    return f"{path.rsplit('/', 1)[1]}-{field}-{json.dumps(body, ensure_ascii=True)[:40]}"


@pytest.mark.parametrize(
    ("path", "model", "body", "field"), BAD_BODIES, ids=[_case_id(case) for case in BAD_BODIES]
)
def test_bad_input_is_a_422_naming_the_field_and_writes_nothing(
    api, session, path, model, body, field
):
    if path == "/api/v1/stations" and "line_id" not in body:
        body = {**body, "line_id": factories.make_line(session).id, "name": "Test"}
        session.commit()
    client = api("admin")
    with nothing_written(session, model):
        response = post_json(client, path, body)
    error = error_of(response, 422)
    assert error["code"] == "validation_failed"
    assert field in error["fields"], error


def test_a_wrong_gtin_check_digit_names_the_expected_digit(api, session):
    client = api("admin")
    with nothing_written(session, Product):
        response = post_json(client, "/api/v1/products", _with(PRODUCT, gtin="4006381333932"))
    assert "expected 1" in error_of(response, 422)["fields"]["gtin"][0]


def test_the_message_of_every_bad_field_is_reported_at_once(api, session):
    client = api("admin")
    body = {"sku": 5, "name": "", "warranty_months": "24", "gtin": 1}
    with nothing_written(session, Product):
        response = post_json(client, "/api/v1/products", body)
    assert set(error_of(response, 422)["fields"]) == {"sku", "name", "warranty_months", "gtin"}


@pytest.mark.parametrize(
    ("path", "model", "body", "field"),
    [
        ("/api/v1/lines", Line, _with(LINE, site_id=999_999), "site_id"),
        (
            "/api/v1/stations",
            Station,
            {"code": "S1", "name": "T", "line_id": 999_999, "kind": "process"},
            "line_id",
        ),
    ],
)
def test_unknown_ids_are_404_and_write_nothing(api, session, path, model, body, field):
    client = api("admin")
    with nothing_written(session, model):
        response = post_json(client, path, body)
    assert error_of(response, 404)["fields"] == {field: ["unknown id"]}


@pytest.mark.parametrize(
    ("path", "model", "body"),
    [
        ("/api/v1/products", Product, PRODUCT),
        ("/api/v1/products", Product, {"sku": "OTHER", "name": "x", "gtin": "0" + GOOD_GTIN13}),
        ("/api/v1/sites", Site, SITE),
        ("/api/v1/lines", Line, LINE),
        ("/api/v1/inspectors", Inspector, INSPECTOR),
        ("/api/v1/material-lots", MaterialLot, LOT),
    ],
)
def test_duplicates_are_409_and_write_nothing(api, session, path, model, body):
    client = api("admin")
    first = dict(body)
    if path == "/api/v1/products":
        first = {**PRODUCT, "gtin": GOOD_GTIN13}
    assert post_json(client, path, first).status_code == 201
    with nothing_written(session, model):
        response = post_json(client, path, body)
    assert error_of(response, 409)["code"] == "conflict"


def test_duplicate_station_code_is_409(api, session):
    station = factories.make_station(session)
    session.commit()
    client = api("admin")
    body = {"code": station.code, "name": "Again", "line_id": station.line_id, "kind": "packing"}
    with nothing_written(session, Station):
        response = post_json(client, "/api/v1/stations", body)
    assert error_of(response, 409)["fields"] == {"code": ["already exists"]}
