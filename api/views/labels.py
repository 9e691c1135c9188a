"""Labels over the API: one item's, or a batch's (or a serial range of it)."""

from flask import Response, current_app, stream_with_context

from api import bp, roles
from api.endpoint import endpoint
from api.schemas.labels import BatchLabelQuery, ItemLabelQuery
from trace.production import services as production
from trace.production.labels import FORMATS, Output, render_batch_labels, render_item_label

FILE_TYPES = (*FORMATS.values(), "application/zip")


def _file(output: Output) -> Response:
    response = Response(stream_with_context(output.chunks), mimetype=output.mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{output.filename}"'
    return response


def _base_url() -> str:
    return current_app.config["TRACE"].public_base_url


@endpoint(
    bp,
    "/items/<code>/label",
    summary="One item's label as PNG, SVG, PDF or ZPL",
    roles=roles.LABELS,
    query=ItemLabelQuery,
    tag="labels",
    produces=tuple(FORMATS.values()),
)
def item_label(call, code):
    item = production.find_item_by_code(call.session, code)
    return _file(render_item_label(_base_url(), item, **call.query))


@endpoint(
    bp,
    "/batches/<int:batch_id>/labels",
    summary="A batch's labels: ZPL (streamed), a PDF sheet, or PNG/SVG in a ZIP",
    roles=roles.LABELS,
    query=BatchLabelQuery,
    tag="labels",
    produces=FILE_TYPES,
)
def batch_labels(call, batch_id):
    batch = production.get_batch(call.session, batch_id)
    query = dict(call.query)
    offset = (query.pop("offset_x_mm"), query.pop("offset_y_mm"))
    return _file(render_batch_labels(call.session, _base_url(), batch, offset_mm=offset, **query))
