"""Who is calling the API: an API key in `Authorization: Bearer ...` or `X-API-Key`."""

from __future__ import annotations

from flask import g, request
from sqlalchemy.orm import Session

from api.errors import Unauthorized
from trace.auth.services import Principal, authenticate_api_key, principal_for_key


def presented_key() -> str | None:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.headers.get("X-API-Key")


def current_principal(session: Session) -> Principal:
    """The caller's principal; 401 when the key is missing, unknown or revoked."""
    if "principal" in g:
        return g.principal
    key_text = presented_key()
    if not key_text:
        raise Unauthorized("an API key is required (Authorization: Bearer <key>)")
    key = authenticate_api_key(session, key_text)
    if key is None:
        raise Unauthorized("the API key is unknown or revoked")
    g.principal = principal_for_key(key)
    return g.principal
