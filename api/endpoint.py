"""Declaring an API endpoint once: its route, role, input and output schemas.

The declaration drives the request handling (authenticate, authorise, parse, validate,
commit once, dump) and the OpenAPI document, so the two cannot drift apart.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from dataclasses import dataclass

from flask import Blueprint, request
from marshmallow import Schema, ValidationError
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from api.auth import current_principal, known_principal
from api.errors import BadRequest, UnsupportedMediaType
from api.schemas.compiled import dumper, loader
from api.schemas.fields import MAX_ID
from trace.auth.models import Role
from trace.auth.services import Principal, require_role
from trace.db import begin_write
from trace.errors import Conflict, DomainError, Invalid, NotFound
from trace.pagination import Page
from web.database import get_session
from web.turns import write_turn

ANY_ROLE = frozenset(Role)
JSON_TYPES = ("application/json",)


@dataclass
class Endpoint:
    """What one operation is, as the OpenAPI document describes it."""

    rule: str
    method: str
    name: str
    summary: str
    roles: frozenset[Role]
    body: type[Schema] | None = None
    query: type[Schema] | None = None
    response: type[Schema] | None = None
    status: int = 200
    many: bool = False
    tag: str = ""
    public: bool = False
    # Media types of a non-JSON success response (files: labels, exports).
    produces: tuple[str, ...] = ()
    # Posts keyed by client event ids: a lost race is retried once (see _run).
    idempotent: bool = False


REGISTRY: list[Endpoint] = []


@dataclass
class Call:
    """What a handler gets: the session, who is asking, and the validated input."""

    session: Session
    principal: Principal | None
    body: dict
    query: dict

    @property
    def actor(self) -> str:
        return self.principal.actor if self.principal else "public"


def endpoint(
    bp: Blueprint,
    rule: str,
    method: str = "GET",
    *,
    summary: str,
    roles: frozenset[Role] = ANY_ROLE,
    body: type[Schema] | None = None,
    query: type[Schema] | None = None,
    response: type[Schema] | None = None,
    status: int = 200,
    many: bool = False,
    tag: str = "",
    public: bool = False,
    produces: tuple[str, ...] = (),
    idempotent: bool = False,
) -> Callable:
    """Register `handler(call, **path_args)` under `rule` with everything the API promises."""

    def register(handler: Callable) -> Callable:
        spec = Endpoint(
            rule,
            method,
            handler.__name__,
            summary,
            roles,
            body,
            query,
            response,
            status,
            many,
            tag,
            public,
            produces,
            idempotent,
        )
        REGISTRY.append(spec)

        @functools.wraps(handler)
        def view(**path_args):
            return _handle(spec, handler, path_args)

        bp.add_url_rule(rule, endpoint=handler.__name__, view_func=view, methods=[method])
        return handler

    return register


def _handle(spec: Endpoint, handler: Callable, path_args: dict):
    _refuse_impossible_ids(path_args)
    # On SQLite writes take turns (web/turns.py); reads do not.
    with contextlib.nullcontext() if spec.method == "GET" else write_turn():
        return _handle_request(spec, handler, path_args)


def _handle_request(spec: Endpoint, handler: Callable, path_args: dict):
    session = get_session()
    writes = spec.method != "GET"
    principal = None if spec.public else known_principal()
    if principal is None and not spec.public:
        if writes:
            begin_write(session)  # before the first query: see trace.db._on_begin
        principal = current_principal(session)
    if principal is not None:
        require_role(principal, spec.roles)
    call = Call(session, principal, _load_body(spec), _load_query(spec))
    # A write takes the database's write lock (SQLite: the only one) as late as it can:
    # with a key known already, not while its body is still arriving or being validated.
    if writes and not session.in_transaction():
        begin_write(session)
    try:
        result = _run(spec, handler, call, path_args)
    except IntegrityError as error:
        session.rollback()
        # A concurrent writer won a uniqueness race the domain's own checks could not see.
        raise Conflict("the change conflicts with data written at the same time") from error
    except DomainError:
        session.rollback()
        raise
    return _dump(spec, result)


def _run(spec: Endpoint, handler: Callable, call: Call, path_args: dict):
    """Run the handler and commit a write; idempotent writes get one more try on a race.

    Two clients posting the same event id at once both pass the domain's check for an
    earlier post; the loser's commit hits the unique index. Run again, it finds the
    winner's record and answers as for any retry. A write that PostgreSQL chose to fail
    to break a deadlock is run again too (the whole transaction was rolled back).
    """
    writes = spec.method != "GET"
    for attempt in range(1, TRIES + 1):
        try:
            result = handler(call, **path_args)
            if writes:
                call.session.commit()
            return result
        except IntegrityError:
            if not spec.idempotent or attempt > 1:
                raise
        except OperationalError as error:
            if not (writes and _lost_to_another_writer(error)) or attempt == TRIES:
                raise
        call.session.rollback()
        begin_write(call.session)
    raise AssertionError("unreachable: the last try returns or raises")


# PostgreSQL breaks a deadlock by failing one of the transactions (SQLSTATE 40P01), and a
# serializable one that lost a race with 40001: either, run again, sees the other's commit.
RETRYABLE_STATES = {"40P01", "40001"}
TRIES = 3


def _lost_to_another_writer(error: OperationalError) -> bool:
    return getattr(error.orig, "sqlstate", None) in RETRYABLE_STATES


def _refuse_impossible_ids(path_args: dict) -> None:
    # An id past 64 bits names nothing, and SQLite refuses to even compare one (a 500).
    for name, value in path_args.items():
        if isinstance(value, int) and value > MAX_ID:
            raise NotFound(f"no {name} {value}", {name: ["unknown id"]})


def _load_body(spec: Endpoint) -> dict:
    if spec.body is None:
        return {}
    if request.mimetype not in JSON_TYPES:
        raise UnsupportedMediaType("send the body as JSON with Content-Type: application/json")
    if not request.get_data(cache=True):
        raise BadRequest("the request body is empty; a JSON object is expected")
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # nested deeper than the parser goes; silent only covers ValueError
        data = None
    if data is None:
        raise BadRequest("the request body is not valid JSON")
    return _validate(spec.body, data)


def _load_query(spec: Endpoint) -> dict:
    if spec.query is None:
        return {}
    return _validate(spec.query, request.args.to_dict())


def _validate(schema: type[Schema], data) -> dict:
    try:
        return loader(schema).load(data)
    except ValidationError as error:
        messages = (
            error.messages if isinstance(error.messages, dict) else {"_schema": error.messages}
        )
        raise Invalid("the input is not valid", messages) from None


@dataclass(frozen=True)
class Reply:
    """A handler's result with a status of its own (200 for a replayed post, not 201)."""

    result: object
    status: int


def _dump(spec: Endpoint, result):
    status = spec.status
    if isinstance(result, Reply):
        result, status = result.result, result.status
    if spec.response is None:
        return ("", 204) if result is None else (result, status)
    if isinstance(result, Page):
        items = dumper(spec.response, many=True).dump(result.items)
        return {"items": items, "next_after": result.next_after}, status
    if spec.many:  # a complete list: one page with nothing after it
        return {"items": dumper(spec.response, many=True).dump(result), "next_after": None}, status
    return dumper(spec.response).dump(result), status
