"""Who is calling the API: an API key in `Authorization: Bearer ...` or `X-API-Key`."""

from __future__ import annotations

from flask import g, request
from sqlalchemy.orm import Session

from api.errors import Unauthorized
from trace.auth.services import Principal
from web.database import state


def presented_key() -> str | None:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.headers.get("X-API-Key")


def known_principal() -> Principal | None:
    """The caller's principal if its key was checked lately (see KeyCache), without a query."""
    if "principal" in g:
        return g.principal
    key_text = presented_key()
    principal = state().api_keys.known(key_text) if key_text else None
    if principal is not None:
        g.principal = principal
    return principal


def current_principal(session: Session) -> Principal:
    """The caller's principal; 401 when the key is missing, unknown or revoked."""
    if "principal" in g:
        return g.principal
    key_text = presented_key()
    if not key_text:
        raise Unauthorized("an API key is required (Authorization: Bearer <key>)")
    principal = state().api_keys.principal(session, key_text)
    if principal is None:
        raise Unauthorized("the API key is unknown or revoked")
    g.principal = principal
    return principal
