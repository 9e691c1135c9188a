"""Times shown in a zone, and calendar months added."""

from __future__ import annotations

import calendar
import datetime as dt
from typing import TypeVar
from zoneinfo import ZoneInfo

Day = TypeVar("Day", dt.date, dt.datetime)


def in_zone(value: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """`value` in `zone`; in UTC where the zone's time would fall past the year 9999 (or
    before the year 1), as a time stored before the API refused such times may."""
    try:
        return value.astimezone(zone)
    except OverflowError:
        return value.astimezone(dt.UTC)


def add_months(value: Day, months: int) -> Day:
    """The same day (and time) `months` calendar months later, on the month's last day
    when it is shorter; the last day, or moment, there is for a time past the year 9999."""
    index = value.month - 1 + months
    year, month = value.year + index // 12, index % 12 + 1
    if year > dt.MAXYEAR:
        if isinstance(value, dt.datetime):
            return dt.datetime.max.replace(tzinfo=value.tzinfo)
        return dt.date.max
    last_day = calendar.monthrange(year, month)[1]
    return value.replace(year=year, month=month, day=min(value.day, last_day))
