"""Histories of items and batches, as JSON and as EPCIS 2.0 JSON-LD documents."""

import json

from flask import Response, current_app

from api import bp
from api.endpoint import endpoint
from api.schemas.history import BatchHistoryOut, ItemHistoryOut
from trace import epcis, history
from trace.db import utcnow
from trace.production import services as production


@endpoint(
    bp,
    "/items/<code>/history",
    summary="An item's whole story in time order, corrections included",
    response=ItemHistoryOut,
    tag="history",
)
def item_history(call, code):
    item = production.find_item_by_code(call.session, code)
    return {"item": item, "events": history.item_history(call.session, item)}


@endpoint(
    bp,
    "/batches/<int:batch_id>/history",
    summary="A batch's story in time order, with counts over its items",
    response=BatchHistoryOut,
    tag="history",
)
def batch_history(call, batch_id):
    batch = production.get_batch(call.session, batch_id)
    events = history.batch_history(call.session, batch)
    return {"batch": batch, "summary": history.batch_summary(call.session, batch), "events": events}


def _ld_json(document: dict) -> Response:
    return Response(json.dumps(document, ensure_ascii=False), mimetype=epcis.MEDIA_TYPE)


def _settings() -> tuple[str, str]:
    config = current_app.config["TRACE"]
    return config.public_base_url, config.display_timezone


@endpoint(
    bp,
    "/items/<code>/epcis",
    summary="An item's history as an EPCIS 2.0 JSON-LD document",
    tag="history",
    produces=(epcis.MEDIA_TYPE,),
)
def item_epcis(call, code):
    item = production.find_item_by_code(call.session, code)
    base_url, zone = _settings()
    return _ld_json(epcis.item_document(call.session, item, base_url, zone, utcnow()))


@endpoint(
    bp,
    "/batches/<int:batch_id>/epcis",
    summary="A batch's history as an EPCIS 2.0 JSON-LD document (lot-level events)",
    tag="history",
    produces=(epcis.MEDIA_TYPE,),
)
def batch_epcis(call, batch_id):
    batch = production.get_batch(call.session, batch_id)
    base_url, zone = _settings()
    return _ld_json(epcis.batch_document(call.session, batch, base_url, zone, utcnow()))
