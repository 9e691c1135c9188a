"""Which roles may call which group of endpoints (admins may call all of them)."""

from trace.auth.models import Role

READ = frozenset(Role)
CATALOG = frozenset({Role.admin})
PRODUCTS = frozenset({Role.quality})
INSPECTORS = frozenset({Role.quality})
MATERIALS = frozenset({Role.quality, Role.line})
BATCHES = frozenset({Role.quality, Role.line})
BATCH_STATUS = frozenset({Role.quality})
SERIALIZE = frozenset({Role.line})
LABELS = frozenset({Role.line, Role.quality})
CAPTURE_QUALITY = frozenset({Role.line, Role.quality})
# Logistics systems post shipments and their events; quality may also void them.
SHIPMENTS = frozenset({Role.logistics})
SHIPMENTS_VOID = frozenset({Role.logistics, Role.quality})
# Service technicians post repairs; quality may also void them.
REPAIRS = frozenset({Role.technician})
REPAIRS_VOID = frozenset({Role.technician, Role.quality})
# Lines scrap failed units, technicians units they cannot repair, quality any unit;
# voiding is for the poster or quality.
SCRAPS = frozenset({Role.line, Role.technician, Role.quality})
