"""Errors answered as JSON under /api and as HTML pages everywhere else."""

from __future__ import annotations

import logging
from functools import lru_cache

from flask import Flask, jsonify, make_response, render_template, request
from sqlalchemy.exc import OperationalError
from werkzeug.datastructures import MIMEAccept
from werkzeug.exceptions import HTTPException
from werkzeug.http import parse_accept_header

from trace.errors import DomainError

log = logging.getLogger(__name__)

# Werkzeug's names are fine for people; API clients get stable snake_case codes.
HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "rate_limited",
    500: "internal_error",
    503: "busy",
}
# How long a client should wait before trying again when the database is busy: a writer
# that waited out the busy timeout (trace.db) gives up while another holds the lock.
BUSY_RETRY_AFTER_SECONDS = 1


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/api"


def prefers_html() -> bool:
    """Whether the client asks for a page (a browser) rather than data.

    JSON first: on a tie (*/*, no Accept header) a program is asking, not a browser.
    """
    return accepts_html_first(request.headers.get("Accept", ""))


@lru_cache(maxsize=256)
def accepts_html_first(accept: str) -> bool:
    """prefers_html() for an Accept header's text."""
    # Browsers send a handful of distinct Accept headers, and parsing one costs a scan
    # page more than its limit check: each is parsed once.
    offers = ["application/json", "text/html"]
    return parse_accept_header(accept, MIMEAccept).best_match(offers) == "text/html"


def error_response(status: int, code: str, message: str, fields: dict | None = None):
    """The one error shape of DESIGN.md §6, or an HTML page outside the API."""
    if wants_json():
        body = {"error": {"code": code, "message": message, "fields": fields or {}}}
        return jsonify(body), status
    return render_template("error.html", status=status, message=message), status


def _http_error(error: HTTPException):
    response = make_response(
        error_response(
            error.code or 500, HTTP_CODES.get(error.code, "http_error"), error.description or ""
        )
    )
    if error.code == 405 and error.valid_methods:
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response


def _domain_error(error: DomainError):
    response = make_response(error_response(error.status, error.code, error.message, error.fields))
    if error.status == 401:  # a 401 must say how to authenticate (RFC 9110 §11.6.1)
        response.headers["WWW-Authenticate"] = "Bearer"
    return response


def _database_error(error: OperationalError):
    """A database that stayed locked for the whole busy timeout is busy, not broken: 503
    with Retry-After, so a line's software tries again. Anything else is unexpected."""
    if "database is locked" not in str(error.orig):
        return _unexpected(error)
    log.warning("database busy on %s %s", request.method, request.path)
    message = "The database is busy; try again in a moment."
    response = make_response(error_response(503, "busy", message))
    response.headers["Retry-After"] = str(BUSY_RETRY_AFTER_SECONDS)
    return response


def _unexpected(error: Exception):
    log.exception("unhandled error on %s %s", request.method, request.path)
    return error_response(500, "internal_error", "Something went wrong on our side.")


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(DomainError, _domain_error)
    app.register_error_handler(OperationalError, _database_error)
    app.register_error_handler(Exception, _unexpected)
