"""What every public page shares: rendering with the right headers, and error pages."""

from __future__ import annotations

from flask import current_app, render_template, request, url_for

from web.i18n import current_language, messages, rendering, t, translator
from web.templating import localized_name

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
