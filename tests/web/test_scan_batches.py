"""The scan page with scans written in batches (the service's default), end to end."""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests import factories
from tests.web.test_scan_page import JSON
from trace.config import Config
from trace.db import make_sessionmaker
from trace.scans.models import Scan
from web.app import create_app
from web.scan import RECORDER

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def batched(fresh_database_url, tmp_path):
    config = Config(
        database_url=fresh_database_url,
        public_base_url="https://trace.example.com",
        secret_key="test-secret",
        instance_path=tmp_path,
        scan_batch_seconds=3600,  # the test flushes by hand
        suspicious_max_scans=2,
    )
    app = create_app(config)
    yield app
    app.extensions[RECORDER].close()
    app.extensions["trace"].engine.dispose()


@pytest.fixture
def code(batched):
    with make_sessionmaker(batched.extensions["trace"].engine)() as session:
        item = factories.make_item(session)
        session.commit()
        return item.code


def stored(app) -> int:
    with app.extensions["trace"].engine.connect() as connection:
        return connection.scalar(select(func.count()).select_from(Scan))


def test_digital_link_scans_are_stored_in_a_batch_but_never_count_for_the_code(batched):
    with make_sessionmaker(batched.extensions["trace"].engine)() as session:
        product = factories.make_product(session, gtin="04006381333931")
        item = factories.make_item(session, factories.make_batch(session, product=product))
        session.commit()
        link, code = f"/01/04006381333931/21/{item.serial}", item.code
    client = batched.test_client()
    for _ in range(3):  # more than the rule allows, were they counted
        assert client.get(link).status_code == 307
    assert client.get(f"/s/{code}", headers=JSON).get_json()["scans"]["count"] == 1
    assert batched.extensions[RECORDER].flush() == 4
    with batched.extensions["trace"].engine.connect() as connection:
        verdicts = connection.scalars(select(Scan.verdict).order_by(Scan.id)).all()
    assert [verdict.value for verdict in verdicts] == ["unverified"] * 3 + ["genuine"]
    answer = client.get(f"/s/{code}", headers=JSON).get_json()
    assert (answer["verdict"], answer["scans"]["count"]) == ("genuine", 2)


def test_scans_count_at_once_and_are_stored_in_a_batch(batched, code):
    client = batched.test_client()
    answers = [client.get(f"/s/{code}", headers=JSON).get_json() for _ in range(3)]
    assert [answer["scans"]["count"] for answer in answers] == [1, 2, 3]
    # More scans than the rule allows: suspicious before any of them is stored.
    assert [answer["verdict"] for answer in answers] == ["genuine", "genuine", "suspicious"]
    assert stored(batched) == 0
    assert batched.extensions[RECORDER].flush() == 3
    assert stored(batched) == 3
    assert client.get(f"/s/{code}", headers=JSON).get_json()["scans"]["count"] == 4


def test_unknown_codes_are_recorded_too(batched):
    client = batched.test_client()
    assert client.get("/s/0000000000000000A", headers=JSON).status_code in (400, 404)
    assert batched.extensions[RECORDER].flush() == 1


def test_head_requests_are_not_scans(batched, code):
    assert batched.test_client().head(f"/s/{code}", headers=JSON).status_code == 200
    assert batched.extensions[RECORDER].flush() == 0


def test_no_recorder_when_scans_are_written_in_their_requests(config, connection):
    app = create_app(config.with_overrides(scan_batch_seconds=0))
    try:
        assert RECORDER not in app.extensions
    finally:
        app.extensions["trace"].engine.dispose()


def test_a_process_that_exits_normally_writes_its_scans_first(batched, code, tmp_path):
    # Another process with its own recorder that would wait an hour: its exit writes them.
    url = batched.extensions["trace"].engine.url.render_as_string(hide_password=False)
    script = textwrap.dedent(f"""
        from web.app import create_app
        app = create_app({{"database_url": {url!r}, "instance_path": {str(tmp_path)!r},
                          "scan_batch_seconds": 3600, "secret_key": "s"}})
        client = app.test_client()
        json = {{"Accept": "application/json"}}
        for _ in range(3):
            assert client.get("/s/{code}", headers=json).status_code == 200
        print("scanned", flush=True)
    """)
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert result.stdout.strip() == "scanned", result.stderr
    assert stored(batched) == 3
