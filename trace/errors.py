"""Errors the domain raises; the HTTP layer turns each into one status and JSON shape."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error a domain function raises on purpose."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, fields: dict | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    """The request is valid but clashes with the current state (duplicate, bad transition)."""

    status = 409
    code = "conflict"


class Invalid(DomainError):
    """Validation failed; `fields` maps each bad field to its reasons."""

    status = 422
    code = "validation_failed"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"
