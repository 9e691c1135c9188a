"""Labels for items: which URL each QR carries, what is printed beside it, in which format.

trace.labels renders; this module feeds it from the database and turns its errors into
field errors, for one item or a whole batch (streamed, so a batch of a million does not
sit in memory).
"""

from __future__ import annotations

import contextlib
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from trace import codes, gs1, labels
from trace.catalog.models import Product
from trace.errors import Invalid
from trace.labels import LabelData
from trace.production.models import Batch, Item

STREAM_CHUNK = 2000
PROGRESS_EVERY = 250


def short_url(base_url: str, code: str) -> str:
    """`{base}/s/{code}`, upper-cased whole when the base allows it.

    An all-upper-case URL fits QR's alphanumeric mode (5.5 bits a character instead of 8),
    which makes a smaller symbol. Scheme and host are case-insensitive and the service
    answers /S/ too, so this is only safe when the base URL has no path of its own.
    """
    parts = urlsplit(base_url)
    if parts.path.strip("/") or parts.query or not base_url.isascii():
        return f"{base_url}/s/{code}"
    return f"{base_url}/S/{code}".upper()


def item_url(base_url: str, item: Item, product: Product, lot_number: str) -> str:
    """The QR content: a GS1 Digital Link for products that ask for it, else the short URL."""
    if product.use_digital_link and product.gtin:
        return gs1.build_digital_link(base_url, product.gtin, lot=lot_number, serial=item.serial)
    return short_url(base_url, item.code)


def label_data(base_url: str, item: Item, product: Product, batch: Batch) -> LabelData:
    return LabelData(
        url=item_url(base_url, item, product, batch.lot_number),
        product_name=product.name,
        serial=item.serial,
        lot=batch.lot_number,
        produced_on=item.produced_at.date(),
        code_display=codes.format_code(item.code),
        gtin=product.gtin,
    )


def batch_items_query(batch: Batch, from_serial: str | None = None, to_serial: str | None = None):
    """The batch's items in the order they were made, optionally within a serial range.

    Ordered by id, not serial: the batch index already holds ids in order, while sorting
    a million serials would need a temporary index. Generated serials follow id order.
    """
    if from_serial and to_serial and to_serial < from_serial:
        raise Invalid("the serial range is empty", {"to_serial": ["before from_serial"]})
    query = select(Item).where(Item.batch_id == batch.id)
    if from_serial is not None:
        query = query.where(Item.serial >= from_serial)
    if to_serial is not None:
        query = query.where(Item.serial <= to_serial)
    return query.order_by(Item.id)


def count_selected(session: Session, batch: Batch, from_serial=None, to_serial=None) -> int:
    query = batch_items_query(batch, from_serial, to_serial).order_by(None)
    return session.scalar(select(func.count()).select_from(query.subquery()))


def batch_labels(
    session: Session,
    base_url: str,
    batch: Batch,
    *,
    from_serial: str | None = None,
    to_serial: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> Iterator[LabelData]:
    """Label data for a batch or a serial range of it, streamed from the database.

    `progress(n)` is called with the number of labels handed out so far, every few hundred.
    """
    query = batch_items_query(batch, from_serial, to_serial)
    return _stream(session, base_url, batch, query, progress)


def _stream(session, base_url, batch, query, progress) -> Iterator[LabelData]:
    # Keyset pages rather than one server-side cursor: a streamed response outlives the
    # request's transaction, and a cursor would be closed with it on PostgreSQL.
    product, last_id, done = batch.product, 0, 0
    while True:
        items = session.scalars(query.where(Item.id > last_id).limit(STREAM_CHUNK)).all()
        for item in items:
            yield label_data(base_url, item, product, batch)
            done += 1
            if progress and done % PROGRESS_EVERY == 0:
                progress(done)
        if len(items) < STREAM_CHUNK:
            return
        last_id = items[-1].id


FORMATS = {
    "png": "image/png",
    "svg": "image/svg+xml",
    "pdf": "application/pdf",
    "zpl": "application/vnd.zebra.zpl",
}
# Archives of single labels suit small print runs; a whole batch goes as PDF or ZPL.
MAX_ARCHIVE_LABELS = 5_000
MAX_PDF_LABELS = 100_000
SPOOL_BYTES = 32 * 1024 * 1024


@dataclass(frozen=True)
class Output:
    """A rendered result: its chunks (streamable), media type and a file name."""

    chunks: Iterable[bytes]
    mimetype: str
    filename: str


def check_layout(name: str):
    """The named layout, or Invalid naming those that exist."""
    try:
        return labels.load_layout(name)
    except labels.UnknownLayout:
        known = ", ".join(labels.list_layouts())
        raise Invalid(f"unknown layout {name!r}", {"layout": [f"one of {known}"]}) from None


@contextlib.contextmanager
def _label_errors():
    try:
        yield
    except (labels.QRTooSmall, labels.QRDataTooLong, labels.LayoutError) as error:
        raise Invalid("the label cannot be printed readably", {"layout": [str(error)]}) from None


def render_item_label(
    base_url: str, item: Item, fmt: str, layout_name: str, dpi: int | None = None
) -> Output:
    """One item's label in `fmt` (png, svg, pdf or zpl)."""
    label = label_data(base_url, item, item.product, item.batch)
    return render_label_data(label, fmt, layout_name, dpi)


def render_label_data(
    label: LabelData, fmt: str, layout_name: str, dpi: int | None = None
) -> Output:
    """One label in `fmt`, with layout and QR-size problems as field errors."""
    layout = check_layout(layout_name)
    with _label_errors():
        data = _render_single(layout, label, fmt, dpi)
    return Output([data], FORMATS[fmt], f"{label.serial}.{fmt}")


def _render_single(layout, label: LabelData, fmt: str, dpi: int | None) -> bytes:
    if fmt == "png":
        return labels.render_png(layout, label, dpi)
    if fmt == "svg":
        return labels.render_svg(layout, label).encode()
    if fmt == "pdf":
        return labels.render_pdf(layout, [label])
    return labels.render_zpl(layout, [label]).encode()


def render_batch_labels(
    session: Session,
    base_url: str,
    batch: Batch,
    fmt: str,
    layout_name: str,
    *,
    dpi: int | None = None,
    paper: str | None = None,
    offset_mm: tuple[float, float] = (0.0, 0.0),
    from_serial: str | None = None,
    to_serial: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> Output:
    """A batch's labels (or a serial range): ZPL streamed, PDF as one sheet, PNG/SVG zipped."""
    layout = check_layout(layout_name)
    selected = count_selected(session, batch, from_serial, to_serial)
    _check_size(fmt, selected)
    stream = batch_labels(
        session, base_url, batch, from_serial=from_serial, to_serial=to_serial, progress=progress
    )
    name = f"{batch.lot_number}-labels"
    with _label_errors():
        if fmt == "zpl":
            zpl = labels.iter_zpl(layout, stream)
            # The first label is rendered now, so a layout that cannot print fails as a 4xx.
            first = next(zpl, "")
            return Output(_encoded([first], zpl), FORMATS["zpl"], f"{name}.zpl")
        if fmt == "pdf":
            return Output(
                _spooled(lambda out: labels.write_pdf(out, layout, stream, paper, offset_mm)),
                FORMATS["pdf"],
                f"{name}.pdf",
            )
        return Output(
            _spooled(lambda out: _zip(out, layout, stream, fmt, dpi)),
            "application/zip",
            f"{name}-{fmt}.zip",
        )


def _check_size(fmt: str, selected: int) -> None:
    if selected == 0:
        raise Invalid("no items selected", {"from_serial": ["no items of the batch in this range"]})
    limit = {"pdf": MAX_PDF_LABELS, "png": MAX_ARCHIVE_LABELS, "svg": MAX_ARCHIVE_LABELS}.get(fmt)
    if limit and selected > limit:
        raise Invalid(
            f"{selected:,} labels are too many for one {fmt} download",
            {"format": [f"at most {limit:,} labels as {fmt}; choose a serial range, or zpl"]},
        )


def _encoded(*parts: Iterable[str]) -> Iterator[bytes]:
    for part in parts:
        for text in part:
            yield text.encode()


def _spooled(write) -> Iterator[bytes]:
    """Run `write(file)` now, so errors surface before any response; stream the file later.

    The file lives in memory up to SPOOL_BYTES and on disk beyond, and is closed (and
    deleted) once the last chunk is read.
    """
    out = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 (outlives this call)
    write(out)
    out.seek(0)
    return _read_and_close(out)


def _read_and_close(out) -> Iterator[bytes]:
    with out:
        yield from iter(lambda: out.read(1 << 20), b"")


def _zip(out, layout, stream: Iterable[LabelData], fmt: str, dpi: int | None) -> None:
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
        for label in stream:
            archive.writestr(f"{label.serial}.{fmt}", _render_single(layout, label, fmt, dpi))
