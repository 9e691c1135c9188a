"""The public scan page over HTTP: verdicts, the story, languages, JSON, scans recorded."""

import datetime as dt
import re
from html import unescape

import pytest
from sqlalchemy import select, text

from tests import factories
from tests.trace import scan_helpers as records
from trace import codes
from trace.db import utcnow
from trace.logistics.models import ShipmentStatus
from trace.production import services as production
from trace.production.models import BatchStatus
from trace.quality.models import Measurement
from trace.scans.models import Scan, Verdict
from trace.service.models import PartDirection
from web import translations

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
JSON = {"Accept": "application/json"}
ZH = {**BROWSER, "Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}
EN = {**BROWSER, "Accept-Language": "en-GB,en;q=0.9"}
EVIL = '<script>alert("x")</script><b onmouseover=1>Kettle</b>'


def visible_text(response) -> str:
    """What a reader sees: the body without tags and with entities decoded."""
    html = response.get_data(as_text=True)
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def message(key: str, language: str, **values) -> str:
    return translations.MESSAGES[key][language].format(**values)


def scans_of(session, item=None) -> list[Scan]:
    query = select(Scan).order_by(Scan.id)
    query = query.where(Scan.item_id.is_(None) if item is None else Scan.item_id == item.id)
    return list(session.scalars(query))


# --- verdicts in the browser ---------------------------------------------------------------


@pytest.mark.parametrize("path", ["/s/{code}", "/S/{code}", "/s/{lower}"])
def test_genuine_page_tells_the_story(client, kettle, path):
    url = path.format(code=kettle.code, lower=kettle.code.lower())
    response = client.get(url, headers=EN)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    text = visible_text(response)
    assert "Leakage current 0.12 mA Specification limits: ≤ 0.75 mA ✓ Within limits" in text
    for expected in [
        "Genuine",
        "Electric kettle 1.7 L",
        "KT2609A-000001",
        "KT2609A",
        "Ningbo A",
        "Pass",
        "Final inspection",
        "•••••42",
        "Leakage current",
        "Within limits",
        "Brazing temperature",
        "Shipped",
        "Hangzhou hub",
        "Delivered",
        "Repairs",
        "Removed: THERM-A",
        "Installed: THERM-B",
        "Under warranty until",
        "Scanned once",
        "capacity 1.7 L",
    ]:
        assert expected in text, expected


def test_the_page_never_shows_private_data(client, kettle):
    html = client.get(f"/s/{kettle.code}", headers=EN).get_data(as_text=True)
    for private in [
        "Zhao Min",
        "QC-0342",
        "Internal assembly line 7",
        "Zhang San",
        "Private Road",
        "SF1402668730021",
        "Wu Qiang",
        "PART-SERIAL-1",
        "driver called",
    ]:
        assert private not in html, private


def test_chinese_page_uses_the_trades_words(client, kettle):
    text = visible_text(client.get(f"/s/{kettle.code}", headers=ZH))
    for word in ["正品", "追溯码", "序列号", "批号", "产线", "检验", "质检员", "合格", "工艺参数"]:
        assert word in text, word
    for word in ["规格上下限", "发货", "承运商", "已签收", "维修", "更换配件", "保修", "提交投诉"]:
        assert word in text, word
    assert "2026年10月1日" in text  # production date, local format


def test_suspicious_page_shows_first_scan_and_count(client, session, kettle):
    first = utcnow() - dt.timedelta(hours=5)
    times = [first + dt.timedelta(minutes=m) for m in range(10)]
    records.scans(session, kettle, times, [f"{i:064x}" for i in range(10)])
    session.commit()
    response = client.get(f"/s/{kettle.code}", headers=ZH)
    text = visible_text(response)
    assert "疑似异常" in text
    assert message("scans.count.other", "zh-CN", count=11) in text
    assert "首次查询" in text
    assert message("suspicion.many_clients", "zh-CN") in text
    assert "正品" not in text.split("产品")[0]  # the verdict is not "genuine"


def test_a_scrapped_unit_says_so_and_when_not_that_its_label_was_copied(client, session, kettle):
    scrapped = dt.datetime(2026, 11, 20, 18, 30, tzinfo=dt.UTC)  # the 21st in Shanghai
    kettle.produced_at = records.T0  # made before it was scrapped
    factories.make_scrap(session, kettle, occurred_at=scrapped, reason="Cracked; internal note")
    session.commit()
    text = visible_text(client.get(f"/s/{kettle.code}", headers=EN))
    assert "Suspicious" in text
    assert message("verdict.suspicious.scrapped", "en") in text
    assert message("verdict.suspicious.text", "en") not in text
    assert message("suspicion.scrapped_on", "en", date="21 Nov 2026") in text
    assert message("warranty.scrapped", "en") in text and "Under warranty until" not in text
    assert "internal note" not in text  # why it was scrapped stays inside the company
    zh = visible_text(client.get(f"/s/{kettle.code}", headers=ZH))
    assert message("suspicion.scrapped_on", "zh-CN", date="2026年11月21日") in zh
    view = client.get(f"/s/{kettle.code}", headers=JSON).get_json()
    assert (view["verdict"], view["scrapped_on"], view["status"]) == (
        "suspicious",
        "2026-11-21",
        "scrapped",
    )


def test_a_scrapped_unit_scanned_everywhere_still_warns_of_a_copied_label(client, session, kettle):
    factories.make_scrap(session, kettle)
    times = [utcnow() - dt.timedelta(minutes=m) for m in range(10)]
    records.scans(session, kettle, times, [f"{i:064x}" for i in range(10)])
    session.commit()
    text = visible_text(client.get(f"/s/{kettle.code}", headers=EN))
    assert message("verdict.suspicious.text", "en") in text
    assert message("suspicion.many_clients", "en") in text
    assert "This unit was recorded as scrapped on" in text


def test_recalled_page_has_the_banner_and_what_to_do(client, session, kettle):
    production.change_batch_status(
        session, "test", kettle.batch, BatchStatus.recalled, "Lid cracks"
    )
    session.commit()
    response = client.get(f"/s/{kettle.code}", headers=EN)
    html = response.get_data(as_text=True)
    assert 'class="banner recall" role="alert"' in html
    text = visible_text(response)
    assert "Recall" in text
    assert message("recall.lead", "en", lot="KT2609A") in text
    assert "Reason: Lid cracks" in text
    assert message("recall.step1", "en") in text
    assert f"/s/{kettle.code}/report?category=recall" in html
    zh = visible_text(client.get(f"/s/{kettle.code}", headers=ZH))
    assert "召回" in zh and "原因：Lid cracks" in zh


@pytest.mark.parametrize(
    ("text", "status"),
    [(codes.new_code(), 404), ("ABC", 400), ("U" * 17, 400), ("%3Cscript%3E", 400)],
)
def test_unknown_and_malformed_codes_look_the_same(client, kettle, text, status):
    response = client.get(f"/s/{text}", headers=ZH)
    assert response.status_code == status
    page = visible_text(response)
    assert "未知追溯码" in page
    assert message("verdict.unknown.advice", "zh-CN") in page
    for hint in ["check character", "characters", "mistyped", kettle.code]:
        assert hint not in page
    assert "<script>" not in response.get_data(as_text=True)


def test_unknown_pages_for_different_codes_differ_only_in_the_code(client, kettle):
    def page(code):
        return visible_text(client.get(f"/s/{code}", headers=EN)).replace(code, "CODE")

    assert page(codes.new_code()) == page("NOTACODE")


# --- escaping and headers -------------------------------------------------------------------


def test_product_names_and_attributes_are_escaped(client, session):
    product = factories.make_product(
        session, name=EVIL, description=EVIL, public_attributes={EVIL: EVIL}
    )
    item = factories.make_item(session, factories.make_batch(session, product=product))
    session.commit()
    html = client.get(f"/s/{item.code}", headers=EN).get_data(as_text=True)
    assert "<script>" not in html
    assert "<b onmouseover" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html


def test_every_free_text_of_the_story_is_escaped(client, session):
    # The page is built in Python (web/scan_html.py): each value it writes must be escaped.
    product = factories.make_product(session, sku="SKU-<i>", public_attributes={"a": "b"})
    line = factories.make_line(session, public_name=EVIL)
    batch = factories.make_batch(session, product=product, line=line)
    item = factories.make_item(session, batch)
    measurement = Measurement(name=EVIL, value=1.0, unit="<i>mA", upper_limit=2.0)
    records.inspection(session, item, measurements=[measurement])
    records.process_record(session, batch=batch, parameter=EVIL)
    records.shipment(
        session,
        items=[item],
        carrier=EVIL,
        origin=EVIL,
        events=[(ShipmentStatus.in_transit, records.T0, EVIL)],
    )
    records.repair(session, item, action=EVIL, parts=[(PartDirection.removed, EVIL)])
    production.change_batch_status(session, "test", batch, BatchStatus.recalled, EVIL)
    session.commit()
    for headers in (EN, ZH):
        html = client.get(f"/s/{item.code}", headers=headers).get_data(as_text=True)
        assert "<script>" not in html and "<b onmouseover" not in html and "<i>" not in html
        assert html.count("&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") >= 8


def test_shipments_on_the_way_and_returned(client, session, kettle):
    expected = records.T0 + dt.timedelta(days=4)
    records.shipment(
        session,
        items=[kettle],
        shipped_at=records.T0 + dt.timedelta(days=10),
        expected_at=expected,
        events=[(ShipmentStatus.in_transit, records.T0 + dt.timedelta(days=11), "Wuhan hub")],
    )
    records.shipment(
        session,
        items=[kettle],
        shipped_at=records.T0 + dt.timedelta(days=20),
        events=[(ShipmentStatus.returned, records.T0 + dt.timedelta(days=21), None)],
    )
    session.commit()
    response = client.get(f"/s/{kettle.code}", headers=EN)
    html = response.get_data(as_text=True)
    text = visible_text(response)
    assert "Last location: Wuhan hub" in text
    assert message("shipment.expected", "en", date="5 Oct 2026") in text
    for step in ("In transit", "Returned"):  # each the step the shipment is at now
        assert re.search(rf'<li class="current">\s*<span class="step">{step}</span>', html)


def test_a_stored_time_no_local_zone_can_show_is_shown_in_utc(client, session, kettle):
    # Stored before the API refused such times: in Shanghai it would be the year 10000.
    latest = dt.datetime(9999, 12, 31, 20, 0, tzinfo=dt.UTC)
    records.shipment(session, items=[kettle], expected_at=latest)
    session.commit()
    for headers in (EN, ZH):
        response = client.get(f"/s/{kettle.code}", headers=headers)
        assert response.status_code == 200
        assert "9999" in visible_text(response)


def test_batch_sampling_and_readings_outside_the_limits(client, session):
    batch = factories.make_batch(session)
    item = factories.make_item(session, batch)
    bad = Measurement(name="Lid force", value=9.5, unit="N", lower_limit=10.0)
    records.inspection(session, batch=batch, final=True, measurements=[bad])
    records.process_record(session, batch=batch, parameter="Oven", value=860.0)
    records.process_record(
        session, batch=batch, parameter="Oven", value=830.0, at=records.T0 + dt.timedelta(hours=1)
    )
    session.commit()
    text = visible_text(client.get(f"/s/{item.code}", headers=EN))
    assert message("inspection.batch", "en") in text
    assert "Lid force 9.5 N Specification limits: ≥ 10 N ✕ Outside limits" in text
    # The latest reading is within the limits, but one of the two was not.
    assert "Oven 830 °C Specification limits: 820 – 850 °C ✕ Outside limits" in text
    assert message("process.readings", "en", count=2, out=1) in text


def test_the_language_switch_comes_back_to_the_same_page(client, kettle):
    html = client.get(f"/s/{kettle.code}?from=qr&x=<b>", headers=ZH).get_data(as_text=True)
    assert f'href="/lang/en?next=/s/{kettle.code}%3Ffrom%3Dqr%26x%3D%3Cb%3E"' in html
    assert '<span class="language current" lang="zh-CN" aria-current="true">' in html


def test_pages_load_no_inline_script_or_style(client, kettle):
    for path in [f"/s/{kettle.code}", f"/s/{codes.new_code()}", f"/s/{kettle.code}/report"]:
        response = client.get(path, headers=EN)
        html = response.get_data(as_text=True)
        assert "<script" not in html
        assert "style=" not in html and "<style" not in html
        csp = response.headers["Content-Security-Policy"]
        assert "'unsafe-inline'" not in csp and "frame-ancestors 'none'" in csp
        assert response.headers["X-Frame-Options"] == "DENY"


def test_scan_pages_are_not_cached_and_vary_by_language(client, kettle):
    response = client.get(f"/s/{kettle.code}", headers=EN)
    assert response.headers["Cache-Control"] == "no-store"
    assert {"Accept", "Accept-Language", "Cookie"} <= set(response.vary)


def test_hsts_on_the_scan_page_over_https(client, kettle):
    response = client.get(f"/s/{kettle.code}", headers=EN, base_url="https://localhost")
    assert "max-age=" in response.headers["Strict-Transport-Security"]


def test_the_stylesheet_is_versioned_and_cached_long(client, kettle):
    html = client.get(f"/s/{kettle.code}", headers=EN).get_data(as_text=True)
    href = re.search(r'href="(/static/public\.css\?v=[0-9a-f]{12})"', html).group(1)
    response = client.get(href)
    assert response.status_code == 200
    assert "max-age=31536000" in response.headers["Cache-Control"]
    response.close()


# --- JSON -----------------------------------------------------------------------------------


def test_json_view_of_the_same_page(client, kettle):
    response = client.get(f"/s/{kettle.code}", headers=JSON)
    assert response.mimetype == "application/json"
    view = response.get_json()
    assert (view["verdict"], view["code"], view["serial"]) == (
        "genuine",
        kettle.code,
        kettle.serial,
    )
    assert view["batch"] == {"lot_number": "KT2609A", "status": "open", "recalled": False}
    assert view["line"] == "Ningbo A"
    assert view["inspection"]["inspector"] == "•••••42"
    assert view["inspection"]["measurements"][0]["in_spec"] is True
    assert view["process_parameters"][0]["parameter"] == "Brazing temperature"
    assert view["shipments"][0]["status"] == "delivered"
    assert view["repairs"][0]["parts_installed"] == ["THERM-B"]
    assert view["warranty"]["basis"] == "delivery"
    assert view["scans"]["count"] == 1
    assert "Zhao Min" not in response.get_data(as_text=True)


def test_json_of_a_recalled_item(client, session, kettle):
    production.change_batch_status(session, "test", kettle.batch, BatchStatus.recalled, "Lid")
    session.commit()
    view = client.get(f"/s/{kettle.code}", headers=JSON).get_json()
    assert view["verdict"] == "recalled"
    assert view["batch"]["recall_reason"] == "Lid"


# --- scans recorded -------------------------------------------------------------------------


def test_every_view_is_recorded_with_coarse_client_data(client, session, kettle):
    user_agent = "Mozilla/5.0 (iPhone) AppleWebKit/605.1.15 Mobile MicroMessenger/8.0"
    client.get(f"/s/{kettle.code}", headers={**ZH, "User-Agent": user_agent})
    client.get(f"/s/{kettle.code}", headers=JSON)
    first, second = scans_of(session, kettle)
    assert (first.verdict, first.language, first.user_agent_family) == (
        Verdict.genuine,
        "zh-CN",
        "wechat",
    )
    assert first.client_hash == second.client_hash
    assert "127.0.0.1" not in first.client_hash
    assert visible_text(client.get(f"/s/{kettle.code}", headers=EN)).count("Scanned 3 times") == 1


def test_unknown_codes_are_recorded_too(client, session, kettle):
    client.get(f"/s/{codes.new_code()}", headers=EN)
    client.get("/s/ABC", headers=JSON)
    assert [scan.verdict for scan in scans_of(session)] == [Verdict.unknown, Verdict.unknown]


def test_head_requests_are_not_scans(client, session, kettle):
    assert client.head(f"/s/{kettle.code}", headers=EN).status_code == 200
    assert scans_of(session, kettle) == []


def test_a_page_is_still_served_when_the_scan_cannot_be_recorded(
    client, session, kettle, monkeypatch
):
    from sqlalchemy.exc import OperationalError

    from trace.scans import services

    def locked(*args, **kwargs):
        raise OperationalError("INSERT", {}, Exception("database is locked"))

    monkeypatch.setattr(services, "write_scans", locked)
    response = client.get(f"/s/{kettle.code}", headers=EN)
    assert response.status_code == 200
    assert "Genuine" in visible_text(response)


def test_a_driver_error_while_recording_still_serves_the_page(client, session, kettle, monkeypatch):
    from trace.db import Prepared
    from trace.scans import services

    broken = Prepared(text("INSERT INTO no_such_table (x) VALUES (:x)").bindparams(x=1))
    monkeypatch.setattr(services, "INSERT_SCAN", broken)
    response = client.get(f"/s/{kettle.code}", headers=EN)
    assert response.status_code == 200
    assert "Genuine" in visible_text(response)


# --- languages -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept_language", "lang", "word"),
    [
        ("zh-CN,zh;q=0.9", "zh-CN", "正品"),
        ("zh", "zh-CN", "正品"),
        ("zh-TW,zh;q=0.9,en;q=0.5", "zh-CN", "正品"),
        ("en-US,en;q=0.9", "en", "Genuine"),
        ("de-DE,de;q=0.9,zh;q=0.5", "zh-CN", "正品"),
        ("fr, de", "en", "Genuine"),
        (None, "en", "Genuine"),
    ],
)
def test_language_from_accept_language(client, kettle, accept_language, lang, word):
    headers = dict(BROWSER)
    if accept_language:
        headers["Accept-Language"] = accept_language
    response = client.get(f"/s/{kettle.code}", headers=headers)
    assert f'<html lang="{lang}">' in response.get_data(as_text=True)
    assert word in visible_text(response)


def test_the_switch_remembers_the_choice(client, kettle):
    page = client.get(f"/s/{kettle.code}", headers=ZH).get_data(as_text=True)
    switch = re.search(r'href="(/lang/en\?next=[^"]+)"', page).group(1)
    response = client.get(unescape(switch))
    assert response.status_code == 303
    assert response.headers["Location"] == f"/s/{kettle.code}"
    cookie = response.headers["Set-Cookie"]
    assert "trace_lang=en" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    # The Chinese browser now reads English, until it switches back.
    assert "Genuine" in visible_text(client.get(f"/s/{kettle.code}", headers=ZH))
    client.get("/lang/zh-CN?next=/")
    assert "正品" in visible_text(client.get(f"/s/{kettle.code}", headers=EN))


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/", "/\\evil.example", "", "javascript:x"]
)
def test_the_switch_never_redirects_off_site(client, target):
    response = client.get("/lang/en", query_string={"next": target})
    assert response.headers["Location"] == "/"


def test_an_unknown_language_is_not_remembered(client):
    response = client.get("/lang/xx?next=/")
    assert response.status_code == 303
    assert "Set-Cookie" not in response.headers


def test_local_time_in_the_display_zone(client, kettle):
    # Produced 2026-10-01 08:00 UTC is 16:00 in Shanghai, the default display zone.
    response = client.get(f"/s/{kettle.code}", headers=EN)
    text = visible_text(response)
    assert "1 Oct 2026" in text
    assert "Times are shown in UTC+08:00." in text
    assert 'datetime="2026-10-01T08:00:00+00:00"' in response.get_data(as_text=True)


def test_another_display_zone_is_another_page(app, client, kettle):
    # The frame and the batch's shared parts are kept per zone: a new zone is seen at once.
    shanghai = visible_text(client.get(f"/s/{kettle.code}", headers=EN))
    app.config["TRACE"] = app.config["TRACE"].with_overrides(display_timezone="Asia/Kolkata")
    kolkata = visible_text(client.get(f"/s/{kettle.code}", headers=EN))
    assert "Times are shown in UTC+08:00." in shanghai
    assert "Times are shown in UTC+05:30." in kolkata
    # The batch's shipment, shipped 2026-10-01 08:00 UTC, in each zone's time.
    assert "Shipped 1 Oct 2026, 16:00" in shanghai and "Shipped 1 Oct 2026, 13:30" in kolkata


def test_a_page_under_a_mount_point_links_under_it(client, kettle):
    at_root = client.get(f"/s/{kettle.code}", headers=EN).get_data(as_text=True)
    mounted = client.get(
        f"/s/{kettle.code}", headers=EN, environ_overrides={"SCRIPT_NAME": "/trace"}
    ).get_data(as_text=True)
    assert 'href="/static/public.css' in at_root and 'href="/trace/static/public.css' in mounted
    assert f'action="/trace/s/{kettle.code}/report"' in mounted


# --- typing a code, and the Digital Link pages ----------------------------------------------


@pytest.mark.parametrize("spell", [str, str.lower, lambda c: f" {c[:4]}-{c[4:8]} {c[8:]} "])
def test_check_form_goes_to_the_scan_page(client, kettle, spell):
    response = client.get("/check", query_string={"code": spell(kettle.code)})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/s/{kettle.code}"


def test_check_form_with_nonsense_shows_the_unknown_page(client, kettle):
    response = client.get("/check", query_string={"code": "<b>no/such</b>"})
    assert response.headers["Location"] == "/s/bnosuchb"
    assert client.get("/check").headers["Location"] == "/"


def test_digital_link_item_page_is_unverified_and_never_shows_the_code(client, session, kettle):
    production.change_batch_status(session, "test", kettle.batch, BatchStatus.recalled, "Lid")
    session.commit()
    path = f"/info/01/{kettle.product.gtin}/10/KT2609A/21/{kettle.serial}"
    response = client.get(path, headers=EN)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert kettle.code not in html and kettle.code.lower() not in html.lower()
    text = visible_text(response)
    assert "Not verified" in text and "Genuine" not in text
    assert "Reason: Lid" in text and kettle.serial in text
    assert "<script" not in html
    zh = client.get(path, headers=ZH)
    assert "未验证" in visible_text(zh)
    assert message("verdict.genuine.text", "zh-CN") not in visible_text(zh)
    assert 'class="banner genuine"' not in zh.get_data(as_text=True)


def test_digital_link_pages_stay_json_for_programs(client, kettle):
    path = f"/info/01/{kettle.product.gtin}/10/KT2609A/21/{kettle.serial}"
    assert client.get(path, headers=JSON).get_json()["verdict"] == "unverified"
    lot_page = client.get(f"/info/01/{kettle.product.gtin}/10/KT2609A", headers=EN)
    assert "KT2609A" in visible_text(lot_page)


def test_the_start_page_has_the_check_form(client):
    html = client.get("/", headers=EN).get_data(as_text=True)
    assert 'action="/check"' in html
