"""QR symbols for labels.

A small QR Code Model 2 encoder built for throughput: labels are printed by the
thousand, and the generic `qrcode` package spends most of its time evaluating all
eight masks and in a slow Reed-Solomon implementation. Here the per-version work
(function patterns, module placement order, mask) is computed once and cached; a
symbol then costs a bit string, one table-driven Reed-Solomon pass per block and a
byte permutation. The standard tables come from `qrcode`, and the tests check that
both encoders produce identical symbols.

A fixed mask is used instead of the penalty-scored best one: every mask yields a
valid symbol that any decoder must read, and scoring eight candidates would cost
more than everything else together.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from operator import itemgetter

from qrcode import base as qr_base
from qrcode import util as qr_util

QUIET_ZONE = 4  # modules of light margin on every side (ISO/IEC 18004)
DEFAULT_MASK = 0

# Error correction level -> the indicator bits used in the format information.
EC_BITS = {"L": 1, "M": 0, "Q": 3, "H": 2}

_NUMERIC = re.compile(r"[0-9]*\Z")
_ALPHANUMERIC = re.compile(r"[0-9A-Z $%*+\-./:]*\Z")
_ALPHANUMERIC_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_ALPHANUMERIC_VALUE = {ch: i for i, ch in enumerate(_ALPHANUMERIC_CHARS)}
_MODE_INDICATOR = {"numeric": 1, "alphanumeric": 2, "byte": 4}
_QRCODE_MODE = {
    "numeric": qr_util.MODE_NUMBER,
    "alphanumeric": qr_util.MODE_ALPHA_NUM,
    "byte": qr_util.MODE_8BIT_BYTE,
}

_EXP = [0] * 512
_LOG = [0] * 256
_value = 1
for _i in range(255):
    _EXP[_i] = _value
    _LOG[_value] = _i
    _value <<= 1
    if _value & 0x100:
        _value ^= 0x11D
for _i in range(255, 512):
    _EXP[_i] = _EXP[_i - 255]


class QRDataTooLong(ValueError):
    """The data does not fit in a QR symbol at the requested error correction."""


@dataclass(frozen=True, slots=True)
class QRSymbol:
    """One QR symbol: `cells` holds size*size bytes, row by row, 1 for dark."""

    version: int
    size: int
    cells: bytes

    def rows(self) -> Iterator[bytes]:
        """Yield each row of modules as bytes of 0 (light) and 1 (dark)."""
        size = self.size
        for start in range(0, size * size, size):
            yield self.cells[start : start + size]

    def dark_runs(self) -> Iterator[tuple[int, int, int]]:
        """Yield (row, column, length) for each horizontal run of dark modules.

        Vector outputs draw one rectangle per run instead of one per module.
        """
        for row, cells in enumerate(self.rows()):
            for match in _DARK_RUN.finditer(cells):
                yield row, match.start(), match.end() - match.start()


_DARK_RUN = re.compile(b"\x01+")


def data_mode(data: str) -> str:
    """The single QR mode that encodes `data`: numeric, alphanumeric or byte."""
    if _NUMERIC.match(data):
        return "numeric"
    if _ALPHANUMERIC.match(data):
        return "alphanumeric"
    return "byte"


def qr_version(data: str, error_correction: str = "M") -> int:
    """The smallest QR version (1 to 40) that holds `data` in one segment."""
    mode = data_mode(data)
    length = len(data) if mode != "byte" else len(data.encode())
    return _smallest_version(mode, length, error_correction)


def encode_qr(data: str, error_correction: str = "M", mask: int = DEFAULT_MASK) -> QRSymbol:
    """Encode `data` as the smallest QR symbol at the given error correction level."""
    mode = data_mode(data)
    payload = data.encode()
    version = _smallest_version(mode, len(payload), error_correction)
    codewords = _codewords(mode, payload, version, error_correction)
    return _place(codewords, version, error_correction, mask)


@cache
def _smallest_version(mode: str, length: int, error_correction: str) -> int:
    for version in range(1, 41):
        if _bit_length(mode, length, version) <= _data_capacity(version, error_correction) * 8:
            return version
    raise QRDataTooLong(
        f"{length} characters in {mode} mode do not fit in a QR symbol "
        f"with error correction {error_correction}"
    )


def _bit_length(mode: str, length: int, version: int) -> int:
    count_bits = qr_util.length_in_bits(_QRCODE_MODE[mode], version)
    if mode == "numeric":
        body = 10 * (length // 3) + (0, 4, 7)[length % 3]
    elif mode == "alphanumeric":
        body = 11 * (length // 2) + 6 * (length % 2)
    else:
        body = 8 * length
    return 4 + count_bits + body


@cache
def _blocks(version: int, error_correction: str) -> tuple[tuple[int, int], ...]:
    """(data codewords, error correction codewords) for each block."""
    blocks = qr_base.rs_blocks(version, EC_BITS[error_correction])
    return tuple((b.data_count, b.total_count - b.data_count) for b in blocks)


def _data_capacity(version: int, error_correction: str) -> int:
    return sum(data for data, _ in _blocks(version, error_correction))


def _codewords(mode: str, payload: bytes, version: int, error_correction: str) -> list[int]:
    data = _data_codewords(mode, payload, version, error_correction)
    data_blocks, ec_blocks = [], []
    offset = 0
    for data_count, ec_count in _blocks(version, error_correction):
        block = data[offset : offset + data_count]
        offset += data_count
        data_blocks.append(block)
        ec_blocks.append(_rs_remainder(block, ec_count))
    return _interleave(data_blocks) + _interleave(ec_blocks)


def _data_codewords(mode: str, payload: bytes, version: int, error_correction: str) -> bytes:
    """Mode indicator, character count, data, terminator and padding, as bytes."""
    value, bits = _segment_bits(mode, payload, version)
    capacity = _data_capacity(version, error_correction) * 8
    terminator = min(4, capacity - bits)
    value, bits = value << terminator, bits + terminator
    pad_to_byte = -bits % 8
    value, bits = value << pad_to_byte, bits + pad_to_byte
    padding = bytes((0xEC, 0x11) * (capacity // 16 + 1))[: (capacity - bits) // 8]
    return value.to_bytes(bits // 8, "big") + padding


def _segment_bits(mode: str, payload: bytes, version: int) -> tuple[int, int]:
    count_bits = qr_util.length_in_bits(_QRCODE_MODE[mode], version)
    value = (_MODE_INDICATOR[mode] << count_bits) | len(payload)
    bits = 4 + count_bits
    if mode == "byte":
        return (value << 8 * len(payload)) | int.from_bytes(payload, "big"), bits + 8 * len(payload)
    for chunk_value, chunk_bits in _chunks(mode, payload.decode()):
        value = (value << chunk_bits) | chunk_value
        bits += chunk_bits
    return value, bits


def _chunks(mode: str, text: str) -> Iterator[tuple[int, int]]:
    if mode == "numeric":
        for i in range(0, len(text), 3):
            group = text[i : i + 3]
            yield int(group), (0, 4, 7, 10)[len(group)]
        return
    values = _ALPHANUMERIC_VALUE
    for i in range(0, len(text) - 1, 2):
        yield values[text[i]] * 45 + values[text[i + 1]], 11
    if len(text) % 2:
        yield values[text[-1]], 6


def _rs_remainder(block: bytes, ec_count: int) -> bytes:
    """Reed-Solomon error correction codewords, one table lookup per data byte.

    The remainder register is held in one int; `_rs_table` has the generator
    polynomial multiplied by every possible feedback byte.
    """
    table = _rs_table(ec_count)
    shift = 8 * (ec_count - 1)
    keep = (1 << shift) - 1
    remainder = 0
    for byte in block:
        feedback = (remainder >> shift) ^ byte
        remainder = ((remainder & keep) << 8) ^ table[feedback]
    return remainder.to_bytes(ec_count, "big")


@cache
def _rs_table(ec_count: int) -> tuple[int, ...]:
    generator = [1]
    for i in range(ec_count):
        generator = _poly_multiply(generator, [1, _EXP[i]])
    coefficients = generator[1:]
    return tuple(
        int.from_bytes(bytes(_gf_multiply(f, c) for c in coefficients), "big") for f in range(256)
    )


def _gf_multiply(a: int, b: int) -> int:
    return 0 if a == 0 or b == 0 else _EXP[_LOG[a] + _LOG[b]]


def _poly_multiply(p: list[int], q: list[int]) -> list[int]:
    result = [0] * (len(p) + len(q) - 1)
    for i, a in enumerate(p):
        for j, b in enumerate(q):
            result[i + j] ^= _gf_multiply(a, b)
    return result


def _interleave(blocks: list[bytes]) -> list[int]:
    longest = max(len(block) for block in blocks)
    return [block[i] for i in range(longest) for block in blocks if i < len(block)]


_BYTE_BITS = [bytes((byte >> (7 - i)) & 1 for i in range(8)) for byte in range(256)]


def _place(codewords: list[int], version: int, error_correction: str, mask: int) -> QRSymbol:
    """Scatter the codeword bits over the data modules and apply the mask."""
    template = _template(version, error_correction, mask)
    bits = b"".join([_BYTE_BITS[c] for c in codewords])
    # Remainder bits are zeros; one extra zero is what function modules gather.
    bits += bytes(template.data_modules + 1 - len(bits))
    scattered = bytes(template.gather(bits))
    cells = (int.from_bytes(scattered, "big") ^ template.base).to_bytes(len(scattered), "big")
    return QRSymbol(version, template.size, cells)


@dataclass(frozen=True, slots=True)
class _Template:
    size: int
    data_modules: int
    base: int  # function patterns plus the mask bit of every data module, as one int
    gather: itemgetter  # picks, for every module, its data bit (or a zero)


@cache
def _template(version: int, error_correction: str, mask: int) -> _Template:
    grid = _function_patterns(version, error_correction, mask)
    size = len(grid)
    order = _placement_order(grid)
    is_masked = qr_util.mask_func(mask)
    position = {cell: i for i, cell in enumerate(order)}
    base, index = bytearray(size * size), []
    for r in range(size):
        for c in range(size):
            k = r * size + c
            if grid[r][c] is None:
                base[k] = 1 if is_masked(r, c) else 0
                index.append(position[(r, c)])
            else:
                base[k] = 1 if grid[r][c] else 0
                index.append(len(order))
    return _Template(size, len(order), int.from_bytes(base, "big"), itemgetter(*index))


def _function_patterns(version: int, error_correction: str, mask: int) -> list[list]:
    """Finder, separator, timing, alignment, format and version modules; None for data."""
    size = version * 4 + 17
    grid: list[list] = [[None] * size for _ in range(size)]
    for row, col in ((0, 0), (size - 7, 0), (0, size - 7)):
        _finder(grid, row, col)
    _alignment(grid, version)
    for i in range(8, size - 8):
        grid[6][i] = grid[i][6] = i % 2 == 0
    _format_information(grid, EC_BITS[error_correction], mask)
    if version >= 7:
        _version_information(grid, version)
    return grid


def _finder(grid: list[list], row: int, col: int) -> None:
    size = len(grid)
    for r in range(-1, 8):
        for c in range(-1, 8):
            if 0 <= row + r < size and 0 <= col + c < size:
                ring = max(abs(r - 3), abs(c - 3))
                grid[row + r][col + c] = ring != 2 and ring != 4


def _alignment(grid: list[list], version: int) -> None:
    positions = qr_util.pattern_position(version)
    for row in positions:
        for col in positions:
            if grid[row][col] is not None:
                continue  # overlaps a finder pattern
            for r in range(-2, 3):
                for c in range(-2, 3):
                    grid[row + r][col + c] = max(abs(r), abs(c)) != 1


def _format_information(grid: list[list], ec_bits: int, mask: int) -> None:
    size = len(grid)
    bits = qr_util.BCH_type_info((ec_bits << 3) | mask)
    for i in range(15):
        dark = (bits >> i) & 1 == 1
        vertical_row = i if i < 6 else i + 1 if i < 8 else size - 15 + i
        grid[vertical_row][8] = dark
        horizontal_col = size - i - 1 if i < 8 else 15 - i if i < 9 else 14 - i
        grid[8][horizontal_col] = dark
    grid[size - 8][8] = True  # the dark module


def _version_information(grid: list[list], version: int) -> None:
    size = len(grid)
    bits = qr_util.BCH_type_number(version)
    for i in range(18):
        dark = (bits >> i) & 1 == 1
        grid[i // 3][i % 3 + size - 11] = dark
        grid[i % 3 + size - 11][i // 3] = dark


def _placement_order(grid: list[list]) -> list[tuple[int, int]]:
    """Data modules in the order codeword bits fill them: two-column zigzags."""
    size = len(grid)
    order = []
    upward = True
    col = size - 1
    while col > 0:
        if col == 6:
            col -= 1  # the vertical timing pattern is skipped as a whole column
        rows = range(size - 1, -1, -1) if upward else range(size)
        for r in rows:
            for c in (col, col - 1):
                if grid[r][c] is None:
                    order.append((r, c))
        upward = not upward
        col -= 2
    return order
