"""Batches (lots): opening, material lots, status workflow; finding items by code and serial."""

import datetime as dt
import itertools

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from tests import factories
from trace import codes
from trace.audit.models import AuditEntry
from trace.errors import Conflict, Invalid, NotFound
from trace.production import services as production
from trace.production.models import Batch, BatchStatus, Item, batch_material
from trace.production.services import TRANSITIONS

ACTOR = factories.ACTOR
S = BatchStatus


def _refused_by_database(session, row) -> None:
    with pytest.raises(IntegrityError), session.begin_nested():
        session.add(row)
        session.flush()


def _links(session) -> int:
    return len(session.execute(select(batch_material)).all())


# --- opening a batch -----------------------------------------------------------------


def test_open_batch_records_product_line_window_and_lots(session):
    product, line = factories.make_product(session), factories.make_line(session)
    lots = [factories.make_material_lot(session) for _ in range(2)]
    start = dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.UTC)
    batch = production.open_batch(
        session,
        ACTOR,
        product_id=product.id,
        lot_number="K2611A",
        line_id=line.id,
        planned_quantity=1200,
        started_at=start,
        ended_at=start + dt.timedelta(hours=8),
        material_lot_ids=[lots[1].id, lots[0].id],
    )
    stored = session.get(Batch, batch.id)
    assert stored.status is BatchStatus.open
    assert (stored.product_id, stored.line_id, stored.lot_number) == (product.id, line.id, "K2611A")
    assert stored.planned_quantity == 1200
    assert stored.started_at == start
    assert stored.ended_at == start + dt.timedelta(hours=8)
    assert {lot.id for lot in stored.material_lots} == {lots[0].id, lots[1].id}


def test_the_same_lot_number_is_refused_for_the_same_product(session):
    product = factories.make_product(session)
    factories.make_batch(session, product, lot_number="K1")
    with pytest.raises(Conflict) as caught:
        factories.make_batch(session, product, lot_number="K1")
    assert "lot_number" in caught.value.fields
    assert factories.count(session, Batch) == 1


def test_the_same_lot_number_is_fine_for_another_product(session):
    factories.make_batch(session, lot_number="K1")
    factories.make_batch(session, lot_number="K1")
    assert factories.count(session, Batch) == 2


def test_database_refuses_a_duplicate_lot_of_a_product(session):
    batch = factories.make_batch(session, lot_number="K1")
    _refused_by_database(
        session, Batch(product_id=batch.product_id, lot_number="K1", line_id=batch.line_id)
    )


def test_database_refuses_a_batch_of_an_unknown_product(session):
    line = factories.make_line(session)
    _refused_by_database(session, Batch(product_id=999_999, lot_number="K1", line_id=line.id))


@pytest.mark.parametrize(
    ("field", "overrides"),
    [
        ("product_id", {"product_id": 999_999}),
        ("line_id", {"line_id": 999_999}),
    ],
)
def test_open_batch_refuses_unknown_product_or_line(session, field, overrides):
    product, line = factories.make_product(session), factories.make_line(session)
    data = {"product_id": product.id, "line_id": line.id, "lot_number": "K1", **overrides}
    audit_before = factories.count(session, AuditEntry)
    with pytest.raises(NotFound) as caught:
        production.open_batch(session, ACTOR, **data)
    assert caught.value.fields == {field: ["unknown id"]}
    assert factories.count(session, Batch) == 0
    assert factories.count(session, AuditEntry) == audit_before


def test_open_batch_refuses_a_window_that_ends_before_it_starts(session):
    start = dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.UTC)
    with pytest.raises(Invalid) as caught:
        factories.make_batch(session, started_at=start, ended_at=start - dt.timedelta(minutes=1))
    assert "ended_at" in caught.value.fields
    assert factories.count(session, Batch) == 0


def test_open_batch_refuses_unknown_material_lots_and_writes_nothing(session):
    known = factories.make_material_lot(session)
    with pytest.raises(NotFound) as caught:
        factories.make_batch(session, material_lot_ids=[known.id, 999_998, 999_999])
    assert caught.value.fields == {"material_lot_ids": ["unknown id 999998", "unknown id 999999"]}
    assert factories.count(session, Batch) == 0
    assert _links(session) == 0


def test_open_batch_links_a_material_lot_given_twice_once(session):
    lot = factories.make_material_lot(session)
    batch = factories.make_batch(session, material_lot_ids=[lot.id, lot.id])
    assert [m.id for m in batch.material_lots] == [lot.id]
    assert _links(session) == 1


# --- material lots -------------------------------------------------------------------


def test_link_material_lots_adds_only_lots_not_yet_linked(session):
    first, second = factories.make_material_lot(session), factories.make_material_lot(session)
    batch = factories.make_batch(session, material_lot_ids=[first.id])
    production.link_material_lots(session, ACTOR, batch, [first.id, second.id, second.id])
    session.flush()
    assert [m.id for m in batch.material_lots] == [first.id, second.id]
    assert _links(session) == 2


def test_link_material_lots_refuses_unknown_ids_and_links_none(session):
    known = factories.make_material_lot(session)
    batch = factories.make_batch(session)
    with pytest.raises(NotFound) as caught:
        production.link_material_lots(session, ACTOR, batch, [known.id, 999_999])
    assert caught.value.fields == {"material_lot_ids": ["unknown id 999999"]}
    session.flush()
    assert _links(session) == 0


def test_a_recalled_batch_takes_no_more_material_lots(session):
    lot = factories.make_material_lot(session)
    batch = factories.make_batch(session)
    production.change_batch_status(session, ACTOR, batch, S.recalled, "supplier recall")
    with pytest.raises(Conflict):
        production.link_material_lots(session, ACTOR, batch, [lot.id])
    assert _links(session) == 0


def test_database_refuses_linking_the_same_lot_twice(session):
    lot = factories.make_material_lot(session)
    batch = factories.make_batch(session, material_lot_ids=[lot.id])
    with pytest.raises(IntegrityError), session.begin_nested():
        session.execute(batch_material.insert().values(batch_id=batch.id, material_lot_id=lot.id))


def test_batches_by_material_lot(session):
    suspect, other = factories.make_material_lot(session), factories.make_material_lot(session)
    hit_1 = factories.make_batch(session, material_lot_ids=[suspect.id, other.id])
    factories.make_batch(session, material_lot_ids=[other.id])
    hit_2 = factories.make_batch(session)
    production.link_material_lots(session, ACTOR, hit_2, [suspect.id])
    factories.make_batch(session)
    page = production.list_batches(session, material_lot_id=suspect.id)
    assert [b.id for b in page.items] == [hit_1.id, hit_2.id]


def test_list_batches_by_product_and_status(session):
    product = factories.make_product(session)
    held = factories.make_batch(session, product)
    kept_open = factories.make_batch(session, product)
    factories.make_batch(session)
    production.change_batch_status(session, ACTOR, held, S.on_hold, "leak test drift")
    assert [b.id for b in production.list_batches(session, product_id=product.id).items] == [
        held.id,
        kept_open.id,
    ]
    on_hold = production.list_batches(session, product_id=product.id, status=S.on_hold)
    assert [b.id for b in on_hold.items] == [held.id]


# --- status workflow -----------------------------------------------------------------

ALLOWED = {
    (S.open, S.released),
    (S.open, S.on_hold),
    (S.open, S.recalled),
    (S.released, S.on_hold),
    (S.released, S.recalled),
    (S.released, S.closed),
    (S.on_hold, S.open),
    (S.on_hold, S.released),
    (S.on_hold, S.recalled),
    (S.closed, S.on_hold),
    (S.closed, S.recalled),
}
# Written out in full: every (from, to) pair, so a change to the workflow shows up here.
WORKFLOW = [(old, new, (old, new) in ALLOWED) for old, new in itertools.product(S, S)]


def test_the_workflow_table_is_the_services_table():
    assert {(old, new) for old, new, allowed in WORKFLOW if allowed} == {
        (old, new) for old, targets in TRANSITIONS.items() for new in targets
    }


def test_nothing_leaves_a_recall():
    assert not any(allowed for old, _, allowed in WORKFLOW if old is S.recalled)


@pytest.mark.parametrize(
    ("old", "new", "allowed"), WORKFLOW, ids=[f"{o.value}->{n.value}" for o, n, _ in WORKFLOW]
)
def test_status_transition(session, old, new, allowed):
    batch = factories.make_batch(session)
    batch.status = old  # set directly: this test is about one step, not the path to it
    session.flush()
    audit_before = factories.count(session, AuditEntry)
    if allowed:
        production.change_batch_status(session, ACTOR, batch, new, "checked by QA")
        session.flush()
        session.expire(batch)
        assert batch.status is new
        assert factories.count(session, AuditEntry) == audit_before + 1
    else:
        with pytest.raises(Conflict) as caught:
            production.change_batch_status(session, ACTOR, batch, new, "checked by QA")
        assert "status" in caught.value.fields
        session.expire(batch)
        assert batch.status is old
        assert factories.count(session, AuditEntry) == audit_before


@pytest.mark.parametrize("status", [S.on_hold, S.recalled])
@pytest.mark.parametrize("reason", [None, "", "   "])
def test_holds_and_recalls_need_a_reason(session, status, reason):
    batch = factories.make_batch(session)
    with pytest.raises(Invalid) as caught:
        production.change_batch_status(session, ACTOR, batch, status, reason)
    assert caught.value.fields == {"reason": ["required"]}
    session.flush()
    session.expire(batch)
    assert batch.status is S.open


def test_status_reason_is_kept_and_audited(session):
    batch = factories.make_batch(session)
    production.change_batch_status(session, ACTOR, batch, S.on_hold, "  seal leak at ST3  ")
    assert batch.status_reason == "seal leak at ST3"
    last = session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
    assert last.action == "batch.status"
    assert '"from":"open"' in last.data
    assert '"to":"on_hold"' in last.data


def test_release_clears_a_previous_hold_reason(session):
    batch = factories.make_batch(session)
    production.change_batch_status(session, ACTOR, batch, S.on_hold, "seal leak")
    production.change_batch_status(session, ACTOR, batch, S.released)
    assert (batch.status, batch.status_reason) == (S.released, None)


def test_get_batch_of_unknown_id(session):
    with pytest.raises(NotFound) as caught:
        production.get_batch(session, 999_999)
    assert caught.value.fields == {"batch_id": ["unknown id"]}


# --- items -------------------------------------------------------------------------


def test_find_item_by_code(session):
    item = factories.make_item(session)
    assert production.find_item_by_code(session, item.code).id == item.id


def test_find_item_by_code_accepts_lower_case_and_hyphens(session):
    item = factories.make_item(session)
    typed = codes.format_code(item.code).lower()
    assert "-" in typed
    assert production.find_item_by_code(session, typed).id == item.id


@pytest.mark.parametrize("text", ["", "ABC", "not a code at all", "U" * 17])
def test_a_malformed_code_is_invalid(session, text):
    with pytest.raises(Invalid) as caught:
        production.find_item_by_code(session, text)
    assert "code" in caught.value.fields


def test_a_code_with_a_mistyped_character_is_invalid_not_unknown(session):
    item = factories.make_item(session)
    typo = ("1" if item.code[0] != "1" else "2") + item.code[1:]
    with pytest.raises(Invalid):
        production.find_item_by_code(session, typo)


def test_a_well_formed_but_unknown_code_is_not_found(session):
    factories.make_item(session)
    with pytest.raises(NotFound) as caught:
        production.find_item_by_code(session, codes.new_code())
    assert caught.value.fields == {"code": ["unknown code"]}


def test_find_item_by_sku_and_serial(session):
    product = factories.make_product(session, sku="KET-9")
    batch = factories.make_batch(session, product)
    item = factories.make_item(session, batch, serial="K-000001")
    factories.make_item(session, factories.make_batch(session), serial="K-000001")
    assert production.find_item_by_serial(session, "KET-9", "K-000001").id == item.id


@pytest.mark.parametrize(("sku", "serial"), [("KET-9", "K-999999"), ("NOPE", "K-000001")])
def test_find_item_by_unknown_sku_or_serial(session, sku, serial):
    product = factories.make_product(session, sku="KET-9")
    factories.make_item(session, factories.make_batch(session, product), serial="K-000001")
    with pytest.raises(NotFound) as caught:
        production.find_item_by_serial(session, sku, serial)
    assert "serial" in caught.value.fields


def test_list_items_of_a_batch(session):
    batch = factories.make_batch(session)
    items = [factories.make_item(session, batch) for _ in range(3)]
    factories.make_item(session)
    page = production.list_items(session, batch, limit=2)
    assert [i.id for i in page.items] == [items[0].id, items[1].id]
    rest = production.list_items(session, batch, after=page.next_after)
    assert [i.id for i in rest.items] == [items[2].id]


def test_database_refuses_a_duplicate_serial_of_a_product(session):
    item = factories.make_item(session, serial="K-1")
    _refused_by_database(
        session,
        Item(
            product_id=item.product_id, batch_id=item.batch_id, serial="K-1", code=codes.new_code()
        ),
    )


def test_database_refuses_a_duplicate_item_code(session):
    item = factories.make_item(session)
    other = factories.make_batch(session)
    _refused_by_database(
        session, Item(product_id=other.product_id, batch_id=other.id, serial="X1", code=item.code)
    )
