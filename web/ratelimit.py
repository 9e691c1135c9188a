"""Rate limits per client on the public endpoints, counted by the `limits` library.

Scans share one budget per client across the public read endpoints; complaint posts have
their own, much smaller one. Counters live in memory by default (per process), in Redis
when TRACE_RATELIMIT_STORAGE names it, so that all workers count together. A client over
its budget gets a friendly 429 page (or the JSON error shape) with Retry-After.

Why `limits` itself and not Flask-Limiter, its Flask extension: Flask-Limiter runs a
hook before every request of the app, API included, that works out which of its limits
apply (exemptions, blueprints, defaults, meta limits), then again in each limited view;
that cost a scan page some 0.13 ms of its budget of about 0.7 (bench/scan.py). Our needs
are one fixed-window check per client and scope, on a few views: the same storages and
strategy, with the lookup done once, when the app is built.

A storage that fails (Redis down) must not take the public pages with it: counting goes
on in memory, and the storage is tried again after a pause.
"""

from __future__ import annotations

import functools
import logging
import threading
import time

from flask import Flask, jsonify, request
from limits import RateLimitItem, parse_many
from limits.storage import Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter
from werkzeug.exceptions import TooManyRequests

from trace.config import Config
from web.errors import prefers_html, wants_json
from web.handoff import handed_off

log = logging.getLogger(__name__)

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
EXTENSION = "trace_limiter"
SCAN_SCOPE = "scans"


class SweptMemoryStorage(Storage):
    """Fixed-window counters in this process's memory, for "memory://": limits' Storage
    interface, built on its public part only.

    limits' own MemoryStorage starts a timer thread 10 ms after nearly every hit to drop
    expired counters; on a busy page that is a new thread per request, and starting one
    under load costs more than the rest of the page's limit check (bench/scan.py). Here a
    counter expires when read, and stale ones are swept inline, once a minute. One lock
    guards all counters: a hit holds it for a dictionary update.
    """

    STORAGE_SCHEME = ["trace-memory"]
    SWEEP_SECONDS = 60.0

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self._counters: dict[str, tuple[int, float]] = {}  # key: (count, window's end)
        self._lock = threading.Lock()
        self._next_sweep = time.monotonic() + self.SWEEP_SECONDS

    @property
    def base_exceptions(self) -> type[Exception]:
        return ValueError  # nothing here fails as a store would; a bug is a bug

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        """Add `amount` to the counter of `key`; a new window of `expiry` seconds starts
        when the last one has ended. Returns the count."""
        now = time.time()
        with self._lock:
            self._sweep_now_and_then()
            count, ends = self._counters.get(key, (0, 0.0))
            if ends <= now:
                count, ends = 0, now + expiry
            count += amount
            self._counters[key] = (count, ends)
        return count

    def get(self, key: str) -> int:
        count, ends = self._counters.get(key, (0, 0.0))
        return count if ends > time.time() else 0

    def get_expiry(self, key: str) -> float:
        """When the window of `key` ends (now, if it has none)."""
        now = time.time()
        _, ends = self._counters.get(key, (0, 0.0))
        return ends if ends > now else now

    def check(self) -> bool:
        return True

    def reset(self) -> int:
        with self._lock:
            cleared = len(self._counters)
            self._counters.clear()
        return cleared

    def clear(self, key: str) -> None:
        with self._lock:
            self._counters.pop(key, None)

    def __len__(self) -> int:
        """Counters kept, ended ones not yet swept included."""
        return len(self._counters)

    def _sweep_now_and_then(self) -> None:
        # Under the lock: once a minute, drop the counters whose window has ended.
        if time.monotonic() < self._next_sweep:
            return
        self._next_sweep = time.monotonic() + self.SWEEP_SECONDS
        now = time.time()
        for key in [key for key, (_, ends) in self._counters.items() if ends <= now]:
            del self._counters[key]


class RateLimits:
    """Fixed-window counters per (scope, client) in one storage, with a memory fallback."""

    RETRY_STORAGE_SECONDS = 30.0

    def __init__(self, storage_uri: str):
        self.storage = make_storage(storage_uri)
        self._counter = FixedWindowRateLimiter(self.storage)
        self._fallback: FixedWindowRateLimiter | None = None
        self._retry_storage_at = 0.0
        self.scopes: dict[str, list[RateLimitItem]] = {}  # the limits each scope guards

    def breached(self, limits: list[RateLimitItem], scope: str, client: str):
        """Count one request of `client` against each of `limits` in `scope`; the first
        limit it goes over, with the seconds until that window ends, or None."""
        counter = self._counter_now()
        try:
            return _first_breach(counter, limits, scope, client)
        except Exception as error:  # a storage down: count in memory meanwhile
            if counter is not self._fallback:
                log.warning("rate limit storage failed (%s); counting in memory", error)
                self._fallback = self._fallback or FixedWindowRateLimiter(SweptMemoryStorage())
                self._retry_storage_at = time.monotonic() + self.RETRY_STORAGE_SECONDS
                try:
                    return _first_breach(self._fallback, limits, scope, client)
                except Exception as fallback_error:
                    error = fallback_error
            # Counting failed altogether: a limit that cannot count refuses nobody.
            log.error("rate limits could not be counted (%r); the request goes through", error)
            return None

    def guard(self, view, limits: list[RateLimitItem], scope: str):
        """`view`, answering 429 to a client over any of `limits` in `scope`."""
        self.scopes[scope] = limits

        @functools.wraps(view)
        def limited(*args, **kwargs):
            handoff = handed_off()
            if handoff is not None and handoff.counted:  # by the fast path that began it
                breach = handoff.breach
            else:
                breach = self.breached(limits, scope, request.remote_addr or "-")
            if breach is not None:
                limit, retry_after = breach
                raise TooManyRequests(f"at most {limit}", retry_after=retry_after)
            return view(*args, **kwargs)

        return limited

    def _counter_now(self) -> FixedWindowRateLimiter:
        if self._fallback is None or time.monotonic() >= self._retry_storage_at:
            return self._counter
        return self._fallback


def _first_breach(counter: FixedWindowRateLimiter, limits, scope: str, client: str):
    for limit in limits:
        if not counter.hit(limit, scope, client):
            reset_at = counter.get_window_stats(limit, scope, client).reset_time
            return limit, max(1, int(reset_at - time.time()))
    return None


def make_storage(uri: str) -> Storage:
    """The counters' storage: "memory://" (this process) or any `limits` storage URI,
    such as redis://host:6379/0."""
    if uri.startswith("memory://"):
        return SweptMemoryStorage()
    return storage_from_string(uri)


def init_rate_limits(app: Flask, config: Config) -> RateLimits:
    """Wrap the public endpoints' views with this app's limits; returns the limits."""
    limits = RateLimits(config.ratelimit_storage)
    _limit(app, limits, SCAN_ENDPOINTS, config.ratelimit_scans, SCAN_SCOPE)
    _limit(app, limits, COMPLAINT_ENDPOINTS, config.ratelimit_complaints, "complaints")
    app.register_error_handler(429, _too_many_requests)
    app.extensions[EXTENSION] = limits
    return limits


def _limit(app: Flask, limits: RateLimits, endpoints, spec: str, scope: str) -> None:
    items = parse_many(spec) if spec.strip() else []
    if not items:
        return
    for endpoint in endpoints:
        app.view_functions[endpoint] = limits.guard(app.view_functions[endpoint], items, scope)


def _too_many_requests(error: TooManyRequests):
    from web.public import render_error  # the public pages import this module's users

    retry_after = getattr(error, "retry_after", None) or 60
    headers = {"Retry-After": str(int(retry_after))}
    if wants_json() or not prefers_html():
        message = f"too many requests ({error.description}); try again later"
        body = {"error": {"code": "rate_limited", "message": message, "fields": {}}}
        return jsonify(body), 429, headers
    return render_error(429, "error.rate_limited", "error.rate_limited.text"), headers
