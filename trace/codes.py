"""Item codes (追溯码): the public, unguessable token printed on every unit's label.

A code is 16 random characters (80 bits from `secrets`) followed by one check
character, all from Crockford's base32 alphabet, e.g. ``7KQ2-MX9R-D4TB-0HZP-M``
for people and ``7KQ2MX9RD4TB0HZPM`` everywhere else. The alphabet leaves out I, L,
O and U so a code survives being read aloud and typed, and it is a subset of QR
alphanumeric mode, so an upper-case code makes a smaller QR symbol.

Check character. Read each character as its value 0..31, an element of GF(32) (the
field built on the primitive polynomial x^5 + x^2 + 1, alpha = x). A code
d_0 .. d_16 is valid when sum(alpha^(16 - i) * d_i) == 0, i.e. d_16 is a one-symbol
Reed-Solomon parity. Why that catches what people do wrong:

* one substituted character (d_i + e, e != 0) changes the sum by alpha^(16 - i) * e,
  never 0 because a field has no zero divisors;
* two swapped different characters at i < j change it by
  (alpha^(16 - i) + alpha^(16 - j)) * (d_i + d_j), never 0 because alpha has
  order 31 > 17, so all weights differ. This covers adjacent swaps, and any other.

A random wrong code passes with probability 1/32; authenticity rests on the 80
random bits and the database lookup, not on the check character.
"""

import re
import secrets
import unicodedata

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
BODY_LENGTH = 16
CODE_LENGTH = BODY_LENGTH + 1

_VALUES = {character: value for value, character in enumerate(ALPHABET)}
# What a label's QR carries and links use: nothing to fold.
_CANONICAL = re.compile(f"[{ALPHABET}]{{{CODE_LENGTH}}}")
_CONFUSABLES = str.maketrans({"I": "1", "L": "1", "O": "0"})
_LONGEST_INPUT = 64  # generous for spaces and hyphens; stops work on pasted essays early


class MalformedCode(ValueError):
    """Text that is not an item code; `reason` is a stable key for translated messages.

    Reasons: ``empty``, ``character``, ``length``, ``check``.
    """

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


# GF(32) arithmetic. Only multiplication by alpha is needed (Horner's rule), and
# addition is XOR because the field has characteristic 2.
_PRIMITIVE_POLYNOMIAL = 0b100101  # x^5 + x^2 + 1


def _multiply_by_alpha(value: int) -> int:
    value <<= 1
    return value ^ _PRIMITIVE_POLYNOMIAL if value & 0b100000 else value


_TIMES_ALPHA = tuple(_multiply_by_alpha(value) for value in range(32))


def _weighted_sum(values: list[int]) -> int:
    """sum(alpha^(len - 1 - i) * values[i]) over GF(32), by Horner's rule."""
    total = 0
    for value in values:
        total = _TIMES_ALPHA[total] ^ value
    return total


def _check_value(body_values: list[int]) -> int:
    # The check sits at weight alpha^0, so it equals the body's sum shifted one place.
    return _TIMES_ALPHA[_weighted_sum(body_values)]


def check_character(body: str) -> str:
    """Return the check character for a 16-character body in ALPHABET."""
    if len(body) != BODY_LENGTH or any(character not in _VALUES for character in body):
        raise ValueError(f"a code body is {BODY_LENGTH} characters from ALPHABET: {body!r}")
    return ALPHABET[_check_value([_VALUES[character] for character in body])]


def new_code() -> str:
    """Return a fresh random item code (80 bits from `secrets` plus a check character)."""
    bits = secrets.randbits(5 * BODY_LENGTH)
    body = "".join(ALPHABET[(bits >> shift) & 31] for shift in range(75, -1, -5))
    return body + check_character(body)


def _clean(text: str) -> str:
    """Fold what a person typed or a scanner read towards canonical characters."""
    # NFKC turns full-width letters and dashes (typed with a Chinese IME) into ASCII.
    folded = unicodedata.normalize("NFKC", text)
    kept = (ch for ch in folded if not ch.isspace() and unicodedata.category(ch) != "Pd")
    return "".join(kept).upper().translate(_CONFUSABLES)


def normalize_code(text: str) -> str:
    """Return the canonical 17-character code for `text`, or raise MalformedCode.

    Accepts lower case, spaces, hyphens, full-width characters and Crockford's
    confusables (I and L read as 1, O as 0).
    """
    if len(text) > _LONGEST_INPUT:
        raise MalformedCode(f"A code has {CODE_LENGTH} characters; this is far longer.", "length")
    # The usual case, a code as printed, skips folding (a scan page normalizes every view).
    code = text if _CANONICAL.fullmatch(text) else _clean(text)
    if not code:
        raise MalformedCode("No code given.", "empty")
    for position, character in enumerate(code, start=1):
        if character not in _VALUES:
            message = f"{character!r} (character {position}) is never used in a code."
            raise MalformedCode(message, "character")
    if len(code) != CODE_LENGTH:
        message = f"A code has {CODE_LENGTH} characters; this one has {len(code)}."
        raise MalformedCode(message, "length")
    if _weighted_sum([_VALUES[character] for character in code]) != 0:
        message = "The check character does not match: a character is mistyped or two are swapped."
        raise MalformedCode(message, "check")
    return code


def is_well_formed(text: str) -> bool:
    """Tell whether `text` normalizes to a code (says nothing about whether it exists)."""
    try:
        normalize_code(text)
    except MalformedCode:
        return False
    return True


def format_code(code: str) -> str:
    """Return the code grouped for people: ``XXXX-XXXX-XXXX-XXXX-X``."""
    return group_code(normalize_code(code))


def group_code(canonical: str) -> str:
    """A code already canonical (as stored) grouped for people, with no checks."""
    c = canonical
    return f"{c[0:4]}-{c[4:8]}-{c[8:12]}-{c[12:16]}-{c[16:]}"


# Bulk generation, written so that no Python code runs per character or per code
# except the final split into strings. Each random byte yields one character from its
# low 5 bits: 256 is a multiple of 32, so every character stays uniform (the 3 spare
# bits per byte are cheap to throw away; a Python loop over bit fields is not).
_RECORD = CODE_LENGTH + 1  # 16 body bytes, a check byte and a newline for the split
_BYTE_TO_CHARACTER = bytes.maketrans(bytes(range(256)), ALPHABET.encode() * 8)


# The check value is a sum over positions, so it can be computed one column of all
# codes at a time: a translate table per position maps a byte to alpha^(16 - i) * (byte & 31).
def _weighted_column(position: int) -> bytes:
    one_hot = [[value if i == position else 0 for i in range(BODY_LENGTH)] for value in range(32)]
    return bytes(_check_value(values) for values in one_hot) * 8  # top 3 bits ignored


_WEIGHTED_COLUMNS = tuple(_weighted_column(position) for position in range(BODY_LENGTH))
_VALUE_TO_CHARACTER = bytes.maketrans(bytes(range(32)), ALPHABET.encode())


def _bulk_check_characters(records: bytes, count: int) -> bytes:
    # Addition in GF(32) is XOR; big-integer XOR adds a whole column of codes in C.
    total = 0
    for position, table in enumerate(_WEIGHTED_COLUMNS):
        total ^= int.from_bytes(records[position::_RECORD].translate(table))
    return total.to_bytes(count).translate(_VALUE_TO_CHARACTER)


def new_codes(count: int) -> list[str]:
    """Return `count` fresh item codes, fast (millions a second).

    Same format and distribution as new_code. Call it in chunks (say 10,000) when
    serializing a large batch so memory stays bounded. Uniqueness is a matter of
    probability (80 bits); the database's unique constraint is the guarantee.
    """
    if count < 0:
        raise ValueError("count must not be negative")
    if count == 0:
        return []
    records = secrets.token_bytes(_RECORD * count)
    lines = bytearray(records.translate(_BYTE_TO_CHARACTER))
    lines[BODY_LENGTH::_RECORD] = _bulk_check_characters(records, count)
    lines[CODE_LENGTH::_RECORD] = b"\n" * count
    return lines.decode("ascii").split()
