"""One error shape for every error under /api; HTML error pages everywhere else."""

import json
import sqlite3

import pytest
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import sessionmaker

from api import endpoint
from tests import factories
from trace.audit.models import AuditEntry
from trace.auth import services as auth
from trace.catalog.models import Product
from trace.db import begin_write, database_locked
from web.app import create_app

PRODUCT = {"sku": "KET-1", "name": "Electric kettle"}


def assert_error(response, status: int, code: str) -> dict:
    """The response is the one JSON error shape with this status and code; returns `fields`."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "fields"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str)
    assert body["error"]["message"]
    assert isinstance(body["error"]["fields"], dict)
    return body["error"]["fields"]


def post_json(client, path, body, **kwargs):
    return client.post(path, data=json.dumps(body), content_type="application/json", **kwargs)


# --- routing --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/api/v1/nothing-here", "/api/v1/products/1/nothing", "/api/v2/products", "/api"]
)
def test_unknown_api_route_is_a_json_404(client, path):
    assert_error(client.get(path), 404, "not_found")


def test_unknown_id_is_a_json_404_naming_the_field(api):
    fields = assert_error(api("viewer").get("/api/v1/products/999999"), 404, "not_found")
    assert fields == {"product_id": ["unknown id"]}


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", "/api/v1/products", {"GET", "POST"}),
        ("PUT", "/api/v1/batches/1/status", {"POST"}),
        ("POST", "/api/v1/products/1", {"GET"}),
        ("PATCH", "/api/v1/items/ABC", {"GET"}),
    ],
)
def test_wrong_method_is_a_json_405_with_allow(api, method, path, allowed):
    response = api("admin")._call(method, path)
    assert_error(response, 405, "method_not_allowed")
    assert allowed <= {m.strip() for m in response.headers["Allow"].split(",")}


# --- bodies ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        b"{",
        b'{"sku": "KET-1",}',
        b"\xff\xfe\x00",
        b"sku=KET-1",
        b"null",
        b"undefined",
        b"[" * 100_000 + b"]" * 100_000,  # deeper than any parser recurses
        b'{"sku": ' + b"[" * 5_000 + b"]" * 5_000 + b', "name": "x"}',
    ],
    ids=["open", "trailing-comma", "not-utf8", "form", "null", "js", "deep", "deep-field"],
)
def test_malformed_json_is_a_400_and_writes_nothing(api, session, raw):
    client = api("admin")
    before = factories.count(session, AuditEntry)
    response = client.post("/api/v1/products", data=raw, content_type="application/json")
    assert_error(response, 400, "bad_request")
    assert factories.count(session, Product) == 0
    assert factories.count(session, AuditEntry) == before


@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"],
)
def test_a_body_that_is_not_declared_json_is_a_415(api, session, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    response = api("admin").post("/api/v1/products", data=json.dumps(PRODUCT), headers=headers)
    assert_error(response, 415, "unsupported_media_type")
    assert factories.count(session, Product) == 0


def test_json_with_a_charset_is_accepted(api, session):
    response = api("admin").post(
        "/api/v1/products",
        data=json.dumps(PRODUCT).encode(),
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    assert response.status_code == 201


def test_an_empty_body_is_a_400(api, session):
    response = api("admin").post("/api/v1/products", data=b"", content_type="application/json")
    assert_error(response, 400, "bad_request")
    assert factories.count(session, Product) == 0


@pytest.mark.parametrize("body", [[], [PRODUCT], "KET-1", 5, True])
def test_a_json_value_that_is_not_an_object_is_refused(api, session, body):
    response = post_json(api("admin"), "/api/v1/products", body)
    assert response.status_code in (400, 422)
    assert_error(response, response.status_code, response.get_json()["error"]["code"])
    assert factories.count(session, Product) == 0


def test_validation_failure_is_a_422_with_a_message_per_field(api, session):
    body = {"sku": "has spaces", "name": "", "warranty_months": "24", "colour": "red"}
    fields = assert_error(
        post_json(api("admin"), "/api/v1/products", body), 422, "validation_failed"
    )
    assert set(fields) == {"sku", "name", "warranty_months", "colour"}
    assert all(
        isinstance(m, list) and m and all(isinstance(x, str) for x in m) for m in fields.values()
    )
    assert factories.count(session, Product) == 0


@pytest.fixture
def small_app(config, connection):
    """The service with a 1,000-byte body limit, on the test's transaction."""
    app = create_app(config.with_overrides(max_body_bytes=1000))
    app.testing = True
    app.extensions["trace"].sessionmaker = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    yield app
    app.extensions["trace"].engine.dispose()


def test_an_oversized_body_is_a_413_and_writes_nothing(small_app, session):
    _, key = factories.make_key(session, "admin")
    session.commit()
    client = factories.ApiClient(small_app.test_client(), key)
    before = factories.count(session, AuditEntry)
    body = {**PRODUCT, "description": "x" * 2000}
    assert_error(post_json(client, "/api/v1/products", body), 413, "payload_too_large")
    assert factories.count(session, Product) == 0
    assert factories.count(session, AuditEntry) == before


def test_a_body_under_the_limit_is_accepted(small_app, session):
    _, key = factories.make_key(session, "admin")
    session.commit()
    client = factories.ApiClient(small_app.test_client(), key)
    assert post_json(client, "/api/v1/products", PRODUCT).status_code == 201


# --- authentication and roles ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/api/v1/products"), ("POST", "/api/v1/products")]
)
def test_no_key_is_a_401(client, session, method, path):
    response = client.open(
        path, method=method, data=json.dumps(PRODUCT), content_type="application/json"
    )
    assert_error(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert factories.count(session, Product) == 0


@pytest.mark.parametrize(
    "header",
    [
        {"Authorization": "Bearer trk_000000000000_notarealkey"},
        {"Authorization": "Bearer "},
        {"Authorization": "Basic YWRtaW46YWRtaW4="},
        {"X-API-Key": "trk_000000000000_notarealkey"},
        {"X-API-Key": "garbage"},
    ],
)
def test_a_bad_key_is_a_401(client, session, header):
    response = client.post(
        "/api/v1/products",
        data=json.dumps(PRODUCT),
        content_type="application/json",
        headers=header,
    )
    assert_error(response, 401, "unauthorized")
    assert factories.count(session, Product) == 0


def test_a_key_in_x_api_key_is_accepted(client, session):
    _, key = factories.make_key(session, "viewer")
    session.commit()
    assert client.get("/api/v1/products", headers={"X-API-Key": key}).status_code == 200


def test_a_revoked_key_is_a_401(client, session):
    key, plaintext = factories.make_key(session, "admin")
    session.commit()
    headers = {"Authorization": f"Bearer {plaintext}"}
    assert client.get("/api/v1/products", headers=headers).status_code == 200
    auth.revoke_api_key(session, "test", key.prefix)
    session.commit()
    assert_error(client.get("/api/v1/products", headers=headers), 401, "unauthorized")
    response = post_json(client, "/api/v1/products", PRODUCT, headers=headers)
    assert_error(response, 401, "unauthorized")
    assert factories.count(session, Product) == 0


def test_a_wrong_role_is_a_403_and_writes_nothing(api, session):
    client = api("viewer")
    before = factories.count(session, AuditEntry)
    response = post_json(client, "/api/v1/products", PRODUCT)
    assert_error(response, 403, "forbidden")
    assert factories.count(session, Product) == 0
    assert factories.count(session, AuditEntry) == before


def test_the_role_is_checked_before_the_body(api, session):
    response = api("viewer").post("/api/v1/products", data=b"{", content_type="application/json")
    assert_error(response, 403, "forbidden")


@pytest.mark.parametrize("known", [True, False])
def test_the_key_role_and_body_are_checked_in_that_order_known_key_or_not(api, session, known):
    client = api("viewer")
    if known:  # checked once: later requests find it in the cache of checked keys
        assert client.get("/api/v1/products").status_code == 200
    response = client.post("/api/v1/products", data=b"{", content_type="application/json")
    assert_error(response, 403, "forbidden")
    client = api("admin")
    if known:
        assert client.get("/api/v1/products").status_code == 200
    response = client.post("/api/v1/products", data=b"{", content_type="application/json")
    assert_error(response, 400, "bad_request")


def test_a_known_key_takes_the_write_lock_only_for_a_valid_body(api, session, monkeypatch):
    client = api("admin")
    assert client.get("/api/v1/products").status_code == 200  # the key is known now
    begun = []
    monkeypatch.setattr(endpoint, "begin_write", lambda s: begun.append(s) or begin_write(s))
    response = post_json(client, "/api/v1/products", {"sku": ""})
    assert_error(response, 422, "validation_failed")
    assert begun == []
    assert post_json(client, "/api/v1/products", PRODUCT).status_code == 201
    assert len(begun) == 1


# --- HTML outside the API ---------------------------------------------------------------


@pytest.mark.parametrize("path", ["/nothing-here", "/apiary", "/s/not-a-page/at/all"])
def test_unknown_page_is_an_html_404(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert page.lstrip().lower().startswith("<!doctype html>")
    assert "404" in page
    assert '"error"' not in page


def test_wrong_method_on_a_page_is_an_html_405(client):
    response = client.delete("/")
    assert response.status_code == 405
    assert response.mimetype == "text/html"
    assert "GET" in response.headers["Allow"]


def test_html_error_pages_escape_what_they_show(app, client):
    from werkzeug.exceptions import NotFound

    @app.get("/raise-html")
    def _raise():
        raise NotFound("<script>alert(1)</script>")

    page = client.get("/raise-html").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page


def test_an_unexpected_error_is_a_500_in_the_right_shape(app, client):
    @app.get("/api/v1/_boom")
    def _boom_api():
        raise RuntimeError("boom")

    @app.get("/_boom")
    def _boom_page():
        raise RuntimeError("boom")

    fields = assert_error(client.get("/api/v1/_boom"), 500, "internal_error")
    assert fields == {}
    assert "boom" not in client.get("/api/v1/_boom").get_data(as_text=True)
    page = client.get("/_boom")
    assert page.status_code == 500
    assert page.mimetype == "text/html"
    assert "boom" not in page.get_data(as_text=True)


def test_a_database_that_stays_locked_is_a_503_to_try_again(app, client):
    @app.post("/api/v1/_locked")
    def _locked_api():
        raise database_locked()

    @app.get("/_locked")
    def _locked_page():
        raise database_locked()

    response = client.post("/api/v1/_locked")
    assert assert_error(response, 503, "busy") == {}
    assert response.headers["Retry-After"] == "1"
    page = client.get("/_locked")
    assert (page.status_code, page.mimetype) == (503, "text/html")


def test_other_database_errors_stay_unexpected(app, client):
    @app.get("/api/v1/_disk")
    def _disk():
        raise OperationalError("SELECT 1", None, sqlite3.OperationalError("disk I/O error"))

    assert assert_error(client.get("/api/v1/_disk"), 500, "internal_error") == {}
