"""GS1 facts the service honours: GTIN check digits, AI value rules, Digital Link URIs.

Sources: GS1 General Specifications (GTIN check digit; the AI encodable character
set 82, used by AI 10 batch/lot, 21 serial and 22 consumer product variant) and the
GS1 Digital Link URI Syntax standard (path ``/01/{gtin14}[/22/{cpv}][/10/{lot}]
[/21/{serial}]``, data attributes in the query string).
"""

import re
import string
from dataclasses import dataclass
from urllib.parse import quote, unquote

GTIN_LENGTHS = (8, 12, 13, 14)
MAX_QUALIFIER_LENGTH = 20  # AI 10, 21 and 22 are all "X..20"

# GS1's character set 82 (file-safe and URI-safe once percent-encoded).
AI82_CHARACTERS = frozenset(string.ascii_letters + string.digits + "!\"%&'()*+,-./:;<=>?_")
# Serials we generate: no character that ever needs percent-encoding. Anchored, so
# `match`, `search` and `fullmatch` all test the whole string.
SERIAL_SAFE = re.compile(r"\A[A-Za-z0-9._-]{1,20}\Z")

_DIGITS = re.compile(r"[0-9]+")
# Path qualifiers of a GTIN in the order the standard prescribes.
_QUALIFIER_ORDER = {"22": 0, "10": 1, "21": 2}
_QUALIFIER_NAMES = {"22": "consumer product variant", "10": "lot", "21": "serial"}
# RFC 3986 pchar: anything else (e.g. "?", "#", "/", space) must arrive percent-encoded.
_PATH_SEGMENT = re.compile(r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@]|%[0-9A-Fa-f]{2})*")


class InvalidGTIN(ValueError):
    """Text that is not a GTIN; the message says why."""


class InvalidDigitalLink(ValueError):
    """A URI that is not a valid GS1 Digital Link for a GTIN (answered with 400)."""


@dataclass(frozen=True)
class DigitalLink:
    """The parts of a GTIN-based GS1 Digital Link that the service resolves."""

    gtin: str  # always 14 digits
    lot: str | None = None
    serial: str | None = None
    cpv: str | None = None  # AI 22, consumer product variant
    link_type: str | None = None  # the linkType query parameter, if given

    @property
    def path(self) -> str:
        """The canonical path: ``/01/{gtin}``, then 22, 10, 21 as present, percent-encoded."""
        parts = ["", "01", self.gtin]
        for ai, value in (("22", self.cpv), ("10", self.lot), ("21", self.serial)):
            if value is not None:
                parts += [ai, quote(value, safe="")]
        return "/".join(parts)


def gtin_check_digit(body: str) -> str:
    """Return the GS1 check digit for `body`, the digits before the check digit.

    Mod 10 with weights 3, 1, 3, ... counted from the right; the same rule serves
    GTIN, GLN and SSCC.
    """
    if not _DIGITS.fullmatch(body):
        raise InvalidGTIN(f"a GTIN has only the digits 0-9, not {body!r}")
    total = sum(int(digit) * (3 - 2 * (i % 2)) for i, digit in enumerate(reversed(body)))
    return str(-total % 10)


def _check_gtin(text: str) -> None:
    if not _DIGITS.fullmatch(text):
        raise InvalidGTIN(f"a GTIN has only the digits 0-9, not {text!r}")
    if len(text) not in GTIN_LENGTHS:
        raise InvalidGTIN(f"a GTIN has 8, 12, 13 or 14 digits, not {len(text)}")
    expected = gtin_check_digit(text[:-1])
    if text[-1] != expected:
        raise InvalidGTIN(f"wrong check digit in GTIN {text}: expected {expected}, got {text[-1]}")


def is_valid_gtin(text: str) -> bool:
    """Tell whether `text` is a GTIN-8, -12, -13 or -14 with the right check digit."""
    try:
        _check_gtin(text)
    except InvalidGTIN:
        return False
    return True


def to_gtin14(text: str) -> str:
    """Return `text` validated and left-padded with zeros to 14 digits; raise InvalidGTIN."""
    _check_gtin(text)
    return text.zfill(14)  # leading zeros weigh nothing, so the check digit still holds


def is_ai82(text: str) -> bool:
    """Tell whether `text` is non-empty and only uses GS1's character set 82."""
    return bool(text) and all(character in AI82_CHARACTERS for character in text)


def _check_qualifier(ai: str, value: str) -> None:
    name = f"AI {ai} ({_QUALIFIER_NAMES[ai]})"
    if not value:
        raise InvalidDigitalLink(f"{name} is empty")
    if len(value) > MAX_QUALIFIER_LENGTH:
        raise InvalidDigitalLink(f"{name} has {len(value)} characters; at most 20 are allowed")
    if not is_ai82(value):
        raise InvalidDigitalLink(f"{name} {value!r} has characters outside GS1's set of 82")


def build_digital_link(
    base_url: str,
    gtin: str,
    lot: str | None = None,
    serial: str | None = None,
    *,
    cpv: str | None = None,
) -> str:
    """Return ``{base_url}/01/{gtin14}[/22/{cpv}][/10/{lot}][/21/{serial}]``.

    `gtin` may be 8, 12, 13 or 14 digits (InvalidGTIN otherwise); qualifier values
    must be 1-20 characters of set 82 (InvalidDigitalLink otherwise) and are
    percent-encoded where the URI syntax needs it.
    """
    for ai, value in (("22", cpv), ("10", lot), ("21", serial)):
        if value is not None:
            _check_qualifier(ai, value)
    link = DigitalLink(gtin=to_gtin14(gtin), lot=lot, serial=serial, cpv=cpv)
    return base_url.rstrip("/") + link.path


def _decode_segment(raw: str) -> str:
    if not _PATH_SEGMENT.fullmatch(raw):
        raise InvalidDigitalLink(
            f"path segment {raw!r} has characters that must be percent-encoded"
        )
    # Bytes that are not UTF-8 become U+FFFD, which the set-82 check then rejects.
    return unquote(raw, errors="replace")


def _primary_key_index(segments: list[str]) -> int:
    """Index of the "01" segment that starts the GS1 part of the path.

    Whatever comes before it is a custom path prefix and is ignored. After the key
    come (AI, value) pairs to the end, so the real "01" is the last one an even
    number of segments from the end: a prefix such as /2024/01/ or a lot that reads
    "01" cannot be mistaken for it. Without such a one, the first "01" is used so
    that the error names the actual problem (e.g. trailing garbage).
    """
    aligned = [i for i, s in enumerate(segments) if s == "01" and (len(segments) - i) % 2 == 0]
    if aligned:
        return aligned[-1]
    if "01" in segments:
        return segments.index("01")
    raise InvalidDigitalLink("no GTIN: the path has no /01/ segment")


def _parse_gtin(raw: str) -> str:
    # The standard asks for 14 digits; like common resolvers we also accept GTIN-8,
    # -12 and -13 as printed on older labels and pad them, so both forms resolve.
    if not raw:
        raise InvalidDigitalLink("AI 01 (GTIN) is empty")
    try:
        return to_gtin14(_decode_segment(raw))
    except InvalidGTIN as error:
        raise InvalidDigitalLink(f"AI 01: {error}") from error


def _parse_qualifiers(pairs: list[str]) -> dict[str, str]:
    qualifiers: dict[str, str] = {}
    for start in range(0, len(pairs), 2):
        ai = pairs[start]
        _check_qualifier_position(ai, qualifiers)
        if start + 1 == len(pairs):
            raise InvalidDigitalLink(f"AI {ai} has no value")
        qualifiers[ai] = _decode_segment(pairs[start + 1])
        _check_qualifier(ai, qualifiers[ai])
    return qualifiers


def _check_qualifier_position(ai: str, seen: dict[str, str]) -> None:
    if ai == "":
        raise InvalidDigitalLink("empty path segment (a doubled or trailing '/')")
    if not _DIGITS.fullmatch(ai):
        raise InvalidDigitalLink(f"unexpected path segment {ai!r} where an AI should be")
    if ai not in _QUALIFIER_ORDER:
        raise InvalidDigitalLink(
            f"AI {ai} cannot follow 01 in the path (only 22, 10 and 21 can); "
            "data attributes belong in the query string"
        )
    for earlier in seen:
        if _QUALIFIER_ORDER[earlier] >= _QUALIFIER_ORDER[ai]:
            problem = "appears twice" if earlier == ai else f"must come before AI {earlier}"
            raise InvalidDigitalLink(f"AI {ai} {problem}: the order is 22, 10, 21")


def _parse_query(query: str) -> str | None:
    """Return linkType; reject path qualifiers (and the GTIN) given as parameters."""
    link_type = None
    for parameter in query.removeprefix("?").split("&"):
        raw_key, _, raw_value = parameter.partition("=")
        key = unquote(raw_key)
        if key in _QUALIFIER_ORDER or key == "01":
            raise InvalidDigitalLink(f"AI {key} belongs in the path, not in the query string")
        if key == "linkType":
            link_type = unquote(raw_value)
    return link_type


def parse_digital_link(path: str, query: str = "") -> DigitalLink:
    """Parse a GS1 Digital Link for a GTIN; raise InvalidDigitalLink saying why.

    `path` is the raw URI path, still percent-encoded (a decoded path would turn an
    encoded "/" inside a lot into a separator). Anything before the GS1 part is a
    custom prefix and ignored. `query` is the raw query string: other data
    attributes and extensions are allowed and ignored, except linkType, returned.
    """
    segments = path.split("/")
    start = _primary_key_index(segments)
    if start + 1 == len(segments):
        raise InvalidDigitalLink("AI 01 has no value")
    gtin = _parse_gtin(segments[start + 1])
    qualifiers = _parse_qualifiers(segments[start + 2 :])
    return DigitalLink(
        gtin=gtin,
        lot=qualifiers.get("10"),
        serial=qualifiers.get("21"),
        cpv=qualifiers.get("22"),
        link_type=_parse_query(query),
    )
