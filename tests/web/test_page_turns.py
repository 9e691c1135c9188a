"""Scan pages on SQLite take turns and share a kept connection; elsewhere they do not."""

import threading

import pytest
from sqlalchemy import create_engine, text

from trace.db import make_engine
from web.scan import PageTurns


@pytest.fixture
def sqlite_turns(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'turns.db'}")
    yield PageTurns(engine)
    engine.dispose()


def pages_inside_at_once(turns: PageTurns, pages: int = 4) -> int:
    """How many of `pages` threads were inside a turn at the same time, at most."""
    inside, most, lock = 0, 0, threading.Lock()
    all_started = threading.Barrier(pages)

    def page():
        nonlocal inside, most
        all_started.wait()
        with turns.turn():
            with lock:
                inside += 1
                most = max(most, inside)
            threading.Event().wait(0.05)
            with lock:
                inside -= 1

    threads = [threading.Thread(target=page) for _ in range(pages)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return most


def test_pages_take_turns_on_sqlite(sqlite_turns):
    assert pages_inside_at_once(sqlite_turns) == 1


def test_pages_do_not_wait_for_each_other_on_postgresql():
    engine = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")  # never connects
    assert pages_inside_at_once(PageTurns(engine)) > 1


def test_pages_read_on_one_kept_connection_each_in_a_transaction(sqlite_turns):
    with sqlite_turns.turn(), sqlite_turns.reading() as first:
        assert first.in_transaction()
        first.execute(text("SELECT 1"))
    with sqlite_turns.turn(), sqlite_turns.reading() as second:
        assert second is first
    assert not first.in_transaction()


def test_a_failed_read_leaves_the_kept_connection_behind(sqlite_turns):
    failing = pytest.raises(Exception, match="no such table")
    with failing, sqlite_turns.turn(), sqlite_turns.reading() as broken:
        broken.execute(text("SELECT * FROM nothing_here"))
    assert broken.closed
    with sqlite_turns.turn(), sqlite_turns.reading() as fresh:
        assert fresh is not broken
        assert fresh.execute(text("SELECT 1")).scalar() == 1
