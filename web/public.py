"""What every public page shares: rendering with the right headers, and error pages."""

from __future__ import annotations

import re

from flask import current_app, render_template, render_template_string, request, url_for

from web.i18n import (
    coming_back,
    current_language,
    messages,
    rendering,
    switch_url,
    t,
    translator,
    zone_label,
)
from web.templating import kept, localized_name

PAGE_HEADERS = (("Cache-Control", "no-store"), ("Vary", "Accept, Accept-Language, Cookie"))


def render_page(template: str, status: int = 200, **context):
    """A public page: never cached (each view of a scan page is a scan), and it differs
    by what the reader accepts, their language and their language cookie."""
    # The reader's messages, bound once, shadow the globals m and t (included templates
    # see them too).
    # The template is rendered in its version for the reader's language (web/templating.py).
    language = current_language()
    context.setdefault("m", messages(language))
    context.setdefault("t", translator(language))
    with rendering(language):
        html = render_template(localized_name(language, template), **context)
    return current_app.response_class(html, status, PAGE_HEADERS)


def render_fragment(template: str, **context) -> str:
    """Part of a public page, in the reader's language (render_page renders whole pages)."""
    language = current_language()
    context.setdefault("m", messages(language))
    context.setdefault("t", translator(language))
    with rendering(language):
        return render_template(localized_name(language, template), **context)


def render_error(status: int, title_key: str, text_key: str, back: str | None = None, **values):
    """A public error page in the reader's language, with a way back."""
    return render_page(
        "public/error.html",
        status,
        title=t(title_key),
        text=t(text_key, **values),
        back=back or _product_page(),
    )


def _product_page() -> str | None:
    code = (request.view_args or {}).get("code")
    return url_for("scan.scan_page", code=code) if code else None


# --- pages built in Python inside the shared frame ------------------------------------------

# What differs between pages in public/layout.html, as stand-ins (letters only: nothing
# escapes or quotes them) in a frame rendered once per language, mount point and zone.
_SLOTS = {"zqztitlezqz": "title", "zqzbodyzqz": "body_class", "zqzmainzqz": "main"}
_NEXT = "zqznextzqz"
_SLOT = re.compile("|".join([*_SLOTS, _NEXT]))
_FRAME_PAGE = (
    '{%% extends "%s" %%}'
    "{%% block title %%}zqztitlezqz{%% endblock %%}"
    "{%% block body_class %%}zqzbodyzqz{%% endblock %%}"
    "{%% block main %%}zqzmainzqz{%% endblock %%}"
)
FRAMES = "trace_public_frames"


def render_built_page(
    title: str, body_class: str, main: str, status: int = 200, language: str | None = None
):
    """A public page whose title, body class and <main> were built (and escaped) in
    Python, in the frame every public page shares: public/layout.html."""
    page = frame(language or current_language())
    html = fill_frame(page, title, body_class, main, coming_back())
    return current_app.response_class(html, status, PAGE_HEADERS)


Frame = tuple[list[str], list[str]]


def fill_frame(frame: Frame, title: str, body_class: str, main: str, next_path: str) -> str:
    """A built page: `frame` with its slots filled; `next_path` is coming_back()'s."""
    values = {"title": title, "body_class": body_class, "main": main, "next": next_path}
    texts, slots = frame
    parts = [texts[0]]
    for slot, text in zip(slots, texts[1:], strict=True):
        parts += (values[slot], text)
    return "".join(parts)


def frame(language: str) -> Frame:
    """public/layout.html in `language`: its texts, and the slots between them."""
    return kept(FRAMES, frame_key(language, request.script_root), lambda: _render_frame(language))


def frame_key(language: str, script_root: str) -> tuple:
    """Where a frame is kept: by language, mount point and the zone's offset now."""
    return (language, script_root, zone_label())


def _render_frame(language: str) -> tuple[list[str], list[str]]:
    source = _FRAME_PAGE % localized_name(language, "public/layout.html")
    with rendering(language):
        html = render_template_string(
            source,
            m=messages(language),
            t=translator(language),
            switch_url=lambda code: switch_url(code, back=_NEXT),
        )
    texts = _SLOT.split(html)
    slots = [_SLOTS.get(stand_in, "next") for stand_in in _SLOT.findall(html)]
    return texts, slots
