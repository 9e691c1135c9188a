"""Every model, imported once so that Base.metadata knows the whole schema (Alembic, tests)."""

from trace.audit.models import AuditEntry, AuditHead
from trace.auth.models import ApiKey, Role, User
from trace.catalog.models import Inspector, Line, MaterialLot, Product, Site, Station, StationKind
from trace.complaints.models import (
    Complaint,
    ComplaintStatus,
    ComplaintUpdate,
    CorrectiveAction,
    CorrectiveActionStatus,
    Severity,
)
from trace.db import Base
from trace.logistics.models import Shipment, ShipmentEvent, ShipmentItem, ShipmentStatus
from trace.production.models import Batch, BatchStatus, Item, ItemComponent, ItemStatus, Scrap
from trace.quality.models import Inspection, InspectionResult, Measurement, ProcessRecord
from trace.scans.models import Scan, Verdict
from trace.service.models import PartDirection, Repair, RepairOutcome, RepairPart

__all__ = [
    "ApiKey",
    "AuditEntry",
    "AuditHead",
    "Base",
    "Batch",
    "BatchStatus",
    "Complaint",
    "ComplaintStatus",
    "ComplaintUpdate",
    "CorrectiveAction",
    "CorrectiveActionStatus",
    "Inspection",
    "InspectionResult",
    "Inspector",
    "Item",
    "ItemComponent",
    "ItemStatus",
    "Line",
    "MaterialLot",
    "Measurement",
    "PartDirection",
    "ProcessRecord",
    "Product",
    "Repair",
    "RepairOutcome",
    "RepairPart",
    "Role",
    "Scan",
    "Scrap",
    "Severity",
    "Shipment",
    "ShipmentEvent",
    "ShipmentItem",
    "ShipmentStatus",
    "Site",
    "Station",
    "StationKind",
    "User",
    "Verdict",
]
