"""The scan page's fast path: a browser's GET of /s/<code> answered without Flask.

What labels bring is one request over and over: a phone's browser asking for the page of
a known code. Around that page Flask builds a request context, matches the URL, makes a
response object and runs its hooks; measured under load, that machinery cost a request
about as much as the page's own queries and rendering together (bench/scan.py).

This WSGI middleware answers exactly that request with the functions the Flask view uses
(web/scan.py), and hands every other request to Flask untouched, before doing anything:
another method, path or mount point, a query string, a client asking for JSON, templates
that reload. What it learns only once it has begun (an unknown code, a client over its
rate limit, an error) it hands over too, with a Handoff (web/handoff.py) that says what it
did first: Flask neither counts the request again nor reads past a failure; the failure
is answered by the app's own error handlers. Both ways answer alike, to the byte but for
the CSRF token (and an error page lacks the seed cookie Flask's view sets in passing):
tests/web/test_scan_fast.py. TRACE_FAST_SCAN_PAGES=0 turns this off.
"""

from __future__ import annotations

import re

from flask import Flask
from werkzeug.sansio.http import parse_cookie

from trace.scans import services as scans
from web import csrf, i18n
from web.errors import accepts_html_first
from web.handoff import KEY, Handoff
from web.public import FRAMES, PAGE_HEADERS, fill_frame, frame, frame_key
from web.ratelimit import EXTENSION as RATE_LIMITS
from web.ratelimit import SCAN_SCOPE
from web.scan import (
    BLANK_FORMS,
    PAGE_TURNS,
    RECORDER,
    blank_form_key,
    blank_report_form,
    read_scan,
    scan_page_html,
    store_scan,
)
from web.security import security_headers
from web.templating import kept_now

# The paths of the page (web.scan.scan_page) whose code is letters, digits and hyphens
# (the others go to Flask): nothing in such a path needs decoding, quoting or escaping.
_PAGE_PATH = re.compile(r"/[sS]/([0-9A-Za-z-]{1,64})")
_HTML = "text/html; charset=utf-8"
_SCHEMES = ("http", "https")


class FastScanPages:
    """WSGI middleware before `flask_wsgi` (the app's wsgi_app) that answers scan pages."""

    def __init__(self, app: Flask, flask_wsgi):
        self.app = app
        self.flask = flask_wsgi
        self._urls = app.url_map.bind("localhost")  # paths only: the mount point is ""

    def __call__(self, environ, start_response):
        match = self._page_request(environ)
        if match is None:
            return self.flask(environ, start_response)
        answer = self._answer(environ, match[1])
        if isinstance(answer, Handoff):
            environ[KEY] = answer
            return self.flask(environ, start_response)
        status, headers, body = answer
        start_response(status, headers)
        return [body]

    def _page_request(self, environ) -> re.Match | None:
        """The path's match when this is a request this path answers, else None."""
        if (
            environ.get("REQUEST_METHOD") != "GET"
            or environ.get("QUERY_STRING")
            or environ.get("SCRIPT_NAME")
            or environ.get("wsgi.url_scheme") not in _SCHEMES  # ws, wss: Flask's 400
            or self.app.jinja_env.auto_reload  # templates reload: Flask renders them anew
            or not accepts_html_first(environ.get("HTTP_ACCEPT", ""))
        ):
            return None
        return _PAGE_PATH.fullmatch(environ.get("PATH_INFO", ""))

    def _answer(self, environ, code: str) -> tuple[str, list, bytes] | Handoff:
        extensions = self.app.extensions
        counted = False
        try:
            config = self.app.config["TRACE"]
            cookies = parse_cookie(environ.get("HTTP_COOKIE"))  # as Flask's request.cookies
            accept_language = environ.get("HTTP_ACCEPT_LANGUAGE", "")
            language = i18n.negotiated(cookies.get(i18n.COOKIE), accept_language)
            zone = i18n.zone_named(config.display_timezone)
            remote_addr = environ.get("REMOTE_ADDR")
            breach, counted = self._count(remote_addr), True
            if breach is not None:
                return Handoff(counted, breach=breach)
            with extensions[PAGE_TURNS].turn():
                scan = read_scan(config, extensions, code, remote_addr, zone)
                if scan.view is None:  # the unknown-code page: Flask reads and records it
                    return Handoff(counted)
                try:
                    answer = self._page(environ, scan.view, language, zone, cookies)
                except Exception as error:  # any: the app's error handlers answer it
                    answer = Handoff(counted, error=error)
            # After the turn, as the Flask view records (for an error answer too; an error
            # here is answered instead, as the view's would be).
            self._record(config, scan, remote_addr, language, environ.get("HTTP_USER_AGENT"))
            return answer
        except Exception as error:
            return Handoff(counted, error=error)

    def _count(self, remote_addr: str | None):
        """Count this request against the client's scan limits: the breach, or None."""
        limits = self.app.extensions.get(RATE_LIMITS)
        items = limits.scopes.get(SCAN_SCOPE) if limits is not None else None
        if not items:
            return None
        return limits.breached(items, SCAN_SCOPE, remote_addr or "-")

    def _page(self, environ, view: dict, language: str, zone, cookies) -> tuple[str, list, bytes]:
        report_url = None
        if view["verdict"] == "recalled":
            values = {"code": view["code"], "category": "recall"}
            report_url = self._urls.build("scan.report_form", values)
        token, new_seed = csrf.page_token(cookies.get(csrf.COOKIE, ""), self.app.secret_key)
        with i18n.rendering(language, zone):
            page_frame, blank_form = self._kept_parts(environ, language)
            title, main = scan_page_html(view, language, report_url, blank_form, token)
            # The path, as web.i18n.coming_back() quotes it: _PAGE_PATH needs no quoting.
            html = fill_frame(
                page_frame, title, f"verdict-{view['verdict']}", main, environ["PATH_INFO"]
            )
        body = html.encode()
        secure = environ.get("wsgi.url_scheme") == "https"
        headers = [("Content-Type", _HTML), ("Content-Length", str(len(body))), *PAGE_HEADERS]
        headers += security_headers(secure)
        if new_seed is not None:
            headers.append(("Set-Cookie", csrf.seed_cookie(new_seed, secure)))
        return "200 OK", headers, body

    def _kept_parts(self, environ, language: str) -> tuple:
        """The page's frame and blank complaint form in `language`: kept by the app once
        rendered, and rendered as Flask renders them (in a request context) the first
        time, or again when the zone's offset changes."""
        page_frame = kept_now(self.app, FRAMES, frame_key(language, ""))
        blank_form = kept_now(self.app, BLANK_FORMS, blank_form_key(language, ""))
        if page_frame is None or blank_form is None:
            with self.app.request_context(environ):
                page_frame, blank_form = frame(language), blank_report_form(language)
        return page_frame, blank_form

    def _record(self, config, scan, remote_addr, language: str, user_agent: str | None) -> None:
        row = scans.scan_row(
            scan.check.item,
            scan.check.verdict,
            remote_addr,
            language,
            user_agent,
            secret=config.secret_key,
            scanned_at=scan.now,
            client_hash=scan.client_hash,
        )
        extensions = self.app.extensions
        store_scan(extensions.get(RECORDER), row, extensions["trace"].sessionmaker)


def init_fast_scan_pages(app: Flask) -> None:
    """Put the fast path in front of the app's own WSGI callable (inside ProxyFix, which
    must fix the client's address and scheme first)."""
    app.wsgi_app = FastScanPages(app, app.wsgi_app)
