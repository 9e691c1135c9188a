"""PDF labels: a sheet grid on A4 or Letter, or one label per page.

Everything is vector: the QR code is one filled path per symbol (a rectangle per
run of dark modules), so the file stays small and prints sharp at any printer
resolution, and no label is ever held as an image. Labels are consumed from the
iterable one page at a time, which keeps memory flat for batches of 10,000 and
more. Fonts are embedded (subset) when TrueType files exist on the machine;
otherwise the standard PDF fonts are used, and Chinese falls back to the standard
"STSong-Light" CJK font that every PDF viewer supplies.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import cache, lru_cache
from itertools import islice
from typing import BinaryIO

from reportlab import rl_config
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from trace.labels.content import LabelData, field_text
from trace.labels.fonts import font_path, needs_cjk
from trace.labels.layouts import Layout, Sheet, TextField, resolve_layout
from trace.labels.placement import vector_placement
from trace.labels.qr import encode_qr
from trace.labels.text import clean_text, fit_lines

_STANDARD_FONTS = {
    "regular": "Helvetica",
    "bold": "Helvetica-Bold",
    "mono": "Courier",
    "cjk": "STSong-Light",
}


def render_pdf(
    layout: Layout | Sheet | str,
    labels: Iterable[LabelData],
    paper: str | None = None,
    offset_mm: tuple[float, float] = (0.0, 0.0),
) -> bytes:
    """A PDF of `labels`: a grid on `paper` for a sheet layout, else a page per label.

    `paper` is "A4" or "Letter" (the sheet's default when None). `offset_mm` is the
    printer calibration (x to the right, y downwards) applied to everything.
    Raises QRTooSmall if a QR code cannot get modules of at least 0.4 mm.
    """
    out = io.BytesIO()
    write_pdf(out, layout, labels, paper=paper, offset_mm=offset_mm)
    return out.getvalue()


def write_pdf(
    out: BinaryIO,
    layout: Layout | Sheet | str,
    labels: Iterable[LabelData],
    paper: str | None = None,
    offset_mm: tuple[float, float] = (0.0, 0.0),
) -> None:
    """Like render_pdf, but writes the document to the binary file `out`."""
    resolved = resolve_layout(layout)
    canvas = Canvas(out, pageCompression=1, invariant=1)
    canvas.setCreator("trace labels")
    for page_width, page_height, placed in _pages(resolved, labels, paper, offset_mm):
        canvas.setPageSize((page_width * mm, page_height * mm))
        for label_layout, x, y, label in placed:
            _draw_label(canvas, label_layout, label, x, page_height - y)
        canvas.showPage()
    with _binary_streams():
        canvas.save()


@contextmanager
def _binary_streams() -> Iterator[None]:
    """Write Flate streams without reportlab's default ASCII85 layer.

    ASCII85 is a relic of 7-bit mail: it makes the file a quarter bigger, and
    reportlab's pure-Python encoder was the slowest step of a big sheet. The
    setting is read while the document is written, so it is set only for that.
    """
    previous = rl_config.useA85
    rl_config.useA85 = 0
    try:
        yield
    finally:
        rl_config.useA85 = previous


def _pages(
    layout: Layout | Sheet,
    labels: Iterable[LabelData],
    paper: str | None,
    offset_mm: tuple[float, float],
) -> Iterator[tuple[float, float, list[tuple[Layout, float, float, LabelData]]]]:
    """Per page: its size in mm and the labels with their top-left corners on it."""
    dx, dy = offset_mm
    iterator = iter(labels)
    if isinstance(layout, Layout):
        for label in iterator:
            yield layout.width_mm, layout.height_mm, [(layout, dx, dy, label)]
        return
    grid = layout.grid(paper)
    while page := list(islice(iterator, grid.per_page)):
        placed = []
        for index, label in enumerate(page):
            x, y = grid.label_origin(index, layout.label)
            placed.append((layout.label, x + dx, y + dy, label))
        yield grid.width_mm, grid.height_mm, placed


def _draw_label(canvas: Canvas, layout: Layout, label: LabelData, x: float, top: float) -> None:
    """Draw one label whose top-left corner is `x` mm right and `top` mm up."""
    canvas.addLiteral(_symbol_operators(layout, label.url, x, top))
    for field in (*layout.static, *layout.fields):
        _draw_text(canvas, field, field_text(field, label), x, top)


def _symbol_operators(layout: Layout, url: str, x: float, top: float) -> str:
    """PDF operators that fill one rectangle per run of dark modules, in black."""
    symbol = encode_qr(url, layout.qr.error_correction)
    placement = vector_placement(layout, symbol.size)
    unit = placement.module * mm
    left = (x + placement.x) * mm
    upper = (top - placement.y) * mm
    # Work in module units with y pointing down, so rectangles are small integers.
    matrix = f"{unit:.4f} 0 0 {-unit:.4f} {left:.3f} {upper:.3f} cm"
    rectangles = " ".join([f"{col} {row} {length} 1 re" for row, col, length in symbol.dark_runs()])
    # One fill for the whole symbol: no anti-aliasing seams between the runs.
    return f"q 0 g {matrix} {rectangles} f Q"


def _draw_text(canvas: Canvas, field: TextField, text: str, x: float, top: float) -> None:
    text = clean_text(text)
    if not text:
        return
    font = _font_name("cjk" if needs_cjk(text) else field.font)
    size = field.size_pt
    canvas.setFont(font, size)
    for number, line in enumerate(_fitted_lines(text, font, size, field.width_mm, field.lines)):
        canvas.drawString((x + field.x_mm) * mm, (top - field.baseline_mm(number)) * mm, line)


@lru_cache(maxsize=4096)
def _fitted_lines(text: str, font: str, size: float, width_mm: float, lines: int) -> list[str]:
    def measure(line: str) -> float:
        return pdfmetrics.stringWidth(line, font, size)

    return fit_lines(text, width_mm * mm, lines, measure)


@cache
def _font_name(role: str) -> str:
    """Register the font for `role` once and return its reportlab name."""
    path = font_path(role)
    if path is not None:
        name = f"TraceLabel-{role}"
        try:
            pdfmetrics.registerFont(TTFont(name, str(path), subfontIndex=0))
            return name
        except Exception:  # e.g. CFF outlines, which reportlab cannot embed
            pass
    standard = _STANDARD_FONTS[role]
    if role == "cjk":
        pdfmetrics.registerFont(UnicodeCIDFont(standard))
    return standard
