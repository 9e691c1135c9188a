"""Serializing a batch: serials, codes, all or nothing."""

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests import factories
from trace import codes
from trace.audit.models import AuditEntry
from trace.db import make_engine
from trace.errors import Conflict, Invalid
from trace.production.models import Batch, BatchStatus, Item
from trace.production.serialization import (
    MAX_ITEMS_PER_CALL,
    parse_serial_csv,
    serialize,
)
from trace.production.serials import InvalidSerialFormat, compile_format
from trace.production.services import change_batch_status

ACTOR = factories.ACTOR
REPO = Path(__file__).resolve().parents[2]


def items_of(session, batch):
    return session.scalars(select(Item).where(Item.batch_id == batch.id).order_by(Item.id)).all()


def test_count_makes_items_with_scheme_serials_and_valid_unique_codes(session):
    batch = factories.make_batch(session, lot_number="KT2610A")
    result = serialize(session, ACTOR, batch, count=25)
    items = items_of(session, batch)
    assert [i.serial for i in items] == [f"KT2610A-{n:06d}" for n in range(1, 26)]
    assert len({i.code for i in items}) == 25
    assert all(codes.normalize_code(i.code) == i.code for i in items)
    assert (result.count, result.first_serial, result.last_serial) == (
        25,
        "KT2610A-000001",
        "KT2610A-000025",
    )


def test_a_second_call_continues_the_sequence(session):
    batch = factories.make_batch(session, lot_number="L1")
    serialize(session, ACTOR, batch, count=3)
    result = serialize(session, ACTOR, batch, count=2)
    assert (result.first_serial, result.last_serial) == ("L1-000004", "L1-000005")


def test_product_serial_format_is_used(session):
    product = factories.make_product(session, serial_format="HD{yy}{seq:7}")
    batch = factories.make_batch(session, product=product)
    serialize(session, ACTOR, batch, count=2)
    year = batch.created_at.year % 100
    assert [i.serial for i in items_of(session, batch)] == [
        f"HD{year:02d}0000001",
        f"HD{year:02d}0000002",
    ]


def test_a_scheme_that_makes_over_long_serials_is_refused_before_writing(session):
    batch = factories.make_batch(session, lot_number="A" * 18)
    before = factories.count(session, Item)
    with pytest.raises(Invalid) as error:
        serialize(session, ACTOR, batch, count=5)
    assert "serial_format" in error.value.fields
    assert factories.count(session, Item) == before


@pytest.mark.parametrize("count", [0, -1, MAX_ITEMS_PER_CALL + 1, True, 2.5])
def test_count_out_of_range_is_refused(session, count):
    batch = factories.make_batch(session)
    with pytest.raises(Invalid) as error:
        serialize(session, ACTOR, batch, count=count)
    assert "count" in error.value.fields


@pytest.mark.parametrize("status", [BatchStatus.recalled, BatchStatus.on_hold, BatchStatus.closed])
def test_batches_that_are_not_open_or_released_cannot_be_serialized(session, status):
    batch = factories.make_batch(session)
    change_batch_status(session, ACTOR, batch, BatchStatus.released)
    change_batch_status(session, ACTOR, batch, status, "reason")
    with pytest.raises(Conflict) as error:
        serialize(session, ACTOR, batch, count=1)
    assert "status" in error.value.fields
    assert items_of(session, batch) == []


def test_given_serials_are_used_as_they_are(session):
    batch = factories.make_batch(session)
    serialize(session, ACTOR, batch, serials=["SN.001", "SN_002", "sn-003"])
    assert [i.serial for i in items_of(session, batch)] == ["SN.001", "SN_002", "sn-003"]


def test_bad_and_duplicate_serials_are_reported_by_index_and_nothing_is_written(session):
    batch = factories.make_batch(session)
    with pytest.raises(Invalid) as error:
        serialize(session, ACTOR, batch, serials=["OK1", "bad serial", "OK1", "X" * 21, "a/b"])
    problems = error.value.fields["serials"]
    assert set(problems) == {"1", "2", "3", "4"}
    assert "duplicate of index 0" in problems["2"][0]
    assert items_of(session, batch) == []


def test_serials_that_exist_for_the_product_are_a_conflict(session):
    batch = factories.make_batch(session)
    serialize(session, ACTOR, batch, serials=["A1", "A2"])
    other = factories.make_batch(session, product=batch.product)
    with pytest.raises(Conflict) as error:
        serialize(session, ACTOR, other, serials=["B1", "A2"])
    assert error.value.fields == {"serials": {"1": ["serial already exists for this product"]}}


def test_serialization_is_audited_once_with_its_range(session):
    batch = factories.make_batch(session, lot_number="AUD1")
    serialize(session, ACTOR, batch, count=3)
    entry = session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).one()
    assert entry.action == "batch.serialize"
    assert '"first_serial":"AUD1-000001"' in entry.data and '"count":3' in entry.data


def test_csv_with_header_and_blank_lines():
    assert parse_serial_csv("serial,colour\nA-1,red\n\nA-2,blue\n") == ["A-1", "A-2"]


def test_csv_without_header_uses_the_first_column():
    assert parse_serial_csv("A-1\nA-2\n") == ["A-1", "A-2"]


def test_csv_problems_are_reported_by_line():
    with pytest.raises(Invalid) as error:
        parse_serial_csv("serial\nA-1\nA 2\nA-1\n" + "Z" * 21 + "\n")
    assert error.value.fields["csv"] == {
        "line 3": ["'A 2': only A-Z a-z 0-9 . _ - are allowed"],
        "line 4": ["'A-1': duplicate of line 2"],
        "line 5": [f"'{'Z' * 21}': 21 characters; at most 20"],
    }


def test_empty_csv_is_refused():
    with pytest.raises(Invalid):
        parse_serial_csv("serial\n\n")


@pytest.mark.parametrize(
    "template", ["", "{lot.__class__}", "{seq:0}", "{lot}", "{lot} {seq}", "{seq:20}", "{{seq}}"]
)
def test_invalid_serial_formats_are_refused(template):
    with pytest.raises(InvalidSerialFormat):
        compile_format(template)


def test_a_process_killed_midway_leaves_no_items(tmp_path):
    """The whole serialization is one transaction: SIGKILL before commit leaves nothing."""
    url = f"sqlite:///{tmp_path / 'kill.db'}"
    script = textwrap.dedent(f"""
        import sys
        from trace import migrate
        from trace.db import make_engine, make_sessionmaker
        from tests import factories
        from trace.production.serialization import serialize
        migrate.upgrade({url!r})
        session = make_sessionmaker(make_engine({url!r}))()
        batch = factories.make_batch(session)
        session.commit()
        def progress(done):
            print(done, flush=True)
            if done >= 30000:
                import time; time.sleep(60)
        serialize(session, "test", batch, count=100000, progress=progress)
        session.commit()
    """)
    with subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=REPO
    ) as child:
        for line in child.stdout:
            if int(line) >= 30000:
                break
        child.send_signal(signal.SIGKILL)
    engine = make_engine(url)
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Item.__table__)) == 0
        assert conn.scalar(select(func.count()).select_from(Batch.__table__)) == 1
    engine.dispose()


def test_units_can_be_dated_when_they_were_made(session):
    import datetime as dt

    batch = factories.make_batch(session)
    made = dt.datetime(2026, 10, 2, 6, tzinfo=dt.UTC)
    serialize(session, ACTOR, batch, count=2, produced_at=made)
    assert {i.produced_at for i in items_of(session, batch)} == {made}


def test_units_cannot_be_dated_in_the_future(session):
    import datetime as dt

    batch = factories.make_batch(session)
    with pytest.raises(Invalid) as error:
        serialize(
            session, ACTOR, batch, count=1, produced_at=dt.datetime(2999, 1, 1, tzinfo=dt.UTC)
        )
    assert "produced_at" in error.value.fields
