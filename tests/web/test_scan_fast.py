"""The scan page's fast path (web/scan_fast.py): it answers a browser's page as Flask would,
and hands everything else to Flask with what it did first."""

import re

import pytest
from sqlalchemy import delete, select
from sqlalchemy.exc import OperationalError

from tests.web.test_scan_page import BROWSER, EN, JSON, ZH, visible_text
from trace import codes
from trace.config import Config
from trace.db import utcnow
from trace.production import services as production
from trace.production.models import BatchStatus
from trace.scans import services as scan_services
from trace.scans.models import Scan
from web.app import create_app
from web.csrf import COOKIE as SEED_COOKIE
from web.i18n import COOKIE as LANGUAGE_COOKIE
from web.scan_fast import FastScanPages

SEED = "s" * 43  # a seed cookie of the shape web.csrf makes


@pytest.fixture(autouse=True)
def one_moment(monkeypatch):
    """Every scan at the same moment: the page shows the time of the first."""
    now = utcnow()
    monkeypatch.setattr("web.scan.utcnow", lambda: now)


@pytest.fixture
def flask_only(app_with):
    """The same service with the fast path off: every request through Flask."""
    return app_with(fast_scan_pages=False)


def spy_on_flask(app, monkeypatch) -> list[str]:
    """The requests the fast path of `app` hands to Flask (their paths), as they pass."""
    fast = app.wsgi_app
    assert isinstance(fast, FastScanPages)
    calls, flask = [], fast.flask

    def counted(environ, start_response):
        calls.append(environ["PATH_INFO"])
        return flask(environ, start_response)

    monkeypatch.setattr(fast, "flask", counted)
    return calls


@pytest.fixture
def flask_calls(app, monkeypatch):
    return spy_on_flask(app, monkeypatch)


def warm(app, path):
    """Requests in both languages first: the page's frame and form are kept from then on,
    and a page must take its own language's (not only build it when none is kept)."""
    for headers in (ZH, EN):
        assert app.test_client().get(path, headers=headers).status_code == 200


def answer(app, session, path, headers, **options):
    """The response to one request, and the scans it recorded (then deleted, so that the
    next app to answer starts from the same data)."""
    response = app.test_client().get(path, headers=headers, **options)
    recorded = [
        (scan.item_id, scan.verdict, scan.client_hash, scan.language, scan.user_agent_family)
        for scan in session.scalars(select(Scan).order_by(Scan.id))
    ]
    session.execute(delete(Scan))
    session.commit()
    return response, recorded


def comparable(response) -> tuple:
    """A response with the parts that differ by design made alike: the CSRF token a new
    seed signs, and that seed's cookie (its value and expiry time)."""
    body = re.sub(r'value="[0-9a-f]{64}"', 'value="TOKEN"', response.get_data(as_text=True))
    headers = sorted(
        (name, re.sub(r"=[^;]*; Expires=[^;]*", "=SEED; Expires=WHEN", value))
        if name == "Set-Cookie"
        else (name, value)
        for name, value in response.headers.items()
    )
    return response.status_code, headers, body


PAGES = {
    "zh": ("/s/{code}", ZH, {}),
    "en": ("/s/{code}", EN, {}),
    "no language": ("/s/{code}", BROWSER, {}),
    "upper case, as a QR carries it": ("/S/{upper}", ZH, {}),
    "lower case": ("/s/{lower}", EN, {}),
    "chosen language": ("/s/{code}", ZH, {"cookie": f"{LANGUAGE_COOKIE}=en"}),
    "seed cookie": ("/s/{code}", EN, {"cookie": f"{SEED_COOKIE}={SEED}"}),
    "a seed not ours": ("/s/{code}", EN, {"cookie": f"{SEED_COOKIE}=short"}),
    "https": ("/s/{code}", EN, {"https": True}),
}


@pytest.mark.parametrize("case", PAGES)
def test_a_page_is_answered_as_flask_answers_it(app, flask_only, session, kettle, case):
    path, headers, options = PAGES[case]
    path = path.format(code=kettle.code, upper=kettle.code.upper(), lower=kettle.code.lower())
    headers = {**headers, "User-Agent": "Mozilla/5.0 (Linux; Android 14) Chrome/126 Mobile"}
    if "cookie" in options:
        headers["Cookie"] = options["cookie"]
    base_url = "https://localhost" if options.get("https") else "http://localhost"
    warm(app, path)
    answer(app, session, path, headers, base_url=base_url)  # a first page, built anew
    fast, fast_scans = answer(app, session, path, headers, base_url=base_url)
    slow, slow_scans = answer(flask_only, session, path, headers, base_url=base_url)
    assert fast.status_code == 200
    assert ("Strict-Transport-Security" in fast.headers) == bool(options.get("https"))
    assert comparable(fast) == comparable(slow)
    assert fast_scans == slow_scans and len(fast_scans) == 1


def test_the_fast_path_answers_without_flask(app, client, kettle, flask_calls):
    response = client.get(f"/s/{kettle.code}", headers=EN)
    assert response.status_code == 200
    assert "Genuine" in visible_text(response)
    assert response.headers["Set-Cookie"].startswith(f"{SEED_COOKIE}=")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert flask_calls == []


@pytest.mark.parametrize("verdict", ["recalled", "suspicious"])
def test_recalled_and_suspicious_pages_alike(app, flask_only, session, kettle, verdict):
    if verdict == "recalled":
        production.change_batch_status(session, "test", kettle.batch, BatchStatus.recalled, "Lid")
        session.commit()
    else:
        app.config["TRACE"] = app.config["TRACE"].with_overrides(suspicious_max_clients=0)
        flask_only.config["TRACE"] = app.config["TRACE"]
    warm(app, f"/s/{kettle.code}")
    session.execute(delete(Scan))
    fast, _ = answer(app, session, f"/s/{kettle.code}", EN)
    slow, _ = answer(flask_only, session, f"/s/{kettle.code}", EN)
    assert f"verdict-{verdict}" in fast.get_data(as_text=True)
    assert comparable(fast) == comparable(slow)


def handed(kettle):
    return {
        "HEAD": ("HEAD", f"/s/{kettle.code}", EN),
        "JSON": ("GET", f"/s/{kettle.code}", JSON),
        "a query string": ("GET", f"/s/{kettle.code}?x=1", EN),
        "the report form": ("GET", f"/s/{kettle.code}/report", EN),
        "an unknown code": ("GET", f"/s/{codes.new_code()}", EN),
        "a malformed code": ("GET", "/s/ABC", ZH),
        "a code with other characters": ("GET", "/s/%3Cscript%3E", ZH),
        "the start page": ("GET", "/", EN),
        "a WebSocket scheme": ("GET", f"/s/{kettle.code}", EN),
    }


@pytest.mark.parametrize(
    "case",
    [
        "HEAD",
        "JSON",
        "a query string",
        "the report form",
        "an unknown code",
        "a malformed code",
        "a code with other characters",
        "the start page",
        "a WebSocket scheme",
    ],
)
def test_other_requests_go_to_flask(app, flask_only, session, kettle, flask_calls, case):
    method, path, headers = handed(kettle)[case]
    base_url = "wss://localhost" if case == "a WebSocket scheme" else "http://localhost"
    fast = app.test_client().open(path, method=method, headers=headers, base_url=base_url)
    fast_scans = session.scalars(select(Scan.verdict)).all()
    session.execute(delete(Scan))
    slow = flask_only.test_client().open(path, method=method, headers=headers, base_url=base_url)
    assert comparable(fast) == comparable(slow)
    assert fast_scans == session.scalars(select(Scan.verdict)).all()
    assert len(flask_calls) == 1


@pytest.fixture
def limited(app_with):
    return app_with(ratelimit_scans="3 per minute")


def test_a_page_handed_to_flask_is_counted_once(limited, kettle):
    # An unknown code is found out by the fast path, which counted the request, and then
    # answered by Flask: three such requests are three of the client's three a minute.
    client = limited.test_client()
    for _ in range(3):
        assert client.get(f"/s/{codes.new_code()}", headers=EN).status_code == 404
    response = client.get(f"/s/{kettle.code}", headers=EN)
    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert "Too many requests" in visible_text(response)


def test_other_clients_are_served_while_one_is_over_its_limit(limited, kettle, monkeypatch):
    client = limited.test_client()
    for _ in range(3):
        assert client.get(f"/s/{kettle.code}", headers=EN).status_code == 200
    assert client.get(f"/s/{kettle.code}", headers=EN).status_code == 429
    calls = spy_on_flask(limited, monkeypatch)
    other = {"REMOTE_ADDR": "198.51.100.9"}
    response = client.get(f"/s/{kettle.code}", headers=EN, environ_base=other)
    assert response.status_code == 200 and calls == []


def test_a_request_that_fails_before_it_is_counted_is_counted_by_flask(
    limited, kettle, monkeypatch
):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr("web.scan_fast.parse_cookie", broken)
    limited.testing = False
    client = limited.test_client()
    statuses = [client.get(f"/s/{kettle.code}", headers=EN).status_code for _ in range(4)]
    assert statuses == [500, 500, 500, 429]


def raw(app, path: str, headers: dict, **environ):
    """The response to a request made of this WSGI environ, as the test client cannot
    send it (a header in bytes that are not UTF-8)."""
    from werkzeug.test import EnvironBuilder, run_wsgi_app

    built = EnvironBuilder(path=path, headers=headers).get_environ()
    built.update(environ)
    body, status, response_headers = run_wsgi_app(app, built, buffered=True)
    return app.response_class(body, status, response_headers)


def test_a_cookie_not_in_utf_8_is_read_as_flask_reads_it(app, flask_only, session, kettle):
    # Another site of the parent domain may set one (GBK): the page is still the page.
    cookie = "trace_lang=en; legacy=" + "中文".encode("gbk").decode("latin-1")
    fast = raw(app, f"/s/{kettle.code}", ZH, HTTP_COOKIE=cookie)
    session.execute(delete(Scan))
    slow = raw(flask_only, f"/s/{kettle.code}", ZH, HTTP_COOKIE=cookie)
    assert fast.status_code == 200 and "Genuine" in visible_text(fast)
    assert comparable(fast) == comparable(slow)


def test_a_failure_to_record_is_answered_by_the_apps_handlers(app, flask_only, kettle, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError("the writer's lock file cannot be opened")

    monkeypatch.setattr("web.scan_fast.store_scan", broken)
    monkeypatch.setattr("web.scan.store_scan", broken)
    app.testing = flask_only.testing = False
    fast = app.test_client().get(f"/s/{kettle.code}", headers=EN)
    slow = flask_only.test_client().get(f"/s/{kettle.code}", headers=EN)
    assert fast.status_code == 500 and fast.headers["X-Frame-Options"] == "DENY"
    # Flask's view made the form's token before the failure, and so set a seed cookie on
    # the error page in passing; the fast path hands the error over before that.
    assert "Set-Cookie" in slow.headers and "Set-Cookie" not in fast.headers
    del slow.headers["Set-Cookie"]
    assert comparable(fast) == comparable(slow)


def test_with_the_batch_recorder_each_page_is_one_scan(fresh_database_url, tmp_path, monkeypatch):
    from tests import factories
    from trace.db import make_sessionmaker
    from web.scan import RECORDER

    config = Config(
        database_url=fresh_database_url,
        public_base_url="https://trace.example.com",
        secret_key="test-secret",
        instance_path=tmp_path,
        scan_batch_seconds=3600,  # flushed by hand
    )
    app = create_app(config)
    try:
        sessions = make_sessionmaker(app.extensions["trace"].engine)
        with sessions() as session:
            code = factories.make_item(session).code
            session.commit()
        calls = spy_on_flask(app, monkeypatch)
        for _ in range(3):
            assert app.test_client().get(f"/s/{code}", headers=EN).status_code == 200
        assert calls == []
        assert app.extensions[RECORDER].flush() == 3
        with sessions() as session:
            assert len(session.scalars(select(Scan)).all()) == 3
    finally:
        app.extensions[RECORDER].close()
        app.extensions["trace"].engine.dispose()


def test_a_database_error_is_answered_by_the_apps_handlers(
    app, flask_only, kettle, monkeypatch, flask_calls
):
    def busy(*args, **kwargs):
        raise OperationalError("SELECT", {}, Exception("database is locked"))

    monkeypatch.setattr(scan_services, "find_and_check_scan", busy)
    fast = app.test_client().get(f"/s/{kettle.code}", headers=EN)
    slow = flask_only.test_client().get(f"/s/{kettle.code}", headers=EN)
    assert fast.status_code == 503 and fast.headers["Retry-After"]
    assert comparable(fast) == comparable(slow)
    assert flask_calls == [f"/s/{kettle.code}"]  # handed over once, not read again


def test_a_failure_while_rendering_is_a_500_and_the_scan_is_recorded_once(
    app, session, kettle, monkeypatch
):
    from web import scan as scan_view

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr("web.scan_fast.scan_page_html", broken)
    monkeypatch.setattr(scan_view, "scan_page_html", broken)
    app.testing = False  # the error page, as a customer would get it
    response = app.test_client().get(f"/s/{kettle.code}", headers=EN)
    assert response.status_code == 500
    assert len(session.scalars(select(Scan)).all()) == 1


def test_behind_a_proxy_the_forwarded_client_and_scheme_count(app_with, connection, kettle):
    app = app_with(proxy_hops=1)
    forwarded = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https", **EN}
    response = app.test_client().get(f"/s/{kettle.code}", headers=forwarded)
    assert response.status_code == 200
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    assert "; Secure;" in response.headers["Set-Cookie"]
    expected = scan_services.hash_client_address(app.config["TRACE"].secret_key, "203.0.113.7")
    assert connection.execute(select(Scan.client_hash)).scalars().all() == [expected]


def test_the_fast_path_can_be_switched_off(tmp_path):
    environ = {"TRACE_INSTANCE_PATH": str(tmp_path)}
    assert Config.from_env(environ).fast_scan_pages is True
    off = Config.from_env({**environ, "TRACE_FAST_SCAN_PAGES": "0"})
    assert off.fast_scan_pages is False
    app = create_app(off)
    assert not isinstance(app.wsgi_app, FastScanPages)
    with pytest.raises(ValueError, match="TRACE_FAST_SCAN_PAGES"):
        Config.from_env({**environ, "TRACE_FAST_SCAN_PAGES": "maybe"})
