"""The public pages' two languages: a complete catalogue, the trade's words, local times."""

import datetime as dt
import re
import string
from pathlib import Path

import pytest
from werkzeug.datastructures import LanguageAccept

from trace import codes
from trace.complaints.models import ComplaintStatus
from trace.complaints.services import CATEGORIES
from trace.logistics.models import ShipmentStatus
from trace.quality.models import InspectionResult
from trace.scans.models import Verdict
from trace.service.models import RepairOutcome
from web import i18n
from web.translations import EN, LANGUAGES, MESSAGES, ZH

TEMPLATES = Path(__file__).resolve().parents[2] / "web" / "templates" / "public"
WEB = Path(__file__).resolve().parents[2] / "web"


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_message_is_in_both_languages_with_the_same_placeholders():
    for key, texts in MESSAGES.items():
        assert set(texts) == set(LANGUAGES), key
        assert all(text.strip() for text in texts.values()), key
        assert placeholders(texts[EN]) == placeholders(texts[ZH]), key
        assert "<" not in texts[EN] + texts[ZH], key  # the page escapes; no HTML in messages


def _sources() -> list[str]:
    templates = [path.read_text() for path in TEMPLATES.glob("*.html")]
    return templates + [path.read_text() for path in WEB.glob("*.py")]


def _called_keys() -> set[str]:
    """Keys written out in m["..."], t("...") and t_count("...") (not prefixes like "verdict.")."""
    pattern = re.compile(r"""\b(?:t(_count)?\(|m\[)\s*["']([a-z_]+\.[a-z_.0-9]+)["']""")
    keys = set()
    for source in _sources():
        for counted, key in pattern.findall(source):
            if not key.endswith("."):
                keys |= {f"{key}.one", f"{key}.other"} if counted else {key}
    return keys


def _mentioned_keys() -> set[str]:
    """Every quoted text in the pages and views that names a message, however it is used
    (passed to render_error, chosen with an if/else, ...)."""
    literal = re.compile(r"""["']([a-z_]+\.[a-z_.0-9]+)["']""")
    return {key for source in _sources() for key in literal.findall(source) if key in MESSAGES}


def _built_keys() -> set[str]:
    """Keys the templates build from a value ("verdict." ~ view.verdict and the like)."""
    keys = {f"verdict.{v.value}" for v in Verdict} | {"verdict.unverified"}
    keys |= {f"result.{r.value}" for r in InspectionResult}
    keys |= {f"outcome.{o.value}" for o in RepairOutcome}
    keys |= {f"status.{s.value}" for s in ComplaintStatus}
    keys |= {f"next.{s.value}" for s in ComplaintStatus}
    keys |= {f"shipment.{s.value}" for s in ShipmentStatus}
    keys |= {f"category.{c}" for c in CATEGORIES}
    keys |= {f"suspicion.{r}" for r in ("many_scans", "many_clients", "scrapped")}
    keys |= {f"report.{f}" for f in ("name", "email", "phone")}
    fields = ("category", "description", "photo", "contact_name", "contact_email", "contact_phone")
    keys |= {f"invalid.{f}" for f in fields}
    return keys


def test_every_key_the_pages_use_is_in_the_catalogue():
    assert len(_called_keys()) > 80  # the pattern finds the calls at all
    assert (_called_keys() | _built_keys()) - set(MESSAGES) == set()


def test_no_message_is_left_unused():
    used = _called_keys() | _mentioned_keys() | _built_keys()
    assert set(MESSAGES) - used == set()


@pytest.mark.parametrize(
    ("english", "chinese"),
    [
        ("Genuine", "正品"),
        ("Unknown code", "未知追溯码"),
        ("Suspicious", "疑似异常"),
        ("Recall", "召回"),
        ("Item code", "追溯码"),
        ("Serial", "序列号"),
        ("Lot number", "批号"),
        ("Line", "产线"),
        ("Inspector", "质检员"),
        ("Inspection", "检验"),
        ("Pass", "合格"),
        ("Fail", "不合格"),
        ("Rework", "返工"),
        ("Process parameters", "工艺参数"),
        ("Specification limits", "规格上下限"),
        ("carrier", "承运商"),
        ("Delivered", "已签收"),
        ("Repairs", "维修"),
        ("Parts replaced", "更换配件"),
        ("Warranty", "保修"),
    ],
)
def test_the_trades_words_in_both_languages(english, chinese):
    pairs = [(texts[EN], texts[ZH]) for texts in MESSAGES.values()]
    assert any(english in en and chinese in zh for en, zh in pairs), (english, chinese)


def test_complaint_is_called_complaint_in_both():
    assert any("投诉" in texts[ZH] and "complaint" in texts[EN] for texts in MESSAGES.values())


@pytest.mark.parametrize(
    ("header", "chosen", "expected"),
    [
        ("zh-CN,zh;q=0.9", None, ZH),
        ("zh-Hant-TW", None, ZH),
        ("en-US,zh;q=0.5", None, EN),
        ("de;q=1,zh;q=0.1", None, ZH),
        ("ja", None, EN),
        ("", None, EN),
        ("en", "zh-CN", ZH),
        ("zh", "en", EN),
        ("zh", "klingon", ZH),
    ],
)
def test_negotiate(header, chosen, expected):
    accept = LanguageAccept(
        [(tag.split(";")[0].strip(), 1) for tag in header.split(",") if tag.strip()]
    )
    assert i18n.negotiate(chosen, accept) == expected


@pytest.mark.parametrize(
    ("language", "date_text", "datetime_text"),
    [(EN, "2 Jan 2027", "2 Jan 2027, 01:30"), (ZH, "2027年1月2日", "2027年1月2日 01:30")],
)
def test_local_formats(app, language, date_text, datetime_text):
    # 17:30 UTC on New Year's Eve is already the next year in Shanghai.
    moment = dt.datetime(2027, 1, 1, 17, 30, tzinfo=dt.UTC)
    with app.test_request_context():
        assert i18n.format_date(moment, language) == date_text
        assert i18n.format_datetime(moment, language) == datetime_text
        assert i18n.format_date(dt.date(2027, 1, 2), language) == date_text
        assert i18n.zone_label() == "UTC+08:00"


def test_another_display_zone(app):
    app.config["TRACE"] = app.config["TRACE"].with_overrides(display_timezone="Europe/Berlin")
    moment = dt.datetime(2027, 7, 1, 12, 0, tzinfo=dt.UTC)
    with app.test_request_context():
        assert i18n.format_datetime(moment, EN) == "1 Jul 2027, 14:00"
        assert i18n.zone_label() in ("UTC+01:00", "UTC+02:00")


@pytest.mark.parametrize(
    ("value", "text"), [(820.0, "820"), (0.15, "0.15"), (1.25e-05, "1.25e-05"), (None, "")]
)
def test_format_number(value, text):
    assert i18n.format_number(value) == text


def test_codes_are_grouped_for_people_and_other_text_left_as_it_is():
    code = codes.new_code()
    grouped = i18n.code_groups(code.lower())
    assert grouped.replace("-", "") == code
    assert [len(group) for group in grouped.split("-")] == [4, 4, 4, 4, 1]
    assert i18n.code_groups("FAKE-123") == "FAKE-123"
    assert i18n.code_groups(None) == ""
