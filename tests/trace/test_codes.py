import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trace.codes import (
    ALPHABET,
    CODE_LENGTH,
    MalformedCode,
    check_character,
    format_code,
    is_well_formed,
    new_code,
    new_codes,
    normalize_code,
)

bodies = st.text(alphabet=ALPHABET, min_size=16, max_size=16)
codes = bodies.map(lambda body: body + check_character(body))
QR_ALPHANUMERIC = set(string.digits + string.ascii_uppercase + " $%*+-./:")


def gf32_multiply(a: int, b: int) -> int:
    """Independent GF(32) product (shift-and-add modulo x^5 + x^2 + 1)."""
    product = 0
    for bit in range(5):
        if b >> bit & 1:
            product ^= a << bit
    for bit in range(9, 4, -1):
        if product >> bit & 1:
            product ^= 0b100101 << (bit - 5)
    return product


def syndrome(code: str) -> int:
    """sum(alpha^(16 - i) * d_i), alpha = x = 2, computed without trace.codes."""
    total = 0
    for position, character in enumerate(code):
        weight = 1
        for _ in range(len(code) - 1 - position):
            weight = gf32_multiply(weight, 2)
        total ^= gf32_multiply(weight, ALPHABET.index(character))
    return total


def assert_rejected(text: str) -> None:
    with pytest.raises(MalformedCode) as raised:
        normalize_code(text)
    assert raised.value.reason == "check"


def test_alphabet_is_crockford_base32_and_qr_alphanumeric():
    assert len(set(ALPHABET)) == 32
    assert set(ALPHABET) <= QR_ALPHANUMERIC
    assert not set("ILOU") & set(ALPHABET)


def test_alpha_is_primitive_so_all_17_weights_differ():
    weights, weight = set(), 1
    for _ in range(31):
        weights.add(weight)
        weight = gf32_multiply(weight, 2)
    assert weight == 1
    assert len(weights) == 31


def test_check_character_is_pinned():
    # Printed labels depend on this scheme: changing it would reject every one of them.
    assert check_character("0" * 16) == "0"
    assert check_character("0" * 15 + "1") == "2"
    assert check_character("1" + "0" * 15) == "V"  # alpha^16 = x^4 + x^3 + x + 1 = 27
    assert check_character("7KQ2MX9RD4TB0HZP") == "M"


@given(bodies)
def test_check_character_zeroes_the_syndrome(body):
    assert syndrome(body + check_character(body)) == 0


@pytest.mark.parametrize("body", ["", "0" * 15, "0" * 17, "U" * 16, "o" * 16])
def test_check_character_rejects_bad_bodies(body):
    with pytest.raises(ValueError):
        check_character(body)


@given(codes, st.integers(0, CODE_LENGTH - 1), st.sampled_from(ALPHABET))
def test_any_single_substitution_is_rejected(code, position, replacement):
    if code[position] == replacement:
        return
    assert_rejected(code[:position] + replacement + code[position + 1 :])


@given(codes, st.integers(0, CODE_LENGTH - 2))
def test_any_adjacent_swap_is_rejected(code, position):
    first, second = code[position], code[position + 1]
    if first == second:
        return
    assert_rejected(code[:position] + second + first + code[position + 2 :])


def test_every_substitution_and_swap_of_some_codes_is_rejected():
    for code in new_codes(20):
        for position in range(CODE_LENGTH):
            for replacement in ALPHABET.replace(code[position], ""):
                assert_rejected(code[:position] + replacement + code[position + 1 :])
        for i in range(CODE_LENGTH):
            for j in range(i + 1, CODE_LENGTH):  # any swap, not only adjacent ones
                if code[i] != code[j]:
                    swapped = list(code)
                    swapped[i], swapped[j] = code[j], code[i]
                    assert_rejected("".join(swapped))


def test_new_code_is_well_formed():
    code = new_code()
    assert len(code) == CODE_LENGTH
    assert normalize_code(code) == code


def test_new_codes_are_well_formed_and_carry_the_right_check_character():
    batch = new_codes(5_000)
    assert len(batch) == 5_000
    assert all(len(code) == CODE_LENGTH and set(code) <= set(ALPHABET) for code in batch)
    assert all(code[16] == check_character(code[:16]) for code in batch)
    assert all(syndrome(code) == 0 for code in batch[:200])


def test_codes_are_unique_in_a_large_sample():
    sample = new_codes(200_000) + [new_code() for _ in range(2_000)]
    assert len(set(sample)) == len(sample)


def test_every_character_shows_up_in_every_body_position():
    # A biased bulk generator (say, a table using only half the alphabet) fails this;
    # a fair one misses a character with probability about 32 * 17 * e^-1500.
    sample = new_codes(50_000)
    for position in range(16):
        assert {code[position] for code in sample} == set(ALPHABET)


@pytest.mark.parametrize("count", [0, 1, 7])
def test_new_codes_returns_exactly_count(count):
    assert len(new_codes(count)) == count


def test_new_codes_rejects_a_negative_count():
    with pytest.raises(ValueError):
        new_codes(-1)


@given(codes)
def test_normalize_accepts_lower_case_hyphens_and_spaces(code):
    typed = " " + format_code(code).lower().replace("-", " - ", 2) + "\r\n"
    assert normalize_code(typed) == code


def test_normalize_maps_confusables():
    body = "0000111100001111"
    code = body + check_character(body)
    assert normalize_code("OoOo-IiLl-0O0o-lLiI" + code[16]) == code


def test_normalize_folds_full_width_characters():
    code = new_code()
    full_width = "".join(chr(ord(character) + 0xFEE0) for character in format_code(code))
    assert normalize_code(full_width) == code


@pytest.mark.parametrize(
    ("text", "reason", "words"),
    [
        ("", "empty", "No code"),
        (" - ", "empty", "No code"),
        ("0000-0000-0000-000", "length", "this one has 15"),
        ("0" * 18, "length", "this one has 18"),
        ("0" * 200, "length", "far longer"),
        ("0000-0000-0000-000U-0", "character", "'U' (character 16)"),
        ("https://x/s/00000000000000000", "character", "':'"),
        ("0000-0000-0000-0001-0", "check", "mistyped or two are swapped"),
    ],
)
def test_malformed_codes_say_why(text, reason, words):
    with pytest.raises(MalformedCode) as raised:
        normalize_code(text)
    assert raised.value.reason == reason
    assert words in str(raised.value)
    assert isinstance(raised.value, ValueError)


def test_is_well_formed():
    code = new_code()
    assert is_well_formed(code)
    assert is_well_formed(format_code(code).lower())
    assert not is_well_formed(code[:-1])
    assert not is_well_formed("0000-0000-0000-0001-0")
    assert not is_well_formed("the code")


def test_format_code_groups_by_four():
    body = "0123456789ABCDEF"
    code = body + check_character(body)
    assert format_code(code) == f"0123-4567-89AB-CDEF-{code[16]}"
    assert normalize_code(format_code(code)) == code


def test_format_code_rejects_malformed_codes():
    with pytest.raises(MalformedCode):
        format_code("not a code")
