"""On SQLite scan pages take turns and share a kept connection, and API writes take
turns of their own; elsewhere they do not."""

import threading

import pytest
from flask import request
from sqlalchemy import column, create_engine, func, literal, select, table
from sqlalchemy.exc import OperationalError

from trace.db import make_engine
from trace.scans.queries import CompiledQuery
from web.scan import PageTurns
from web.turns import WRITE_TURNS, Turns

ONE = CompiledQuery(select(literal(1)))
COUNT = CompiledQuery(select(func.count()).select_from(table("t")))
MISSING = CompiledQuery(select(column("x")).select_from(table("nothing_here")))


@pytest.fixture
def sqlite_turns(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'turns.db'}")
    yield PageTurns(engine)
    engine.dispose()


def pages_inside_at_once(turns: PageTurns, pages: int = 4, hold: float = 0.05) -> int:
    """How many of `pages` threads were inside a turn at the same time, at most. Each
    stays inside for `hold` seconds, or until another page is inside with it."""
    inside, most, lock = 0, 0, threading.Lock()
    all_started, together = threading.Barrier(pages), threading.Event()

    def page():
        nonlocal inside, most
        all_started.wait()
        with turns.turn():
            with lock:
                inside += 1
                most = max(most, inside)
                if inside > 1:
                    together.set()
            together.wait(hold)
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
    # However slowly the threads get going, a second page gets in while the first waits.
    assert pages_inside_at_once(PageTurns(engine), hold=10) > 1


def driver(connection):
    return connection.connection.dbapi_connection


def test_pages_read_on_one_kept_connection_each_in_a_transaction(sqlite_turns):
    with sqlite_turns.turn(), sqlite_turns.reading() as first:
        assert driver(first).in_transaction
        assert ONE.rows(first) == [(1,)]
    with sqlite_turns.turn(), sqlite_turns.reading() as second:
        assert second is first
    assert not driver(first).in_transaction


def test_a_page_reads_one_view_of_the_data(sqlite_turns, tmp_path):
    writer = make_engine(f"sqlite:///{tmp_path / 'turns.db'}")
    with writer.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    with sqlite_turns.turn(), sqlite_turns.reading() as page:
        assert COUNT.rows(page) == [(0,)]
        with writer.begin() as connection:  # another writer commits meanwhile
            connection.exec_driver_sql("INSERT INTO t VALUES (1)")
        assert COUNT.rows(page) == [(0,)]
    with sqlite_turns.turn(), sqlite_turns.reading() as next_page:
        assert COUNT.rows(next_page) == [(1,)]
    writer.dispose()


def test_a_failed_read_leaves_the_kept_connection_behind(sqlite_turns):
    failing = pytest.raises(Exception, match="no such table")
    with failing, sqlite_turns.turn(), sqlite_turns.reading() as broken:
        MISSING.rows(broken)
    assert broken.closed
    with sqlite_turns.turn(), sqlite_turns.reading() as fresh:
        assert fresh is not broken
        assert ONE.rows(fresh) == [(1,)]


class CountingTurn:
    """A turn that counts the requests made within it."""

    def __init__(self):
        self.entered = 0

    def __enter__(self):
        self.entered += 1

    def __exit__(self, *exc_info):
        return False


def test_api_writes_are_made_within_their_turn_and_reads_are_not(app, api, session):
    turn = app.extensions[WRITE_TURNS] = CountingTurn()
    client = api("admin")
    created = client.post("/api/v1/lines", json={"code": "L-TURN", "name": "Turn line"})
    assert created.status_code == 201
    assert client.get("/api/v1/lines").status_code == 200
    refused = client.post("/api/v1/lines", json={"code": ""})  # a refused write too
    assert refused.status_code == 422
    assert turn.entered == 2


def test_the_apps_write_turns_are_turns_only_on_sqlite(app):
    turn = app.extensions[WRITE_TURNS]
    on_sqlite = app.extensions["trace"].engine.dialect.name == "sqlite"
    assert isinstance(turn, Turns) is on_sqlite


def test_a_write_reads_its_body_before_it_takes_its_turn(app, api):
    class BodyReadFirst(CountingTurn):
        def __enter__(self):
            super().__enter__()
            # The whole body is in hand: a slow upload did not hold the turn.
            self.body_read = "_cached_data" in request.__dict__

    turn = app.extensions[WRITE_TURNS] = BodyReadFirst()
    api("admin").post("/api/v1/lines", json={"code": "L-BODY", "name": "Body line"})
    assert turn.entered == 1 and turn.body_read


def test_a_turn_waited_for_too_long_is_a_locked_database():
    turns, failures = Turns(timeout=0.05), []
    with turns:  # held here while another request waits for it
        other = threading.Thread(target=_enter_or_record, args=(turns, failures))
        other.start()
        other.join()
    assert [str(failure.orig) for failure in failures] == ["database is locked"]


def _enter_or_record(turns: Turns, failures: list) -> None:
    try:
        with turns:
            pass
    except OperationalError as error:
        failures.append(error)


def test_the_kept_connection_is_read_only_within_a_turn(sqlite_turns):
    with pytest.raises(RuntimeError, match="in its turn"), sqlite_turns.reading():
        pass


def test_a_failed_begin_leaves_the_kept_connection_behind(sqlite_turns, monkeypatch):
    with sqlite_turns.turn(), sqlite_turns.reading() as first:
        pass
    # A transaction left open on the driver (as after a crash mid-page) fails the next BEGIN.
    driver(first).execute("BEGIN")
    failing = pytest.raises(Exception, match="within a transaction")
    with failing, sqlite_turns.turn(), sqlite_turns.reading():
        pass
    with sqlite_turns.turn(), sqlite_turns.reading() as fresh:
        assert fresh is not first and ONE.rows(fresh) == [(1,)]
