"""The schema comes from the migrations, and the models agree with it."""

import datetime as dt
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from tests import factories
from trace import migrate
from trace.db import make_engine
from trace.models import Base
from trace.service.models import Repair, RepairOutcome


def test_models_and_migrations_agree(connection):
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    assert compare_metadata(context, Base.metadata) == []


def test_every_model_table_is_created_by_the_migrations(connection):
    tables = set(inspect(connection).get_table_names())
    assert set(Base.metadata.tables) <= tables


def test_migrations_run_down_and_up_again_on_a_fresh_database(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    migrate.upgrade(url)
    migrate.downgrade(url, "base")
    engine = make_engine(url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    migrate.upgrade(url)
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_duplicates_the_new_indexes_forbid_are_named_before_they_are_built(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    migrate.upgrade(url, "7c3e91d4a5b0")  # before one host per part, one open repair
    engine = make_engine(url)
    with Session(engine) as session:  # the tables are as the models have them, but indexes
        unit = factories.make_item(session)
        for _ in range(2):  # two open repairs of one unit, as a race left them
            session.add(Repair(**open_repair(unit)))
        session.commit()
        ids = sorted(session.scalars(select(Repair.id)))
        unit_id = unit.id
    expected = (
        f"a unit in two open repairs \\(repair ids\\): {unit_id}: {ids[0]}, {unit_id}: {ids[1]}"
    )
    with pytest.raises(RuntimeError, match=expected):
        migrate.upgrade(url)
    with Session(engine) as session:  # settled: the second one voided
        session.get(Repair, ids[1]).voided_at = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
        session.commit()
    migrate.upgrade(url)
    assert "uq_repair_open_item_id" in {i["name"] for i in inspect(engine).get_indexes("repair")}
    engine.dispose()


def open_repair(unit) -> dict:
    return {
        "item_id": unit.id,
        "technician": "T",
        "received_at": dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
        "symptom": "noise",
        "outcome": RepairOutcome.pending,
        "under_warranty": True,
        "event_id": uuid.uuid4(),
        "payload_hash": "x",
        "recorded_by": "test",
    }
