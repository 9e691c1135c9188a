"""Jinja as the public pages use it: the same templates, rendered for less.

A scan page is rendered on every scan, and rendering was half of its time (bench/scan.py).
Three things made it dear, and all are taken care of here, once, instead of in every
template:

* `view.product.name` on a dict: Jinja tries the attribute first and the key only after
  an AttributeError, so each lookup raised and caught an exception. TraceEnvironment
  tries a plain dict's key first (a missing key, and the dict's own methods such as
  `.items`, still go the usual way).
* Every call in a template (t(...), url_for(...)) went through Context.call, which asks
  each callable anew whether it wants the context; TraceContext calls plain functions
  and methods straight away.
* Some sixty fixed messages a page, each looked up, escaped and joined per request.
  LocalizedLoader serves each template once per language ("@zh-CN/public/complaint.html") with
  its fixed messages written in as text, escaped once, when the template is compiled.
  Messages with placeholders, and everything else, stay expressions.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from types import FunctionType, MethodType
from typing import TypeVar

from flask import current_app
from flask.templating import Environment
from jinja2 import BaseLoader, TemplateNotFound
from jinja2.runtime import Context
from markupsafe import escape

PREFIX = "@"
# {{ m["key"] }} or {{ m['key'] }}: a fixed message, written into the template.
_MESSAGE = re.compile(r"""\{\{-?\s*m\[(["'])([A-Za-z0-9_.]+)\1\]\s*-?\}\}""")
# The templates a template extends or includes, by a literal name.
_REFERENCE = re.compile(r"""(\{%-?\s*(?:extends|include|import|from)\s+)(["'])([^"']+)\2""")
_CURRENT_LANGUAGE = re.compile(r"current_language\(\)")
_JINJA_SYNTAX = ("{{", "{%", "{#", "}}", "%}", "#}")
# What a dict has as attributes (.items, .get): these stay its methods, as in plain Jinja,
# even for a dict with such a key (a JSON schema's "items").
_DICT_ATTRIBUTES = frozenset(dir(dict))
T = TypeVar("T")


class TraceContext(Context):
    """Jinja's context, calling plain functions and methods without asking each time
    whether they want the context passed (Jinja asks at every call: a page makes dozens)."""

    def call(__self, __obj, *args, **kwargs):
        kind = type(__obj)
        if kind is FunctionType or kind is MethodType:
            function = __obj if kind is FunctionType else __obj.__func__
            if "jinja_pass_arg" not in function.__dict__:  # where pass_context marks it
                kwargs.pop("_block_vars", None)
                kwargs.pop("_loop_vars", None)
                try:
                    return __obj(*args, **kwargs)
                except StopIteration:
                    return __self.environment.undefined(
                        "value was undefined because a callable raised a StopIteration"
                    )
        return super().call(__obj, *args, **kwargs)


class TraceEnvironment(Environment):
    """Flask's Jinja environment, reading a plain dict's keys before its attributes."""

    context_class = TraceContext

    def getattr(self, obj, attribute):
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                pass
        return super().getattr(obj, attribute)


MAX_KEPT = 64


def kept(name: str, key, build: Callable[[], T]) -> T:
    """`build()`, kept in this app's cache `name` under `key`: what a page renders or looks
    up the same way every time (a frame, a blank form, a fixed URL). Built anew while
    templates reload (debug), and at most MAX_KEPT entries a cache, so a proxy passing odd
    mount points on cannot make it grow."""
    app = current_app._get_current_object()
    if app.jinja_env.auto_reload:
        return build()
    cache = app.extensions.setdefault(name, {})
    value = cache.get(key, _MISSING)
    if value is _MISSING:
        value = build()
        if len(cache) >= MAX_KEPT:
            cache.clear()
        cache[key] = value
    return value


_MISSING = object()


def kept_now(app, name: str, key):
    """What `kept` keeps under `key` in `app`'s cache `name`, or None: built nothing, and
    nothing while templates reload (each use builds them anew there)."""
    if app.jinja_env.auto_reload:
        return None
    return app.extensions.get(name, {}).get(key)


def escape_text(value) -> str:
    """`value` as text safe in HTML, written exactly as markupsafe (and so Jinja) writes
    it, but a plain str: pages built in Python (web/scan_html.py) write some seventy
    values each, and a Markup wrapper per value cost them more than the escaping."""
    return (
        str(value)
        .replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&#34;")
        .replace("'", "&#39;")
    )


def localized_name(language: str, template: str) -> str:
    """The name under which `template` is served with `language`'s messages written in."""
    return f"{PREFIX}{language}/{template}"


class LocalizedLoader(BaseLoader):
    """Wraps an app's loader; "@<language>/<name>" is <name> with fixed messages written in.

    `messages(language)` gives a language's messages; a name without the prefix, or with
    a language `messages` does not know, is passed on (or not found) as it is.
    """

    def __init__(self, loader: BaseLoader, messages: Callable[[str], dict[str, str]]):
        self.loader = loader
        self.messages = messages

    def get_source(self, environment, template):
        if not template.startswith(PREFIX):
            return self.loader.get_source(environment, template)
        language, _, name = template[len(PREFIX) :].partition("/")
        try:
            texts = self.messages(language)
        except KeyError:
            raise TemplateNotFound(template) from None
        source, filename, uptodate = self.loader.get_source(environment, name)
        return localize(source, language, texts), filename, uptodate

    def list_templates(self):
        return self.loader.list_templates()


def localize(source: str, language: str, texts: dict[str, str]) -> str:
    """`source` with its fixed messages in `language` written in, escaped, and the
    templates it refers to by name localized too."""

    def message(match: re.Match) -> str:
        text = texts.get(match.group(2))
        if text is None or any(mark in text for mark in _JINJA_SYNTAX):
            return match.group(0)  # left to the template, which reports a missing key
        return str(escape(text))

    def reference(match: re.Match) -> str:
        keyword, quote, name = match.groups()
        return f"{keyword}{quote}{localized_name(language, name)}{quote}"

    source = _MESSAGE.sub(message, source)
    source = _REFERENCE.sub(reference, source)
    return _CURRENT_LANGUAGE.sub(repr(language), source)
