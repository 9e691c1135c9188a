"""The audit trail: every write appends a hash-chained entry, and tampering is found."""

import datetime as dt
import json

import pytest
from sqlalchemy import select, text

from tests import factories
from trace.audit.models import GENESIS_HASH, AuditEntry
from trace.audit.services import entry_hash, verify_chain
from trace.auth import services as auth
from trace.auth.models import Role
from trace.catalog import services as catalog
from trace.production import services as production
from trace.production.models import BatchStatus


def _entries(session) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))


def _last(session) -> AuditEntry:
    return _entries(session)[-1]


def _three_entries(session) -> None:
    for _ in range(3):
        factories.make_line(session)
    assert [e.seq for e in _entries(session)] == [1, 2, 3]


# Each write a domain service offers, with the action it must leave in the trail.
WRITES = {
    "product.create": lambda s: factories.make_product(s),
    "site.create": lambda s: catalog.create_site(s, "test", code="SZ", name="Shenzhen"),
    "line.create": lambda s: factories.make_line(s),
    "station.create": lambda s: factories.make_station(s),
    "inspector.create": lambda s: factories.make_inspector(s),
    "material_lot.create": lambda s: factories.make_material_lot(s),
    "batch.open": lambda s: factories.make_batch(s),
    "batch.link_material_lots": lambda s: production.link_material_lots(
        s, "test", factories.make_batch(s), [factories.make_material_lot(s).id]
    ),
    "batch.status": lambda s: production.change_batch_status(
        s, "test", factories.make_batch(s), BatchStatus.released
    ),
    "user.create": lambda s: auth.create_user(
        s, "test", username="li", name="Li Na", password="correct horse battery", role=Role.quality
    ),
    "api_key.create": lambda s: factories.make_key(s, "line"),
    "api_key.revoke": lambda s: auth.revoke_api_key(s, "test", factories.make_key(s)[0].prefix),
}


@pytest.mark.parametrize("action", list(WRITES))
def test_every_domain_write_appends_an_audit_entry(session, action):
    WRITES[action](session)
    last = _last(session)
    assert last.action == action
    assert last.actor == "test"
    assert last.entity_id is not None
    assert last.occurred_at.tzinfo is not None
    assert json.loads(last.data) is not None
    assert verify_chain(session).ok


def test_an_entry_names_the_entity_and_what_changed(session):
    product = factories.make_product(session, sku="KET-1")
    last = _last(session)
    assert (last.entity_type, last.entity_id) == ("product", str(product.id))
    assert json.loads(last.data) == {"sku": "KET-1", "gtin": None}


def test_entries_chain_from_the_genesis_hash(session):
    _three_entries(session)
    first, second, third = _entries(session)
    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.hash
    assert third.prev_hash == second.hash
    assert len({first.hash, second.hash, third.hash}) == 3


def test_an_intact_chain_verifies(session):
    _three_entries(session)
    report = verify_chain(session)
    assert report.ok
    assert report.checked == 3


def test_an_empty_trail_verifies(session):
    report = verify_chain(session)
    assert report.ok
    assert report.checked == 0


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("data", '{"code":"FORGED"}'),
        ("actor", "someone-else"),
        ("action", "line.delete"),
        ("entity_id", "999"),
    ],
)
def test_tampering_with_a_stored_row_is_reported_at_that_entry(session, column, value):
    _three_entries(session)
    session.execute(
        text(f"UPDATE audit_entry SET {column} = :value WHERE seq = 2"), {"value": value}
    )
    report = verify_chain(session)
    assert not report.ok
    assert report.broken_at == 2
    assert report.checked == 1
    assert "content" in report.reason


def test_a_changed_time_is_reported(session):
    _three_entries(session)
    later = dt.datetime(2030, 1, 1)  # stored naive UTC, as the column keeps it
    session.execute(text("UPDATE audit_entry SET occurred_at = :t WHERE seq = 1"), {"t": later})
    report = verify_chain(session)
    assert report.broken_at == 1


def test_a_deleted_entry_is_reported(session):
    _three_entries(session)
    session.execute(text("DELETE FROM audit_entry WHERE seq = 2"))
    report = verify_chain(session)
    assert not report.ok
    assert report.reason == "entry 2 is missing"
    assert report.broken_at == 3


def test_deleting_the_last_entry_is_reported(session):
    _three_entries(session)
    session.execute(text("DELETE FROM audit_entry WHERE seq = 3"))
    report = verify_chain(session)
    assert not report.ok
    assert report.broken_at == 3
    assert "head" in report.reason


def test_a_forged_hash_on_the_last_entry_is_caught(session):
    _three_entries(session)
    session.execute(text("UPDATE audit_entry SET hash = :h WHERE seq = 3"), {"h": "f" * 64})
    report = verify_chain(session)
    assert not report.ok
    assert report.broken_at == 3


def test_rewriting_the_last_entry_with_a_consistent_hash_is_caught_by_the_head(session):
    _three_entries(session)
    last = _last(session)
    forged_data = '{"code":"FORGED"}'
    forged_hash = entry_hash(
        last.prev_hash,
        last.seq,
        last.occurred_at,
        last.actor,
        last.action,
        last.entity_type,
        last.entity_id,
        forged_data,
    )
    session.execute(
        text("UPDATE audit_entry SET data = :d, hash = :h WHERE seq = 3"),
        {"d": forged_data, "h": forged_hash},
    )
    report = verify_chain(session)
    assert not report.ok
    assert report.broken_at == 3
    assert "head" in report.reason


def test_a_relinked_entry_is_reported(session):
    _three_entries(session)
    session.execute(text("UPDATE audit_entry SET prev_hash = :h WHERE seq = 2"), {"h": "0" * 64})
    report = verify_chain(session)
    assert report.broken_at == 2
    assert "link" in report.reason


def test_a_failed_write_leaves_no_entry(session):
    factories.make_product(session, sku="KET-1")
    before = factories.count(session, AuditEntry)
    with pytest.raises(Exception, match="exists"):
        factories.make_product(session, sku="KET-1")
    assert factories.count(session, AuditEntry) == before
    assert verify_chain(session).ok
