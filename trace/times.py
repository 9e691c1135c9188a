"""Times shown in a zone."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo


def in_zone(value: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """`value` in `zone`; in UTC where the zone's time would fall past the year 9999 (or
    before the year 1), as a time stored before the API refused such times may."""
    try:
        return value.astimezone(zone)
    except OverflowError:
        return value.astimezone(dt.UTC)
