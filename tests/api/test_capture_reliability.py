"""Retries, races and crashes: each record is stored once, and a crash leaves nothing."""

import json
import signal
import subprocess
import sys
import textwrap
import threading
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests import factories
from trace.db import make_engine, make_sessionmaker
from trace.quality.models import Inspection
from web.app import create_app

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def live(fresh_database_url, config):
    """An app on a database of its own, with a batch of items, a station, an inspector, a key."""
    app = create_app(config.with_overrides(database_url=fresh_database_url))
    with app.extensions["trace"].sessionmaker() as session:
        batch = factories.make_batch(session)
        items = [factories.make_item(session, batch) for _ in range(20)]
        station, inspector = factories.make_station(session), factories.make_inspector(session)
        _, key = factories.make_key(session, "line")
        world = {
            "codes": [i.code for i in items],
            "station": station.code,
            "inspector": inspector.badge,
            "key": key,
        }
        session.commit()
    yield app, world
    app.extensions["trace"].engine.dispose()


def records(world, count=200):
    return [
        {
            "event_id": str(uuid.uuid4()),
            "item_code": world["codes"][i % len(world["codes"])],
            "station": world["station"],
            "inspector": world["inspector"],
            "occurred_at": "2026-11-01T08:00:00Z",
            "result": "pass",
        }
        for i in range(count)
    ]


def stored(app) -> int:
    with app.extensions["trace"].sessionmaker() as session:
        return session.scalar(select(func.count()).select_from(Inspection))


def test_the_same_bulk_post_from_two_clients_at_once_is_stored_once(live):
    app, world = live
    body = {"records": records(world)}
    answers, start = [], threading.Barrier(2)

    def client():
        start.wait()
        response = app.test_client().post(
            "/api/v1/inspections/bulk",
            json=body,
            headers={"Authorization": f"Bearer {world['key']}"},
        )
        answers.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=client) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(status for status, _ in answers) == [200, 201]
    ids = [[r["id"] for r in body["results"]] for _, body in answers]
    assert ids[0] == ids[1]
    assert stored(app) == 200


def test_the_same_bulk_post_sent_twice_is_stored_once(live):
    app, world = live
    client, body = app.test_client(), {"records": records(world, 50)}
    headers = {"Authorization": f"Bearer {world['key']}"}
    first = client.post("/api/v1/inspections/bulk", json=body, headers=headers)
    second = client.post("/api/v1/inspections/bulk", json=body, headers=headers)
    assert (first.status_code, second.status_code) == (201, 200)
    assert stored(app) == 50


def test_a_server_killed_in_the_middle_of_a_bulk_post_leaves_none_of_it(live, tmp_path):
    """The server process dies (SIGKILL) after inserting the records, before committing."""
    app, world = live
    url = str(app.extensions["trace"].engine.url.render_as_string(hide_password=False))
    body_file = tmp_path / "body.json"
    body_file.write_text(json.dumps({"records": records(world, 2000)}))
    server = textwrap.dedent(f"""
        import sys, time
        import trace.capture as capture
        from web.app import create_app

        original = capture.record_audit
        def stall(*args, **kwargs):
            result = original(*args, **kwargs)
            print("inserted, not committed", flush=True)
            time.sleep(120)
            return result
        capture.record_audit = stall
        app = create_app({{"database_url": {url!r}, "instance_path": {str(tmp_path)!r}}})
        app.test_client().post(
            "/api/v1/inspections/bulk", data=open({str(body_file)!r}).read(),
            headers={{"Authorization": "Bearer {world["key"]}",
                      "Content-Type": "application/json"}},
        )
    """)
    with subprocess.Popen(
        [sys.executable, "-c", server], cwd=REPO, stdout=subprocess.PIPE, text=True
    ) as process:
        assert process.stdout.readline().strip() == "inserted, not committed"
        process.send_signal(signal.SIGKILL)
    assert stored(app) == 0
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:  # the database is usable afterwards
        assert session.scalar(select(func.count()).select_from(Inspection)) == 0
    engine.dispose()
