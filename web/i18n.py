"""The reader's language and local time on the public pages.

The language comes from the reader's own choice (a cookie set by the switch, a plain
link: no JavaScript), else from Accept-Language, else English. Any Chinese variant reads
the zh-CN pages. Times are stored in UTC and shown in the configured display zone, in
each language's usual form.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from urllib.parse import quote
from zoneinfo import ZoneInfo

from flask import Blueprint, Flask, current_app, g, redirect, request
from markupsafe import Markup
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

from trace.codes import MalformedCode, format_code
from trace.times import in_zone
from web.templating import LocalizedLoader, escape_text
from web.translations import EN, LANGUAGES, MESSAGES, ZH

COOKIE = "trace_lang"
COOKIE_MAX_AGE = 365 * 24 * 3600
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

bp = Blueprint("language", __name__)


def negotiate(chosen: str | None, accept_language) -> str:
    """The page language: the reader's choice, else their first language we speak."""
    if chosen in LANGUAGES:
        return chosen
    for tag, _quality in accept_language:  # Werkzeug keeps them best first
        primary = tag.lower().split("-")[0]
        if primary == "zh":
            return ZH
        if primary == "en":
            return EN
    return EN


# The language and zone of the page being rendered (render_page sets them), so that the
# dozen dates and times a page formats do not each look them up in the request again.
_rendering: ContextVar[tuple[str, ZoneInfo] | None] = ContextVar("rendering", default=None)


def current_language() -> str:
    rendering = _rendering.get()
    if rendering is not None:
        return rendering[0]
    if "language" not in g:
        accept_language = request.headers.get("Accept-Language", "")
        g.language = negotiated(request.cookies.get(COOKIE), accept_language)
    return g.language


@lru_cache(maxsize=512)
def negotiated(chosen: str | None, accept_language: str) -> str:
    """The page language for a language cookie's value and an Accept-Language header."""
    # Phones send a few distinct Accept-Language headers, and parsing one costs a scan
    # page as much as one of its queries: each is parsed once.
    return negotiate(chosen, parse_accept_header(accept_language, LanguageAccept))


@contextmanager
def rendering(language: str, zone: ZoneInfo | None = None):
    """Within the block, pages format for `language` and the display zone (`zone`, where
    there is no app to ask)."""
    token = _rendering.set((language, zone or display_zone()))
    try:
        yield
    finally:
        _rendering.reset(token)


@lru_cache(maxsize=len(LANGUAGES))
def messages(language: str) -> dict[str, str]:
    """Every message in one language: pages look plain ones up as m["key"], which
    costs a template far less than a call (a scan page has some sixty)."""
    return {key: texts[language] for key, texts in MESSAGES.items()}


@lru_cache(maxsize=len(LANGUAGES))
def translator(language: str) -> Callable[..., str]:
    """t(key, **values) for one language, bound once: for messages with placeholders."""
    texts = messages(language)

    def translate(key: str, **values) -> str:
        text = texts[key]
        return text.format(**values) if values else text

    return translate


class _CurrentMessages:
    """m["key"] in templates rendered without render_page's bound messages."""

    def __getitem__(self, key: str) -> str:
        return messages(current_language())[key]


def t(key: str, **values) -> str:
    """The message `key` in the reader's language, with its placeholders filled."""
    return translator(current_language())(key, **values)


def t_count(key: str, count: int, **values) -> str:
    """`key.one` for one, `key.other` for any other count."""
    return t(f"{key}.{'one' if count == 1 else 'other'}", count=count, **values)


@lru_cache(maxsize=8)
def zone_named(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def display_zone() -> ZoneInfo:
    rendering = _rendering.get()
    if rendering is not None:
        return rendering[1]
    return zone_named(current_app.config["TRACE"].display_timezone)


def format_date(
    value: dt.date | dt.datetime | None, language: str | None = None, zone: ZoneInfo | None = None
) -> str:
    """22 Nov 2026 / 2026年11月22日; a datetime is first moved to the display zone."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = in_zone(value, zone or display_zone()).date()
    if (language or current_language()) == ZH:
        return f"{value.year}年{value.month}月{value.day}日"
    return f"{value.day} {_MONTHS[value.month - 1]} {value.year}"


def format_datetime(
    value: dt.datetime | None, language: str | None = None, zone: ZoneInfo | None = None
) -> str:
    """22 Nov 2026, 14:05 / 2026年11月22日 14:05, in the display zone."""
    if value is None:
        return ""
    language = language or current_language()
    local = in_zone(value, zone or display_zone())
    separator = " " if language == ZH else ", "
    return f"{format_date(local.date(), language)}{separator}{local:%H:%M}"


def time_html(value: dt.datetime | None, language: str | None = None) -> str:
    """<time> with the machine-readable instant and the local date and time."""
    if value is None:
        return ""
    return _time_html(value, language or current_language(), display_zone())


# The times of a batch's shipments and parameters come back on every page of its units.
@lru_cache(maxsize=4096)
def _time_html(value: dt.datetime, language: str, zone: ZoneInfo) -> str:
    # An ISO instant is digits and separators; the local text is escaped.
    local = escape_text(format_datetime(value, language, zone))
    return f'<time datetime="{value.isoformat()}">{local}</time>'


def date_html(value: dt.date | dt.datetime | None, language: str | None = None) -> str:
    """<time> with the machine-readable value and the local date."""
    if value is None:
        return ""
    return (
        f'<time datetime="{value.isoformat()}">{escape_text(format_date(value, language))}</time>'
    )


def time_tag(value: dt.datetime | None) -> Markup:
    """time_html for templates."""
    return Markup(time_html(value))


def date_tag(value: dt.date | dt.datetime | None) -> Markup:
    """date_html for templates."""
    return Markup(date_html(value))


def limits_text(lower: float | None, upper: float | None, unit: str | None) -> str:
    """Specification limits as people write them: 820 – 850 °C, ≤ 0.75 mA, ≥ 2 MΩ."""
    if lower is not None and upper is not None:
        text = f"{format_number(lower)} – {format_number(upper)}"
    elif lower is not None:
        text = f"≥ {format_number(lower)}"
    elif upper is not None:
        text = f"≤ {format_number(upper)}"
    else:
        return "–"
    return f"{text} {unit}" if unit else text


def zone_label() -> str:
    """The display zone as readers know it everywhere: UTC+08:00."""
    return _zone_label(display_zone(), int(time.time() // 60))


@lru_cache(maxsize=16)
def _zone_label(zone: ZoneInfo, minute: int) -> str:
    # Worked out once a minute: offsets change at daylight saving time, on the minute.
    offset = dt.datetime.fromtimestamp(minute * 60, zone).strftime("%z")
    return f"UTC{offset[:3]}:{offset[3:]}"


def format_number(value: float | None) -> str:
    """A measured value without float noise: 820, 0.15, 1.25e-05."""
    if value is None:
        return ""
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.6g}"


def code_groups(text: str | None) -> str:
    """An item code grouped for people (XXXX-XXXX-XXXX-XXXX-X); other text as it is."""
    if not text:
        return ""
    try:
        return format_code(text)
    except MalformedCode:
        return text


def switch_url(language: str, back: str | None = None) -> str:
    """The link that switches to `language` and comes back to `back` (quoted), by default
    this page."""
    return f"/lang/{language}?next={coming_back() if back is None else back}"


def coming_back() -> str:
    """This page's path (and query, for a GET), quoted for a link's `next`: letters,
    digits, "/" and %XX only, nothing in it to escape."""
    here = request.full_path.rstrip("?") if request.method == "GET" else request.path
    return quote(here, safe="/")


def _safe_next(target: str | None) -> str:
    # Only a path on this site: no scheme, no host, no "//host" or "/\host" tricks.
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    return target


@bp.get("/lang/<language>")
def choose(language: str):
    """Remember the reader's language in a cookie and go back to where they were."""
    response = redirect(_safe_next(request.args.get("next")), code=303)
    if language in LANGUAGES:
        response.set_cookie(
            COOKIE,
            language,
            max_age=COOKIE_MAX_AGE,
            secure=request.is_secure,
            httponly=True,
            samesite="Lax",
        )
    return response


def init_i18n(app: Flask) -> None:
    # Templates rendered as "@<language>/<name>" have their fixed messages written in.
    app.jinja_env.loader = LocalizedLoader(app.jinja_env.loader, messages)
    app.jinja_env.globals.update(
        t=t, t_count=t_count, current_language=current_language, switch_url=switch_url
    )
    app.jinja_env.globals["m"] = _CurrentMessages()
    app.jinja_env.globals.update(zone_label=zone_label, limits_text=limits_text)
    app.jinja_env.filters.update(
        local_date=format_date,
        local_datetime=format_datetime,
        number=format_number,
        when=time_tag,
        day=date_tag,
        code=code_groups,
    )
    app.register_blueprint(bp)
