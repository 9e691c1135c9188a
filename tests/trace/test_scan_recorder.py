"""Scans written in batches off the page's path: none lost, none counted late, none twice.

On a database of its own (fresh_database_url): the recorder writes from its own thread
and connection, which the rolled-back transaction of the other tests cannot give.
"""

import datetime as dt
import logging
import time

import pytest
from sqlalchemy import func, select

from tests import factories
from trace.db import make_engine, make_sessionmaker, utcnow
from trace.scans import services as scans
from trace.scans.models import Scan, Verdict
from trace.scans.recorder import ScanRecorder

NEVER = 3600.0  # an interval the tests never wait for: they flush by hand


@pytest.fixture
def engine(fresh_database_url):
    engine = make_engine(fresh_database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def item(engine):
    with make_sessionmaker(engine)() as session:
        item = factories.make_item(session)
        session.commit()
        return scans.find_scanned_item(session, item.code)


@pytest.fixture
def recorder(engine):
    recorder = ScanRecorder(engine, interval=NEVER)
    yield recorder
    recorder.close()


def judge(session, item, rules, pending_of) -> scans.ScanCheck:
    """The scan page's verdict on `item` now, with the scans `pending_of` gives."""
    return scans.find_and_check_scan(session, item.code, "h", rules, utcnow(), pending_of)


def row(item, client="198.51.100.7", at=None, verdict=Verdict.genuine):
    return scans.scan_row(
        item, verdict, client, "en", "curl/8", secret="s", scanned_at=at or utcnow()
    )


def stored(engine, item=None) -> int:
    with engine.connect() as connection:
        query = select(func.count()).select_from(Scan)
        if item is not None:
            query = query.where(Scan.item_id == item.id)
        return connection.scalar(query)


def test_scans_are_pending_until_flushed_then_stored(engine, recorder, item):
    first, second = utcnow() - dt.timedelta(seconds=2), utcnow()
    recorder.add(row(item, at=first))
    recorder.add(row(item, client="203.0.113.5", at=second))
    recorder.add(row(None))  # an unknown code: stored, but nobody's pending scan
    assert stored(engine) == 0
    pending = recorder.pending(item.id)
    assert [at for _, at in pending] == [first, second]
    assert pending[0][0] == scans.hash_client_address("s", "198.51.100.7")

    assert recorder.flush() == 3
    assert stored(engine, item) == 2 and stored(engine) == 3
    assert recorder.pending(item.id) == []
    assert recorder.flush() == 0


def test_digital_link_scans_are_written_but_never_pending_for_the_code(engine, item):
    recorder = ScanRecorder(engine, interval=NEVER, max_pending=3)
    genuine, linked = utcnow() - dt.timedelta(seconds=1), utcnow()
    recorder.add(row(item, at=genuine))
    recorder.add(row(item, at=linked, verdict=Verdict.unverified))
    assert [at for _, at in recorder.pending(item.id)] == [genuine]
    # Dropping a Digital Link scan for want of room takes no code scan with it.
    recorder.add(row(item, verdict=Verdict.unverified))
    recorder.add(row(item, verdict=Verdict.unverified))
    assert [at for _, at in recorder.pending(item.id)] == []  # the oldest, genuine, dropped
    recorder.add(row(item, at=linked))
    recorder.add(row(item, verdict=Verdict.unverified))  # drops the first unverified one
    assert [at for _, at in recorder.pending(item.id)] == [linked]
    assert recorder.flush() == 3 and stored(engine, item) == 3
    recorder.close()


def test_the_thread_writes_within_its_interval(engine, item):
    recorder = ScanRecorder(engine, interval=0.05)
    try:
        recorder.add(row(item))
        deadline = time.monotonic() + 10
        while stored(engine, item) == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert stored(engine, item) == 1
    finally:
        recorder.close()


def test_closing_writes_what_is_left(engine, item):
    recorder = ScanRecorder(engine, interval=NEVER)
    recorder.add(row(item))
    recorder.add(row(item))
    recorder.close()
    assert stored(engine, item) == 2


def test_a_failed_write_keeps_the_scans_for_the_next_attempt(
    engine, recorder, item, monkeypatch, caplog
):
    recorder.add(row(item))
    real_write = recorder._write

    def database_down(rows):
        raise OSError("connection refused")

    monkeypatch.setattr(recorder, "_write", database_down)
    with caplog.at_level(logging.WARNING):
        assert recorder.flush() == 0
    assert "1 scans not written yet" in caplog.text
    assert len(recorder.pending(item.id)) == 1  # still counted by the verdicts
    recorder.add(row(item))

    monkeypatch.setattr(recorder, "_write", real_write)
    assert recorder.flush() == 2
    assert stored(engine, item) == 2 and recorder.pending(item.id) == []


def test_a_database_down_for_long_cannot_exhaust_memory(engine, item, caplog):
    recorder = ScanRecorder(engine, interval=NEVER, max_pending=3)
    times = [utcnow() + dt.timedelta(seconds=n) for n in range(5)]
    with caplog.at_level(logging.WARNING):
        for at in times:
            recorder.add(row(item, at=at))
    assert "scans dropped" in caplog.text
    assert [at for _, at in recorder.pending(item.id)] == times[2:]  # the newest three
    assert recorder.flush() == 3
    recorder.close()


def test_the_verdict_counts_scans_not_yet_written(engine, recorder, item):
    rules = scans.SuspicionRules(window=dt.timedelta(hours=72), max_scans=4, max_clients=6)
    earlier = utcnow() - dt.timedelta(hours=1)
    with make_sessionmaker(engine)() as session:
        scans.record_scan(session, item, Verdict.genuine, "a", "en", None, secret="s")
        session.commit()
        for _ in range(2):
            recorder.add(row(item, at=earlier))
        pending = recorder.pending(item.id)
        check = judge(session, item, rules, {item.id: pending}.get)
        assert check.scan_count == 4 and check.verdict is Verdict.genuine
        recorder.add(row(item))
        check = judge(session, item, rules, recorder.pending)
        assert check.scan_count == 5 and check.reasons == ("many_scans",)


def test_first_scan_time_comes_from_pending_scans_when_none_is_stored(engine, recorder, item):
    earlier = utcnow() - dt.timedelta(minutes=5)
    recorder.add(row(item, at=earlier))
    with make_sessionmaker(engine)() as session:
        check = judge(session, item, scans.SuspicionRules(), recorder.pending)
    assert check.first_scanned_at == earlier and check.scan_count == 2


def test_a_batch_committed_while_the_page_asks_is_counted_once(engine, recorder, item):
    # The page asks for the pending scans, then the batch commits, then the page reads:
    # the scans are in both, and must count once.
    for _ in range(3):
        recorder.add(row(item))
    pending = recorder.pending(item.id)
    recorder.flush()
    with make_sessionmaker(engine)() as session:
        check = judge(session, item, scans.SuspicionRules(), {item.id: pending}.get)
    assert check.scan_count == 4


def test_a_row_the_database_refuses_is_dropped_alone(engine, recorder, item, caplog):
    recorder.add(row(item))
    recorder.add({**row(item), "item_id": 2**31 - 1})  # no such item: the foreign key fails
    recorder.add(row(item))
    with caplog.at_level(logging.WARNING):
        assert recorder.flush() == 2
    assert "refused by the database and dropped" in caplog.text
    assert stored(engine, item) == 2 and stored(engine) == 2
    assert recorder.pending(item.id) == []


def test_closing_does_not_hang_on_a_write_that_does_not_end(engine, item, caplog):
    recorder = ScanRecorder(engine, interval=NEVER)
    recorder.add(row(item))
    recorder._write_lock.acquire()  # a write under way that never ends
    try:
        started = time.monotonic()
        with caplog.at_level(logging.WARNING):
            recorder.close(timeout=0.2)
        assert time.monotonic() - started < 5
        assert "did not end" in caplog.text
    finally:
        recorder._write_lock.release()
    assert recorder.flush() == 1  # still held, and written once the database answers
