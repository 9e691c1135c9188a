"""Appending to the audit chain with a guessed head: two statements, never a broken chain."""

import pytest
from sqlalchemy import event, select

from trace.audit import services as audit
from trace.audit.models import AuditHead
from trace.audit.services import HEAD_ID, record_audit, verify_chain


def append(session, n=1):
    for i in range(n):
        record_audit(
            session, actor="test", action="thing.do", entity_type="thing", entity_id=i, data={}
        )


def head(session):
    return session.get(AuditHead, HEAD_ID, populate_existing=True)


@pytest.fixture
def statements(session):
    """The statements the session's connection runs, as they run."""
    seen = []

    def count(_conn, _cursor, statement, *_):
        seen.append(statement.split()[0])

    connection = session.connection()
    event.listen(connection, "before_cursor_execute", count)
    yield seen
    event.remove(connection, "before_cursor_execute", count)


def test_the_chain_holds_whatever_the_guess(session):
    append(session, 3)
    connection = session.connection()
    guesses = [None, (0, "0" * 64), (head(session).seq, "f" * 64), (head(session).seq + 5, "x")]
    for guess in guesses:
        audit._last_heads.heads.pop(connection.engine.url.database, None)
        if guess is not None:
            audit._last_heads.heads[connection.engine.url.database] = guess
        append(session)
    assert verify_chain(session).ok
    assert head(session).seq == session.scalar(
        select(audit.AuditEntry.seq).order_by(audit.AuditEntry.seq.desc()).limit(1)
    )


def test_an_append_after_a_rolled_back_one_reads_the_head(session):
    append(session)
    nested = session.begin_nested()
    append(session, 2)  # guessed heads move on in this process's memory...
    nested.rollback()  # ...but not in the database
    append(session)
    assert verify_chain(session).ok


def test_a_right_guess_saves_reading_the_head(session, statements):
    append(session)
    statements.clear()
    append(session)
    if session.connection().dialect.name == "sqlite":
        assert statements == ["UPDATE", "INSERT"]
    else:  # several processes write to PostgreSQL: the head is always read and locked
        assert statements == ["SELECT", "UPDATE", "INSERT"]
