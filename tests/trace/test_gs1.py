import contextlib
from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trace.gs1 import (
    AI82_CHARACTERS,
    SERIAL_SAFE,
    DigitalLink,
    InvalidDigitalLink,
    InvalidGTIN,
    build_digital_link,
    gtin_check_digit,
    is_ai82,
    is_valid_gtin,
    parse_digital_link,
    to_gtin14,
)

GTIN14 = "09506000134352"
KNOWN_GOOD = ["4006381333931", "09506000134352", "036000291452", "96385074"]

gtin14s = st.text(alphabet="0123456789", min_size=13, max_size=13).map(
    lambda body: body + gtin_check_digit(body)
)
serials = st.from_regex(r"[A-Za-z0-9._-]{1,20}", fullmatch=True)
ai82_values = st.text(alphabet=sorted(AI82_CHARACTERS), min_size=1, max_size=20)


# --- GTIN -------------------------------------------------------------------------


@pytest.mark.parametrize("gtin", KNOWN_GOOD)
def test_known_good_gtins(gtin):
    assert gtin_check_digit(gtin[:-1]) == gtin[-1]
    assert is_valid_gtin(gtin)
    assert to_gtin14(gtin) == gtin.zfill(14)


@pytest.mark.parametrize(
    "text",
    ["4006381333932", "0400638133393", "400638133393", "123456789012345", "", "4006381333 31"],
)
def test_invalid_gtins(text):
    assert not is_valid_gtin(text)


def test_unicode_digits_are_not_gtin_digits():
    assert not is_valid_gtin("٤٠٠٦٣٨١٣٣٣٩٣١")  # Arabic-Indic digits pass str.isdigit()


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("4006381333932", "expected 1, got 2"),
        ("40063813339", "8, 12, 13 or 14 digits, not 11"),
        ("40063813339A1", "only the digits 0-9"),
        ("", "only the digits 0-9"),
    ],
)
def test_to_gtin14_says_why(text, words):
    with pytest.raises(InvalidGTIN) as raised:
        to_gtin14(text)
    assert words in str(raised.value)


def test_check_digit_needs_digits():
    with pytest.raises(InvalidGTIN):
        gtin_check_digit("12a")


@given(gtin14s, st.integers(0, 13), st.integers(1, 9))
def test_any_single_digit_error_breaks_the_check_digit(gtin, position, delta):
    digit = str((int(gtin[position]) + delta) % 10)
    assert not is_valid_gtin(gtin[:position] + digit + gtin[position + 1 :])


# --- character sets -------------------------------------------------------------------


def test_ai82_has_82_characters():
    assert len(AI82_CHARACTERS) == 82
    assert is_ai82("".join(sorted(AI82_CHARACTERS)))


@pytest.mark.parametrize("text", ["", " ", "a b", "~", "#", "$", "@", "[", "\\", "`", "{", "é"])
def test_ai82_rejects(text):
    assert not is_ai82(text)


@pytest.mark.parametrize("text", ["A", "a.b_c-1", "9" * 20])
def test_serial_safe_accepts(text):
    assert SERIAL_SAFE.match(text)


@pytest.mark.parametrize("text", ["", "9" * 21, "a/b", "a b", "abc\n", "é"])
def test_serial_safe_rejects(text):
    assert not SERIAL_SAFE.match(text)


# --- building ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "url"),
    [
        ((GTIN14,), f"https://id.example.com/01/{GTIN14}"),
        ((GTIN14, "LOT1"), f"https://id.example.com/01/{GTIN14}/10/LOT1"),
        ((GTIN14, None, "S.1"), f"https://id.example.com/01/{GTIN14}/21/S.1"),
        ((GTIN14, "L-1", "S_1"), f"https://id.example.com/01/{GTIN14}/10/L-1/21/S_1"),
        (("4006381333931", "A/B"), "https://id.example.com/01/04006381333931/10/A%2FB"),
        ((GTIN14, None, "100%!"), f"https://id.example.com/01/{GTIN14}/21/100%25%21"),
    ],
)
def test_build_digital_link(arguments, url):
    assert build_digital_link("https://id.example.com/", *arguments) == url


def test_build_puts_cpv_first():
    url = build_digital_link("", GTIN14, "L", "S", cpv="V2")
    assert url == f"/01/{GTIN14}/22/V2/10/L/21/S"


@pytest.mark.parametrize(
    ("lot", "serial", "error"),
    [
        ("", None, InvalidDigitalLink),
        ("a b", None, InvalidDigitalLink),
        (None, "x" * 21, InvalidDigitalLink),
    ],
)
def test_build_rejects_bad_values(lot, serial, error):
    with pytest.raises(error):
        build_digital_link("https://id.example.com", GTIN14, lot, serial)


def test_build_rejects_bad_gtin():
    with pytest.raises(InvalidGTIN):
        build_digital_link("https://id.example.com", "09506000134351")


# --- parsing ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "query", "expected"),
    [
        (f"/01/{GTIN14}", "", DigitalLink(GTIN14)),
        (f"/01/{GTIN14}/10/ABC123", "", DigitalLink(GTIN14, lot="ABC123")),
        (f"/01/{GTIN14}/21/12345", "", DigitalLink(GTIN14, serial="12345")),
        (f"/01/{GTIN14}/10/L1/21/S1", "", DigitalLink(GTIN14, lot="L1", serial="S1")),
        (f"/01/{GTIN14}/22/V/10/L/21/S", "", DigitalLink(GTIN14, "L", "S", cpv="V")),
        (f"/01/{GTIN14}/22/V/21/S", "", DigitalLink(GTIN14, serial="S", cpv="V")),
        (f"/01/{GTIN14}/10/AB%2FC%25D", "", DigitalLink(GTIN14, lot="AB/C%D")),
        (f"/01/{GTIN14}/21/%21%22%3C%3E%3F", "", DigitalLink(GTIN14, serial='!"<>?')),
        (f"/01/{GTIN14}/21/%41%62", "", DigitalLink(GTIN14, serial="Ab")),
        # RFC 3986 lets sub-delimiters stand unencoded in a segment; they are in set 82.
        (f"/01/{GTIN14}/21/A'(B)*,;=:", "", DigitalLink(GTIN14, serial="A'(B)*,;=:")),
        (f"/01/{GTIN14}/21/{'%41' * 20}", "", DigitalLink(GTIN14, serial="A" * 20)),
        # GTIN-8, -12 and -13 are accepted and normalized to 14 digits.
        ("/01/4006381333931/21/X", "", DigitalLink("04006381333931", serial="X")),
        ("/01/036000291452", "", DigitalLink("00036000291452")),
        ("/01/96385074/10/L", "", DigitalLink("00000096385074", lot="L")),
        # A custom path prefix is ignored, even one that contains an "01" segment.
        (f"/t/custom/01/{GTIN14}/21/X", "", DigitalLink(GTIN14, serial="X")),
        (f"/2024/01/15/01/{GTIN14}/10/01", "", DigitalLink(GTIN14, lot="01")),
        (f"/01/{GTIN14}/10/01/21/01", "", DigitalLink(GTIN14, lot="01", serial="01")),
        # Data attributes and extensions in the query are allowed; linkType is returned.
        (
            f"/01/{GTIN14}",
            "linkType=gs1:pip&17=261231&x=1",
            DigitalLink(GTIN14, link_type="gs1:pip"),
        ),
        (
            f"/01/{GTIN14}",
            "?linkType=gs1%3AcertificationInfo",
            DigitalLink(GTIN14, link_type="gs1:certificationInfo"),
        ),
        (f"/01/{GTIN14}", "&&17=261231&", DigitalLink(GTIN14)),
    ],
)
def test_parse_valid_links(path, query, expected):
    assert parse_digital_link(path, query) == expected


@pytest.mark.parametrize(
    ("path", "query", "words"),
    [
        # GTIN
        ("/01/09506000134351", "", "expected 2, got 1"),
        ("/01/4006381333932", "", "expected 1, got 2"),
        ("/01/95060001343", "", "not 11"),
        ("/01/095060001343520", "", "not 15"),
        ("/01/0950600013435X", "", "only the digits"),
        ("/01//21/S", "", "AI 01 (GTIN) is empty"),
        ("/01", "", "AI 01 has no value"),
        # order of path qualifiers
        (f"/01/{GTIN14}/21/S/10/L", "", "AI 10 must come before AI 21"),
        (f"/01/{GTIN14}/10/L/22/V", "", "AI 22 must come before AI 10"),
        (f"/01/{GTIN14}/10/L/10/M", "", "AI 10 appears twice"),
        # unknown or misplaced AIs
        (f"/01/{GTIN14}/17/261231", "", "AI 17 cannot follow 01"),
        (f"/01/{GTIN14}/99/x", "", "AI 99 cannot follow 01"),
        (f"/01/{GTIN14}/lot/x", "", "unexpected path segment 'lot'"),
        # path qualifiers (or the key) in the query string
        (f"/01/{GTIN14}", "10=L", "AI 10 belongs in the path"),
        (f"/01/{GTIN14}/10/L", "21=S", "AI 21 belongs in the path"),
        (f"/01/{GTIN14}", "?linkType=all&22=V", "AI 22 belongs in the path"),
        (f"/01/{GTIN14}", "%32%31=S", "AI 21 belongs in the path"),
        (f"/01/{GTIN14}", "01=09506000134352", "AI 01 belongs in the path"),
        # value length and characters
        (f"/01/{GTIN14}/21/{'A' * 21}", "", "21 characters; at most 20"),
        (f"/01/{GTIN14}/10/{'%41' * 21}", "", "21 characters; at most 20"),
        (f"/01/{GTIN14}/21/a~b", "", "outside GS1's set of 82"),
        (f"/01/{GTIN14}/21/a%20b", "", "outside GS1's set of 82"),
        (f"/01/{GTIN14}/21/%7E", "", "outside GS1's set of 82"),
        (f"/01/{GTIN14}/10/caf%C3%A9", "", "outside GS1's set of 82"),
        (f"/01/{GTIN14}/10/%FF", "", "outside GS1's set of 82"),
        (f"/01/{GTIN14}/21/a$b", "", "outside GS1's set of 82"),
        (f"/01/{GTIN14}/21/A%2", "", "must be percent-encoded"),
        (f"/01/{GTIN14}/21/A%ZZ", "", "must be percent-encoded"),
        (f"/01/{GTIN14}/21/a b", "", "must be percent-encoded"),
        # empty values
        (f"/01/{GTIN14}/10//21/S", "", "AI 10 (lot) is empty"),
        (f"/01/{GTIN14}/21/", "", "AI 21 (serial) is empty"),
        # trailing garbage
        (f"/01/{GTIN14}/21/S/extra", "", "unexpected path segment 'extra'"),
        (f"/01/{GTIN14}/21/S/", "", "empty path segment"),
        (f"/01/{GTIN14}/", "", "empty path segment"),
        (f"/01/{GTIN14}/10", "", "AI 10 has no value"),
        (f"/01/{GTIN14}/21/S?linkType=all", "", "must be percent-encoded"),
        (f"/01/{GTIN14}/21/S#top", "", "must be percent-encoded"),
        # no GTIN at all
        ("/s/7KQ2MX9RD4TB0HZPM", "", "no /01/ segment"),
        (f"/gtin/{GTIN14}", "", "no /01/ segment"),
        ("", "", "no /01/ segment"),
    ],
)
def test_parse_invalid_links(path, query, words):
    with pytest.raises(InvalidDigitalLink) as raised:
        parse_digital_link(path, query)
    assert words in str(raised.value)


def test_invalid_digital_link_is_a_value_error():
    assert issubclass(InvalidDigitalLink, ValueError)
    assert issubclass(InvalidGTIN, ValueError)


@given(
    gtin14s,
    st.none() | ai82_values,
    st.none() | serials,
    st.none() | ai82_values,
)
def test_build_then_parse_round_trips(gtin, lot, serial, cpv):
    url = build_digital_link("https://id.example.com/t", gtin, lot, serial, cpv=cpv)
    parts = urlsplit(url)
    assert parse_digital_link(parts.path, parts.query) == DigitalLink(gtin, lot, serial, cpv)


@given(gtin14s, serials)
def test_serial_safe_links_need_no_escaping(gtin, serial):
    assert "%" not in build_digital_link("https://id.example.com", gtin, None, serial)


@given(st.text(), st.text())
def test_parse_raises_only_invalid_digital_link(path, query):
    try:
        link = parse_digital_link(path, query)
    except InvalidDigitalLink:
        return
    assert is_valid_gtin(link.gtin) and len(link.gtin) == 14


@given(
    gtin14s,
    st.lists(st.sampled_from(["01", "10", "21", "22", "17", "", "x"]), max_size=6),
)
def test_parse_fuzzed_segments_raise_only_invalid_digital_link(gtin, segments):
    with contextlib.suppress(InvalidDigitalLink):
        parse_digital_link("/".join(["", "01", gtin, *segments]))
