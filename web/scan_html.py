"""The scan page's HTML, written in Python rather than Jinja.

The scan page is the one page that is served on every scan, and it must keep up with
0.4x a hello-world view (DESIGN.md §8). Through Jinja its seventy-odd values cost some
280 µs a page: a context per render, a generator per block, an attribute lookup, a call
and a Markup object per value. Built here from plain strings it costs a fraction of that.
Every other public page stays a Jinja template.

What keeps it as safe and as easy to change as a template:
* Every value from the view goes through `escape`; messages are escaped once per language
  (`Html.m`); a message with placeholders is filled in, then escaped as a whole (`Html.t`),
  as Jinja's autoescape did.
* The page's frame (head, top bar, footer) is still public/layout.html, rendered by Jinja
  once per language and mount point with stand-ins for what differs from page to page
  (web/public.render_built_page), so it cannot drift from the other public pages.
* The markup and its classes are the ones public.css styles; the tests read the page as a
  person does (tests/web/test_scan_page.py, tests/web/test_browser.py).
"""

from __future__ import annotations

from functools import lru_cache

from trace.codes import group_code
from trace.scans.story import is_shared
from web.i18n import (
    date_html,
    display_zone,
    format_date,
    format_number,
    limits_text,
    messages,
    time_html,
)
from web.templating import escape_text as escape


class Html:
    """A language's messages, ready to be written into a page."""

    def __init__(self, language: str):
        self.language = language
        self.texts = messages(language)
        self.m = {key: escape(text) for key, text in self.texts.items()}

    def t(self, key: str, **values) -> str:
        """A message with its placeholders filled in, escaped as a whole."""
        return escape(self.texts[key].format(**values) if values else self.texts[key])

    def count(self, key: str, count: int) -> str:
        return self.t(f"{key}.{'one' if count == 1 else 'other'}", count=count)


@lru_cache(maxsize=8)
def html_for(language: str) -> Html:
    return Html(language)


# The HTML of the story's shared parts (trace/scans/story.py hands out one object for the
# same rows: a batch's parameters and shipments), per language and zone. An entry keeps
# the part it was made from and is used only for that very object.
_PART_HTML: dict[tuple, tuple[object, str]] = {}
MAX_PART_HTML = 2048


def _part_html(render, h: Html, part) -> str:
    if not is_shared(part):  # a page's own part: nothing to keep
        return render(h, part)
    key = (render, id(part), h.language, display_zone())
    entry = _PART_HTML.get(key)
    if entry is not None and entry[0] is part:
        return entry[1]
    html = render(h, part)
    if len(_PART_HTML) >= MAX_PART_HTML:
        _PART_HTML.clear()
    _PART_HTML[key] = (part, html)
    return html


def scan_main(view: dict, language: str, report_url: str, report_form: str) -> str:
    """The <main> of the scan page of `view` (story.public_scan_view) in `language`;
    `report_form` is the complaint form's HTML, ready to be written in."""
    h = html_for(language)
    parts = [
        _banner(h, view, report_url),
        _product(h, view),
        _inspection(h, view["inspection"]),
        _part_html(_parameters, h, view["process_parameters"]),
        _part_html(_shipping, h, view["shipments"]),
        _repairs(h, view["repairs"]),
        _warranty(h, view),
        _report(h, view["verdict"], report_form),
    ]
    return "\n".join(parts)


def scan_title(view: dict, language: str) -> str:
    """The page's <title> text, escaped."""
    return (
        f"{html_for(language).m['verdict.' + view['verdict']]} · {escape(view['product']['name'])}"
    )


# --- the verdict --------------------------------------------------------------------------


def _banner(h: Html, view: dict, report_url: str) -> str:
    verdict = view["verdict"]
    if verdict == "recalled":
        return _recall_banner(h, view["batch"], report_url)
    scans = view["scans"]
    first = time_html(scans["first_at"], h.language)
    stats = (
        f'<p class="scan-stats"><span>{h.m["scans.first"]} {first}</span> '
        f"<span>{h.count('scans.count', scans['count'])}</span></p>"
    )
    if verdict == "suspicious":
        reasons = "".join(f"<li>{_suspicion(h, view, reason)}</li>" for reason in scans["reasons"])
        # A scrapped unit scanned as rarely as any other: its label need not be a copy.
        lead = "text" if scans["reasons"] != ["scrapped"] else "scrapped"
        return (
            '<section class="banner suspicious" role="alert">\n'
            f'<p class="banner-kicker"><span class="icon" aria-hidden="true">!</span> '
            f"{h.m['verdict.suspicious']}</p>\n"
            f'<h1 class="banner-title">{h.m["verdict.suspicious." + lead]}</h1>\n'
            f'<ul class="reasons">{reasons}</ul>\n'
            f"<p>{h.m['verdict.suspicious.advice']}</p>\n{stats}\n</section>"
        )
    return (
        '<section class="banner genuine" role="status">\n'
        f'<p class="banner-kicker"><span class="icon" aria-hidden="true">✓</span> '
        f"{h.m['verdict.genuine']}</p>\n"
        f'<p class="banner-text">{h.m["verdict.genuine.text"]}</p>\n{stats}\n</section>'
    )


def _suspicion(h: Html, view: dict, reason: str) -> str:
    if reason == "scrapped" and view.get("scrapped_on"):
        return h.t("suspicion.scrapped_on", date=format_date(view["scrapped_on"], h.language))
    return h.t("suspicion." + reason)


def _recall_banner(h: Html, batch: dict, report_url: str) -> str:
    reason = batch.get("recall_reason")
    reason = f'<p class="recall-reason">{h.t("recall.reason", reason=reason)}</p>' if reason else ""
    return (
        '<section class="banner recall" role="alert" aria-labelledby="recall-title">\n'
        '<p class="banner-kicker"><span class="icon" aria-hidden="true">!</span> '
        f'<span id="recall-title">{h.m["verdict.recalled"]}</span></p>\n'
        f'<h1 class="banner-title">{h.t("recall.lead", lot=batch["lot_number"])}</h1>\n'
        f'{reason}\n<h2>{h.m["recall.todo"]}</h2>\n<ol class="steps-todo">\n'
        f"<li>{h.m['recall.step1']}</li>\n<li>{h.m['recall.step2']}</li>\n"
        f"<li>{h.m['recall.step3']}</li>\n</ol>\n"
        f'<a class="button light" href="{escape(report_url)}">{h.m["recall.button"]}</a>\n'
        f'<p class="banner-note">{h.m["recall.genuine_note"]}</p>\n</section>'
    )


# --- the unit -----------------------------------------------------------------------------


def _product(h: Html, view: dict) -> str:
    product = view["product"]
    description = product["description"]
    description = f"<p>{escape(description)}</p>\n" if description else ""
    facts = [
        _fact(h.m["fact.code"], escape(group_code(view["code"])), ' class="wide"', ' class="code"'),
        _fact(h.m["fact.serial"], escape(view["serial"])),
        _fact(h.m["fact.model"], escape(product["sku"])),
        _fact(h.m["fact.lot"], escape(view["batch"]["lot_number"])),
        _fact(h.m["fact.produced"], date_html(view["produced_at"], h.language)),
    ]
    if view["line"]:
        facts.append(_fact(h.m["fact.line"], escape(view["line"])))
    facts += [_fact(escape(name), escape(value)) for name, value in _attributes(product)]
    return (
        '<section class="card product" aria-labelledby="product-name">\n'
        f'<p class="eyebrow">{h.m["product.heading"]}</p>\n'
        f'<h2 id="product-name" class="product-name">{escape(product["name"])}</h2>\n'
        f'{description}<dl class="facts">\n{"".join(facts)}</dl>\n</section>'
    )


def _attributes(product: dict):
    return (product["public_attributes"] or {}).items()


def _fact(term: str, value: str, div: str = "", dd: str = "") -> str:
    return f"<div{div}><dt>{term}</dt><dd{dd}>{value}</dd></div>\n"


# --- inspection and process parameters ----------------------------------------------------


def _inspection(h: Html, inspection: dict | None) -> str:
    return _card(
        h, "inspection", _inspection_body(h, inspection) if inspection else "", "inspection.none"
    )


def _inspection_body(h: Html, inspection: dict) -> str:
    result = inspection["result"]
    kind = h.m["inspection.final" if inspection["final"] else "inspection.latest"]
    scope = inspection["scope"] == "batch"
    readings = [_reading(h, m["name"], m, m["in_spec"]) for m in inspection["measurements"]]
    return (
        '<p class="result-line">\n'
        f'<span class="result result-{escape(result)}">{h.t("result." + result)}</span>\n'
        f'<span class="muted">{kind}</span>\n</p>\n<dl class="facts">\n'
        f"{_fact(h.m['inspection.when'], time_html(inspection['inspected_at'], h.language))}"
        f"{_fact(h.m['inspection.inspector'], escape(inspection['inspector']))}</dl>\n"
        + (f'<p class="muted">{h.m["inspection.batch"]}</p>\n' if scope else "")
        + _readings(readings)
    )


def _parameters(h: Html, parameters: list[dict]) -> str:
    if not parameters:
        return ""
    readings = []
    for p in parameters:
        note = ""
        if p["readings"] > 1:
            count = h.t("process.readings", count=p["readings"], out=p["out_of_spec"])
            note = f'\n<span class="reading-note">{count}</span>'
        in_spec = p["in_spec"] and not p["out_of_spec"]
        readings.append(_reading(h, p["parameter"], p, in_spec, note))
    return _card(h, "process", _readings(readings))


def _readings(readings: list[str]) -> str:
    return f'<ul class="readings">{"".join(readings)}\n</ul>\n' if readings else ""


def _reading(h: Html, name: str, reading: dict, in_spec: bool, note: str = "") -> str:
    unit = reading["unit"]
    value = format_number(reading["value"]) + (f" {escape(unit)}" if unit else "")
    limits = limits_text(reading["lower_limit"], reading["upper_limit"], unit)
    if in_spec:
        spec = f'<span class="spec ok">✓ {h.m["spec.in"]}</span>'
    else:
        spec = f'<span class="spec bad">✕ {h.m["spec.out"]}</span>'
    return (
        f'\n<li>\n<span class="reading-name">{escape(name)}</span>\n'
        f'<span class="reading-value">{value}</span>\n'
        f'<span class="reading-limits">{h.t("spec.limits", limits=limits)}</span>\n'
        f"{spec}{note}\n</li>"
    )


# --- shipping and repairs -----------------------------------------------------------------


def _shipping(h: Html, shipments: list[dict]) -> str:
    return _card(h, "shipping", "".join(_timeline(h, s) for s in shipments), "shipping.none")


def _timeline(h: Html, s: dict) -> str:
    origin = h.t("shipment.origin", origin=s["origin"], carrier=s["carrier"])
    steps = [
        f'<li class="done">\n<span class="step">{h.m["shipment.shipped"]}</span> '
        f'{time_html(s["shipped_at"], h.language)}\n<span class="detail">{origin}</span>\n</li>\n'
    ]
    transit = [event for event in s["events"] if event["status"] == "in_transit"]
    if transit or s["status"] == "in_transit":
        steps.append(_transit_step(h, s["status"], transit[-1] if transit else None))
    steps.append(_last_step(h, s))
    return f'<ol class="timeline">\n{"".join(steps)}</ol>\n'


def _transit_step(h: Html, status: str, last: dict | None) -> str:
    state = "current" if status == "in_transit" else "done"
    when = f" {time_html(last['occurred_at'], h.language)}" if last else ""
    where = ""
    if last and last["location"]:
        location = h.t("shipment.last_location", location=last["location"])
        where = f'<span class="detail">{location}</span>'
    return (
        f'<li class="{state}">\n<span class="step">{h.m["shipment.in_transit"]}</span>'
        f"{when}\n{where}\n</li>\n"
    )


def _last_step(h: Html, s: dict) -> str:
    if s["status"] == "delivered":
        return (
            f'<li class="done"><span class="step">{h.m["shipment.delivered"]}</span> '
            f"{time_html(s['delivered_at'], h.language)}</li>\n"
        )
    if s["status"] == "returned":
        return (
            f'<li class="current"><span class="step">{h.m["shipment.returned"]}</span> '
            f"{time_html(s['last_event_at'], h.language)}</li>\n"
        )
    expected = ""
    if s["expected_at"]:
        date = format_date(s["expected_at"], h.language)
        expected = f'<span class="detail">{h.t("shipment.expected", date=date)}</span>'
    return (
        f'<li class="todo">\n<span class="step">{h.m["shipment.delivered"]}</span>\n'
        f"{expected}\n</li>\n"
    )


def _repairs(h: Html, repairs: list[dict]) -> str:
    return _card(h, "repairs", "".join(_repair(h, r) for r in repairs), "repairs.none")


def _repair(h: Html, r: dict) -> str:
    warranty = (
        f'<span class="tag">{h.m["repair.under_warranty"]}</span>' if r["under_warranty"] else ""
    )
    facts = [_fact(h.m["repair.received"], date_html(r["received_at"], h.language))]
    if r["completed_at"]:
        facts.append(_fact(h.m["repair.completed"], date_html(r["completed_at"], h.language)))
    if r["action"]:
        facts.append(_fact(h.m["repair.action"], escape(r["action"]), ' class="wide"'))
    parts = [
        f'<span class="part">{h.t(key, parts=", ".join(r[field]))}</span>'
        for key, field in (
            ("repair.removed", "parts_removed"),
            ("repair.installed", "parts_installed"),
        )
        if r[field]
    ]
    if parts:
        facts.append(_fact(h.m["repair.parts"], "".join(parts), ' class="wide"'))
    outcome = r["outcome"]
    return (
        f'<article class="repair">\n<p class="repair-head">\n'
        f'<span class="result outcome-{escape(outcome)}">{h.t("outcome." + outcome)}</span>\n'
        f'{warranty}\n</p>\n<dl class="facts">\n{"".join(facts)}</dl>\n</article>\n'
    )


# --- warranty and the report form ---------------------------------------------------------


def _warranty(h: Html, view: dict) -> str:
    if view["status"] == "scrapped":
        return _card(h, "warranty", f'<p class="warranty expired">{h.m["warranty.scrapped"]}</p>\n')
    w = view["warranty"]
    return _card(h, "warranty", _warranty_body(h, w) if w else "", "warranty.none")


def _warranty_body(h: Html, w: dict) -> str:
    state = "active" if w["active"] else "expired"
    ends = h.t(f"warranty.{state}", date=format_date(w["ends_on"], h.language))
    basis = "warranty.from_delivery" if w["basis"] == "delivery" else "warranty.from_production"
    starts = h.t(basis, months=w["months"], date=format_date(w["starts_on"], h.language))
    return f'<p class="warranty {state}">\n{ends}\n</p>\n<p class="muted">{starts}</p>\n'


def _report(h: Html, verdict: str, report_form: str) -> str:
    opened = "" if verdict == "genuine" else " open"
    return (
        '<section class="card" id="report" aria-labelledby="report-heading">\n'
        f'<details{opened}>\n<summary><h2 id="report-heading">{h.m["report.heading"]}</h2>'
        f"</summary>\n<p>{h.m['report.intro']}</p>\n{report_form}\n</details>\n</section>"
    )


def _muted(h: Html, key: str) -> str:
    return f'<p class="muted">{h.m[key]}</p>\n'


def _card(h: Html, name: str, body: str, empty: str | None = None) -> str:
    """A card of the story, headed by the message `<name>.heading`: `body`, or when there
    is none the message `empty`, muted."""
    if not body and empty:
        body = _muted(h, empty)
    return (
        f'<section class="card" aria-labelledby="{name}-heading">\n'
        f'<h2 id="{name}-heading">{h.m[name + ".heading"]}</h2>\n{body}</section>'
    )
