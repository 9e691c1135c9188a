"""The JSON API under /api/v1."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from api.views import (  # noqa: E402, F401  (registers the routes)
    catalog,
    history,
    labels,
    logistics,
    meta,
    production,
    quality,
    scrapping,
    serialization,
    service,
)
