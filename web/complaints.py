"""Following a complaint by its private link: GET /c/<token>.

The page shows the complaint's status and its public updates in the reader's language;
never contact data, internal notes or staff names. The token is the only key, so the
page is neither cached nor given away in a Referer header.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, url_for

from trace.complaints import services as complaints
from trace.errors import NotFound
from trace.scans.story import jsonable
from web.database import get_session
from web.errors import prefers_html
from web.public import render_error, render_page

bp = Blueprint("complaints", __name__)

# The order a complaint usually goes through, for the progress bar.
STEPS = ("received", "acknowledged", "investigating", "resolved", "closed")


@bp.get("/c/<token>")
def tracking(token: str):
    session = get_session()
    complaint = complaints.find_complaint_by_token(session, token)
    view = complaints.public_complaint_view(session, complaint)
    if not prefers_html():
        return _private(jsonify(jsonable(view)))
    link = url_for("complaints.tracking", token=token, _external=True)
    return _private(render_page("public/complaint.html", view=view, link=link, steps=STEPS))


def _private(response):
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.vary.add("Accept")
    return response


@bp.errorhandler(NotFound)
def _unknown_link(error: NotFound):
    if prefers_html():
        return _private(render_error(404, "error.not_found", "error.tracking"))
    body = {"error": {"code": error.code, "message": error.message, "fields": error.fields}}
    return _private(jsonify(body)), 404
