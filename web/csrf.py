"""CSRF protection for the public forms, without sessions or a framework.

A signed double-submit cookie: the browser holds a random seed in an HttpOnly,
SameSite=Lax cookie, and each form carries HMAC(secret, seed). A post counts only when
the form's token is the signature of the cookie's seed: another site can neither read
the cookie nor sign a seed of its own, and SameSite keeps the cookie off its posts. An
Origin header, when the browser sends one, must be this site's.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from functools import lru_cache

from flask import Flask, current_app, g, request
from werkzeug.exceptions import BadRequest
from werkzeug.http import http_date

COOKIE = "trace_csrf"
FIELD = "csrf_token"
COOKIE_MAX_AGE = 7 * 24 * 3600
_SEED_LENGTH = 43  # secrets.token_urlsafe(32)


class CsrfRejected(BadRequest):
    description = "The form's security token is missing or does not match; reload the page."


def csrf_token() -> str:
    """The token for a form on this page; sets the seed cookie when the browser has none."""
    seed = request.cookies.get(COOKIE, "")
    if not _well_formed(seed):
        if "csrf_seed" not in g:
            g.csrf_seed = secrets.token_urlsafe(32)
        seed = g.csrf_seed
    return _sign(seed)


def page_token(seed_cookie: str, key: str) -> tuple[str, str | None]:
    """For a page served outside Flask's request (web/scan_fast.py): the form's token for
    the browser's seed cookie, and the new seed to set when it has none of ours."""
    seed = None if _well_formed(seed_cookie) else secrets.token_urlsafe(32)
    return sign(seed or seed_cookie, key), seed


def protect() -> None:
    """Refuse the posted form (CsrfRejected, 400) unless its token matches the cookie."""
    seed = request.cookies.get(COOKIE, "")
    token = request.form.get(FIELD, "")
    # compare_digest takes ASCII text only: anything else is no token of ours (not a 500).
    if not (_well_formed(seed) and token.isascii() and hmac.compare_digest(token, _sign(seed))):
        raise CsrfRejected()
    origin = request.headers.get("Origin")
    if origin is not None and origin != request.host_url.rstrip("/"):
        raise CsrfRejected()


def _well_formed(seed: str) -> bool:
    """Whether a seed cookie is one of ours in shape (secrets.token_urlsafe(32))."""
    return len(seed) == _SEED_LENGTH and seed.isascii()


def _sign(seed: str) -> str:
    return sign(seed, current_app.config["SECRET_KEY"])


def sign(seed: str, key: str) -> str:
    """The token of a seed, under the app's secret key."""
    return hmac.new(key.encode(), b"csrf\x00" + seed.encode(), hashlib.sha256).hexdigest()


def _set_seed_cookie(response):
    seed = g.pop("csrf_seed", None)
    if seed is not None:
        response.headers.add("Set-Cookie", seed_cookie(seed, request.is_secure))
    return response


def seed_cookie(seed: str, secure: bool) -> str:
    """The seed's Set-Cookie header, as werkzeug's set_cookie writes it. Written here in
    one go: a first scan (a phone without the cookie) gets one on every page, and
    set_cookie's checks of each part cost the page 20 µs; a seed (token_urlsafe) needs no
    quoting."""
    expires = _expires(int(time.time()) + COOKIE_MAX_AGE)
    flags = "; Secure; HttpOnly" if secure else "; HttpOnly"
    return (
        f"{COOKIE}={seed}; Expires={expires}; Max-Age={COOKIE_MAX_AGE}{flags}; Path=/; SameSite=Lax"
    )


@lru_cache(maxsize=4)
def _expires(when: int) -> str:
    return http_date(when)


def init_csrf(app: Flask) -> None:
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.after_request(_set_seed_cookie)
