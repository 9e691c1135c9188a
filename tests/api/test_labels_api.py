"""Labels from the API: what is printed must scan back to exactly the item's URL."""

import io
import zipfile

import pytest

from tests import factories
from tests.conftest import PUBLIC_BASE_URL
from tests.trace.label_helpers import decode, open_png, rasterise_pdf
from trace import gs1
from trace.production import labels as label_output
from trace.production.serialization import serialize


def upper_short_url(code):
    return f"{PUBLIC_BASE_URL}/S/{code}".upper()


@pytest.fixture
def batch(session):
    batch = factories.make_batch(session, lot_number="LBL1")
    serialize(session, "test", batch, count=12)
    session.commit()
    return batch


@pytest.fixture
def client(api):
    return api("line")


def codes_of(session, batch):
    from sqlalchemy import select

    from trace.production.models import Item

    return session.scalars(
        select(Item.code).where(Item.batch_id == batch.id).order_by(Item.id)
    ).all()


@pytest.mark.parametrize("layout", ["small-30x20", "medium-50x30"])
def test_an_item_png_label_decodes_to_its_short_url(client, session, batch, layout):
    code = codes_of(session, batch)[0]
    response = client.get(f"/api/v1/items/{code}/label?format=png&layout={layout}")
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    assert decode(open_png(response.data)) == [upper_short_url(code)]


def test_a_digital_link_product_gets_a_digital_link_on_its_label(client, session):
    product = factories.make_product(session, gtin=factories.valid_gtin(), use_digital_link=True)
    batch = factories.make_batch(session, product=product, lot_number="DL1")
    serialize(session, "test", batch, count=1)
    session.commit()
    code = codes_of(session, batch)[0]
    response = client.get(f"/api/v1/items/{code}/label?format=png&layout=medium-50x30")
    expected = gs1.build_digital_link(PUBLIC_BASE_URL, product.gtin, lot="DL1", serial="DL1-000001")
    assert decode(open_png(response.data)) == [expected]


def test_an_item_label_in_svg_pdf_and_zpl(client, session, batch):
    code = codes_of(session, batch)[0]
    svg = client.get(f"/api/v1/items/{code}/label?format=svg")
    assert svg.mimetype == "image/svg+xml" and b"<svg" in svg.data
    pdf = client.get(f"/api/v1/items/{code}/label?format=pdf")
    assert [decode(page) for page in rasterise_pdf(pdf.data, 600)] == [[upper_short_url(code)]]
    zpl = client.get(f"/api/v1/items/{code}/label?format=zpl").data.decode()
    assert zpl.count("^XA") == 1 and f"^FDMA,{upper_short_url(code)}^FS" in zpl


def test_batch_zpl_has_one_format_per_item_with_each_url(client, session, batch):
    response = client.get(f"/api/v1/batches/{batch.id}/labels?format=zpl&layout=small-30x20")
    assert response.status_code == 200
    zpl = response.data.decode()
    assert zpl.count("^XA") == zpl.count("^XZ") == 12
    for code in codes_of(session, batch):
        assert f"^FDMA,{upper_short_url(code)}^FS" in zpl
    assert 'filename="LBL1-labels.zpl"' in response.headers["Content-Disposition"]


def test_batch_pdf_sheet_decodes_to_every_item(client, session, batch):
    response = client.get(f"/api/v1/batches/{batch.id}/labels?format=pdf&paper=Letter")
    assert response.mimetype == "application/pdf"
    found = {url for page in rasterise_pdf(response.data, 600) for url in decode(page)}
    assert found == {upper_short_url(code) for code in codes_of(session, batch)}


def test_batch_png_zip_has_a_decodable_label_per_item(client, session, batch):
    response = client.get(f"/api/v1/batches/{batch.id}/labels?format=png&layout=small-30x20")
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    assert len(archive.namelist()) == 12
    decoded = {decode(open_png(archive.read(name)))[0] for name in archive.namelist()}
    assert decoded == {upper_short_url(code) for code in codes_of(session, batch)}


def test_a_serial_range_selects_part_of_the_batch(client, batch):
    response = client.get(
        f"/api/v1/batches/{batch.id}/labels?format=zpl&from_serial=LBL1-000003&to_serial=LBL1-000005"
    )
    assert response.data.decode().count("^XA") == 3


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("format=gif", "format"),
        ("layout=nope", "layout"),
        ("offset_x_mm=50", "offset_x_mm"),
        ("offset_y_mm=abc", "offset_y_mm"),
        ("paper=A3", "paper"),
        ("dpi=20", "dpi"),
        ("from_serial=ZZZ", "from_serial"),
        ("from_serial=LBL1-000005&to_serial=LBL1-000001", "to_serial"),
        ("colour=red", "colour"),
    ],
)
def test_bad_batch_label_requests_are_422(client, batch, query, field):
    response = client.get(f"/api/v1/batches/{batch.id}/labels?{query}")
    assert response.status_code == 422
    assert field in response.json["error"]["fields"]


def test_too_many_labels_for_an_archive_is_422(client, batch, monkeypatch):
    monkeypatch.setattr(label_output, "MAX_ARCHIVE_LABELS", 5)
    response = client.get(f"/api/v1/batches/{batch.id}/labels?format=png")
    assert response.status_code == 422
    assert "format" in response.json["error"]["fields"]


def test_unknown_batch_and_item_are_404(client):
    assert client.get("/api/v1/batches/999999/labels").status_code == 404
    assert client.get("/api/v1/items/00000000000000000/label").status_code in (404, 422)


@pytest.mark.parametrize("role", ["logistics", "technician", "viewer"])
def test_roles_that_do_not_print_labels_are_refused(api, batch, role):
    assert api(role).get(f"/api/v1/batches/{batch.id}/labels?format=zpl").status_code == 403
