"""Label rendering: QR labels for items as PNG, SVG, PDF sheets and ZPL II.

Pure code: no database and no web framework. The caller fills a LabelData per item
and picks a layout from label_templates/ by name:

    layout = load_layout("medium-50x30")
    png = render_png(layout, LabelData(url=..., product_name=..., serial=..., ...))
    pdf = render_pdf(load_layout("sheet-a4-small"), labels, paper="Letter")
    zpl = render_zpl(layout, labels)

Every renderer also accepts a layout name, and a sheet layout where one label is
wanted (its label layout is used). Labels are taken from any iterable, so PDF and
ZPL batches can stream from a database cursor.
"""

from trace.labels.content import LabelData
from trace.labels.layouts import (
    Layout,
    LayoutError,
    Sheet,
    UnknownLayout,
    list_layouts,
    load_layout,
)
from trace.labels.pdf import render_pdf, write_pdf
from trace.labels.placement import MIN_MODULE_MM, QRTooSmall
from trace.labels.qr import QRDataTooLong
from trace.labels.raster import render_image, render_png
from trace.labels.svg import render_svg
from trace.labels.zpl import iter_zpl, render_zpl, write_zpl

__all__ = [
    "MIN_MODULE_MM",
    "LabelData",
    "Layout",
    "LayoutError",
    "QRDataTooLong",
    "QRTooSmall",
    "Sheet",
    "UnknownLayout",
    "iter_zpl",
    "list_layouts",
    "load_layout",
    "render_image",
    "render_pdf",
    "render_png",
    "render_svg",
    "render_zpl",
    "write_pdf",
    "write_zpl",
]
