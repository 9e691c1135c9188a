"""Raster labels: one label as a Pillow image or a PNG file.

The QR symbol is drawn one pixel per module and enlarged by a whole factor with
nearest-neighbour sampling, so every module is an exact square of dots. What does
not change between labels is prepared once and cached: the blank label with its
static text, fonts, and the bitmaps of text lines that repeat across a batch
(product name, lot, date). Values that differ on every label (serial, code) are
plain ASCII and composed from cached glyph cells instead of being rasterised anew.

Labels are black and white ("1") by default: printers cannot print grey, and
1-bit PNG files are several times smaller and faster to compress. Greyscale ("L",
anti-aliased text) is there for screen previews.
"""

from __future__ import annotations

from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

from trace.labels.content import LabelData, field_text
from trace.labels.fonts import font_path, font_role
from trace.labels.layouts import Layout, Sheet, TextField, label_layout
from trace.labels.placement import MM_PER_INCH, raster_placement
from trace.labels.png import encode_png
from trace.labels.qr import QRSymbol, encode_qr
from trace.labels.text import clean_text, fit_lines

WHITE, BLACK = 255, 0
MIN_DPI, MAX_DPI = 72, 2400
_MODULE_GREY = bytes.maketrans(b"\x00\x01", bytes((WHITE, BLACK)))
# Anti-aliased ink at or above this coverage becomes black in 1-bit labels.
_INK_THRESHOLD = 128
_BINARY = bytes(WHITE if value >= _INK_THRESHOLD else BLACK for value in range(256))
# Fields whose value differs on every label; their ASCII text is composed from glyphs.
_PER_ITEM_FIELDS = frozenset({"serial", "code_display"})


def render_png(
    layout: Layout | Sheet | str,
    label: LabelData,
    dpi: int | None = None,
    *,
    greyscale: bool = False,
) -> bytes:
    """One label as PNG bytes at `dpi` (the layout's resolution by default).

    Black and white unless `greyscale` (anti-aliased text, for screen previews).
    Raises QRTooSmall when the QR code cannot be printed with modules of at least
    0.4 mm at that resolution.
    """
    resolved = label_layout(layout)
    dpi = dpi or resolved.dpi
    image = render_image(resolved, label, dpi, mode="L" if greyscale else "1")
    return encode_png(image, dpi)


def render_image(
    layout: Layout | Sheet | str, label: LabelData, dpi: int | None = None, mode: str = "L"
) -> Image.Image:
    """One label as a Pillow image, "1" (black and white) or "L" (greyscale)."""
    resolved = label_layout(layout)
    dpi = dpi or resolved.dpi
    if not MIN_DPI <= dpi <= MAX_DPI:
        raise ValueError(f"resolution must be {MIN_DPI} to {MAX_DPI} dpi, not {dpi}")
    if mode not in ("1", "L"):
        raise ValueError(f"labels are drawn in mode '1' or 'L', not {mode!r}")
    symbol = encode_qr(label.url, resolved.qr.error_correction)
    placement = raster_placement(resolved, symbol.size, dpi)
    canvas = _blank_label(resolved, dpi, mode).copy()
    qr_image = _symbol_image(symbol, int(placement.module), mode)
    canvas.paste(qr_image, (int(placement.x), int(placement.y)))
    for field in resolved.fields:
        _draw_field(canvas, field, field_text(field, label), dpi)
    return canvas


def field_lines(field: TextField, text: str, dpi: int) -> tuple[str, list[str]]:
    """The font role and the fitted lines of `text` in `field`, measured at `dpi`.

    SVG uses this too, so that its lines break where the PNG's do.
    """
    text = clean_text(text)
    role = font_role(text, field.font)
    size = _font_size(field, dpi)
    width = mm_to_dots(field.width_mm, dpi)
    return role, _fitted_lines(text, role, size, width, field.lines) if text else []


def mm_to_dots(mm: float, dpi: int) -> int:
    """Millimetres to whole dots at `dpi`."""
    return round(mm * dpi / MM_PER_INCH)


def _symbol_image(symbol: QRSymbol, module: int, mode: str) -> Image.Image:
    size = symbol.size
    image = Image.frombytes("L", (size, size), symbol.cells.translate(_MODULE_GREY))
    if mode != "L":
        image = image.convert(mode)
    return image.resize((size * module, size * module), Image.Resampling.NEAREST)


# Bounded: a resolution may come from a request, and a blank label can be megabytes.
@lru_cache(maxsize=16)
def _blank_label(layout: Layout, dpi: int, mode: str) -> Image.Image:
    size = (mm_to_dots(layout.width_mm, dpi), mm_to_dots(layout.height_mm, dpi))
    canvas = Image.new(mode, size, WHITE)
    for field in layout.static:
        _draw_field(canvas, field, field.text, dpi)
    return canvas


def _draw_field(canvas: Image.Image, field: TextField, text: str, dpi: int) -> None:
    text = clean_text(text)
    if not text:
        return
    binary = canvas.mode == "1"
    if field.name in _PER_ITEM_FIELDS and text.isascii():
        _draw_composed(canvas, field, text, dpi)
        return
    role, lines = field_lines(field, text, dpi)
    size = _font_size(field, dpi)
    x = mm_to_dots(field.x_mm, dpi)
    for number, line in enumerate(lines):
        mask, left, top = _line_mask(line, role, size, binary)
        baseline = mm_to_dots(field.baseline_mm(number), dpi)
        canvas.paste(BLACK, (x + left, baseline + top), mask)


def _draw_composed(canvas: Image.Image, field: TextField, text: str, dpi: int) -> None:
    glyphs = _glyph_cells(field.font, _font_size(field, dpi), canvas.mode == "1")
    width = mm_to_dots(field.width_mm, dpi)
    x = mm_to_dots(field.x_mm, dpi)
    for number, line in enumerate(fit_lines(text, width, field.lines, glyphs.width)):
        top = mm_to_dots(field.baseline_mm(number), dpi) - glyphs.ascent
        canvas.paste(BLACK, (x, top), glyphs.mask(line))


def _font_size(field: TextField, dpi: int) -> int:
    return max(1, round(field.size_pt * dpi / 72))


@lru_cache(maxsize=64)
def _font(role: str, size: int) -> ImageFont.FreeTypeFont:
    path = font_path(role)
    if path is None:
        # Pillow's built-in font: Latin only, but a label still comes out.
        return ImageFont.load_default(size)
    return ImageFont.truetype(str(path), size)


@lru_cache(maxsize=4096)
def _fitted_lines(text: str, role: str, size: int, width: int, max_lines: int) -> list[str]:
    return fit_lines(text, width, max_lines, _font(role, size).getlength)


# Bounded: a batch repeats a handful of lines, and each mask is a small bitmap.
@lru_cache(maxsize=256)
def _line_mask(text: str, role: str, size: int, binary: bool) -> tuple[Image.Image, int, int]:
    """The ink of one line as a mask, and its offset from the pen on the baseline."""
    font = _font(role, size)
    left, top, right, bottom = font.getbbox(text, anchor="ls")
    mask = Image.new("L", (max(1, right - left), max(1, bottom - top)), 0)
    ImageDraw.Draw(mask).text((-left, -top), text, font=font, fill=255, anchor="ls")
    if binary:
        mask = mask.point(_BINARY)
    return mask, left, top


class _GlyphCells:
    """Glyphs of one font and size, each rendered once into a cell of whole dots.

    Cells are kept column by column, so composing a line is one bytes join and a
    transpose, far cheaper than rasterising it; the price is whole-dot advances
    and no kerning, which plain serials and codes do not need.
    """

    def __init__(self, font: ImageFont.FreeTypeFont, binary: bool) -> None:
        self.font = font
        self.binary = binary
        self.ascent, descent = font.getmetrics()
        self.height = self.ascent + descent
        self.advances: dict[str, int] = {}
        self.columns: dict[str, bytes] = {}

    def width(self, text: str) -> int:
        """Width of `text` in dots, as `mask` composes it."""
        advances = self.advances
        if not all(char in advances for char in text):
            for char in text:
                self._add(char)
        return sum(map(advances.__getitem__, text))

    def mask(self, text: str) -> Image.Image:
        """The ink of `text` as a mask whose top is `ascent` above the baseline."""
        width = self.width(text)
        data = b"".join(map(self.columns.__getitem__, text))
        # Columns laid end to end form the transposed line image.
        transposed = Image.frombytes("L", (self.height, max(1, width)), data or bytes(self.height))
        return transposed.transpose(Image.Transpose.TRANSPOSE)

    def _add(self, char: str) -> None:
        if char in self.advances:
            return
        advance = max(1, round(self.font.getlength(char)))
        cell = Image.new("L", (advance, self.height), 0)
        ImageDraw.Draw(cell).text((0, self.ascent), char, font=self.font, fill=255, anchor="ls")
        if self.binary:
            cell = cell.point(_BINARY)
        self.advances[char] = advance
        self.columns[char] = cell.transpose(Image.Transpose.TRANSPOSE).tobytes()


@lru_cache(maxsize=64)
def _glyph_cells(role: str, size: int, binary: bool) -> _GlyphCells:
    return _GlyphCells(_font(role, size), binary)
