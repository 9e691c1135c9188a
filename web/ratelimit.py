"""Rate limits per client on the public endpoints (Flask-Limiter).

One limiter per app, so each app (and each test) counts on its own. Scans share one
budget per client across the public read endpoints; complaint posts have their own,
much smaller one. Storage is memory by default (per process), Redis when
TRACE_RATELIMIT_STORAGE names it, so that all workers count together.
"""

from __future__ import annotations

import time

from flask import Flask, current_app, jsonify
from flask_limiter import Limiter
from flask_limiter.errors import RateLimitExceeded
from flask_limiter.util import get_remote_address
from limits.storage import MemoryStorage

from trace.config import Config
from web.errors import prefers_html, wants_json

# Endpoints a customer's phone reads: scan pages, Digital Link resolution, tracking.
SCAN_ENDPOINTS = (
    "scan.scan_page",
    "scan.report_form",
    "scan.check",
    "complaints.tracking",
    "language.choose",
    "resolver.digital_link",
    "resolver.digital_link_view",
)
COMPLAINT_ENDPOINTS = ("scan.submit_report",)


class SweptMemoryStorage(MemoryStorage):
    """limits' memory storage without its expiry thread, for "memory://".

    The stock one starts a timer thread 10 ms after nearly every hit to drop expired
    counters; on a busy page that is a new thread per request, and starting one under load
    costs more than the rest of the page's limit check (bench/scan.py). Counters already
    expire when read (MemoryStorage.get); this also sweeps stale keys, inline, once a minute.
    """

    STORAGE_SCHEME = ["trace-memory"]
    SWEEP_SECONDS = 60.0

    def __init__(self, uri: str | None = None, **options):
        super().__init__(uri, **options)
        self.timer.cancel()  # the one the stock storage starts at once
        self._next_sweep = time.monotonic() + self.SWEEP_SECONDS

    def _MemoryStorage__schedule_expiry(self) -> None:  # replaces the thread-starting one
        now = time.monotonic()
        if now >= self._next_sweep:
            self._next_sweep = now + self.SWEEP_SECONDS
            self._MemoryStorage__expire_events()


def init_rate_limits(app: Flask, config: Config) -> Limiter:
    """Wrap the public endpoints' views with this app's limits; returns the limiter."""
    storage = config.ratelimit_storage
    if storage.startswith("memory://"):
        storage = storage.replace("memory://", "trace-memory://", 1)
    limiter = Limiter(
        get_remote_address,
        app=app,
        storage_uri=storage,
        strategy="fixed-window",
        # A broken Redis must not take the public pages down with it.
        swallow_errors=True,
        in_memory_fallback_enabled=True,
    )
    _limit(app, limiter, SCAN_ENDPOINTS, config.ratelimit_scans, "scans")
    _limit(app, limiter, COMPLAINT_ENDPOINTS, config.ratelimit_complaints, "complaints")
    app.register_error_handler(429, _too_many_requests)
    app.extensions["trace_limiter"] = limiter
    return limiter


def _limit(app: Flask, limiter: Limiter, endpoints, limits: str, scope: str) -> None:
    if not limits.strip():
        return
    shared = limiter.shared_limit(limits, scope=scope)
    for endpoint in endpoints:
        app.view_functions[endpoint] = shared(app.view_functions[endpoint])


def _too_many_requests(error: RateLimitExceeded):
    from web.public import render_error  # the public pages import this module's users

    headers = {"Retry-After": str(_retry_after())}
    if wants_json() or not prefers_html():
        message = f"too many requests ({error.description}); try again later"
        body = {"error": {"code": "rate_limited", "message": message, "fields": {}}}
        return jsonify(body), 429, headers
    return render_error(429, "error.rate_limited", "error.rate_limited.text"), headers


def _retry_after() -> int:
    """Seconds until the breached window resets (a minute if that cannot be told)."""
    limiter = current_app.extensions.get("trace_limiter")
    breached = limiter.current_limit if limiter is not None else None
    if breached is None:
        return 60
    return max(1, int(breached.reset_at - time.time()))
