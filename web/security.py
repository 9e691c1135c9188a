"""Security headers on every response."""

from __future__ import annotations

from flask import Response, request

# No inline scripts or styles anywhere: pages load only their own static files.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "img-src 'self' data:",
        "style-src 'self'",
        "script-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


SECURITY_HEADERS = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
)
HSTS = ("Strict-Transport-Security", "max-age=31536000; includeSubDomains")


def add_security_headers(response: Response) -> Response:
    """Each header the response does not set itself (a page may set a stricter one)."""
    headers = response.headers
    # One pass over the headers: werkzeug's setdefault raises and catches a KeyError
    # for every header that is missing, which is each of these on nearly every response.
    present = {name.lower() for name, _ in headers.items()}
    for name, value in security_headers(request.is_secure):
        if name.lower() not in present:
            headers.add(name, value)
    return response


def security_headers(secure: bool) -> tuple[tuple[str, str], ...]:
    """The headers every response carries; HSTS only over HTTPS."""
    return _SECURE_HEADERS if secure else SECURITY_HEADERS


_SECURE_HEADERS = (*SECURITY_HEADERS, HSTS)
