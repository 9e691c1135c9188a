"""Helpers for the label tests: sample labels, decoding with zxing-cpp, rasterising."""

from __future__ import annotations

import io
from datetime import date

import pymupdf
import zxingcpp
from PIL import Image

from trace.labels import LabelData

SHORT_URL = "https://trace.example.com/s/0123456789ABCDEFG"
UPPER_URL = "HTTPS://TRACE.EXAMPLE.COM/S/0123456789ABCDEFG"
DIGITAL_LINK_URL = "https://trace.example.com/01/09506000134352/10/LOT2026A/21/LOT2026A-000123"
URLS = {"short": SHORT_URL, "upper": UPPER_URL, "digital-link": DIGITAL_LINK_URL}
CODE_DISPLAY = "7KQ2-MX9R-D4TB-0HZP-M"


def make_label(**overrides) -> LabelData:
    """A fully filled label; tests override only what they care about."""
    values = {
        "url": SHORT_URL,
        "product_name": "Smart Meter X200",
        "serial": "LOT2026A-000123",
        "lot": "LOT2026A",
        "produced_on": date(2026, 1, 15),
        "code_display": CODE_DISPLAY,
        "gtin": "09506000134352",
    }
    values.update(overrides)
    return LabelData(**values)


def numbered_labels(count: int):
    """A generator of labels with distinct URLs, as a database cursor would give."""
    for number in range(count):
        yield make_label(
            url=f"https://trace.example.com/s/{number:017d}", serial=f"LOT2026A-{number:06d}"
        )


def decode(image: Image.Image) -> list[str]:
    """Texts of all QR codes that zxing-cpp finds in `image`."""
    grey = image.convert("L")
    return [result.text for result in zxingcpp.read_barcodes(grey, formats=QR_CODE)]


QR_CODE = zxingcpp.BarcodeFormat.QRCode


def open_png(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def rasterise_pdf(data: bytes, dpi: int) -> list[Image.Image]:
    """Every page of a PDF as a greyscale image."""
    with pymupdf.open(stream=data, filetype="pdf") as document:
        return [
            _pixmap_image(page.get_pixmap(dpi=dpi, colorspace=pymupdf.csGRAY)) for page in document
        ]


def rasterise_svg(svg: str, dpi: int) -> Image.Image:
    with pymupdf.open(stream=svg.encode(), filetype="svg") as document:
        return _pixmap_image(document[0].get_pixmap(dpi=dpi, colorspace=pymupdf.csGRAY))


def pdf_page_sizes(data: bytes) -> list[tuple[float, float]]:
    """Page sizes in points."""
    with pymupdf.open(stream=data, filetype="pdf") as document:
        return [(page.rect.width, page.rect.height) for page in document]


def _pixmap_image(pixmap) -> Image.Image:
    return Image.frombytes("L", (pixmap.width, pixmap.height), pixmap.samples)


def ink_box(image: Image.Image) -> tuple[int, int, int, int] | None:
    """Bounding box of everything darker than mid-grey."""
    return image.convert("L").point(lambda value: 255 if value < 128 else 0).getbbox()


def dark_run(image: Image.Image, x: int, y: int) -> int:
    """Length of the run of dark pixels starting at (x, y) going right."""
    grey = image.convert("L")
    length = 0
    while x + length < grey.width and grey.getpixel((x + length, y)) < 128:
        length += 1
    return length
