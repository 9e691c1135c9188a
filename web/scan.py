"""The public scan page, where a phone lands after scanning a label's QR code.

Routes
  GET  /s/<code>, /S/<code>   the verdict and the unit's story; HTML for browsers, the same
                              view as JSON otherwise (the upper-case form is what an
                              alphanumeric-mode QR carries); every GET is recorded as a scan
  GET  /s/<code>/report       the complaint form on its own page
  POST /s/<code>/report       submit a complaint (CSRF-checked) -> 303 to its tracking page
  GET  /check?code=...        a code typed into a form -> /s/<code>

Unknown and malformed codes read the same to a customer: one message, no hint of a near
miss. JSON clients get the error shape, 400 for a malformed code and 404 for an unknown one.

Most scan pages never reach the view below: a browser's GET of a known code is answered
before Flask by web/scan_fast.py, with the same functions (read_scan, scan_page_html,
store_scan). The view answers everything else, and whatever the fast path hands over.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from functools import lru_cache

from flask import Blueprint, current_app, jsonify, redirect, request, url_for
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from werkzeug.exceptions import RequestEntityTooLarge

from trace import codes
from trace.complaints import services as complaints
from trace.config import Config
from trace.db import begin_write, utcnow
from trace.errors import DomainError, Invalid, NotFound
from trace.scans import services as scans
from trace.scans import story
from trace.scans.models import Verdict
from trace.scans.recorder import ScanRecorder
from web import csrf, scan_html
from web.database import TraceState, get_session
from web.errors import error_response, prefers_html
from web.handoff import handed_off
from web.i18n import current_language, display_zone, format_number, rendering, t
from web.public import render_built_page, render_error, render_fragment, render_page
from web.templating import kept
from web.turns import Turns, turns_for

bp = Blueprint("scan", __name__)
log = logging.getLogger(__name__)

PUBLIC_ACTOR = "public"
RECORDER = "trace_scan_recorder"
PAGE_TURNS = "trace_scan_page_turns"
# Room for the form's text fields around the photo in a multipart body.
FORM_OVERHEAD_BYTES = 256 * 1024
MEBIBYTE = 1024 * 1024


# --- the scan page ------------------------------------------------------------------------
# Decorators apply bottom-up: the lower-case rule is registered first, so links use it.


@bp.get("/S/<code>")
@bp.get("/s/<code>")
def scan_page(code: str):
    # Read and answered within the page's turn; recorded after it (an error answer too),
    # since recording may write (TRACE_SCAN_BATCH_SECONDS=0) and wait for SQLite's lock.
    handoff = handed_off()
    if handoff is not None and handoff.error is not None:  # the fast path's, answered here
        raise handoff.error
    scan = None
    try:
        with current_app.extensions[PAGE_TURNS].turn():
            scan = _read_scan(code)
            return _scan_response(code, scan.view)
    finally:
        if scan is not None and request.method == "GET":  # HEAD is a link checker
            _record(scan)


def _scan_response(code: str, view: dict | None):
    if not prefers_html():
        if view is None:
            raise _code_error(code)
        return _no_store(jsonify(story.jsonable(view)))
    if view is None:
        return _unknown_page(code)
    return _scan_html(view)


def _scan_html(view: dict):
    """The scan page, built in Python (web/scan_html.py) inside the public frame."""
    language = current_language()
    report_url = None
    if view["verdict"] == "recalled":
        report_url = url_for("scan.report_form", code=view["code"], category="recall")
    with rendering(language):
        form = blank_report_form(language)
        title, main = scan_page_html(view, language, report_url, form, csrf.csrf_token())
    return render_built_page(title, f"verdict-{view['verdict']}", main, language=language)


def scan_page_html(
    view: dict, language: str, report_url: str | None, blank_form: str, token: str
) -> tuple[str, str]:
    """The scan page's title and <main> (within rendering(language)): `blank_form` is
    blank_report_form(language), written in here with the code and the CSRF token."""
    # A code comes from the database and a token is hex: neither needs escaping.
    form = blank_form.replace(_CODE_STAND_IN, view["code"]).replace(_TOKEN_STAND_IN, token)
    main = scan_html.scan_main(view, language, report_url, form)
    return scan_html.scan_title(view, language), main


# The blank complaint form reads the same for every reader of a language but for the
# code it posts to and its CSRF token: it is rendered once per language with these
# stand-ins (letters only: nothing escapes or quotes them), filled in per page.
_CODE_STAND_IN = "zqzcodezqz"
_TOKEN_STAND_IN = "zqztokenzqz"
BLANK_FORMS = "trace_blank_report_forms"


def blank_report_form(language: str) -> str:
    """The scan page's complaint form, as a customer first sees it, with stand-ins for
    the code and the token."""
    return kept(BLANK_FORMS, blank_form_key(language, request.script_root), _render_blank_form)


def blank_form_key(language: str, script_root: str) -> tuple:
    return (language, script_root)


@dataclass
class _Scan:
    """A scan judged: the check, the public view (None for an unknown code) and what
    recording it needs."""

    check: scans.ScanCheck
    view: dict | None
    now: dt.datetime
    client_hash: str


def _read_scan(code: str) -> _Scan:
    return read_scan(_config(), current_app.extensions, code, request.remote_addr, display_zone())


def read_scan(config: Config, extensions: dict, code: str, remote_addr: str | None, zone) -> _Scan:
    """Judge a scan of `code` from `remote_addr` and tell the story of the item it found
    (None if unknown), with the app's `config` and `extensions` (within the page's turn)."""
    trace: TraceState = extensions["trace"]
    now = utcnow()
    recorder = extensions.get(RECORDER)
    client_hash = scans.hash_client_address(config.secret_key, remote_addr)
    pending_of = recorder.pending if recorder is not None else (lambda _item_id: ())
    with _reading(trace, extensions[PAGE_TURNS]) as connection:
        check = scans.find_and_check_scan(
            connection, code, client_hash, _rules(config), now, pending_of
        )
        view = None
        if check.item is not None:
            view = story.public_scan_view(connection, check, now, zone)
    return _Scan(check, view, now, client_hash)


@contextmanager
def _reading(trace: TraceState, turns: PageTurns) -> Iterator[Connection]:
    """A connection for the page's reads, in one transaction (one view of the data).

    A plain connection, not the request's ORM session: the page only reads through
    compiled statements, and a session's own bookkeeping cost it as much as two of them.
    Sessions bound to one connection (the tests' rolled-back one) are read through it.
    """
    bind = trace.sessionmaker.kw["bind"]
    if isinstance(bind, Connection):
        yield bind
        return
    with turns.reading() as connection:
        yield connection


def _record(scan: _Scan) -> None:
    record_public_scan(scan.check.item, scan.check.verdict, scan.now, scan.client_hash)


def record_public_scan(
    item, verdict: Verdict, now: dt.datetime | None = None, client_hash: str | None = None
) -> None:
    """Record this request as a public scan of `item` (None: nobody's) with the verdict
    its page gave: handed to the recorder (written with others in a moment, off the
    page's path), or written now where scans are written within their requests, after
    whatever the request read. A scan that cannot be written is lost with a warning: the
    customer still gets the page."""
    row = scans.scan_row(
        item,
        verdict,
        request.remote_addr,
        current_language(),
        request.headers.get("User-Agent"),  # not request.user_agent: nothing parses it
        secret=_config().secret_key,
        scanned_at=now,
        client_hash=client_hash,
    )
    store_scan(current_app.extensions.get(RECORDER), row, lambda: nullcontext(get_session()))


def store_scan(
    recorder: ScanRecorder | None,
    row: dict,
    sessions: Callable[[], AbstractContextManager[Session]],
) -> None:
    """Hand a scan's `row` (scans.scan_row) to the `recorder`, or without one write it
    now in a session of `sessions()` (the request's, or one of its own that the block
    closes). A scan that cannot be written is lost with a warning."""
    if recorder is not None:
        recorder.add(row)
        return
    with sessions() as session:
        _write_scan(session, row)


def _write_scan(session: Session, row: dict) -> None:
    try:
        if session.in_transaction():
            session.rollback()  # ends the request's reads: the write starts anew
        begin_write(session)
        scans.write_scans(session.connection(), [row])
        session.commit()
    except SQLAlchemyError as error:
        # The customer still gets the answer; a lost scan only weakens the counts.
        session.rollback()
        log.warning("scan not recorded: %s", type(error).__name__)


def init_scans(app, config: Config) -> None:
    """The app's scan recorder, unless scans are to be written within their requests, and
    the turns its scan pages take."""
    engine = app.extensions["trace"].engine
    if config.scan_batch_seconds > 0:
        app.extensions[RECORDER] = ScanRecorder(engine, config.scan_batch_seconds)
    app.extensions[PAGE_TURNS] = PageTurns(engine)


class PageTurns:
    """The turns the scan pages of one process take (web/turns.py), and the connection
    they read on: taking turns, the pages can share one connection, kept open, instead of
    taking one from the pool and giving it back (with a rollback) for each page. Other
    requests do not take turns with them. On PostgreSQL, no turns and a pooled connection
    for each page.
    """

    def __init__(self, engine: Engine):
        self.engine = engine
        self._turn = turns_for(engine)
        self._kept_one = isinstance(self._turn, Turns)  # turns on SQLite: one connection
        self._connection: Connection | None = None
        self._pid: int | None = None

    def turn(self) -> AbstractContextManager:
        """What a page is made within: its turn, where pages take turns."""
        return self._turn

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A connection in a transaction of its own, for one page's reads (inside `turn`)."""
        if self._kept_one and not self._turn.taken():  # the kept one is the turn's
            raise RuntimeError("a scan page reads on the kept connection only in its turn")
        if not self._kept_one:
            with self.engine.connect() as connection, connection.begin():
                yield connection
            return
        connection = self._kept()
        # The transaction is the driver's own (the page reads through CompiledQuery,
        # straight on the driver): SQLAlchemy's begin and commit cost a page more than
        # SQLite's.
        driver = connection.connection.dbapi_connection
        try:
            driver.execute("BEGIN")
            yield connection
            driver.execute("COMMIT")
        except BaseException:
            self._connection = None  # a fresh one next time, whatever went wrong
            connection.close()  # rolls back
            raise

    def _kept(self) -> Connection:
        if self._connection is None or self._pid != os.getpid():  # not a parent's
            self._connection, self._pid = self.engine.connect(), os.getpid()
        return self._connection


def _rules(config: Config) -> scans.SuspicionRules:
    return _suspicion_rules(
        config.suspicious_window_hours, config.suspicious_max_scans, config.suspicious_max_clients
    )


@lru_cache(maxsize=8)
def _suspicion_rules(window_hours: float, max_scans: int, max_clients: int):
    window = dt.timedelta(hours=window_hours)
    return scans.SuspicionRules(window=window, max_scans=max_scans, max_clients=max_clients)


def _code_error(code: str) -> DomainError:
    try:
        codes.normalize_code(code)
    except codes.MalformedCode as error:
        return DomainError("malformed item code", {"code": [str(error)]})
    return NotFound("no item has this code", {"code": ["unknown code"]})


def _unknown_page(code: str, form: ReportForm | None = None):
    """The page for a code no item has (or no code at all), with a form to report it as
    a suspected counterfeit: the customer holding a fake is the one who scans it."""
    status = 404 if codes.is_well_formed(code) else 400
    if form is None:
        form = ReportForm(category="counterfeit")
    else:
        status = 422
    limits = {**_limits(), "categories": complaints.SCANNED_CODE_CATEGORIES}
    return render_page("public/unknown.html", status, code=code[:64], form=form, limits=limits)


def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    response.vary.add("Accept")
    return response


def _config() -> Config:
    return current_app.config["TRACE"]


def _limits() -> dict:
    config = _config()
    return {
        "photo_mb": format_number(config.complaint_photo_max_bytes / MEBIBYTE),
        "description": complaints.DESCRIPTION_LENGTH,
        "categories": complaints.CATEGORIES,
    }


def _render_blank_form() -> str:
    return render_fragment(
        "public/_report_form.html",
        form=ReportForm(),
        limits=_limits(),
        report_code=_CODE_STAND_IN,
        csrf_token=lambda: _TOKEN_STAND_IN,
    )


# --- typing a code ------------------------------------------------------------------------


@bp.get("/check")
def check():
    text = request.args.get("code", "").strip()
    try:
        text = codes.normalize_code(text)
    except codes.MalformedCode:
        text = re.sub(r"[^0-9A-Za-z-]", "", text)[:64]  # shown as unknown, if anything
    if not text:
        return redirect(url_for("pages.index"), code=303)
    return redirect(url_for("scan.scan_page", code=text), code=303)


# --- reporting a problem ------------------------------------------------------------------


@dataclass
class ReportForm:
    """What the customer typed, kept to show the form again with their input."""

    category: str = ""
    description: str = ""
    name: str = ""
    email: str = ""
    phone: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_request(cls) -> ReportForm:
        fields = ("category", "description", "name", "email", "phone")
        return cls(**{name: request.form.get(name, "") for name in fields})

    @property
    def contact(self) -> complaints.Contact:
        return complaints.Contact(self.name, self.email, self.phone)


@bp.get("/S/<code>/report")
@bp.get("/s/<code>/report")
def report_form(code: str):
    item = scans.find_scanned_item(get_session(), code)
    if item is None:
        return _unknown_page(code)
    form = ReportForm(category=request.args.get("category", ""))
    return render_page("public/report.html", item=item, form=form, limits=_limits())


@bp.post("/S/<code>/report")
@bp.post("/s/<code>/report")
def submit_report(code: str):
    config = _config()
    request.max_content_length = config.complaint_photo_max_bytes + FORM_OVERHEAD_BYTES
    try:
        csrf.protect()  # parses the form first, which is where a too-large body shows
        photo = _photo()
    except RequestEntityTooLarge:
        return _photo_too_large(config)
    session = get_session()
    begin_write(session)
    item = scans.find_scanned_item(session, code)
    form = ReportForm.from_request()
    # About an item, or about a code that is nobody's: a suspected counterfeit.
    subject = {"item_id": item.id} if item is not None else {"scanned_code": code}
    try:
        _, token = complaints.submit_complaint(
            session,
            PUBLIC_ACTOR,
            **subject,
            category=form.category,
            description=form.description,
            contact=form.contact,
            photo=photo,
            instance_path=config.instance_path,
            photo_max_bytes=config.complaint_photo_max_bytes,
        )
        session.commit()
    except Invalid as error:
        session.rollback()
        form.errors = _field_messages(error.fields)
        if item is None:
            return _unknown_page(code, form)
        return render_page("public/report.html", 422, item=item, form=form, limits=_limits())
    return redirect(url_for("complaints.tracking", token=token, new=1), code=303)


def _photo() -> bytes | None:
    upload = request.files.get("photo")
    if upload is None or not upload.filename:
        return None
    return upload.read() or None


def _photo_too_large(config: Config):
    megabytes = format_number(config.complaint_photo_max_bytes / MEBIBYTE)
    return render_error(413, "error.too_large", "error.too_large.text", mb=megabytes)


def _field_messages(fields: dict) -> dict[str, str]:
    """Each bad field's message in the reader's language."""
    limits = _limits()
    shortest, longest = limits["description"]
    values = {"description": {"min": shortest, "max": longest}, "photo": {"mb": limits["photo_mb"]}}
    return {name: t(f"invalid.{name}", **values.get(name, {})) for name in fields}


# --- errors -------------------------------------------------------------------------------


@bp.errorhandler(DomainError)
def _domain_error(error: DomainError):
    if not prefers_html():
        body = {"error": {"code": error.code, "message": error.message, "fields": error.fields}}
        return jsonify(body), error.status
    if "code" in error.fields:  # a code that is malformed or nobody's: the same page
        return _unknown_page((request.view_args or {}).get("code", ""))
    return error_response(error.status, error.code, error.message, error.fields)


@bp.errorhandler(csrf.CsrfRejected)
def _csrf_rejected(_error):
    return render_error(400, "error.csrf", "error.csrf.text")
