"""The public pages in a real browser, at a phone's size, with JavaScript switched off.

Playwright drives Debian's headless Chromium against the app served on a free loopback
port from a background thread. The per-test transactions of the other tests cannot reach
across threads, so this module has its own migrated SQLite database with committed data.
Each test asserts what a reader sees and saves a screenshot under screenshots/ (not
committed) for people to look at.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Page, expect, sync_playwright
from werkzeug.serving import WSGIRequestHandler, make_server

from tests import factories
from tests.trace import scan_helpers as records
from trace import codes, migrate
from trace.complaints import services as complaints
from trace.complaints.models import ComplaintStatus
from trace.config import Config
from trace.db import make_engine, make_sessionmaker, utcnow
from trace.logistics.models import ShipmentStatus
from trace.production import services as production
from trace.production.models import BatchStatus
from trace.quality.models import Measurement
from trace.service.models import PartDirection
from web.app import create_app

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
PHONE = {"width": 390, "height": 844}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"
LANGUAGES = ["zh-CN", "en"]
EVIL_NAME = "<script>alert(1)</script> Kettle"


@dataclass
class Site:
    base_url: str
    codes: dict[str, str]
    sessions: object  # a sessionmaker bound to the site's database


class QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):  # keep the test output readable
        pass


def _build_data(session) -> dict[str, str]:
    now = utcnow()
    line = factories.make_line(session, name="Ningbo assembly 1", public_name="Ningbo line A")
    kettle = factories.make_product(
        session,
        name="Electric kettle 1.7 L",
        public_attributes={"capacity": "1.7 L", "power": "2200 W"},
    )
    batch = factories.make_batch(session, product=kettle, line=line, lot_number="KT2609A")
    made = records.T0 - dt.timedelta(days=1)
    genuine, copied = (factories.make_item(session, batch, produced_at=made) for _ in range(2))
    measurements = [
        Measurement(name="Leakage current", value=0.12, unit="mA", upper_limit=0.75),
        Measurement(name="Earth resistance", value=0.05, unit="Ω", upper_limit=0.1),
    ]
    records.inspection(session, genuine, final=True, measurements=measurements)
    records.process_record(session, batch=batch, parameter="Element brazing temperature")
    records.shipment(
        session,
        batches=[batch],
        status=ShipmentStatus.delivered,
        shipped_at=records.T0 + dt.timedelta(days=1),
        delivered_at=records.T0 + dt.timedelta(days=3),
        events=[(ShipmentStatus.in_transit, records.T0 + dt.timedelta(days=2), "Hangzhou hub")],
    )
    records.repair(
        session,
        genuine,
        received_at=now - dt.timedelta(days=5),
        completed_at=now - dt.timedelta(days=3),
        parts=[(PartDirection.removed, "THERM-STRIX"), (PartDirection.installed, "THERM-STRIX")],
    )
    recent = [now - dt.timedelta(hours=20) + dt.timedelta(minutes=25 * n) for n in range(40)]
    records.scans(session, copied, recent, [f"{n:064x}" for n in range(12)])
    cooker = factories.make_product(session, name="Rice cooker 5 L", warranty_months=36)
    recalled_batch = factories.make_batch(session, product=cooker, line=line, lot_number="RC2608B")
    recalled = factories.make_item(session, recalled_batch)
    production.change_batch_status(
        session, "test", recalled_batch, BatchStatus.recalled, "Inner pot coating may flake"
    )
    evil = factories.make_product(session, name=EVIL_NAME)
    escaped = factories.make_item(session, factories.make_batch(session, product=evil))
    return {
        "genuine": genuine.code,
        "suspicious": copied.code,
        "recalled": recalled.code,
        "unknown": codes.new_code(),
        "escaped": escaped.code,
    }


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("browser-site")
    database_url = f"sqlite:///{folder / 'site.db'}"
    migrate.upgrade(database_url)
    engine = make_engine(database_url)
    sessions = make_sessionmaker(engine)
    with sessions() as session:
        site_codes = _build_data(session)
        session.commit()
    served = {}
    server = make_server(
        "127.0.0.1",
        0,
        lambda environ, start: served["app"](environ, start),
        threaded=True,
        request_handler=QuietHandler,
    )
    base_url = f"http://127.0.0.1:{server.server_port}"
    config = Config(
        database_url=database_url,
        public_base_url=base_url,
        secret_key="browser-test-secret",
        instance_path=folder,
        ratelimit_scans="1000 per minute",
    )
    served["app"] = create_app(config)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Site(base_url, site_codes, sessions)
    server.shutdown()
    thread.join()
    server.server_close()
    served["app"].extensions["trace"].engine.dispose()
    engine.dispose()


@pytest.fixture(scope="module")
def browser():
    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()
    playwright.stop()


@pytest.fixture
def phone(browser):
    """A new phone for each language asked: its own cookies, JavaScript off."""
    contexts, problems = [], []

    def open_phone(language: str) -> Page:
        context = browser.new_context(
            viewport=PHONE, locale=language, java_script_enabled=False, device_scale_factor=1
        )
        contexts.append(context)
        page = context.new_page()

        # The CSP forbids inline scripts and styles: the browser would say so here, as it
        # would about any missing resource (the page's own 404 status aside).
        def console(message):
            own_status = message.text.startswith("Failed to load resource") and (
                message.location.get("url") == page.url
            )
            if message.type == "error" and not own_status:
                problems.append(f"{message.text} ({message.location.get('url')})")

        page.on("console", console)
        page.on("dialog", lambda dialog: problems.append(f"dialog: {dialog.message}"))
        return page

    yield open_phone
    for context in contexts:
        context.close()
    assert problems == []


def shoot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def visit(page: Page, site: Site, path: str):
    return page.goto(site.base_url + path)


# --- the four verdicts, in both languages --------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_genuine(phone, site, language):
    page = phone(language)
    response = visit(page, site, f"/s/{site.codes['genuine']}")
    assert response.status == 200
    zh = language == "zh-CN"
    expect(page.locator(".banner.genuine")).to_contain_text("正品" if zh else "Genuine")
    expect(page.locator(".product-name")).to_have_text("Electric kettle 1.7 L")
    expect(page.locator("body")).to_contain_text("Ningbo line A")
    expect(page.locator(".result-pass")).to_have_text("合格" if zh else "Pass")
    leakage = page.locator(".readings li", has_text="Leakage current")
    expect(leakage).to_contain_text("符合规格" if zh else "Within limits")
    expect(page.locator("body")).to_contain_text("Hangzhou hub")
    expect(page.locator("body")).to_contain_text("已签收" if zh else "Delivered")
    expect(page.locator("body")).to_contain_text("更换配件" if zh else "Parts replaced")
    expect(page.locator(".warranty")).to_contain_text("保修期至" if zh else "Under warranty until")
    expect(page.locator("html")).to_have_attribute("lang", language)
    # Fits a phone: nothing wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shoot(page, f"genuine-{language}")


@pytest.mark.parametrize("language", LANGUAGES)
def test_unknown(phone, site, language):
    page = phone(language)
    assert visit(page, site, f"/s/{site.codes['unknown']}").status == 404
    expect(page.locator(".banner.unknown")).to_contain_text(
        "未知追溯码" if language == "zh-CN" else "Unknown code"
    )
    expect(page.locator("#check-code")).to_be_visible()
    shoot(page, f"unknown-{language}")


@pytest.mark.parametrize("language", LANGUAGES)
def test_suspicious(phone, site, language):
    page = phone(language)
    visit(page, site, f"/s/{site.codes['suspicious']}")
    banner = page.locator(".banner.suspicious")
    zh = language == "zh-CN"
    expect(banner).to_contain_text("疑似异常" if zh else "Suspicious")
    expect(banner).to_contain_text("首次查询" if zh else "First scanned")
    count = re.search(r"\d+", banner.locator(".scan-stats span").nth(1).inner_text()).group()
    assert int(count) >= 41
    shoot(page, f"suspicious-{language}")


@pytest.mark.parametrize("language", LANGUAGES)
def test_recalled(phone, site, language):
    page = phone(language)
    visit(page, site, f"/s/{site.codes['recalled']}")
    banner = page.locator(".banner.recall")
    zh = language == "zh-CN"
    expect(banner).to_contain_text("召回" if zh else "Recall")
    expect(banner).to_contain_text("Inner pot coating may flake")
    expect(banner).to_contain_text("请立即停止使用本产品" if zh else "Stop using this product now")
    box = banner.bounding_box()
    assert box["y"] < 100 and box["y"] + box["height"] < PHONE["height"] * 1.2  # seen at once
    shoot(page, f"recalled-{language}")


def test_names_with_html_are_shown_as_text(phone, site):
    page = phone("en")
    visit(page, site, f"/s/{site.codes['escaped']}")
    expect(page.locator(".product-name")).to_have_text(EVIL_NAME)


# --- switching the language ----------------------------------------------------------------


def test_the_language_switch_is_remembered(phone, site):
    page = phone("zh-CN")
    visit(page, site, f"/s/{site.codes['genuine']}")
    expect(page.locator(".banner.genuine")).to_contain_text("正品")
    page.get_by_role("link", name="English").click()
    expect(page.locator(".banner.genuine")).to_contain_text("Genuine")
    assert page.url.endswith(f"/s/{site.codes['genuine']}")
    visit(page, site, f"/s/{site.codes['recalled']}")  # the Chinese phone keeps English
    expect(page.locator(".banner.recall")).to_contain_text("Recall")
    page.get_by_role("link", name="中文").click()
    expect(page.locator(".banner.recall")).to_contain_text("召回")


# --- reporting a problem and following it ---------------------------------------------------


def test_report_a_problem_and_follow_it(phone, site, tmp_path):
    photo = tmp_path / "kettle.png"
    Image.new("RGB", (120, 90), (180, 40, 40)).save(photo)
    page = phone("en")
    visit(page, site, f"/s/{site.codes['genuine']}")
    page.locator("#report summary").click()
    page.select_option("#report-category", "defect")
    page.fill("#report-description", "It does not switch off <b>after</b> boiling.")
    page.set_input_files("#report-photo", str(photo))
    page.fill("#report-name", "Li Lei")
    page.fill("#report-email", "li.lei@example.com")
    shoot(page, "report-form-en")
    page.get_by_role("button", name="Send complaint").click()

    expect(page.locator(".banner.genuine")).to_contain_text("We have received your complaint")
    heading = page.locator("h1").inner_text()
    reference = re.search(r"C-\d{4}-[0-9A-Z]{6}", heading).group()
    expect(page.locator(".status-now")).to_contain_text("Received")
    link = page.locator(".link-box a").get_attribute("href")
    assert re.fullmatch(re.escape(site.base_url) + r"/c/[A-Za-z0-9_-]{40,}", link)
    expect(page.locator("body")).not_to_contain_text("Li Lei")
    shoot(page, "complaint-received-en")

    with site.sessions() as session:
        complaint = complaints.find_complaint_by_token(session, link.rsplit("/", 1)[1])
        assert complaint.reference == reference
        complaints.add_complaint_update(
            session,
            "qe:zhao",
            complaint,
            "We are sending you a replacement thermostat.",
            True,
            ComplaintStatus.investigating,
        )
        complaints.add_complaint_update(session, "qe:zhao", complaint, "internal: lot?", False)
        session.commit()

    chinese = phone("zh-CN")
    chinese.goto(link)
    expect(chinese.locator(".status-now")).to_contain_text("调查中")
    expect(chinese.locator(".updates")).to_contain_text("We are sending you a replacement")
    expect(chinese.locator(".updates")).not_to_contain_text("internal")
    expect(chinese.locator("h1")).to_contain_text(f"投诉 {reference}")
    shoot(chinese, "complaint-tracking-zh")


def test_report_a_suspected_counterfeit_from_an_unknown_code(phone, site):
    page = phone("zh-CN")
    code = site.codes["unknown"]
    visit(page, site, f"/s/{code}")
    page.locator("#report summary").click()
    expect(page.locator("#report-category")).to_have_value("counterfeit")
    page.fill("#report-description", "在夜市购买，包装与官网图片不同。")
    shoot(page, "counterfeit-report-zh-CN")
    page.get_by_role("button", name="提交投诉").click()
    expect(page.locator(".banner.genuine")).to_contain_text("已收到")
    expect(page.locator(".facts")).to_contain_text("您查询的追溯码")
    expect(page.locator(".facts")).to_contain_text(codes.format_code(code))
    shoot(page, "counterfeit-received-zh-CN")


def test_the_browser_keeps_an_empty_form_from_being_sent(phone, site):
    page = phone("zh-CN")
    visit(page, site, f"/s/{site.codes['recalled']}")
    before = page.url
    page.get_by_role("button", name="提交投诉").click()  # required fields, checked by Chromium
    assert page.url == before
    expect(page.locator("#report-category")).to_be_visible()


def test_the_recall_button_leads_to_the_form(phone, site):
    page = phone("en")
    visit(page, site, f"/s/{site.codes['recalled']}")
    page.get_by_role("link", name="Register this product").click()
    expect(page.locator("#report-category")).to_have_value("recall")
    shoot(page, "recall-report-en")


def test_digital_link_reached_by_serial(phone, site):
    with site.sessions() as session:
        item = factories.make_item(
            session,
            factories.make_batch(
                session,
                product=factories.make_product(session, gtin=factories.valid_gtin(), name="Fan"),
            ),
        )
        session.commit()
        path = f"/01/{item.product.gtin}/21/{item.serial}"
    page = phone("en")
    visit(page, site, path)  # follows the resolver's redirect to the item's page
    expect(page.locator(".banner.unverified")).to_contain_text("Not verified")
    assert item.code not in page.content()
    shoot(page, "digital-link-en")
