"""Writes racing for one unit (scrap, shipment, repair intake): exactly one wins, and the
unit agrees with it.

On SQLite writers take turns; on PostgreSQL (CI runs both) two transactions can read a
unit as free at once, and only the database's own checks keep the promises.
"""

import datetime as dt

import pytest
from sqlalchemy import select

from tests import factories
from tests.api.races import repair, scrap, send_at_once, shipment
from trace.logistics.models import ShipmentItem
from trace.production.models import Item, ItemStatus, Scrap
from trace.service.models import Repair
from web.app import create_app

UNITS = 8


@pytest.fixture
def live(fresh_database_url, config):
    app = create_app(config.with_overrides(database_url=fresh_database_url))
    with app.extensions["trace"].sessionmaker() as session:
        batch = factories.make_batch(session)
        made = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
        items = [factories.make_item(session, batch, produced_at=made) for _ in range(UNITS)]
        roles = ("line", "logistics", "technician")
        keys = {role: factories.make_key(session, role)[1] for role in roles}
        world = {"codes": [i.code for i in items], "ids": [i.id for i in items], "keys": keys}
        session.commit()
    yield app, world
    app.extensions["trace"].engine.dispose()


def race(app, world, posts: list[tuple[str, str, dict]]) -> list[int]:
    """Send the posts (role, path, body) at once, each from its own client; their statuses."""
    return send_at_once(app, [(world["keys"][role], path, body) for role, path, body in posts])


def test_two_clients_scrapping_one_unit_at_once_scrap_it_once(live):
    app, world = live
    for code in world["codes"]:
        answers = race(app, world, [("line", *scrap(code)), ("line", *scrap(code))])
        assert sorted(answers) == [201, 409], code
    with app.extensions["trace"].sessionmaker() as session:
        live_scraps = session.scalars(select(Scrap.item_id).where(Scrap.voided_at.is_(None)))
        assert sorted(live_scraps) == sorted(world["ids"])


def test_a_unit_scrapped_and_shipped_at_once_ends_up_one_or_the_other(live):
    app, world = live
    for code in world["codes"]:
        answers = race(app, world, [("line", *scrap(code)), ("logistics", *shipment(code))])
        assert sorted(answers) == [201, 409], code
    with app.extensions["trace"].sessionmaker() as session:
        for item in session.scalars(select(Item).where(Item.id.in_(world["ids"]))):
            scrapped = session.scalar(select(Scrap.id).where(Scrap.item_id == item.id))
            shipped = session.scalar(
                select(ShipmentItem.open).where(ShipmentItem.item_id == item.id)
            )
            assert (scrapped is None) == bool(shipped), item.code
            assert item.status is (ItemStatus.shipped if shipped else ItemStatus.scrapped)


def test_a_unit_scrapped_and_taken_in_for_repair_at_once_ends_up_one_or_the_other(live):
    app, world = live
    for code in world["codes"]:
        answers = race(
            app, world, [("line", *scrap(code)), ("technician", *repair(code, completed=False))]
        )
        assert sorted(answers) == [201, 409], code
    with app.extensions["trace"].sessionmaker() as session:
        for item in session.scalars(select(Item).where(Item.id.in_(world["ids"]))):
            scrapped = session.scalar(select(Scrap.id).where(Scrap.item_id == item.id))
            repaired = session.scalar(select(Repair.id).where(Repair.item_id == item.id))
            assert (scrapped is None) != (repaired is None), item.code
            assert item.status is (ItemStatus.in_repair if repaired else ItemStatus.scrapped)


def test_a_unit_shipped_and_taken_in_for_repair_at_once_ends_up_one_or_the_other(live):
    app, world = live
    for code in world["codes"]:
        posts = [("logistics", *shipment(code)), ("technician", *repair(code, completed=False))]
        assert sorted(race(app, world, posts)) == [201, 409], code
    with app.extensions["trace"].sessionmaker() as session:
        for item in session.scalars(select(Item).where(Item.id.in_(world["ids"]))):
            shipped = session.scalar(
                select(ShipmentItem.open).where(ShipmentItem.item_id == item.id)
            )
            repaired = session.scalar(select(Repair.id).where(Repair.item_id == item.id))
            assert bool(shipped) != (repaired is not None), item.code
            assert item.status is (ItemStatus.shipped if shipped else ItemStatus.in_repair)
