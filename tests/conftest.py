"""Test database built by the real migrations; each test runs in a transaction rolled back after it.

SQLite by default; set TRACE_TEST_DATABASE_URL to run the same suite on PostgreSQL
(the schema of that database is dropped and rebuilt at the start of the run).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from tests import factories
from trace import migrate
from trace.config import Config
from trace.db import make_engine
from web.app import create_app

PUBLIC_BASE_URL = "https://trace.example.com"

# Tests assert behaviour, never time: no example fails for being slow on a busy machine.
settings.register_profile("trace", deadline=None)
settings.load_profile("trace")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get("TRACE_TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture(scope="session")
def engine(database_url):
    engine = make_engine(database_url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    migrate.upgrade(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine):
    with engine.connect() as conn:
        outer = conn.begin()
        yield conn
        outer.rollback()


def _test_sessions(connection) -> sessionmaker[Session]:
    # Code that commits only releases a savepoint; the outer transaction is rolled back.
    return sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )


@pytest.fixture
def session(connection) -> Session:
    with _test_sessions(connection)() as session:
        yield session


@pytest.fixture
def config(database_url, tmp_path) -> Config:
    return Config(
        database_url=database_url,
        public_base_url=PUBLIC_BASE_URL,
        secret_key="test-secret",
        instance_path=Path(tmp_path),
        # Each scan written in its request: in the test's transaction, seen at once.
        scan_batch_seconds=0,
    )


@pytest.fixture
def app(config, connection):
    app = create_app(config)
    app.testing = True
    app.extensions["trace"].sessionmaker = _test_sessions(connection)
    yield app
    app.extensions["trace"].engine.dispose()


@pytest.fixture
def app_with(config, connection):
    """Builds the service with settings changed, `app_with(ratelimit_scans="")`, reading
    and writing in the test's transaction as `app` does; each is disposed of afterwards."""
    built = []

    def build(**overrides):
        app = create_app(config.with_overrides(**overrides))
        app.testing = True
        app.extensions["trace"].sessionmaker = _test_sessions(connection)
        built.append(app)
        return app

    yield build
    for app in built:
        app.extensions["trace"].engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def api(app, session):
    """An API client that acts with a key of the role given: `api("quality").post(...)`."""

    def as_role(role: str = "admin", **binding) -> factories.ApiClient:
        _, plaintext = factories.make_key(session, role, **binding)
        session.commit()
        return factories.ApiClient(app.test_client(), plaintext)

    return as_role


@pytest.fixture
def fresh_database_url(database_url, tmp_path):
    """A database of its own, migrated and really committed to; dropped afterwards.

    For tests that need several connections at once (concurrency, other processes),
    which the rolled-back transaction of the other fixtures cannot give.
    """
    if not database_url.startswith("postgresql"):
        url = f"sqlite:///{tmp_path / 'fresh.db'}"
        migrate.upgrade(url)
        yield url
        return
    base, _, _ = database_url.rpartition("/")
    name = f"trace_fresh_{os.getpid()}_{id(tmp_path) % 100000}"
    admin = make_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        migrate.upgrade(f"{base}/{name}")
        yield f"{base}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
