"""A request that a fast path (web/scan_fast.py) began and handed on to Flask, with what
it did first, so that Flask does not do it again."""

from __future__ import annotations

from dataclasses import dataclass

from flask import request
from limits import RateLimitItem

KEY = "trace.handoff"  # where in the WSGI environ


@dataclass(frozen=True)
class Handoff:
    """`counted`: the request was counted against the client's rate limit, and `breach`
    is the limit it went over with the seconds until its window ends (None: within its
    limits). `error`: what failed, for the app's error handlers to answer."""

    counted: bool
    breach: tuple[RateLimitItem, int] | None = None
    error: Exception | None = None


def handed_off() -> Handoff | None:
    """The handoff of this request, if a fast path began it."""
    return request.environ.get(KEY)
