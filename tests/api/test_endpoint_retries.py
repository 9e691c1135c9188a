"""A write PostgreSQL failed to break a deadlock is run again; other failures are not."""

from types import SimpleNamespace

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from api.endpoint import TRIES, _run


class Session:
    def __init__(self):
        self.log = []

    def commit(self):
        self.log.append("commit")

    def rollback(self):
        self.log.append("rollback")

    def connection(self, **_):
        self.log.append("begin")


class DriverError(Exception):
    def __init__(self, sqlstate=None):
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


def handler_failing(times: int, error):
    calls = []

    def handler(call):
        calls.append(call)
        if len(calls) <= times:
            raise error
        return "done"

    return handler, calls


def call_with(session):
    return SimpleNamespace(session=session)


def deadlock(sqlstate="40P01"):
    return OperationalError("UPDATE item ...", {}, DriverError(sqlstate))


@pytest.mark.parametrize("sqlstate", ["40P01", "40001"])
def test_a_write_that_lost_a_deadlock_is_run_again_in_a_new_transaction(sqlstate):
    session, spec = Session(), SimpleNamespace(method="POST", idempotent=False)
    handler, calls = handler_failing(1, deadlock(sqlstate))
    assert _run(spec, handler, call_with(session), {}) == "done"
    assert len(calls) == 2 and session.log == ["rollback", "begin", "commit"]


def test_a_write_that_keeps_losing_fails_after_the_last_try():
    session, spec = Session(), SimpleNamespace(method="POST", idempotent=True)
    handler, calls = handler_failing(TRIES, deadlock())
    with pytest.raises(OperationalError):
        _run(spec, handler, call_with(session), {})
    assert len(calls) == TRIES and "commit" not in session.log


@pytest.mark.parametrize(
    ("method", "error"),
    [
        ("POST", OperationalError("...", {}, DriverError())),  # SQLite's "database is locked"
        ("POST", OperationalError("...", {}, DriverError("08006"))),  # the connection broke
        ("GET", deadlock()),
    ],
)
def test_other_failures_and_reads_are_not_run_again(method, error):
    session, spec = Session(), SimpleNamespace(method=method, idempotent=True)
    handler, calls = handler_failing(1, error)
    with pytest.raises(OperationalError):
        _run(spec, handler, call_with(session), {})
    assert len(calls) == 1


def test_an_idempotent_post_that_lost_a_uniqueness_race_gets_one_more_try():
    session = Session()
    error = IntegrityError("INSERT ...", {}, DriverError("23505"))
    handler, calls = handler_failing(1, error)
    assert _run(SimpleNamespace(method="POST", idempotent=True), handler, call_with(session), {})
    handler, calls = handler_failing(2, error)
    with pytest.raises(IntegrityError):
        _run(SimpleNamespace(method="POST", idempotent=True), handler, call_with(session), {})
    assert len(calls) == 2
    handler, calls = handler_failing(1, error)
    with pytest.raises(IntegrityError):
        _run(SimpleNamespace(method="POST", idempotent=False), handler, call_with(session), {})
    assert len(calls) == 1
