"""The resolver's domain: parsing paths at the root, finding what a Digital Link names,
public views, links and linksets."""

import pytest

from tests import factories
from trace import gs1, resolver
from trace.errors import DomainError, NotFound
from trace.production.models import BatchStatus
from trace.production.services import change_batch_status

BASE = "https://id.example.com"
GTIN = "04006381333931"
ITEM_FIELDS = {"serial", "product", "batch", "produced_at", "status"}
PRODUCT_FIELDS = {"sku", "name", "gtin", "description", "public_attributes", "warranty_months"}


@pytest.fixture
def item(session):
    product = factories.make_product(
        session, gtin=GTIN, name="Kettle", public_attributes={"material": "steel"}
    )
    batch = factories.make_batch(session, product=product, lot_number="KT2610A")
    return factories.make_item(session, batch, serial="KT2610A-000001")


def link(**parts) -> gs1.DigitalLink:
    return gs1.DigitalLink(gtin=GTIN, **parts)


# --- parsing at the resolver root ---------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (f"/01/{GTIN}", link()),
        (f"/01/{GTIN}/", link()),
        (f"/01/{GTIN}/10/L/21/S/", link(lot="L", serial="S")),
        (f"/01/{GTIN}/10/01/21/01", link(lot="01", serial="01")),
    ],
)
def test_parse_resolver_path(path, expected):
    assert resolver.parse_resolver_path(path) == expected


@pytest.mark.parametrize(
    "path",
    [
        f"/01/123/01/{GTIN}",  # a custom prefix: this resolver has none
        f"/x/01/{GTIN}",
        f"/01/{GTIN}//",  # only one trailing slash is forgiven
        f"/01/{GTIN}//21/S",
    ],
)
def test_parse_resolver_path_rejects(path):
    with pytest.raises(gs1.InvalidDigitalLink):
        resolver.parse_resolver_path(path)


# --- finding what a link names ------------------------------------------------------------


def test_item_by_gtin_lot_and_serial(session, item):
    found = resolver.resolve_digital_link(session, link(lot="KT2610A", serial="KT2610A-000001"))
    assert (found.item, found.batch, found.product) == (item, item.batch, item.product)


def test_item_by_gtin_and_serial_without_lot(session, item):
    assert resolver.resolve_digital_link(session, link(serial=item.serial)).item == item


def test_find_item_by_gtin_serial(session, item):
    assert resolver.find_item_by_gtin_serial(session, GTIN, item.serial) == item
    assert resolver.find_item_by_gtin_serial(session, GTIN, item.serial, "KT2610A") == item


def test_a_lot_that_does_not_match_is_as_unknown_as_a_wrong_serial(session, item):
    other = factories.make_batch(session, product=item.product, lot_number="KT2610B")
    factories.make_item(session, other, serial="KT2610B-000001")
    with pytest.raises(NotFound) as mismatch:
        resolver.resolve_digital_link(session, link(lot="KT2610B", serial=item.serial))
    with pytest.raises(NotFound) as unknown:
        resolver.resolve_digital_link(session, link(lot="KT2610B", serial="KT2610B-999999"))
    assert mismatch.value.message == unknown.value.message
    assert mismatch.value.fields == unknown.value.fields


@pytest.mark.parametrize(
    "parts",
    [
        {"serial": "NOPE"},
        {"lot": "KT2610A", "serial": "NOPE"},
        {"lot": "NOPE"},
        {"cpv": "V1"},
        {"cpv": "V1", "serial": "KT2610A-000001"},
    ],
)
def test_unknown_qualifiers_are_not_found(session, item, parts):
    with pytest.raises(NotFound):
        resolver.resolve_digital_link(session, link(**parts))


@pytest.mark.parametrize("parts", [{}, {"lot": "KT2610A"}, {"serial": "KT2610A-000001"}])
def test_unknown_gtin_is_not_found(session, item, parts):
    unknown = gs1.DigitalLink(gtin=factories.valid_gtin(), **parts)
    with pytest.raises(NotFound):
        resolver.resolve_digital_link(session, unknown)


def test_serials_of_another_product_do_not_resolve(session, item):
    other = factories.make_product(session, gtin=factories.valid_gtin())
    with pytest.raises(NotFound):
        resolver.find_item_by_gtin_serial(session, other.gtin, item.serial)


def test_batch_and_product_levels(session, item):
    lot = resolver.resolve_digital_link(session, link(lot="KT2610A"))
    assert (lot.product, lot.batch, lot.item) == (item.product, item.batch, None)
    product = resolver.resolve_digital_link(session, link())
    assert (product.product, product.batch, product.item) == (item.product, None, None)


def test_scanned_codes_normalize_and_tell_malformed_from_unknown(session, item):
    grouped = "-".join(item.code[i : i + 4] for i in range(0, 17, 4)).lower()
    assert resolver.find_item_by_scanned_code(session, grouped) == item
    with pytest.raises(DomainError) as malformed:
        resolver.find_item_by_scanned_code(session, item.code[:-1] + "U")
    assert (malformed.value.status, "code") == (400, *malformed.value.fields)
    with pytest.raises(NotFound) as unknown:
        resolver.find_item_by_scanned_code(session, "0" * 17)
    assert item.code not in unknown.value.message


# --- views --------------------------------------------------------------------------------


def test_public_item_view_is_genuine_and_public_only(session, item):
    view = resolver.public_item_view(item)
    assert list(view)[:2] == ["verdict", "code"]
    assert set(view) == {"verdict", "code", *ITEM_FIELDS}
    assert (view["verdict"], view["code"], view["serial"]) == ("genuine", item.code, item.serial)
    assert set(view["product"]) == PRODUCT_FIELDS
    assert view["product"]["public_attributes"] == {"material": "steel"}
    assert view["batch"] == {"lot_number": "KT2610A", "status": "open", "recalled": False}
    assert view["produced_at"].endswith("+00:00")
    assert view["status"] == "produced"


def test_unverified_item_view_has_no_code_and_no_claim(session, item):
    view = resolver.unverified_item_view(item)
    assert set(view) == {"verdict", "explanation", *ITEM_FIELDS}
    assert view["verdict"] == "unverified"
    assert "code" not in view
    text = repr(view).lower()
    assert item.code.lower() not in text
    assert "genuine" not in text


def test_recalled_batch_shows_in_the_views(session, item):
    change_batch_status(session, "test", item.batch, BatchStatus.recalled, "bad heating element")
    assert resolver.public_item_view(item)["batch"]["recalled"] is True
    lot_view = resolver.resolution_view(resolver.Resolution(link(), item.product, item.batch))
    assert lot_view["batch"] == {"lot_number": "KT2610A", "status": "recalled", "recalled": True}
    assert "bad heating element" not in repr(lot_view)


def test_resolution_view_per_level(session, item):
    product_view = resolver.resolution_view(resolver.resolve_digital_link(session, link()))
    assert set(product_view) == {"product"}
    assert set(product_view["product"]) == PRODUCT_FIELDS
    full = link(lot="KT2610A", serial=item.serial)
    assert resolver.resolution_view(resolver.resolve_digital_link(session, full))["verdict"] == (
        "unverified"
    )


# --- links and linksets -------------------------------------------------------------------


def test_linkset_has_one_context_per_level_with_canonical_anchors(session, item):
    found = resolver.resolve_digital_link(session, link(lot="KT2610A", serial=item.serial))
    contexts = resolver.linkset(found, BASE)["linkset"]
    assert [c["anchor"] for c in contexts] == [
        f"{BASE}/01/{GTIN}/10/KT2610A/21/KT2610A-000001",
        f"{BASE}/01/{GTIN}/10/KT2610A",
        f"{BASE}/01/{GTIN}",
    ]
    voc = "https://gs1.org/voc/"
    assert {f"{voc}defaultLink", f"{voc}pip", f"{voc}traceability"} <= set(contexts[0])
    assert f"{voc}recallStatus" in contexts[1]
    for context in contexts:
        for relation, targets in context.items():
            if relation.startswith(voc):
                for target in targets:
                    assert target["href"].startswith(f"{BASE}{resolver.INFO_PREFIX}/01/{GTIN}")
                    assert target["title"] and target["type"] == "application/json"
    assert item.code not in repr(contexts)


def test_linkset_anchor_is_canonical_for_encoded_values(session):
    product = factories.make_product(session, gtin="96385074")
    factories.make_batch(session, product=product, lot_number="A/B%")
    found = resolver.resolve_digital_link(
        session, gs1.DigitalLink(gtin="00000096385074", lot="A/B%")
    )
    anchors = [c["anchor"] for c in resolver.linkset(found, BASE)["linkset"]]
    assert anchors == [f"{BASE}/01/00000096385074/10/A%2FB%25", f"{BASE}/01/00000096385074"]


@pytest.mark.parametrize(
    ("link_type", "level"),
    [
        (None, "item"),
        ("gs1:defaultLink", "item"),
        ("gs1:pip", "item"),
        ("https://gs1.org/voc/traceability", "item"),
        ("https://ref.gs1.org/voc/pip", "item"),
        ("pip", "item"),
        ("gs1:recallStatus", "lot"),  # from the item's lot, one level up
    ],
)
def test_choose_link(session, item, link_type, level):
    found = resolver.resolve_digital_link(session, link(lot="KT2610A", serial=item.serial))
    path = f"/01/{GTIN}/10/KT2610A" + ("/21/KT2610A-000001" if level == "item" else "")
    assert resolver.choose_link(found, BASE, link_type).href == BASE + "/info" + path


@pytest.mark.parametrize("link_type", ["gs1:nutritionalInfo", "gs1:recallStatus", "foo:bar", ""])
def test_choose_link_of_a_type_not_offered_is_not_found(session, item, link_type):
    found = resolver.resolve_digital_link(session, link(serial=item.serial))  # no lot level
    with pytest.raises(NotFound) as error:
        resolver.choose_link(found, BASE, link_type)
    assert "gs1:pip" in error.value.fields["linkType"][0]


@pytest.mark.parametrize(
    ("query", "passed_on"),
    [
        ("", ""),
        ("linkType=gs1:pip", ""),
        ("foo=bar&linkType=gs1%3Apip&17=261231", "foo=bar&17=261231"),
        ("link%54ype=x&a", "a"),
    ],
)
def test_passed_on_query(query, passed_on):
    assert resolver.passed_on_query(query) == passed_on


def test_linkset_requests():
    assert resolver.is_linkset_request("linkset")
    assert resolver.is_linkset_request("all")
    assert not resolver.is_linkset_request(None)
    assert not resolver.is_linkset_request("gs1:pip")


def test_resolver_description():
    document = resolver.resolver_description(BASE + "/")
    assert document["resolverRoot"] == BASE
    assert document["supportedPrimaryKeys"] == ["01"]
    assert document["supportedLinkType"] == [
        {"namespace": "https://gs1.org/voc/", "prefix": "gs1:"}
    ]
    assert document["linkTypeDefaultCanBeLinkset"] is False
