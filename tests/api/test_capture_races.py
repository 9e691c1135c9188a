"""Two writes about the same record, shipment or part at once: the promises still hold.

On SQLite writers take turns; on PostgreSQL (CI runs both) two transactions at read
committed can both read a record live, a part free or a batch released. Each test sends
the pair at once, several times, and checks the invariant the domain promises one after
the other. A 5xx is never an answer (a deadlock PostgreSQL breaks is run again).
"""

import datetime as dt
import threading
import uuid
from itertools import pairwise

import pytest
from sqlalchemy import func, select

from tests import factories
from tests.api.races import now, repair, scrap, send_at_once, shipment
from trace.audit.models import AuditEntry
from trace.logistics.models import ShipmentEvent, ShipmentItem, ShipmentStatus
from trace.production.models import Item, ItemComponent, ItemStatus, Scrap
from trace.production.status import ITEM, derived_status
from trace.service.models import PartDirection, Repair
from web.app import create_app

ROUNDS = 6


@pytest.fixture
def live(fresh_database_url, config):
    app = create_app(config.with_overrides(database_url=fresh_database_url))
    with app.extensions["trace"].sessionmaker() as session:
        key = factories.make_key(session, "admin")[1]
        session.commit()
    yield app, key
    app.extensions["trace"].engine.dispose()


def made(app, build):
    """What `build(session)` makes, committed."""
    with app.extensions["trace"].sessionmaker() as session:
        result = build(session)
        session.commit()
        return result


def read(app, look, *args):
    """What `look(session, *args)` reads, in a session of its own."""
    with app.extensions["trace"].sessionmaker() as session:
        return look(session, *args)


def race(app, key: str, posts: list[tuple[str, dict]]) -> list[int]:
    """Send the posts (path, body) at once, each from its own client; their statuses."""
    answers = send_at_once(app, [(key, path, body) for path, body in posts])
    assert all(answer < 500 for answer in answers), answers
    return answers


YESTERDAY = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)


def unit(session) -> Item:
    return factories.make_item(session, produced_at=YESTERDAY)


def a_unit(session) -> tuple[int, str, int]:
    """A unit made yesterday: its id, code and batch id."""
    item = unit(session)
    return item.id, item.code, item.batch_id


def assembled(session) -> tuple[Item, Item]:
    """A unit made yesterday, and a tracked part a repair fitted in it."""
    host, part = unit(session), unit(session)
    fitted = {"direction": PartDirection.installed, "part_number": "P", "item_code": part.code}
    factories.make_repair(session, host, parts=[fitted])
    return host, part


def a_scrap(session) -> tuple[int, int, str]:
    """A scrapped unit: the scrap's id, the unit's id and code."""
    item_id, code, _ = a_unit(session)
    return factories.make_scrap(session, session.get(Item, item_id)).id, item_id, code


def event(shipment_id: int, status: str) -> tuple[str, dict]:
    body = {"event_id": str(uuid.uuid4()), "occurred_at": now(5), "status": status}
    return f"/api/v1/shipments/{shipment_id}/events", body


def voids_of(session, table: str, record_id: int) -> int:
    query = select(func.count()).where(
        AuditEntry.action == f"{table}.void", AuditEntry.entity_id == str(record_id)
    )
    return session.scalar(query)


def status_as_derived(session, item_id: int) -> bool:
    stored, derived = session.execute(
        select(ITEM.c.status, derived_status()).where(ITEM.c.id == item_id)
    ).one()
    return stored == derived


def closing_events(session, shipment_id: int) -> int:
    query = select(func.count()).where(
        ShipmentEvent.shipment_id == shipment_id,
        ShipmentEvent.status.in_([ShipmentStatus.delivered, ShipmentStatus.returned]),
        ShipmentEvent.voided_at.is_(None),
    )
    return session.scalar(query)


def last_seq(session, action: str, entity_id=None) -> int | None:
    query = select(func.max(AuditEntry.seq)).where(AuditEntry.action == action)
    if entity_id is not None:
        query = query.where(AuditEntry.entity_id == str(entity_id))
    return session.scalar(query)


def open_repairs(session, item_id: int) -> int:
    query = select(func.count()).where(Repair.item_id == item_id, Repair.completed_at.is_(None))
    return session.scalar(query)


def live_scraps(session, item_id: int) -> int:
    query = select(func.count()).where(Scrap.item_id == item_id, Scrap.voided_at.is_(None))
    return session.scalar(query)


def scrapped(session, item_id: int) -> bool:
    return session.get(Item, item_id).status is ItemStatus.scrapped


def shipped_and_scrapped(session, item_id: int) -> bool:
    open_items = session.scalar(
        select(func.count()).where(ShipmentItem.item_id == item_id, ShipmentItem.open)
    )
    return scrapped(session, item_id) and open_items > 0


def hosts_of(session, part_id: int) -> list[int]:
    query = select(ItemComponent.item_id).where(
        ItemComponent.component_item_id == part_id, ItemComponent.removed_at.is_(None)
    )
    return list(session.scalars(query))


# --- voids and corrections -----------------------------------------------------------------


def test_a_record_voided_twice_at_once_is_voided_once(live):
    app, key = live
    for _ in range(ROUNDS):
        scrap_id, _, _ = made(app, a_scrap)
        path = f"/api/v1/scraps/{scrap_id}/void"
        answers = race(app, key, [(path, {"reason": "first"}), (path, {"reason": "second"})])
        assert sorted(answers) == [200, 409]
        assert read(app, voids_of, "scrap", scrap_id) == 1


def test_a_void_and_a_correction_at_once_void_once_and_the_unit_agrees(live):
    app, key = live
    for _ in range(ROUNDS):
        scrap_id, item_id, code = made(app, a_scrap)
        correction = scrap(code, replaces=scrap_id, void_reason="wrong reason")
        answers = race(app, key, [(f"/api/v1/scraps/{scrap_id}/void", {"reason": "x"}), correction])
        # The later of the two finds the scrap voided: a void refused (409), or a correction
        # that replaces a scrap voided already, which it may without voiding it (200, 201).
        assert sorted(answers) in ([200, 409], [201, 409], [200, 201]), answers
        assert read(app, voids_of, "scrap", scrap_id) == 1
        assert read(app, status_as_derived, item_id)


# --- shipments and their events -------------------------------------------------------------


def shipped(session) -> int:
    item = unit(session)
    return factories.make_shipment(session, [item], shipped_at=YESTERDAY).id


def test_an_event_and_a_void_of_its_shipment_at_once_leave_no_live_event_behind(live):
    app, key = live
    for _ in range(ROUNDS):
        shipment_id = made(app, shipped)
        void = (f"/api/v1/shipments/{shipment_id}/void", {"reason": "wrong"})
        answers = race(app, key, [void, event(shipment_id, "delivered")])
        assert answers in ([200, 201], [200, 409]), answers  # the void always goes through

        void_seq = read(app, last_seq, "shipment.void", shipment_id)
        event_seq = read(app, last_seq, "shipment_event.record")
        if void_seq is not None and answers[1] == 201:
            assert event_seq < void_seq  # the event came first; none after the void


def test_two_closing_events_at_once_close_the_shipment_once(live):
    app, key = live
    for _ in range(ROUNDS):
        shipment_id = made(app, shipped)
        answers = race(app, key, [event(shipment_id, "delivered"), event(shipment_id, "returned")])
        assert sorted(answers) == [201, 409]
        closing = read(app, closing_events, shipment_id)
        assert closing == 1


def test_a_batch_put_on_hold_while_its_unit_is_shipped_is_seen_by_the_shipment(live):
    app, key = live
    for _ in range(ROUNDS):
        _, code, batch_id = made(app, a_unit)
        hold = (f"/api/v1/batches/{batch_id}/status", {"status": "on_hold", "reason": "deviation"})
        answers = race(app, key, [hold, shipment(code)])
        if answers == [200, 201]:  # both: the shipment must have committed first
            assert read(app, last_seq, "shipment.record") < read(app, last_seq, "batch.status")
        else:
            assert answers == [200, 409], answers


def test_a_delivery_voided_while_the_unit_is_scrapped_answers_both_without_a_5xx(live):
    app, key = live
    for _ in range(ROUNDS):

        def delivered(session):
            item = unit(session)
            sent = factories.make_shipment(session, [item], shipped_at=YESTERDAY)
            arrived = factories.make_shipment_event(
                session, sent, status=ShipmentStatus.delivered, occurred_at=YESTERDAY
            )
            return arrived.id, item.id, item.code

        event_id, item_id, code = made(app, delivered)
        void = (f"/api/v1/shipment-events/{event_id}/void", {"reason": "wrong"})
        answers = race(app, key, [void, scrap(code)])
        assert sorted(answers) in ([200, 201], [201, 409], [200, 409]), answers

        assert not read(app, shipped_and_scrapped, item_id)
        assert read(app, status_as_derived, item_id)


# --- repairs and the parts inside units -----------------------------------------------------


def test_two_repairs_installing_one_part_at_once_install_it_once(live):
    app, key = live
    for _ in range(ROUNDS):
        (_, first, _), (_, second, _), (part_id, part, _) = made(
            app, lambda session: [a_unit(session) for _ in range(3)]
        )
        installed = {"direction": "installed", "item_code": part}
        answers = race(app, key, [repair(first, [installed]), repair(second, [installed])])
        assert sorted(answers) == [201, 409]
        assert len(read(app, hosts_of, part_id)) == 1


def test_two_intakes_of_one_unit_at_once_open_one_repair(live):
    app, key = live
    for _ in range(ROUNDS):
        item_id, code, _ = made(app, a_unit)
        intake = repair(code, completed=False)
        answers = race(app, key, [intake, repair(code, completed=False)])
        assert sorted(answers) == [201, 409]
        assert read(app, open_repairs, item_id) == 1


def stays_in_order(session, part_id: int) -> bool:
    """Each of the part's stays in a unit ends after it began and before the next began."""
    query = (
        select(ItemComponent.installed_at, ItemComponent.removed_at)
        .where(ItemComponent.component_item_id == part_id)
        .order_by(ItemComponent.installed_at)
    )
    stays = session.execute(query).all()
    return all(out is None or out >= into for into, out in stays) and all(
        before.removed_at is not None and before.removed_at <= after.installed_at
        for before, after in pairwise(stays)
    )


def at(minutes_ago: float, body_path: tuple[str, dict], **extra) -> tuple[str, dict]:
    """A repair post received and completed `minutes_ago`."""
    path, body = body_path
    return path, body | {"received_at": now(minutes_ago), "completed_at": now(minutes_ago)} | extra


def stay(session, host: Item, part: Item, since: float, until: float) -> int:
    """The part fitted in `host` `since` minutes ago and taken out `until` minutes ago by
    two repairs; the id of the second."""
    fitted = {"part_number": "PCB-1", "item_code": part.code}
    for minutes, direction in ((since, PartDirection.installed), (until, PartDirection.removed)):
        moment = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes)
        last = factories.make_repair(
            session,
            host,
            received_at=moment,
            completed_at=moment,
            parts=[{"direction": direction, **fitted}],
        )
    return last.id


def test_a_correction_moving_a_removal_while_the_part_is_fitted_elsewhere(live):
    # Alone, each is fine: the pump left the kettle 50 minutes ago, the correction says 5;
    # the dryer takes it 20 minutes ago. Together the pump would be in both.
    app, key = live
    for _ in range(ROUNDS):

        def world(session):
            kettle, dryer, pump = unit(session), unit(session), unit(session)
            removal = stay(session, kettle, pump, since=60, until=50)
            return kettle.code, dryer.code, pump.id, pump.code, removal

        kettle, dryer, pump_id, pump, removal = made(app, world)
        removed = {"direction": "removed", "item_code": pump}
        correction = at(
            50, repair(kettle, [removed]), completed_at=now(5), replaces=removal, void_reason="x"
        )
        fitting = at(20, repair(dryer, [{"direction": "installed", "item_code": pump}]))
        assert sorted(race(app, key, [correction, fitting])) == [201, 409]
        assert read(app, stays_in_order, pump_id)


def test_a_correction_moving_a_fitting_while_the_part_is_taken_out(live):
    # Alone, each is fine: the pump went in 60 minutes ago, the correction says 5; a
    # repair takes it out 20 minutes ago. Together it would come out before it went in.
    app, key = live
    for _ in range(ROUNDS):

        def world(session):
            kettle, pump = unit(session), unit(session)
            moment = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=60)
            fitted = {"direction": PartDirection.installed, "part_number": "PCB-1"}
            fitting = factories.make_repair(
                session,
                kettle,
                received_at=moment,
                completed_at=moment,
                parts=[{**fitted, "item_code": pump.code}],
            )
            return kettle.code, pump.id, pump.code, fitting.id

        kettle, pump_id, pump, fitting = made(app, world)
        part = {"part_number": "PCB-1", "item_code": pump}
        correction = at(
            60,
            repair(kettle, [{"direction": "installed", **part}]),
            completed_at=now(5),
            replaces=fitting,
            void_reason="x",
        )
        removal = at(20, repair(kettle, [{"direction": "removed", **part}]))
        assert sorted(race(app, key, [correction, removal])) == [201, 409]
        assert read(app, stays_in_order, pump_id)


def scrapped_or_shipped(session, item_id: int) -> bool:
    return session.get(Item, item_id).status in (ItemStatus.scrapped, ItemStatus.shipped)


@pytest.mark.parametrize("taking", [scrap, shipment])
def test_a_part_installed_while_it_is_scrapped_or_shipped_is_one_or_the_other(live, taking):
    app, key = live
    for _ in range(ROUNDS):
        (_, host, _), (part_id, part, _) = made(
            app, lambda session: [a_unit(session), a_unit(session)]
        )
        install = repair(host, [{"direction": "installed", "item_code": part}])
        answers = race(app, key, [install, taking(part)])
        assert sorted(answers) == [201, 409]
        assert read(app, scrapped_or_shipped, part_id) != bool(read(app, hosts_of, part_id))


def test_a_removal_undone_while_the_part_is_scrapped_is_one_or_the_other(live):
    app, key = live
    for _ in range(ROUNDS):

        def removed(session):
            host, part = unit(session), unit(session)
            tracked = {"part_number": "PCB-1", "item_code": part.code}
            earlier = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10)
            factories.make_repair(
                session,
                host,
                received_at=earlier,
                completed_at=earlier,
                parts=[{"direction": PartDirection.installed, **tracked}],
            )
            removal = factories.make_repair(
                session, host, parts=[{"direction": PartDirection.removed, **tracked}]
            )
            return removal.id, part.id, part.code

        removal_id, part_id, part = made(app, removed)
        void = (f"/api/v1/repairs/{removal_id}/void", {"reason": "wrong"})
        answers = race(app, key, [void, scrap(part)])
        assert sorted(answers) in ([200, 409], [201, 409]), answers
        assert not (read(app, scrapped, part_id) and read(app, hosts_of, part_id))


def test_a_unit_scrapped_twice_at_once_takes_its_parts_once(live):
    app, key = live
    for _ in range(ROUNDS):

        def fitted(session):
            host, part = assembled(session)
            return host.code, part.id

        code, part_id = made(app, fitted)
        assert sorted(race(app, key, [scrap(code), scrap(code)])) == [201, 409]
        assert read(app, live_scraps, part_id) == 1


def test_a_salvaged_part_put_back_while_it_is_scrapped_is_one_or_the_other(live):
    app, key = live
    for _ in range(ROUNDS):

        def salvaged(session):
            host, part = assembled(session)
            scrap_id = factories.make_scrap(session, host, salvaged=[part.code]).id
            return scrap_id, part.id, part.code

        scrap_id, part_id, part = made(app, salvaged)
        void = (f"/api/v1/scraps/{scrap_id}/void", {"reason": "not scrapped after all"})
        answers = race(app, key, [void, scrap(part)])
        assert sorted(answers) in ([200, 409], [201, 409]), answers
        assert not (read(app, scrapped, part_id) and read(app, hosts_of, part_id))


def test_a_salvage_undone_while_its_part_is_fitted_and_taken_out_elsewhere(live, monkeypatch):
    # The two repairs of the dryer run between the void's look at the part's stays and
    # the void's hold on the part; forced, as a scheduler would rarely do it.
    from trace.auth.models import Role
    from trace.auth.services import Principal
    from trace.production import scrapping

    app, _ = live
    sessions = app.extensions["trace"].sessionmaker
    hours = [dt.datetime.now(dt.UTC) - dt.timedelta(hours=h) for h in (20, 15, 10, 5)]
    fit = {"direction": PartDirection.installed, "part_number": "P"}

    def salvaged(session):
        host, pump, dryer = unit(session), unit(session), unit(session)
        fitted = {**fit, "item_code": pump.code}
        factories.make_repair(
            session, host, received_at=hours[0], completed_at=hours[0], parts=[fitted]
        )
        scrap_id = factories.make_scrap(
            session, host, occurred_at=hours[1], salvaged=[pump.code]
        ).id
        return scrap_id, pump.id, pump.code, dryer.id

    scrap_id, pump_id, pump, dryer_id = made(app, salvaged)

    def workshop():
        for moment, direction in ((hours[2], "installed"), (hours[3], "removed")):
            part = {**fit, "direction": PartDirection(direction), "item_code": pump}
            with sessions() as other:
                try:
                    dryer = other.get(Item, dryer_id)
                    factories.make_repair(
                        other, dryer, received_at=moment, completed_at=moment, parts=[part]
                    )
                    other.commit()
                except Exception:  # refused, or the database locked by the void: fine
                    other.rollback()

    meanwhile = threading.Thread(target=workshop)
    looked = scrapping.fitted_again

    def look_then_let_the_workshop_in(session, taken_out_by):
        found = looked(session, taken_out_by)
        meanwhile.start()
        meanwhile.join(timeout=3)
        return found

    monkeypatch.setattr(scrapping, "fitted_again", look_then_let_the_workshop_in)
    with sessions() as session:
        try:
            quality = Principal("key:qe", Role.quality)
            scrapping.void_scrap(session, quality, session.get(Scrap, scrap_id), "oops")
            session.commit()
        except Exception:  # refused: fine
            session.rollback()
    meanwhile.join()
    assert read(app, stays_in_order, pump_id)
