"""The service as its own GS1 Digital Link resolver (items by code: web/scan.py).

Routes
  /01/{gtin}[/22/..][/10/{lot}][/21/{serial}]
                           GS1 Digital Link: 307 to the default link (or to ?linkType=...),
                           an RFC 9264 linkset for ?linkType=linkset or
                           Accept: application/linkset+json; a Link header names the linkset
  /info/01/...             the link targets: product, lot or (unverified) item view, a
                           page for browsers and JSON for programs; an item reached by
                           serial is never called genuine and its code never shown
  /.well-known/gs1resolver the resolver description file

Errors: an HTML page when the client prefers text/html (a browser), the JSON error shape
otherwise (JSON clients, linkset clients, curl's */*, no Accept at all).
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from flask import Blueprint, current_app, jsonify, redirect, request

from trace import gs1, resolver
from trace.errors import DomainError, NotFound
from trace.scans import services as scans
from trace.scans import story
from web.database import get_session
from web.errors import error_response, prefers_html
from web.public import render_page
from web.scan import record_public_scan

bp = Blueprint("resolver", __name__)

JSON_LD_CONTEXT = "https://ref.gs1.org/standards/resolver/linkset-context"
# What RFC 3986 lets stand unencoded in a path segment, besides letters, digits and -._~
_PATH_SAFE = "/!$&'()*+,;=:@"
# The resolver standard asks for CORS; item codes are not part of it and stay same-origin.
_CROSS_ORIGIN_ENDPOINTS = frozenset(
    {"resolver.digital_link", "resolver.digital_link_view", "resolver.description"}
)


# --- GS1 Digital Link ---------------------------------------------------------------------
# Werkzeug has already decoded the path that the `rest` argument comes from, which would
# turn an encoded "/" inside a lot into a separator, so the views parse the raw path instead.
# merge_slashes=False: a doubled slash is an invalid Digital Link (400), not a redirect.


@bp.get("/01", merge_slashes=False, strict_slashes=False)
@bp.get("/01/<path:rest>", merge_slashes=False)
def digital_link(rest: str = ""):
    link = resolver.parse_resolver_path(_raw_path(), _raw_query())
    base_url = _public_base_url()
    if _wants_linkset(link.link_type):
        resolution = resolver.resolve_digital_link(get_session(), link)
        return _linkset_response(resolver.linkset(resolution, base_url), resolution.link)
    # The label was scanned whatever the link leads to: nobody's serial, or a linkType
    # the unit does not offer (404s), is a scan too. A failure of ours (a 5xx) is none:
    # what it would record is not known.
    item = None
    try:
        resolution = resolver.resolve_digital_link(get_session(), link)
        item = resolution.item
        target = resolver.choose_link(resolution, base_url, link.link_type)
    except NotFound:
        _record_unit_scan(link, item)
        raise
    query = resolver.passed_on_query(_raw_query())
    response = redirect(target.href + (f"?{query}" if query else ""), code=307)
    _record_unit_scan(link, item)
    return _with_linkset_header(response, resolution.link)


def _record_unit_scan(link, item) -> None:
    """A unit's Digital Link opened is a scan of its label, as /s/<code> is: recorded
    here, where the QR leads (the page it redirects to is not counted again). Links to a
    product or a lot name no unit, a linkset is for programs and a HEAD for link checkers."""
    if link.serial is not None and request.method == "GET":
        record_public_scan(item, scans.serial_scan_verdict(item))


@bp.get(resolver.INFO_PREFIX + "/01/<path:rest>", merge_slashes=False)
def digital_link_view(rest: str):
    path = _raw_path().removeprefix(resolver.INFO_PREFIX)
    resolution = resolver.resolve_digital_link(get_session(), resolver.parse_resolver_path(path))
    if prefers_html():
        response = render_page("public/digital_link.html", **_digital_link_page(resolution))
    else:
        response = jsonify(resolver.resolution_view(resolution))
    return _with_linkset_header(response, resolution.link)


def _digital_link_page(resolution: resolver.Resolution) -> dict:
    """What the page shows: product, lot and the item by serial, never the item's code."""
    item = resolution.item
    return {
        "product": story.product_view(resolution.product),
        "batch": story.batch_view(resolution.batch) if resolution.batch is not None else None,
        "item": None if item is None else {"serial": item.serial, "produced_at": item.produced_at},
    }


@bp.get("/.well-known/gs1resolver")
def description():
    return jsonify(resolver.resolver_description(_public_base_url()))


# --- request and response helpers ---------------------------------------------------------


def _raw_path() -> str:
    """The request path as the client sent it, still percent-encoded.

    gunicorn sets RAW_URI; Werkzeug's server and test client set RAW_URI and REQUEST_URI;
    uWSGI and mod_wsgi set REQUEST_URI. Without either the decoded path is encoded again,
    which loses only the difference between "/" and "%2F" inside a value.
    """
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    if not raw:
        return quote(request.path, safe=_PATH_SAFE)
    if not raw.startswith("/"):  # absolute-form request target: http://host/path?query
        raw = urlsplit(raw).path
    path = raw.partition("?")[0].partition("#")[0]
    return path.removeprefix(quote(request.script_root, safe=_PATH_SAFE))


def _raw_query() -> str:
    return request.query_string.decode("latin-1")


def _public_base_url() -> str:
    return current_app.config["TRACE"].public_base_url


def _wants_linkset(link_type: str | None) -> bool:
    if link_type is not None:  # an explicit linkType outranks the Accept header
        return resolver.is_linkset_request(link_type)
    offers = ["text/html", "application/json", resolver.LINKSET_MEDIA_TYPE]
    return request.accept_mimetypes.best_match(offers) == resolver.LINKSET_MEDIA_TYPE


def _linkset_response(document: dict, link: gs1.DigitalLink):
    response = current_app.json.response(document)
    response.mimetype = resolver.LINKSET_MEDIA_TYPE
    # GS1's context turns the linkset into JSON-LD for clients that want it.
    response.headers.add(
        "Link",
        f'<{JSON_LD_CONTEXT}>; rel="http://www.w3.org/ns/json-ld#context"; '
        'type="application/ld+json"',
    )
    return _with_linkset_header(response, link)


def _with_linkset_header(response, link: gs1.DigitalLink):
    uri = resolver.canonical_uri(_public_base_url(), link)
    response.headers.add(
        "Link",
        f'<{uri}?linkType=linkset>; rel="linkset"; '
        f'type="{resolver.LINKSET_MEDIA_TYPE}"; title="All links for this Digital Link"',
    )
    return response


def _error(status: int, code: str, message: str, fields: dict | None = None):
    if prefers_html():
        return error_response(status, code, message, fields)
    return jsonify({"error": {"code": code, "message": message, "fields": fields or {}}}), status


@bp.errorhandler(DomainError)
def _domain_error(error: DomainError):
    return _error(error.status, error.code, error.message, error.fields)


@bp.errorhandler(gs1.InvalidDigitalLink)
def _invalid_digital_link(error: gs1.InvalidDigitalLink):
    message = f"not a valid GS1 Digital Link: {error}"
    return _error(400, "bad_request", message, {"digital_link": [str(error)]})


@bp.after_request
def _negotiation_and_cors(response):
    response.vary.add("Accept")
    if request.endpoint in _CROSS_ORIGIN_ENDPOINTS:
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
        response.headers["Access-Control-Expose-Headers"] = "Link, Location"
    return response
