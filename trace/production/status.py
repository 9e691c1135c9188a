"""An item's status as its live records tell it, for when a record that set it is undone.

Records set a unit's status as they happen (a shipment ships it, a delivery delivers it, an
open repair takes it in); when one is voided, corrected or closed, the status goes back to
what the remaining records say, in this order of precedence:

  scrapped   a live scrap record
  in_repair  a live repair without a completion time
  shipped    an open shipment carries it
  delivered  a live shipment delivered it
  failed     its latest live final inspection did not pass
  produced   otherwise

Only voiding a scrap record gives a scrapped unit a status again (`unscrap=True`); every
other change leaves a scrapped unit as it is, whatever set its status.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, case, exists, literal, select, update
from sqlalchemy.orm import Session

from trace.logistics.models import Shipment, ShipmentItem, ShipmentStatus
from trace.production.models import Item, ItemStatus, Scrap
from trace.quality.models import Inspection, InspectionResult
from trace.service.models import Repair

ITEM = Item.__table__


def derive_statuses(session: Session, where: ColumnElement[bool], *, unscrap: bool = False) -> None:
    """Set the status of every item matching `where` from its live records; scrapped items
    only with `unscrap` (a scrap record was voided)."""
    session.flush()  # the records just changed count, and expire_all must not drop changes
    if not unscrap:
        where = and_(where, ITEM.c.status != ItemStatus.scrapped)
    statement = update(ITEM).where(where).values(status=derived_status())
    session.execute(statement)
    session.expire_all()  # loaded items must not keep a status the database no longer has


def derived_status():
    """The CASE expression giving an item's status from its records (see the module text)."""
    return case(
        (_scrapped(), _status(ItemStatus.scrapped)),
        (open_repair(), _status(ItemStatus.in_repair)),
        (_in_open_shipment(), _status(ItemStatus.shipped)),
        (_delivered(), _status(ItemStatus.delivered)),
        (_latest_final().in_(_NOT_PASSED), _status(ItemStatus.failed)),
        else_=_status(ItemStatus.produced),
    )


def open_repair():
    """Whether the item (the outer query's) has a live repair not yet completed."""
    return exists().where(
        Repair.item_id == ITEM.c.id, Repair.completed_at.is_(None), Repair.voided_at.is_(None)
    )


_NOT_PASSED = [InspectionResult.failed, InspectionResult.rework]


def _scrapped():
    return exists().where(Scrap.item_id == ITEM.c.id, Scrap.voided_at.is_(None))


def _status(status: ItemStatus):
    return literal(status, ITEM.c.status.type)


def _in_open_shipment():
    return exists().where(ShipmentItem.item_id == ITEM.c.id, ShipmentItem.open)


def _delivered():
    return exists().where(
        ShipmentItem.item_id == ITEM.c.id,
        Shipment.id == ShipmentItem.shipment_id,
        Shipment.status == ShipmentStatus.delivered,
        Shipment.voided_at.is_(None),
    )


def _latest_final():
    table = Inspection.__table__
    return (
        select(table.c.result)
        .where(table.c.item_id == ITEM.c.id, table.c.is_final, table.c.voided_at.is_(None))
        .order_by(table.c.occurred_at.desc(), table.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
