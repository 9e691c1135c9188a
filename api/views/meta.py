"""The OpenAPI document and its human-readable page (no CDN: it works offline)."""

from flask import jsonify, render_template

from api import bp
from api.openapi import build_spec


@bp.get("/openapi.json")
def openapi():
    return jsonify(build_spec())


@bp.get("/docs")
def docs():
    return render_template("api_docs.html", spec=build_spec())
