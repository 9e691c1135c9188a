"""The public resolver over HTTP: /s/ and /S/ codes, GS1 Digital Link paths, linksets,
the resolver description, and errors as HTML for browsers and JSON for programs."""

import json
from urllib.parse import urlsplit

import pytest

from tests import factories
from tests.conftest import PUBLIC_BASE_URL
from trace import codes, gs1
from trace.scans import services as scans_services

GTIN = "04006381333931"
LOT = "KT2610A"
SERIAL = "KT2610A-000001"
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
JSON = {"Accept": "application/json"}
LINKSET = {"Accept": "application/linkset+json"}
VOC = "https://gs1.org/voc/"


@pytest.fixture
def item(session):
    product = factories.make_product(session, gtin=GTIN, name="Kettle")
    batch = factories.make_batch(session, product=product, lot_number=LOT)
    item = factories.make_item(session, batch, serial=SERIAL)
    session.commit()
    return item


def dl(*parts: str, query: str = "") -> str:
    """A Digital Link path at the resolver root, from raw (already encoded) segments."""
    return "/" + "/".join(parts) + (f"?{query}" if query else "")


def follow(client, response, **kwargs):
    """Follow a redirect to the public base URL (the test client will not cross hosts)."""
    assert response.status_code == 307, response.get_data(as_text=True)
    location = response.headers["Location"]
    assert location.startswith(PUBLIC_BASE_URL + "/")
    parts = urlsplit(location)
    return client.get(parts.path + (f"?{parts.query}" if parts.query else ""), **kwargs)


def assert_json_error(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert set(error) == {"code", "message", "fields"}
    assert error["message"]
    return error


# --- /s/<code> and /S/<code> --------------------------------------------------------------


def grouped(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


@pytest.mark.parametrize(
    "spell",
    [
        lambda code: f"/s/{code}",
        lambda code: f"/S/{code}",
        lambda code: f"/s/{code.lower()}",
        lambda code: f"/S/{grouped(code)}",
        lambda code: f"/s/{grouped(code).lower()}",
    ],
)
def test_item_by_code(client, item, spell):
    response = client.get(spell(item.code))
    assert response.status_code == 200
    view = response.get_json()
    assert (view["verdict"], view["code"], view["serial"]) == ("genuine", item.code, SERIAL)
    assert view["product"]["gtin"] == GTIN
    assert view["batch"] == {"lot_number": LOT, "status": "open", "recalled": False}
    assert view["produced_at"].endswith("+00:00")


def test_upper_case_label_url_resolves(client, item):
    # What an alphanumeric-mode QR carries: the whole URL upper-cased.
    url = f"{PUBLIC_BASE_URL}/S/{item.code}".upper()
    assert client.get(urlsplit(url).path).get_json()["code"] == item.code


def test_item_view_shows_no_internal_data(client, item):
    # The line appears by its public name only (tests/web/test_scan_page.py has the rest).
    body = client.get(f"/s/{item.code}").get_data(as_text=True)
    for word in ('"id"', "product_id", "batch_id", "line_id", "Assembly line", "key", "contact"):
        assert word not in body


@pytest.mark.parametrize("text", ["ABC", "7KQ2MX9RD4TB0HZP!", "U" * 17, "A" * 70])
def test_malformed_code_is_400(client, item, text):
    error = assert_json_error(client.get(f"/s/{text}", headers=JSON), 400)
    assert "code" in error["fields"]


def test_a_code_with_one_wrong_character_is_malformed_not_unknown(client, item):
    position = 3
    wrong = "1" if item.code[position] != "1" else "2"
    typo = item.code[:position] + wrong + item.code[position + 1 :]
    assert_json_error(client.get(f"/s/{typo}", headers=JSON), 400)


def test_unknown_code_is_404_without_a_hint(client, item):
    first = assert_json_error(client.get(f"/s/{codes.new_code()}", headers=JSON), 404)
    second = assert_json_error(client.get(f"/s/{codes.new_code()}", headers=JSON), 404)
    assert first == second  # the same words whatever the code: nothing to learn from them
    assert item.code not in json.dumps(first)


@pytest.mark.parametrize(("text", "status"), [("ABC", 400), ("0" * 17, 404)])
def test_code_errors_are_html_for_browsers(client, item, text, status):
    response = client.get(f"/s/{text}", headers=BROWSER)
    assert response.status_code == status
    assert response.mimetype == "text/html"


@pytest.mark.parametrize("headers", [{}, {"Accept": "*/*"}, JSON])
def test_code_errors_are_json_for_programs(client, item, headers):
    assert_json_error(client.get("/s/ABC", headers=headers), 400)


# --- Digital Link: valid links ------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        dl("01", GTIN, "10", LOT, "21", SERIAL),
        dl("01", GTIN, "21", SERIAL),
        dl("01", GTIN[1:], "10", LOT, "21", SERIAL),  # GTIN-13
        dl("01", GTIN, "10", "%4B%54%32%36%31%30%41", "21", "KT2610A%2D000001"),  # over-encoded
        dl("01", GTIN, "10", LOT, "21", SERIAL) + "/",  # a trailing slash is tolerated
    ],
)
def test_item_link_redirects_to_the_unverified_item_view(client, item, path):
    response = client.get(path, headers=BROWSER)
    assert response.status_code == 307
    view = follow(client, response).get_json()
    assert (view["verdict"], view["serial"]) == ("unverified", SERIAL)
    assert view["explanation"]
    assert view["batch"]["lot_number"] == LOT


def test_item_link_never_shows_the_code_or_says_genuine(client, item):
    path = dl("01", GTIN, "10", LOT, "21", SERIAL)
    responses = [
        client.get(path),
        follow(client, client.get(path)),
        client.get(path, query_string={"linkType": "linkset"}),
        client.get(path, headers=LINKSET),
    ]
    for response in responses:
        text = response.get_data(as_text=True) + str(response.headers)
        assert item.code not in text
        assert item.code.lower() not in text.lower()
        assert "genuine" not in text.lower()


def test_lot_link_leads_to_the_batch_view(client, item):
    view = follow(client, client.get(dl("01", GTIN, "10", LOT))).get_json()
    assert view == {
        "product": view["product"],
        "batch": {"lot_number": LOT, "status": "open", "recalled": False},
    }
    assert view["product"]["gtin"] == GTIN


def test_product_link_leads_to_the_product_view(client, item):
    view = follow(client, client.get(dl("01", GTIN))).get_json()
    assert set(view) == {"product"}
    assert view["product"]["name"] == "Kettle"


@pytest.mark.parametrize(
    ("lot", "serial"),
    [("A/B%1", "S+1"), ("100%!", "X:Y;Z"), ('"<>?', "a'(b)*,=")],
)
def test_percent_encoded_values_resolve(client, session, lot, serial):
    product = factories.make_product(session, gtin=factories.valid_gtin())
    batch = factories.make_batch(session, product=product, lot_number=lot)
    factories.make_item(session, batch, serial=serial)
    session.commit()
    url = gs1.build_digital_link(PUBLIC_BASE_URL, product.gtin, lot, serial)
    response = client.get(urlsplit(url).path)
    view = follow(client, response).get_json()
    assert (view["serial"], view["batch"]["lot_number"]) == (serial, lot)


def test_encoded_slash_is_part_of_the_value_not_a_separator(client, session):
    # Only the raw path tells "A%2FB" (lot A/B) from "A/B": the test client, like gunicorn
    # and Werkzeug's server, passes it in RAW_URI and REQUEST_URI.
    product = factories.make_product(session, gtin=factories.valid_gtin())
    factories.make_batch(session, product=product, lot_number="A/B")
    session.commit()
    environ = client.get(dl("01", product.gtin, "10", "A%2FB")).request.environ
    assert environ["RAW_URI"].endswith("/10/A%2FB")
    assert environ["PATH_INFO"].endswith("/10/A/B")
    response = client.get(dl("01", product.gtin, "10", "A%2FB"))
    assert follow(client, response).get_json()["batch"]["lot_number"] == "A/B"


@pytest.mark.parametrize(
    "gtin",
    ["96385074", "000096385074", "0000096385074", "00000096385074"],
)
def test_short_gtins_resolve_to_the_same_product(client, session, gtin):
    factories.make_product(session, gtin="96385074", name="GTIN-8 product")
    session.commit()
    response = client.get(dl("01", gtin))
    assert response.headers["Location"] == f"{PUBLIC_BASE_URL}/info/01/00000096385074"
    assert follow(client, response).get_json()["product"]["gtin"] == "00000096385074"


@pytest.mark.parametrize("gtin", ["036000291452", "0036000291452", "00036000291452"])
def test_gtin_12_and_13_forms_resolve_to_the_same_product(client, session, gtin):
    factories.make_product(session, gtin="036000291452")
    session.commit()
    response = client.get(dl("01", gtin))
    assert response.headers["Location"] == f"{PUBLIC_BASE_URL}/info/01/00036000291452"


def test_query_string_is_passed_on_when_redirecting(client, item):
    response = client.get(dl("01", GTIN, "21", SERIAL, query="foo=bar&17=261231"))
    assert response.headers["Location"].endswith(f"/21/{SERIAL}?foo=bar&17=261231")


def test_redirects_name_the_linkset_in_a_link_header(client, item):
    response = client.get(dl("01", GTIN[1:], "10", LOT, "21", SERIAL))
    canonical = gs1.build_digital_link(PUBLIC_BASE_URL, GTIN, LOT, SERIAL)
    assert f'<{canonical}?linkType=linkset>; rel="linkset"' in response.headers["Link"]


def test_head_options_and_cors(client, item):
    path = dl("01", GTIN, "21", SERIAL)
    assert client.head(path).status_code == 307
    options = client.options(path)
    assert {"GET", "HEAD", "OPTIONS"} <= set(options.headers["Allow"].split(", "))
    for response in (client.get(path), options, client.get("/.well-known/gs1resolver")):
        assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Origin" not in client.get(f"/s/{item.code}").headers


# --- Digital Link: unknown (404) and invalid (400) ----------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        dl("01", "09506000134352"),  # valid GTIN, no such product
        dl("01", "09506000134352", "21", SERIAL),
        dl("01", GTIN, "21", "KT2610A-999999"),
        dl("01", GTIN, "10", LOT, "21", "KT2610A-999999"),
        dl("01", GTIN, "10", "KT2610B"),
        dl("01", GTIN, "10", "KT2610B", "21", SERIAL),  # the serial is in another lot
        dl("01", GTIN, "22", "V1", "21", SERIAL),  # no consumer product variants
    ],
)
def test_valid_but_unknown_links_are_404(client, item, path):
    assert_json_error(client.get(path, headers=JSON), 404)
    assert client.get(path, headers=BROWSER).mimetype == "text/html"


def test_a_lot_mismatch_reads_like_an_unknown_serial(client, session, item):
    other = factories.make_batch(session, product=item.product, lot_number="KT2610B")
    factories.make_item(session, other, serial="KT2610B-000001")
    session.commit()
    mismatch = client.get(dl("01", GTIN, "10", "KT2610B", "21", SERIAL), headers=JSON)
    unknown = client.get(dl("01", GTIN, "10", "KT2610B", "21", "KT2610B-999"), headers=JSON)
    assert assert_json_error(mismatch, 404) == assert_json_error(unknown, 404)


@pytest.mark.parametrize(
    ("path", "words"),
    [
        (dl("01", "04006381333932"), "check digit"),
        (dl("01", "4006381333932", "21", SERIAL), "check digit"),
        (dl("01", GTIN, "21", SERIAL, "10", LOT), "order"),
        (dl("01", GTIN, "10", LOT, "22", "V1"), "order"),
        (dl("01", GTIN, "21", SERIAL, query="10=" + LOT), "belongs in the path"),
        (dl("01", GTIN, query="21=" + SERIAL), "belongs in the path"),
        (dl("01", GTIN, "21", "S" * 21), "at most 20"),
        (dl("01", GTIN, "21", "%41" * 21), "at most 20"),
        (dl("01", GTIN, "21", "A%20B"), "set of 82"),
        (dl("01", GTIN, "21", "A~B"), "set of 82"),
        (dl("01", GTIN, "10", "L%C3%A9"), "set of 82"),
        (dl("01", GTIN, "17", "261231"), "cannot follow 01"),
        (dl("01", GTIN, "10"), "no value"),
        (dl("01", GTIN, "10", LOT, "foo"), "unexpected path segment"),
        (dl("01", GTIN, "", "21", SERIAL), "empty path segment"),
        (dl("01", "123", "01", GTIN), "must start with /01/"),
        (dl("01", "0950600013435X"), "only the digits"),
        ("/01", "no value"),
        ("/01/", "no value"),
    ],
)
def test_invalid_links_are_400_with_the_reason(client, item, path, words):
    error = assert_json_error(client.get(path, headers=JSON), 400)
    assert words in error["message"]
    assert list(error["fields"]) == ["digital_link"]


def test_invalid_links_get_an_html_page_in_a_browser(client, item):
    response = client.get(dl("01", "04006381333932"), headers=BROWSER)
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert "check digit" in response.get_data(as_text=True)


# --- linkType and linksets ----------------------------------------------------------------


def linkset_of(response) -> list[dict]:
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/linkset+json"
    return json.loads(response.get_data(as_text=True))["linkset"]


@pytest.mark.parametrize(
    ("query", "headers"),
    [
        ("linkType=linkset", {}),
        ("linkType=linkset", BROWSER),
        ("linkType=all", {}),
        ("", LINKSET),
        ("", {"Accept": "application/linkset+json, */*;q=0.1"}),
    ],
)
def test_linkset_by_query_or_accept(client, item, query, headers):
    path = dl("01", GTIN[1:], "10", LOT, "21", SERIAL, query=query)
    contexts = linkset_of(client.get(path, headers=headers))
    assert contexts[0]["anchor"] == gs1.build_digital_link(PUBLIC_BASE_URL, GTIN, LOT, SERIAL)
    assert [c["anchor"] for c in contexts[1:]] == [
        gs1.build_digital_link(PUBLIC_BASE_URL, GTIN, LOT),
        gs1.build_digital_link(PUBLIC_BASE_URL, GTIN),
    ]


def test_every_link_has_href_title_and_type_and_works(client, item):
    contexts = linkset_of(client.get(dl("01", GTIN, "10", LOT, "21", SERIAL, query="linkType=all")))
    for context in contexts:
        assert f"{VOC}defaultLink" in context
        for relation, targets in context.items():
            if not relation.startswith(VOC):
                continue
            for target in targets:
                assert set(target) == {"href", "title", "type"}
                path = urlsplit(target["href"]).path
                assert client.get(path).status_code == 200
    assert f"{VOC}traceability" in contexts[0]
    assert f"{VOC}recallStatus" in contexts[1]
    assert f"{VOC}pip" in contexts[2]


def test_linkset_with_encoded_values_has_a_canonical_anchor(client, session):
    product = factories.make_product(session, gtin=factories.valid_gtin())
    batch = factories.make_batch(session, product=product, lot_number="A/B%1")
    factories.make_item(session, batch, serial="S+1")
    session.commit()
    # "+" may stand unencoded in a path; the canonical form encodes it.
    path = dl("01", product.gtin, "10", "A%2fB%251", "21", "S+1", query="linkType=linkset")
    anchor = linkset_of(client.get(path))[0]["anchor"]
    assert anchor == gs1.build_digital_link(PUBLIC_BASE_URL, product.gtin, "A/B%1", "S+1")
    assert anchor.endswith("/10/A%2FB%251/21/S%2B1")


@pytest.mark.parametrize(
    ("link_type", "target"),
    [
        ("gs1:pip", f"/info/01/{GTIN}/10/{LOT}/21/{SERIAL}"),
        ("gs1%3Apip", f"/info/01/{GTIN}/10/{LOT}/21/{SERIAL}"),
        ("https://gs1.org/voc/traceability", f"/info/01/{GTIN}/10/{LOT}/21/{SERIAL}"),
        ("gs1:recallStatus", f"/info/01/{GTIN}/10/{LOT}"),
    ],
)
def test_link_type_redirects_to_that_link(client, item, link_type, target):
    path = dl("01", GTIN, "10", LOT, "21", SERIAL, query=f"linkType={link_type}&x=1")
    response = client.get(path)
    assert response.status_code == 307
    assert response.headers["Location"] == f"{PUBLIC_BASE_URL}{target}?x=1"


@pytest.mark.parametrize("link_type", ["gs1:nutritionalInfo", "gs1:epil", "schema:foo", "x"])
def test_link_type_we_do_not_offer_is_404(client, item, link_type):
    path = dl("01", GTIN, "21", SERIAL, query=f"linkType={link_type}")
    error = assert_json_error(client.get(path, headers=JSON), 404)
    assert "linkType" in error["fields"]


def test_explicit_link_type_wins_over_accept(client, item):
    response = client.get(dl("01", GTIN, query="linkType=gs1:pip"), headers=LINKSET)
    assert response.status_code == 307


def test_linkset_response_names_the_gs1_json_ld_context(client, item):
    links = client.get(dl("01", GTIN), headers=LINKSET).headers.getlist("Link")
    assert any("json-ld#context" in link for link in links)


def test_info_views_404_and_400_like_the_links(client, item):
    assert_json_error(client.get(f"/info/01/{GTIN}/21/NOPE", headers=JSON), 404)
    assert_json_error(client.get(f"/info/01/{GTIN}/21/{SERIAL}/10/{LOT}", headers=JSON), 400)


# --- /.well-known/gs1resolver -------------------------------------------------------------


def test_resolver_description(client):
    response = client.get("/.well-known/gs1resolver")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    document = response.get_json()
    assert document["resolverRoot"] == PUBLIC_BASE_URL
    assert document["supportedPrimaryKeys"] == ["01"]
    assert {"namespace": VOC, "prefix": "gs1:"} in document["supportedLinkType"]
    assert document["linkTypeDefaultCanBeLinkset"] is False
    assert document["name"]


# --- scans of Digital Links ----------------------------------------------------------------


def scans(session) -> list:
    from sqlalchemy import select

    from trace.scans.models import Scan

    return [
        (scan.item_id, scan.verdict.value, scan.language, scan.user_agent_family)
        for scan in session.scalars(select(Scan).order_by(Scan.id))
    ]


PHONE = {
    **BROWSER,
    "Accept-Language": "zh-CN,zh;q=0.9",
    "User-Agent": "Mozilla/5.0 (iPhone) AppleWebKit/605.1.15 Mobile MicroMessenger/8.0",
}


def test_a_units_digital_link_opened_is_a_scan_never_called_genuine(client, session, item):
    response = client.get(dl("01", GTIN, "10", LOT, "21", SERIAL), headers=PHONE)
    assert response.status_code == 307
    follow(client, response, headers=PHONE)  # the page it leads to is not a second scan
    assert scans(session) == [(item.id, "unverified", "zh-CN", "wechat")]


def test_digital_link_scans_cannot_make_the_code_look_copied(client, session, item):
    # One label gives away the serials of its whole lot; its code stays the proof.
    for n in range(40):
        address = {"REMOTE_ADDR": f"198.51.100.{n}"}
        client.get(dl("01", GTIN, "21", SERIAL), headers=PHONE, environ_base=address)
    assert len(scans(session)) == 40
    view = client.get(f"/s/{item.code}", headers=JSON).get_json()
    assert (view["verdict"], view["scans"]["count"]) == ("genuine", 1)


def test_a_digital_link_scan_of_a_recalled_unit_shows_the_recall(client, session, item):
    from trace.production import services as production
    from trace.production.models import BatchStatus

    production.change_batch_status(session, "test", item.batch, BatchStatus.recalled, "Lid seal")
    session.commit()
    response = client.get(dl("01", GTIN, "21", SERIAL), headers=PHONE)
    assert "Lid seal" in follow(client, response, headers=PHONE).get_data(as_text=True)
    assert [verdict for _, verdict, _, _ in scans(session)] == ["unverified"]


@pytest.mark.parametrize(
    ("path", "status"),
    [(dl("01", GTIN, "21", SERIAL), 307), (dl("01", GTIN, "21", "NOSUCH-1"), 404)],
)
def test_a_digital_link_still_answers_when_its_scan_cannot_be_recorded(
    client, session, item, monkeypatch, path, status
):
    from sqlalchemy.exc import OperationalError

    def locked(*args, **kwargs):
        raise OperationalError("INSERT", {}, Exception("database is locked"))

    monkeypatch.setattr(scans_services, "write_scans", locked)
    assert client.get(path, headers=PHONE).status_code == status
    assert scans(session) == []


@pytest.mark.parametrize(
    "path",
    [
        dl("01", GTIN, "10", LOT, "21", "NOSUCH-1"),  # nobody's serial
        dl("01", "09506000134352", "21", SERIAL),  # nobody's GTIN
        dl("01", GTIN, "10", "OTHERLOT", "21", SERIAL),  # the serial is of another lot
    ],
)
def test_a_digital_link_of_no_unit_is_recorded_as_unknown(client, session, item, path):
    assert client.get(path, headers=PHONE).status_code == 404
    assert scans(session) == [(None, "unknown", "zh-CN", "wechat")]


@pytest.mark.parametrize(
    "request_",
    [
        lambda client: client.get(dl("01", GTIN, "10", LOT), headers=PHONE),  # a lot, no unit
        lambda client: client.get(dl("01", GTIN), headers=PHONE),  # a product
        lambda client: client.get(dl("01", GTIN, "21", SERIAL), headers=LINKSET),
        lambda client: client.get(dl("01", GTIN, "21", SERIAL, query="linkType=linkset")),
        lambda client: client.get(dl("01", GTIN, "21", "NOSUCH-1"), headers=LINKSET),
        lambda client: client.head(dl("01", GTIN, "21", SERIAL), headers=PHONE),
        lambda client: client.get(dl("01", GTIN, "21", SERIAL + "%"), headers=PHONE),  # invalid
        lambda client: client.get("/info" + dl("01", GTIN, "21", SERIAL), headers=PHONE),
    ],
)
def test_what_is_no_scan_of_a_unit_is_not_recorded(client, session, item, request_):
    assert request_(client).status_code < 500
    assert scans(session) == []


def test_a_link_type_the_unit_does_not_offer_is_still_a_scan(client, session, item):
    path = dl("01", GTIN, "10", LOT, "21", SERIAL, query="linkType=gs1:epil")
    assert client.get(path, headers=PHONE).status_code == 404
    assert scans(session) == [(item.id, "unverified", "zh-CN", "wechat")]


def test_a_link_that_fails_on_our_side_records_no_scan(app, client, session, item, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from trace import resolver

    def broken(*args, **kwargs):
        raise OperationalError("SELECT", {}, Exception("disk I/O error"))

    monkeypatch.setattr(resolver, "resolve_digital_link", broken)
    app.testing = False  # the error page, as a phone would get it
    assert client.get(dl("01", GTIN, "21", SERIAL), headers=PHONE).status_code == 500
    assert scans(session) == []
