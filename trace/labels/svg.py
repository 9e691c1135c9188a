"""SVG labels: the QR code as one path, text as text, all in millimetres."""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from trace.labels.content import LabelData, field_text
from trace.labels.layouts import Layout, Sheet, TextField, label_layout
from trace.labels.placement import vector_placement
from trace.labels.qr import QRSymbol, encode_qr
from trace.labels.raster import field_lines

FONT_FAMILIES = {
    "regular": "'DejaVu Sans', Arial, Helvetica, sans-serif",
    "bold": "'DejaVu Sans', Arial, Helvetica, sans-serif",
    "mono": "'DejaVu Sans Mono', 'Courier New', monospace",
    "cjk": "'WenQuanYi Zen Hei', 'Noto Sans CJK SC', 'Microsoft YaHei', 'PingFang SC', sans-serif",
}


def render_svg(layout: Layout | Sheet | str, label: LabelData) -> str:
    """One label as an SVG document sized in millimetres.

    Raises QRTooSmall when the QR box cannot hold modules of at least 0.4 mm.
    """
    resolved = label_layout(layout)
    symbol = encode_qr(label.url, resolved.qr.error_correction)
    width, height = _number(resolved.width_mm), _number(resolved.height_mm)
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}mm" height="{height}mm" '
        f'viewBox="0 0 {width} {height}">\n',
        f'<rect width="{width}" height="{height}" fill="#fff"/>\n',
        _symbol_path(resolved, symbol),
    ]
    for field in (*resolved.static, *resolved.fields):
        parts.extend(_text(resolved, field, field_text(field, label)))
    parts.append("</svg>\n")
    return "".join(parts)


def _symbol_path(layout: Layout, symbol: QRSymbol) -> str:
    placement = vector_placement(layout, symbol.size)
    # One subpath per run of dark modules, in module units, scaled into place;
    # crispEdges keeps renderers from leaving seams between neighbouring runs.
    runs = "".join(f"M{col} {row}h{length}v1h-{length}z" for row, col, length in symbol.dark_runs())
    transform = (
        f"translate({_number(placement.x)} {_number(placement.y)}) "
        f"scale({_number(placement.module)})"
    )
    return f'<path transform="{transform}" fill="#000" shape-rendering="crispEdges" d="{runs}"/>\n'


def _text(layout: Layout, field: TextField, text: str) -> list[str]:
    role, lines = field_lines(field, text, layout.dpi)
    weight = ' font-weight="bold"' if field.font == "bold" else ""
    family = quoteattr(FONT_FAMILIES[role])
    size = _number(field.size_mm)
    return [
        f'<text x="{_number(field.x_mm)}" y="{_number(field.baseline_mm(number))}" '
        f'font-family={family} font-size="{size}"{weight} fill="#000">{escape(line)}</text>\n'
        for number, line in enumerate(lines)
    ]


def _number(value: float) -> str:
    return f"{value:.4f}".rstrip("0").rstrip(".")
