"""The catalog: products, sites, lines, stations, inspectors and material lots."""

import datetime as dt

import pytest
from sqlalchemy.exc import IntegrityError

from tests import factories
from trace.catalog import services as catalog
from trace.catalog.models import Inspector, Line, MaterialLot, Product, Station, StationKind
from trace.errors import Conflict, Invalid, NotFound

ACTOR = factories.ACTOR
GOOD_GTIN13 = "4006381333931"
GOOD_GTIN14 = "09506000134352"


def _refused_by_database(session, row) -> None:
    """Insert `row` directly, past the services, and expect the schema itself to refuse it."""
    with pytest.raises(IntegrityError), session.begin_nested():
        session.add(row)
        session.flush()


# --- products ---------------------------------------------------------------------


def test_create_product_stores_every_field(session):
    product = catalog.create_product(
        session,
        ACTOR,
        sku="KET-1",
        name="Electric kettle",
        gtin=GOOD_GTIN14,
        description="1.7 l, stainless steel",
        warranty_months=24,
        public_attributes={"material": "steel"},
        serial_format="K{seq:6}",
        use_digital_link=True,
    )
    stored = session.get(Product, product.id)
    assert (stored.sku, stored.name, stored.gtin) == ("KET-1", "Electric kettle", GOOD_GTIN14)
    assert stored.description == "1.7 l, stainless steel"
    assert stored.warranty_months == 24
    assert stored.public_attributes == {"material": "steel"}
    assert stored.serial_format == "K{seq:6}"
    assert stored.use_digital_link is True
    assert stored.created_at.tzinfo is not None


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("96385074", "00000096385074"),  # GTIN-8
        ("036000291452", "00036000291452"),  # GTIN-12 (UPC-A)
        (GOOD_GTIN13, "04006381333931"),  # GTIN-13 (EAN-13)
        (GOOD_GTIN14, GOOD_GTIN14),
    ],
)
def test_gtins_of_every_length_are_stored_as_gtin14(session, given, stored):
    assert factories.make_product(session, gtin=given).gtin == stored


def test_gtin_with_a_wrong_check_digit_names_the_expected_digit(session):
    with pytest.raises(Invalid) as caught:
        factories.make_product(session, gtin="4006381333932")
    assert list(caught.value.fields) == ["gtin"]
    assert "expected 1" in caught.value.fields["gtin"][0]
    assert factories.count(session, Product) == 0


@pytest.mark.parametrize("gtin", ["400638133393", "40063813339311", "4006381333a31", ""])
def test_malformed_gtins_are_refused(session, gtin):
    with pytest.raises(Invalid) as caught:
        factories.make_product(session, gtin=gtin)
    assert "gtin" in caught.value.fields


def test_digital_link_needs_a_gtin(session):
    with pytest.raises(Invalid) as caught:
        factories.make_product(session, use_digital_link=True)
    assert "use_digital_link" in caught.value.fields


def test_duplicate_sku_is_refused(session):
    factories.make_product(session, sku="KET-1")
    with pytest.raises(Conflict) as caught:
        factories.make_product(session, sku="KET-1")
    assert caught.value.fields == {"sku": ["already exists"]}
    assert factories.count(session, Product) == 1


def test_the_same_gtin_in_another_length_is_a_duplicate(session):
    factories.make_product(session, gtin=GOOD_GTIN13)
    with pytest.raises(Conflict) as caught:
        factories.make_product(session, gtin="0" + GOOD_GTIN13)
    assert "gtin" in caught.value.fields


def test_list_products_pages_in_id_order(session):
    made = [factories.make_product(session).id for _ in range(5)]
    first = catalog.list_products(session, limit=2)
    assert [p.id for p in first.items] == made[:2]
    assert first.next_after == made[1]
    second = catalog.list_products(session, after=first.next_after, limit=2)
    assert [p.id for p in second.items] == made[2:4]
    last = catalog.list_products(session, after=second.next_after, limit=2)
    assert [p.id for p in last.items] == made[4:]
    assert last.next_after is None


def test_database_refuses_a_duplicate_sku(session):
    factories.make_product(session, sku="KET-1")
    _refused_by_database(session, Product(sku="KET-1", name="Another"))


def test_database_refuses_a_duplicate_gtin(session):
    factories.make_product(session, gtin=GOOD_GTIN14)
    _refused_by_database(session, Product(sku="OTHER", name="Another", gtin=GOOD_GTIN14))


@pytest.mark.parametrize(
    "gtin",
    [
        "09506000134353",  # wrong check digit
        "9506000134352",  # a valid GTIN-13 that was not padded to 14
        "0950600013435X",
        "0950600013435 ",
        "-9506000134352",
    ],
)
def test_database_refuses_a_gtin_that_is_not_a_valid_gtin14(session, gtin):
    _refused_by_database(session, Product(sku="RAW", name="Inserted directly", gtin=gtin))


def test_database_accepts_a_valid_gtin14_inserted_directly(session):
    session.add(Product(sku="RAW", name="Inserted directly", gtin=GOOD_GTIN14))
    session.flush()
    assert factories.count(session, Product) == 1


# --- sites, lines, stations -------------------------------------------------------------


def test_create_line_at_a_site(session):
    site = catalog.create_site(session, ACTOR, code="SZ", name="Shenzhen plant", country="CN")
    line = catalog.create_line(
        session, ACTOR, code="L1", name="Kettle assembly 1", public_name="Line 1", site_id=site.id
    )
    stored = session.get(Line, line.id)
    assert (stored.code, stored.public_name, stored.site.code) == ("L1", "Line 1", "SZ")


def test_line_at_an_unknown_site_is_refused(session):
    with pytest.raises(NotFound) as caught:
        factories.make_line(session, site_id=999_999)
    assert caught.value.fields == {"site_id": ["unknown id"]}
    assert factories.count(session, Line) == 0


def test_duplicate_site_code_is_refused(session):
    catalog.create_site(session, ACTOR, code="SZ", name="Shenzhen plant")
    with pytest.raises(Conflict):
        catalog.create_site(session, ACTOR, code="SZ", name="Another")


def test_duplicate_line_code_is_refused(session):
    factories.make_line(session, code="L1")
    with pytest.raises(Conflict) as caught:
        factories.make_line(session, code="L1")
    assert "code" in caught.value.fields
    assert factories.count(session, Line) == 1


def test_database_refuses_a_duplicate_line_code(session):
    factories.make_line(session, code="L1")
    _refused_by_database(session, Line(code="L1", name="Again"))


def test_create_and_list_stations_of_a_line(session):
    line, other = factories.make_line(session), factories.make_line(session)
    packing = factories.make_station(session, line, kind=StationKind.packing)
    testing = factories.make_station(session, line, kind=StationKind.inspection)
    factories.make_station(session, other)
    page = catalog.list_stations(session, line_id=line.id)
    assert [s.id for s in page.items] == [packing.id, testing.id]
    assert page.items[0].kind is StationKind.packing
    assert [s.code for s in session.get(Line, line.id).stations] == sorted(
        [packing.code, testing.code]
    )


def test_station_on_an_unknown_line_is_refused(session):
    with pytest.raises(NotFound) as caught:
        catalog.create_station(
            session, ACTOR, code="ST1", name="Test", line_id=999_999, kind=StationKind.process
        )
    assert caught.value.fields == {"line_id": ["unknown id"]}
    assert factories.count(session, Station) == 0


def test_duplicate_station_code_is_refused_even_on_another_line(session):
    factories.make_station(session, code="ST1")
    with pytest.raises(Conflict):
        factories.make_station(session, code="ST1")
    assert factories.count(session, Station) == 1


def test_database_refuses_a_duplicate_station_code(session):
    station = factories.make_station(session, code="ST1")
    _refused_by_database(
        session,
        Station(code="ST1", name="Again", line_id=station.line_id, kind=StationKind.process),
    )


def test_database_refuses_a_station_on_a_line_that_does_not_exist(session):
    _refused_by_database(
        session, Station(code="ST9", name="Orphan", line_id=999_999, kind=StationKind.process)
    )


def test_list_lines(session):
    made = [factories.make_line(session).id for _ in range(3)]
    assert [line.id for line in catalog.list_lines(session).items] == made


# --- inspectors -------------------------------------------------------------------------


def test_create_and_list_inspectors(session):
    inspector = factories.make_inspector(session, badge="QC-0042", name="Li Na")
    other = factories.make_inspector(session, active=False)
    page = catalog.list_inspectors(session)
    assert [i.id for i in page.items] == [inspector.id, other.id]
    assert page.items[1].active is False
    assert inspector.masked.endswith("42")
    assert "QC-00" not in inspector.masked
    assert "Li" not in inspector.masked


def test_duplicate_badge_is_refused(session):
    factories.make_inspector(session, badge="QC-1")
    with pytest.raises(Conflict) as caught:
        factories.make_inspector(session, badge="QC-1")
    assert "badge" in caught.value.fields
    assert factories.count(session, Inspector) == 1


def test_database_refuses_a_duplicate_badge(session):
    factories.make_inspector(session, badge="QC-1")
    _refused_by_database(session, Inspector(badge="QC-1", name="Someone else"))


# --- material lots ------------------------------------------------------------------


def test_create_and_list_material_lots_by_part(session):
    lot = factories.make_material_lot(
        session, part_number="LID-7", quantity=500.0, unit="pcs", description="Lids"
    )
    factories.make_material_lot(session, part_number="BASE-2")
    stored = session.get(MaterialLot, lot.id)
    assert (stored.part_number, stored.quantity, stored.unit) == ("LID-7", 500.0, "pcs")
    assert stored.received_on == dt.date(2026, 10, 1)
    page = catalog.list_material_lots(session, part_number="LID-7")
    assert [m.id for m in page.items] == [lot.id]
    assert len(catalog.list_material_lots(session).items) == 2


def test_the_same_supplier_lot_of_the_same_part_is_refused(session):
    factories.make_material_lot(session, supplier="Acme", part_number="P1", supplier_lot="A7")
    with pytest.raises(Conflict) as caught:
        factories.make_material_lot(session, supplier="Acme", part_number="P1", supplier_lot="A7")
    assert "supplier_lot" in caught.value.fields
    assert factories.count(session, MaterialLot) == 1


@pytest.mark.parametrize(
    "changed", [{"supplier": "Other Co."}, {"part_number": "P2"}, {"supplier_lot": "A8"}]
)
def test_a_supplier_lot_differing_in_one_part_is_a_new_lot(session, changed):
    same = {"supplier": "Acme", "part_number": "P1", "supplier_lot": "A7"}
    factories.make_material_lot(session, **same)
    factories.make_material_lot(session, **{**same, **changed})
    assert factories.count(session, MaterialLot) == 2


def test_database_refuses_a_duplicate_supplier_lot(session):
    factories.make_material_lot(session, supplier="Acme", part_number="P1", supplier_lot="A7")
    _refused_by_database(
        session,
        MaterialLot(
            supplier="Acme", part_number="P1", supplier_lot="A7", received_on=dt.date(2026, 1, 1)
        ),
    )
