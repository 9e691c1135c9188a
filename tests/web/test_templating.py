"""Templates rendered per language with their fixed messages written in, and dict lookups."""

import flask
import markupsafe
import pytest
from hypothesis import given
from hypothesis import strategies as st
from jinja2 import DictLoader, TemplateNotFound

from web.templating import (
    LocalizedLoader,
    TraceEnvironment,
    escape_text,
    localize,
    localized_name,
)
from web.translations import EN, ZH

TEXTS = {"greeting": 'Hello & <welcome> "you"', "braces": "a {{ trap }}", "plain": "Plain"}


def test_fixed_messages_are_written_in_escaped():
    source = '<p>{{ m["greeting"] }}</p><b title="{{ m[\'plain\'] }}">'
    assert localize(source, EN, TEXTS) == (
        '<p>Hello &amp; &lt;welcome&gt; &#34;you&#34;</p><b title="Plain">'
    )


def test_messages_that_look_like_template_syntax_stay_expressions():
    assert localize('{{ m["braces"] }}', EN, TEXTS) == '{{ m["braces"] }}'
    assert localize('{{ m["missing"] }}', EN, TEXTS) == '{{ m["missing"] }}'


def test_templates_referred_to_and_the_language_are_localized():
    source = '{% extends "public/layout.html" %}{% include "public/_form.html" %}'
    source += '<html lang="{{ current_language() }}">'
    assert localize(source, ZH, TEXTS) == (
        '{% extends "@zh-CN/public/layout.html" %}{% include "@zh-CN/public/_form.html" %}'
        "<html lang=\"{{ 'zh-CN' }}\">"
    )


def environment():
    templates = {
        "page.html": '{% include "part.html" %}|{{ m["plain"] }}|{{ t }}',
        "part.html": '<i>{{ m["greeting"] }}</i>',
    }
    env = TraceEnvironment(flask.Flask(__name__), autoescape=True)
    env.loader = LocalizedLoader(DictLoader(templates), lambda language: {EN: TEXTS}[language])
    return env


def test_a_localized_template_renders_like_the_plain_one():
    env = environment()
    values = {"m": TEXTS, "t": "<x>"}
    plain = env.get_template("page.html").render(values)
    localized = env.get_template(localized_name(EN, "page.html")).render(values)
    assert (
        localized == plain == ("<i>Hello &amp; &lt;welcome&gt; &#34;you&#34;</i>|Plain|&lt;x&gt;")
    )


def test_an_unknown_language_is_no_template():
    with pytest.raises(TemplateNotFound):
        environment().get_template(localized_name("fr", "page.html"))


def test_dict_keys_are_read_before_attributes_and_misses_stay_undefined():
    env = TraceEnvironment(flask.Flask(__name__), autoescape=True)
    template = env.from_string(
        "{{ d.name }}|{{ d.missing is undefined }}|{% for k, v in d.items() %}{{ k }}{% endfor %}"
    )
    assert template.render(d={"name": "kettle"}) == "kettle|True|name"
    # The dict's own methods stay methods, as in plain Jinja, even with such a key.
    items = env.from_string("{% for k, v in d.items() %}{{ k }}={{ v }}{% endfor %}")
    assert items.render(d={"items": 3, "get": 4}) == "items=3get=4"


def test_the_app_keeps_no_cookie_session(app):
    with app.test_request_context("/"):
        assert not flask.session
        with pytest.raises(RuntimeError):
            flask.session["user"] = "x"
    response = app.test_client().get("/s/0000000000000000A")
    assert "session" not in response.headers.get("Set-Cookie", "")


def test_calls_pass_the_context_only_to_what_asks_for_it():
    from jinja2 import pass_context

    @pass_context
    def page_name(context):
        return context["name"]

    class Greeter:
        def greet(self, who, **kwargs):
            return f"hi {who}"

    def stops():
        raise StopIteration

    env = TraceEnvironment(flask.Flask(__name__), autoescape=True)
    template = env.from_string(
        "{{ page_name() }}|{{ g.greet('you') }}|{{ plain(2) }}|{{ stops() is undefined }}"
    )
    values = {"page_name": page_name, "g": Greeter(), "plain": lambda n: n * 2, "stops": stops}
    assert template.render(name="scan", **values) == "scan|hi you|4|True"


@given(st.one_of(st.text(), st.integers(), st.floats(allow_nan=False)))
def test_escape_text_writes_what_markupsafe_writes(value):
    assert escape_text(value) == str(markupsafe.escape(value))


def test_escape_text_escapes_every_special_character():
    assert escape_text("""<a href="x" title='y'>&</a>""") == (
        "&lt;a href=&#34;x&#34; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;"
    )
