"""SQLite writers queue on the write lock: each goes in when the one before has finished.

These run on an SQLite file of their own whatever database the suite uses: the lock is
how the service shares an embedded SQLite database between threads and processes.
"""

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from trace import db
from trace.db import begin_write, make_engine, make_sessionmaker

REPO = Path(__file__).resolve().parents[2]
# How long a writer that should be waiting is given to show it is not.
STILL_WAITING = 0.3


@pytest.fixture
def sessions(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'lock.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT)"))
    yield make_sessionmaker(engine)
    engine.dispose()


def writer(sessions, began: threading.Event, done: threading.Event, errors: list):
    """A thread that opens a write transaction, notes that it got in, writes and commits."""

    def run():
        try:
            with sessions() as session:
                begin_write(session)
                began.set()
                session.execute(text("INSERT INTO note (body) VALUES ('second')"))
                session.commit()
        except Exception as error:  # the test reports it
            errors.append(error)
        finally:
            done.set()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pytest.mark.parametrize("end", ["commit", "rollback", "close"])
def test_a_second_writer_goes_in_once_the_first_has_ended(sessions, end):
    first = sessions()
    begin_write(first)
    first.execute(text("INSERT INTO note (body) VALUES ('first')"))
    began, done, errors = threading.Event(), threading.Event(), []
    thread = writer(sessions, began, done, errors)
    assert not began.wait(STILL_WAITING)
    getattr(first, end)()
    thread.join(10)
    assert began.is_set() and not errors
    first.close()
    with sessions() as session:
        bodies = session.scalars(text("SELECT body FROM note ORDER BY id")).all()
    assert bodies == (["first", "second"] if end == "commit" else ["second"])


def test_readers_do_not_wait_for_a_writer(sessions):
    with sessions() as first:
        begin_write(first)
        first.execute(text("INSERT INTO note (body) VALUES ('uncommitted')"))
        with sessions() as reader:
            assert reader.scalar(text("SELECT count(*) FROM note")) == 0


def test_a_writer_that_waits_too_long_gets_database_is_locked(sessions, monkeypatch):
    monkeypatch.setattr(db, "SQLITE_BUSY_TIMEOUT_MS", 100)
    with sessions() as first:
        begin_write(first)
        with sessions() as second, pytest.raises(OperationalError, match="database is locked"):
            begin_write(second)
    with sessions() as third:  # the lock was not kept by the one that gave up
        begin_write(third)
        third.commit()


HOLDER = """
import sys
from sqlalchemy import text
from trace.db import begin_write, make_engine, make_sessionmaker
session = make_sessionmaker(make_engine({url!r}))()
begin_write(session)
session.execute(text("INSERT INTO note (body) VALUES ('other process')"))
print("holding", flush=True)
sys.stdin.readline()
session.commit()
print("committed", flush=True)
"""


def test_writers_of_another_process_are_waited_for(sessions, tmp_path):
    url = f"sqlite:///{tmp_path / 'lock.db'}"
    with subprocess.Popen(
        [sys.executable, "-c", HOLDER.format(url=url)],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as holder:
        assert holder.stdout.readline().strip() == "holding"
        began, done, errors = threading.Event(), threading.Event(), []
        thread = writer(sessions, began, done, errors)
        assert not began.wait(STILL_WAITING)
        holder.stdin.write("go\n")
        holder.stdin.flush()
        assert holder.stdout.readline().strip() == "committed"
        thread.join(10)
    assert began.is_set() and not errors
    with sessions() as session:
        assert session.scalars(text("SELECT body FROM note ORDER BY id")).all() == [
            "other process",
            "second",
        ]


def test_many_threads_writing_at_once_all_get_in(sessions):
    count, errors = 8, []

    def run(n):
        try:
            for _ in range(20):
                with sessions() as session:
                    begin_write(session)
                    session.execute(text("INSERT INTO note (body) VALUES (:b)"), {"b": str(n)})
                    time.sleep(0)  # let another thread try meanwhile
                    session.commit()
        except Exception as error:  # the test reports it
            errors.append(error)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    with sessions() as session:
        assert session.scalar(text("SELECT count(*) FROM note")) == count * 20
