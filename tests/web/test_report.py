"""Reporting a problem from the scan page, following it by its private link, CSRF, rate limits."""

import datetime as dt
import io
import re
import secrets
import threading
import time
import uuid
from email.utils import parsedate_to_datetime

import pytest
from PIL import Image
from sqlalchemy import select
from werkzeug.wrappers import Response

from tests import factories
from tests.conftest import _test_sessions
from tests.web.test_scan_page import BROWSER, EN, EVIL, JSON, ZH, message, visible_text
from trace import codes
from trace.complaints import services as complaints
from trace.complaints.models import Complaint, ComplaintStatus
from web import csrf
from web.app import create_app
from web.ratelimit import SweptMemoryStorage

# The Redis server the service's machines run beside PostgreSQL; database 15 is the tests'.
REDIS = "redis://127.0.0.1:6379/15"

DESCRIPTION = "The kettle does not switch off after boiling."


@pytest.fixture
def item(session):
    product = factories.make_product(session, name="Electric kettle 1.7 L")
    item = factories.make_item(session, factories.make_batch(session, product=product))
    session.commit()
    return item


def form_token(client, item, headers=EN) -> str:
    html = client.get(f"/s/{item.code}", headers=headers).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([0-9a-f]{64})"', html).group(1)


def post_report(client, item, token=None, headers=EN, **fields):
    data = {"category": "defect", "description": DESCRIPTION, "name": "Li Lei"}
    data.update(fields)
    if token is not None:
        data["csrf_token"] = token
    return client.post(
        f"/s/{item.code}/report", data=data, headers=headers, content_type="multipart/form-data"
    )


def complaints_of(session, item) -> list[Complaint]:
    return list(session.scalars(select(Complaint).where(Complaint.item_id == item.id)))


def jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), "red").save(buffer, "JPEG")
    return buffer.getvalue()


# --- the form -------------------------------------------------------------------------------


def test_the_form_is_on_the_scan_page_with_a_token_and_its_cookie(client, item):
    response = client.get(f"/s/{item.code}", headers=EN)
    html = response.get_data(as_text=True)
    assert f'action="/s/{item.code}/report"' in html
    assert 'enctype="multipart/form-data"' in html
    for category in complaints.CATEGORIES:
        assert f'value="{category}"' in html
    cookie = response.headers["Set-Cookie"]
    assert "trace_csrf=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


@pytest.mark.parametrize("secure", [False, True])
def test_the_seed_cookie_is_what_werkzeug_would_write(secure):
    seed = secrets.token_urlsafe(32)
    response = Response()
    response.set_cookie(
        csrf.COOKIE, seed, max_age=csrf.COOKIE_MAX_AGE, secure=secure, httponly=True, samesite="Lax"
    )
    expected = response.headers["Set-Cookie"]
    written = csrf.seed_cookie(seed, secure)
    # Expires is now plus the lifetime: the two may be written a second apart.
    assert _without_expiry(written) == _without_expiry(expected)
    apart = parsedate_to_datetime(_expiry(written)) - parsedate_to_datetime(_expiry(expected))
    assert abs(apart) <= dt.timedelta(seconds=1)


def _without_expiry(cookie: str) -> str:
    return re.sub(r"Expires=[^;]+", "", cookie)


def _expiry(cookie: str) -> str:
    return re.search(r"Expires=([^;]+)", cookie).group(1)


def test_the_form_on_its_own_page(client, item):
    response = client.get(f"/s/{item.code}/report?category=recall", headers=ZH)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<option value="recall" selected>' in html
    assert "提交投诉" in visible_text(response)


def test_submitting_creates_the_complaint_and_leads_to_its_tracking_page(client, session, item):
    response = post_report(
        client,
        item,
        form_token(client, item),
        email="li.lei@example.com",
        phone="+86 138 0013 8000",
        photo=(io.BytesIO(jpeg()), "photo.bin"),
    )
    assert response.status_code == 303
    location = response.headers["Location"]
    assert re.fullmatch(r"/c/[A-Za-z0-9_-]{40,}\?new=1", location)
    (complaint,) = complaints_of(session, item)
    assert (complaint.category, complaint.description) == ("defect", DESCRIPTION)
    assert complaint.contact_email == "li.lei@example.com"
    assert complaint.photo_path.endswith(".jpg")
    page = client.get(location, headers=EN)
    text = visible_text(page)
    assert message("complaint.thanks", "en") in text
    assert complaint.reference in text
    assert "Received" in text and "Electric kettle 1.7 L" in text
    assert f"http://localhost{location.split('?')[0]}" in text  # the link to keep
    for private in ["Li Lei", "li.lei", "138 0013", DESCRIPTION]:
        assert private not in page.get_data(as_text=True)


def test_a_complaint_without_contact_or_photo(client, session, item):
    response = post_report(client, item, form_token(client, item), name="")
    assert response.status_code == 303
    (complaint,) = complaints_of(session, item)
    assert (complaint.contact_name, complaint.photo_path) == (None, None)


def test_invalid_input_shows_the_form_again_with_the_input_escaped(client, session, item):
    token = form_token(client, item)
    response = post_report(client, item, token, category="", description=EVIL[:3], name=EVIL)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "<script>" not in html and "<b onmouseover" not in html
    assert "&lt;script&gt;" in html  # the name typed comes back, escaped
    text = visible_text(response)
    assert message("report.errors", "en") in text
    assert message("invalid.category", "en") in text
    assert message("invalid.description", "en", min=5, max=2000) in text
    assert complaints_of(session, item) == []


def test_a_description_with_html_is_stored_as_text_and_shown_escaped(client, session, item):
    token = form_token(client, item)
    response = post_report(client, item, token, description=EVIL, category="nonsense")
    html = response.get_data(as_text=True)
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert "<script>" not in html
    response = post_report(client, item, token, description=EVIL)
    assert response.status_code == 303
    assert complaints_of(session, item)[0].description == EVIL


def test_a_photo_that_is_not_an_image_is_refused_with_the_form_kept(client, session, item):
    token = form_token(client, item, headers=ZH)
    response = post_report(
        client, item, token, headers=ZH, photo=(io.BytesIO(b"%PDF-1.7 not a photo"), "a.jpg")
    )
    assert response.status_code == 422
    assert message("invalid.photo", "zh-CN", mb="5") in visible_text(response)
    assert DESCRIPTION in response.get_data(as_text=True)
    assert complaints_of(session, item) == []


def test_a_photo_over_the_limit_gets_a_friendly_page(app, client, session, item):
    app.extensions["trace"].config = app.config["TRACE"] = app.config["TRACE"].with_overrides(
        complaint_photo_max_bytes=1000
    )
    token = form_token(client, item)
    big = (io.BytesIO(b"\xff" * 400_000), "big.jpg")
    response = post_report(client, item, token, photo=big)
    assert response.status_code == 413
    assert message("error.too_large", "en") in visible_text(response)
    assert complaints_of(session, item) == []


def test_an_unknown_code_offers_a_counterfeit_report(client):
    response = client.get(f"/s/{codes.new_code()}", headers=EN)
    assert response.status_code == 404
    text = visible_text(response)
    assert "Unknown code" in text and message("report.counterfeit.heading", "en") in text
    html = response.get_data(as_text=True)
    assert '<option value="counterfeit" selected>' in html
    assert re.search(r'name="csrf_token" value="[0-9a-f]{64}"', html)


def counterfeit_report(client, code: str, **fields):
    page = client.get(f"/s/{code}", headers=EN).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', page).group(1)
    data = {"csrf_token": token, "category": "counterfeit", "description": DESCRIPTION}
    data.update(fields)
    return client.post(
        f"/s/{code}/report", data=data, headers=EN, content_type="multipart/form-data"
    )


def test_a_counterfeit_report_keeps_the_code_it_was_about(client, session):
    code = codes.new_code()  # well formed, nobody's
    response = counterfeit_report(client, code.lower(), name="Li Lei", email="li@example.com")
    assert response.status_code == 303
    complaint = session.scalars(select(Complaint).where(Complaint.scanned_code == code)).one()
    assert complaint.item_id is None and complaint.severity.value == "high"
    tracking = client.get(response.headers["Location"], headers=EN)
    text = visible_text(tracking)
    assert message("complaint.scanned_code", "en") in text and codes.format_code(code) in text
    assert "Li Lei" not in text and "li@example.com" not in text


def test_a_report_about_text_that_is_no_code_keeps_the_text(client, session):
    assert counterfeit_report(client, "FAKE-123").status_code == 303
    complaint = session.scalars(select(Complaint).where(Complaint.item_id.is_(None))).one()
    assert complaint.scanned_code == "FAKE-123"


def test_a_bad_counterfeit_report_comes_back_with_its_errors_and_writes_nothing(client, session):
    response = counterfeit_report(client, codes.new_code(), description="?")
    assert response.status_code == 422
    assert "Unknown code" in visible_text(response)  # the same page, the form open
    assert "<details open>" in response.get_data(as_text=True)
    assert session.scalars(select(Complaint)).all() == []


# --- CSRF -----------------------------------------------------------------------------------


def test_a_post_without_a_token_is_refused(client, session, item):
    client.get(f"/s/{item.code}", headers=EN)  # has the cookie, but sends no token
    response = post_report(client, item)
    assert response.status_code == 400
    assert message("error.csrf", "en") in visible_text(response)
    assert complaints_of(session, item) == []


def test_a_token_from_another_browser_is_refused(app, client, session, item):
    other = app.test_client()
    stolen = form_token(other, item)
    form_token(client, item)  # this browser's own cookie
    assert post_report(client, item, stolen).status_code == 400
    assert complaints_of(session, item) == []


@pytest.mark.parametrize("token", ["令牌" * 32, "é" * 64, "a\x00b"])
def test_a_token_that_is_not_ascii_is_refused_not_a_crash(client, session, item, token):
    # Found by fuzzing the public pages: comparing it with ours raised a TypeError (a 500).
    form_token(client, item)
    response = post_report(client, item, token)
    assert response.status_code == 400
    assert message("error.csrf", "en") in visible_text(response)
    assert complaints_of(session, item) == []


def test_a_seed_cookie_that_is_not_ascii_is_replaced(client, item):
    client.set_cookie("trace_csrf", "种" * 43)
    response = client.get(f"/s/{item.code}", headers=EN)
    assert response.status_code == 200
    assert "trace_csrf=" in response.headers.get("Set-Cookie", "")


def test_a_post_without_the_cookie_is_refused(app, session, item):
    token = form_token(app.test_client(), item)
    fresh = app.test_client()  # sends the token but holds no cookie
    assert post_report(fresh, item, token).status_code == 400


def test_a_post_from_another_origin_is_refused(client, session, item):
    token = form_token(client, item)
    foreign = {**EN, "Origin": "https://evil.example"}
    assert post_report(client, item, token, headers=foreign).status_code == 400
    same = {**EN, "Origin": "http://localhost"}
    assert post_report(client, item, token, headers=same).status_code == 303


# --- tracking -------------------------------------------------------------------------------


@pytest.fixture
def tracked(session, item, tmp_path):
    complaint, token = complaints.submit_complaint(
        session,
        "public",
        item_id=item.id,
        category="safety",
        description="Smoke from the base",
        contact=complaints.Contact("Li Lei", "li.lei@example.com"),
        instance_path=tmp_path,
    )
    session.commit()
    return complaint, token


def test_tracking_page_shows_public_updates_over_time(client, session, tracked):
    complaint, token = tracked
    complaints.add_complaint_update(session, "qe:zhao", complaint, "Internal: check lot", False)
    complaints.add_complaint_update(
        session, "qe:zhao", complaint, f"We are on it.\n{EVIL}", True, ComplaintStatus.investigating
    )
    session.commit()
    response = client.get(f"/c/{token}", headers=ZH)
    assert response.status_code == 200
    text = visible_text(response)
    assert message("complaint.title", "zh-CN", reference=complaint.reference) in text
    assert "调查中" in text and "We are on it." in text
    assert message("complaint.received_event", "zh-CN") in text
    assert "安全隐患" in text  # the category, translated
    html = response.get_data(as_text=True)
    assert "<script>" not in html and "&lt;script&gt;" in html
    for private in ["Internal", "qe:zhao", "Li Lei", "li.lei", "Smoke from the base"]:
        assert private not in html
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"


def test_tracking_page_in_english_and_as_json(client, tracked):
    complaint, token = tracked
    assert "Received" in visible_text(client.get(f"/c/{token}", headers=EN))
    view = client.get(f"/c/{token}", headers=JSON).get_json()
    assert (view["reference"], view["status"], view["updates"]) == (
        complaint.reference,
        "received",
        [],
    )


def test_an_unknown_tracking_link(client, tracked):
    response = client.get("/c/not-a-token", headers=EN)
    assert response.status_code == 404
    assert message("error.tracking", "en") in visible_text(response)
    error = client.get("/c/not-a-token", headers=JSON).get_json()["error"]
    assert error["code"] == "not_found"


# --- rate limits ----------------------------------------------------------------------------


@pytest.fixture
def limited(app_with):
    return app_with(ratelimit_scans="3 per minute", ratelimit_complaints="1 per hour")


def test_scans_over_the_limit_get_a_friendly_page(limited, item):
    client = limited.test_client()
    for _ in range(3):
        assert client.get(f"/s/{item.code}", headers=EN).status_code == 200
    response = client.get(f"/s/{item.code}", headers=ZH)
    assert response.status_code == 429
    assert response.mimetype == "text/html"
    assert "请求过于频繁" in visible_text(response)
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert response.headers["X-Frame-Options"] == "DENY"


def test_json_clients_get_the_json_error_shape(limited, item):
    client = limited.test_client()
    for _ in range(3):
        client.get(f"/s/{item.code}", headers=JSON)
    response = client.get(f"/s/{item.code}", headers=JSON)
    assert response.status_code == 429
    error = response.get_json()["error"]
    assert error["code"] == "rate_limited" and error["message"]


def test_the_limit_is_per_client(limited, item):
    client = limited.test_client()
    for _ in range(4):
        client.get(f"/s/{item.code}", headers=EN)
    other = {"REMOTE_ADDR": "198.51.100.9"}
    assert client.get(f"/s/{item.code}", headers=EN, environ_base=other).status_code == 200


def test_scan_pages_share_one_budget(limited, item):
    client = limited.test_client()
    client.get(f"/s/{item.code}", headers=EN)
    client.get(f"/s/{item.code}/report", headers=EN)
    client.get("/lang/en?next=/")
    assert client.get(f"/S/{item.code}", headers=EN).status_code == 429


def test_complaint_posts_have_their_own_smaller_limit(limited, session, item):
    client = limited.test_client()
    token = form_token(client, item)
    assert post_report(client, item, token).status_code == 303
    response = post_report(client, item, token)
    assert response.status_code == 429
    assert message("error.rate_limited", "en") in visible_text(response)
    assert len(complaints_of(session, item)) == 1


def test_the_api_is_not_limited_by_the_scan_budget(limited, item):
    client = limited.test_client()
    for _ in range(5):
        assert client.get("/api/v1/openapi.json").status_code == 200


def test_an_empty_limit_switches_it_off(config, connection, item):
    app = create_app(config.with_overrides(ratelimit_scans=""))
    app.extensions["trace"].sessionmaker = _test_sessions(connection)
    client = app.test_client()
    try:
        for _ in range(70):
            assert client.get(f"/s/{item.code}", headers=BROWSER).status_code == 200
    finally:
        app.extensions["trace"].engine.dispose()


def test_the_tracking_page_has_no_inline_script_or_style(client, tracked):
    html = client.get(f"/c/{tracked[1]}", headers=EN).get_data(as_text=True)
    assert "style=" not in html and "<script" not in html


def test_memory_counts_need_no_thread_per_hit(app):
    from limits import parse
    from limits.strategies import FixedWindowRateLimiter

    storage = app.extensions["trace_limiter"].storage
    assert isinstance(storage, SweptMemoryStorage)
    limiter = FixedWindowRateLimiter(storage)
    before = set(threading.enumerate())  # another test's thread may end meanwhile
    limit = parse("3 per minute")
    assert [limiter.hit(limit, "client") for _ in range(4)] == [True, True, True, False]
    assert set(threading.enumerate()) <= before


def test_memory_counts_expire_and_are_swept():
    storage = SweptMemoryStorage()
    storage.incr("old", expiry=0.001)
    time.sleep(0.01)
    assert storage.get("old") == 0  # expired counters read as zero at once
    storage.incr("stale", expiry=0.001)
    time.sleep(0.01)
    assert len(storage) == 2  # "old" and "stale", ended but not yet swept
    storage._next_sweep = 0  # as if a minute had passed
    before = time.time()
    storage.incr("new", expiry=60)
    after = time.time()
    assert len(storage) == 1 and storage.get("new") == 1
    assert before + 60 <= storage.get_expiry("new") <= after + 60  # the window it opened


def limited_app(config, connection, **overrides):
    app = create_app(config.with_overrides(ratelimit_scans="3 per minute", **overrides))
    app.extensions["trace"].sessionmaker = _test_sessions(connection)
    return app


def test_workers_count_together_in_redis(config, connection, item):
    # Two apps on one Redis are two worker processes: a client's scans add up across them.
    apps = [limited_app(config, connection, ratelimit_storage=REDIS) for _ in range(2)]
    client = {"REMOTE_ADDR": f"2001:db8::{uuid.uuid4().hex[:4]}:{uuid.uuid4().hex[:4]}"}
    first, second = (app.test_client() for app in apps)
    try:
        assert first.get(f"/s/{item.code}", headers=EN, environ_base=client).status_code == 200
        assert second.get(f"/s/{item.code}", headers=EN, environ_base=client).status_code == 200
        assert first.get(f"/s/{item.code}", headers=EN, environ_base=client).status_code == 200
        assert second.get(f"/s/{item.code}", headers=EN, environ_base=client).status_code == 429
    finally:
        for app in apps:
            app.extensions["trace"].engine.dispose()


def test_a_storage_that_is_down_leaves_the_pages_up_and_limited(config, connection, item, caplog):
    app = limited_app(config, connection, ratelimit_storage="redis://127.0.0.1:1/0")
    client = app.test_client()
    try:
        with caplog.at_level("WARNING"):
            statuses = [client.get(f"/s/{item.code}", headers=EN).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]  # counted in memory meanwhile
        assert "counting in memory" in caplog.text
    finally:
        app.extensions["trace"].engine.dispose()


def test_sweeping_beside_other_threads_hitting_never_fails():
    # Each hit may sweep; other threads' reads drop expired keys meanwhile (a KeyError in
    # the stock sweep). Short windows make every key expire while the threads run.
    storage, errors = SweptMemoryStorage(), []

    def hit(worker: int):
        deadline = time.monotonic() + 0.3
        try:
            while time.monotonic() < deadline:
                storage._next_sweep = 0
                storage.incr(f"{worker}-{time.monotonic_ns() % 50}", expiry=0.0005)
                storage.get(f"{(worker + 1) % 4}-{time.monotonic_ns() % 50}")
        except Exception as error:  # the test reports it
            errors.append(error)

    threads = [threading.Thread(target=hit, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_when_no_count_can_be_kept_the_request_goes_through(config, connection, item, caplog):
    app = limited_app(config, connection, ratelimit_storage="redis://127.0.0.1:1/0")
    limits = app.extensions["trace_limiter"]

    class Broken:
        def hit(self, *args):
            raise RuntimeError("no memory either")

    limits._fallback = Broken()
    try:
        with caplog.at_level("ERROR"):
            response = app.test_client().get(f"/s/{item.code}", headers=EN)
        assert response.status_code == 200
        assert "could not be counted" in caplog.text
    finally:
        app.extensions["trace"].engine.dispose()
