"""No cookie session: nothing in the service keeps state in one.

Flask opens its signed-cookie session on every request, which builds a signer and looks
for the cookie each time, and a page or API post that never touches it pays for that
(bench/scan.py, bench/ingest.py). The public forms' CSRF token has a cookie of its own
(web/csrf.py); the API authenticates each request by its key. So the app has no session:
`flask.session` is an empty, read-only one, and using it raises at once, not silently.
"""

from __future__ import annotations

from flask.sessions import NullSession, SessionInterface


class NoSessionInterface(SessionInterface):
    null_session_class = NullSession

    def open_session(self, app, request):
        return None  # Flask then hands out the read-only null session

    def save_session(self, app, session, response) -> None:
        return None
