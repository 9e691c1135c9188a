"""Voiding immutable trace records: a reason, a link to the replacement, and only once."""

import datetime as dt
import uuid

import pytest
from sqlalchemy.exc import IntegrityError

from tests import factories
from trace.db import utcnow
from trace.errors import Conflict, Invalid
from trace.quality.models import Inspection, InspectionResult
from trace.records import void_record


def _inspection(session, item=None, station=None, inspector=None) -> Inspection:
    item = item or factories.make_item(session)
    inspection = Inspection(
        item_id=item.id,
        station_id=(station or factories.make_station(session)).id,
        inspector_id=(inspector or factories.make_inspector(session)).id,
        occurred_at=dt.datetime(2026, 11, 2, 9, 30, tzinfo=dt.UTC),
        result=InspectionResult.passed,
        event_id=uuid.uuid4(),
        payload_hash="x",
        recorded_by="test",
    )
    session.add(inspection)
    session.flush()
    return inspection


def _reloaded(session, record):
    session.flush()
    session.expire(record)
    return session.get(type(record), record.id)


def test_a_new_record_is_not_voided(session):
    record = _inspection(session)
    assert not record.is_voided
    assert (record.voided_at, record.voided_by, record.void_reason) == (None, None, None)


def test_void_keeps_who_when_and_why(session):
    record = _inspection(session)
    before = utcnow()
    void_record(session, "qe:li", record, "  wrong station scanned  ")
    stored = _reloaded(session, record)
    assert stored.is_voided
    assert stored.voided_by == "qe:li"
    assert stored.void_reason == "wrong station scanned"
    assert before <= stored.voided_at <= utcnow()


def test_void_links_the_replacement_to_the_record_it_replaces(session):
    item = factories.make_item(session)
    wrong = _inspection(session, item)
    right = _inspection(session, item)
    void_record(
        session,
        record=wrong,
        actor="qe:li",
        reason="recorded as pass, was rework",
        replacement=right,
    )
    assert _reloaded(session, right).replaces_id == wrong.id
    assert _reloaded(session, wrong).replaces_id is None


def test_a_record_cannot_be_voided_twice(session):
    record = _inspection(session)
    void_record(session, "qe:li", record, "first correction")
    with pytest.raises(Conflict):
        void_record(session, "qe:wang", record, "second correction")
    stored = _reloaded(session, record)
    assert (stored.voided_by, stored.void_reason) == ("qe:li", "first correction")


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_voiding_needs_a_reason(session, reason):
    record = _inspection(session)
    with pytest.raises(Invalid) as caught:
        void_record(session, "qe:li", record, reason)
    assert caught.value.fields == {"reason": ["required"]}
    assert not _reloaded(session, record).is_voided


def test_two_records_cannot_replace_the_same_one(session):
    item = factories.make_item(session)
    wrong, right = _inspection(session, item), _inspection(session, item)
    void_record(session, record=wrong, actor="qe:li", reason="typo", replacement=right)
    session.flush()
    other = _inspection(session, item)
    other.replaces_id = wrong.id
    with pytest.raises(IntegrityError), session.begin_nested():
        session.flush()


def test_voiding_is_audited_with_its_reason_and_replacement(session):
    from sqlalchemy import select

    from trace.audit.models import AuditEntry

    item = factories.make_item(session)
    wrong, right = _inspection(session, item), _inspection(session, item)
    void_record(session, "qe:li", wrong, "typo", replacement=right)
    entry = session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).one()
    assert (entry.action, entry.entity_id) == ("inspection.void", str(wrong.id))
    assert f'"replaced_by":{right.id}' in entry.data and '"reason":"typo"' in entry.data
