"""One SQLAlchemy session per request; the request boundary commits or rolls back."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app, g
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from trace.auth.services import KeyCache
from trace.config import Config
from trace.db import make_engine, make_sessionmaker


@dataclass
class TraceState:
    """What the app keeps of the domain: its configuration, engine and session factory,
    and the API keys it checked lately."""

    config: Config
    engine: Engine
    sessionmaker: sessionmaker[Session]
    api_keys: KeyCache


def init_database(app: Flask, config: Config) -> None:
    engine = make_engine(config.database_url)
    app.extensions["trace"] = TraceState(config, engine, make_sessionmaker(engine), KeyCache())
    app.teardown_appcontext(_close_session)


def state() -> TraceState:
    return current_app.extensions["trace"]


def get_session() -> Session:
    """The request's session, opened on first use."""
    if "trace_session" not in g:
        g.trace_session = state().sessionmaker()
    return g.trace_session


def _close_session(_exc=None) -> None:
    session = g.pop("trace_session", None)
    if session is not None:
        session.close()  # rolls back whatever was not committed
