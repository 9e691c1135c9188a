"""Errors only the HTTP layer raises (the domain's own live in trace.errors)."""

from trace.errors import DomainError


class BadRequest(DomainError):
    status = 400
    code = "bad_request"


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"


class UnsupportedMediaType(DomainError):
    status = 415
    code = "unsupported_media_type"
