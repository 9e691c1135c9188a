"""Complaints from the public scan page, their tracking, and staff updates.

A customer submits a complaint about an item and gets two things back: a public
reference (``C-2026-7KQ2MX``) to quote, and a private tracking token for the link that
shows the complaint's status and public updates. Only the token's SHA-256 is stored:
the link cannot be rebuilt from the database. Contact details are personal data: they
are stored for the quality team, never shown publicly and never written to the audit
trail or logs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import secrets
import unicodedata
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from trace.audit.services import audit_write
from trace.codes import ALPHABET, MalformedCode, normalize_code
from trace.complaints.models import Complaint, ComplaintStatus, ComplaintUpdate, Severity
from trace.db import utcnow
from trace.errors import Conflict, Invalid, NotFound
from trace.production.models import Item

# What a customer may choose; the page translates each. Order is the order shown.
CATEGORIES = ("defect", "damaged", "safety", "missing_parts", "counterfeit", "recall", "other")
# What a complaint about a code no item has can be about: the code itself.
SCANNED_CODE_CATEGORIES = ("counterfeit", "other")
_SEVERITY = {"safety": Severity.high, "counterfeit": Severity.high, "recall": Severity.high}
DESCRIPTION_LENGTH = (5, 2000)
UPDATE_LENGTH = 5000
PHOTO_MAX_BYTES = 5 * 1024 * 1024
SCANNED_CODE_LENGTH = 64
# Formats told by content (Pillow reads the header), never by the file name.
PHOTO_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
PHOTO_MAX_PIXELS = 50_000_000  # checked before decoding: no decompression bombs
PHOTO_MAX_SIDE = 2560
PHOTO_FOLDER = "complaint-photos"  # under the instance path, never served publicly
REFERENCE_CHARACTERS = 6
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_PHONE = re.compile(r"\+?[0-9 ()./-]{5,40}")

# Where a complaint may go from each status; a closed or rejected one can be reopened.
TRANSITIONS: dict[ComplaintStatus, frozenset[ComplaintStatus]] = {
    ComplaintStatus.received: frozenset(
        {
            ComplaintStatus.acknowledged,
            ComplaintStatus.investigating,
            ComplaintStatus.resolved,
            ComplaintStatus.rejected,
        }
    ),
    ComplaintStatus.acknowledged: frozenset(
        {ComplaintStatus.investigating, ComplaintStatus.resolved, ComplaintStatus.rejected}
    ),
    ComplaintStatus.investigating: frozenset({ComplaintStatus.resolved, ComplaintStatus.rejected}),
    ComplaintStatus.resolved: frozenset({ComplaintStatus.closed, ComplaintStatus.investigating}),
    ComplaintStatus.closed: frozenset({ComplaintStatus.investigating}),
    ComplaintStatus.rejected: frozenset({ComplaintStatus.investigating}),
}


@dataclass(frozen=True)
class Contact:
    """How the customer may be reached; every part optional. Personal data."""

    name: str | None = None
    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class Photo:
    """A checked photo, re-encoded without its metadata (no location, no camera serial)."""

    data: bytes
    extension: str


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def submit_complaint(
    session: Session,
    actor: str,
    *,
    item_id: int | None = None,
    scanned_code: str | None = None,
    category: str,
    description: str,
    contact: Contact | None = None,
    photo: bytes | None = None,
    instance_path: Path | None = None,
    photo_max_bytes: int = PHOTO_MAX_BYTES,
    channel: str = "scan_page",
) -> tuple[Complaint, str]:
    """Create a complaint about the item `item_id`, or about a code no item has (a
    suspected counterfeit: `scanned_code`, as the customer scanned it); returns it and
    its private tracking token.

    Everything is checked before anything is written (Invalid names each bad field);
    the photo, if any, must be a JPEG, PNG or WebP of at most `photo_max_bytes` and is
    stored under `instance_path`.
    """
    if (item_id is None) == (scanned_code is None):
        raise ValueError("a complaint is about an item or about a scanned code, not both")
    contact = contact or Contact()
    allowed = CATEGORIES if scanned_code is None else SCANNED_CODE_CATEGORIES
    fields = _check_input(category, description, contact, allowed)
    checked_photo = None
    if photo:
        try:
            checked_photo = check_photo(photo, photo_max_bytes)
        except Invalid as error:
            fields.update(error.fields)
    if fields:
        raise Invalid("the complaint is not valid", fields)
    token = secrets.token_urlsafe(32)
    complaint = Complaint(
        reference=_new_reference(session, utcnow()),
        token_hash=hash_token(token),
        item_id=item_id,
        scanned_code=None if scanned_code is None else as_scanned(scanned_code),
        channel=channel,
        category=category,
        severity=_SEVERITY.get(category, Severity.medium),
        description=_clean(description),
        contact_name=_clean(contact.name) or None,
        contact_email=_clean(contact.email) or None,
        contact_phone=_clean(contact.phone) or None,
        status=ComplaintStatus.received,
        created_at=utcnow(),
    )
    if checked_photo is not None:
        complaint.photo_path = _store_photo(checked_photo, instance_path)
    session.add(complaint)
    audit_write(session, actor, "complaint.submit", complaint, _audit_data(complaint))
    return complaint, token


def as_scanned(text: str) -> str:
    """A scanned code as a complaint keeps it: canonical when it is a well-formed code,
    else the text itself without control characters, cut to the column's length."""
    try:
        return normalize_code(text)
    except MalformedCode:
        return _clean(text)[:SCANNED_CODE_LENGTH] or "-"


def _audit_data(complaint: Complaint) -> dict:
    # No contact data and no free text: the audit trail is a log, and logs hold no
    # personal data.
    return {
        "reference": complaint.reference,
        "item_id": complaint.item_id,
        "scanned_code": complaint.scanned_code,
        "channel": complaint.channel,
        "category": complaint.category,
        "severity": complaint.severity.value,
        "photo": complaint.photo_path is not None,
    }


def _clean(text: str | None) -> str:
    """Text as stored: trimmed, without control characters (PostgreSQL refuses NUL)."""
    if not text:
        return ""
    kept = (ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc")
    return "".join(kept).replace("\r", "").strip()


def _check_input(category: str, description: str, contact: Contact, allowed=CATEGORIES) -> dict:
    fields: dict[str, list[str]] = {}
    if category not in allowed:
        fields["category"] = [f"one of: {', '.join(allowed)}"]
    shortest, longest = DESCRIPTION_LENGTH
    if not shortest <= len(_clean(description)) <= longest:
        fields["description"] = [f"between {shortest} and {longest} characters"]
    name, email, phone = (_clean(value) for value in (contact.name, contact.email, contact.phone))
    if len(name) > 200:
        fields["contact_name"] = ["at most 200 characters"]
    if email and (len(email) > 254 or not _EMAIL.fullmatch(email)):
        fields["contact_email"] = ["not an email address"]
    if phone and not _PHONE.fullmatch(phone):
        fields["contact_phone"] = ["not a phone number"]
    return fields


def _new_reference(session: Session, now: dt.datetime) -> str:
    """C-<year>-<6 characters>: short enough to read out on the phone, unique."""
    for _ in range(10):
        suffix = "".join(secrets.choice(ALPHABET) for _ in range(REFERENCE_CHARACTERS))
        reference = f"C-{now.year}-{suffix}"
        if session.scalar(select(Complaint.id).where(Complaint.reference == reference)) is None:
            return reference
    raise Conflict("no free complaint reference found; try again")  # 1 in 10^9 a year


# --- photos -------------------------------------------------------------------------------


def check_photo(data: bytes, max_bytes: int = PHOTO_MAX_BYTES) -> Photo:
    """Check a photo by its content and re-encode it without metadata; Invalid if it is
    too large, not a JPEG, PNG or WebP, too many pixels, or damaged."""
    if len(data) > max_bytes:
        limit = f"{max_bytes / (1024 * 1024):g} MB"
        raise Invalid(f"the photo is larger than {limit}", {"photo": [f"at most {limit}"]})
    not_an_image = Invalid(
        "the photo is not a JPEG, PNG or WebP image", {"photo": ["JPEG, PNG or WebP only"]}
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=list(PHOTO_FORMATS))
            if image.width * image.height > PHOTO_MAX_PIXELS:
                raise Invalid("the photo has too many pixels", {"photo": ["too many pixels"]})
            image.load()
            return _reencoded(image)
    except Invalid:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise not_an_image from None
    except (OSError, SyntaxError, ValueError, EOFError):  # truncated or corrupt data
        raise not_an_image from None


def _reencoded(image: Image.Image) -> Photo:
    kind = image.format
    image = ImageOps.exif_transpose(image)  # keep the orientation, drop the EXIF block
    image.thumbnail((PHOTO_MAX_SIDE, PHOTO_MAX_SIDE))
    if kind == "JPEG" and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    if kind == "WEBP" and image.mode not in ("RGB", "RGBA"):
        image = image.convert("RGBA")
    buffer = io.BytesIO()
    options = {"quality": 85} if kind in ("JPEG", "WEBP") else {}
    image.save(buffer, kind, **options)
    return Photo(buffer.getvalue(), PHOTO_FORMATS[kind])


def _store_photo(photo: Photo, instance_path: Path | None) -> str:
    """Write the photo under the instance path; returns its path relative to it."""
    if instance_path is None:
        raise ValueError("instance_path is needed to store a photo")
    folder = instance_path / PHOTO_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    relative = f"{PHOTO_FOLDER}/{secrets.token_hex(16)}.{photo.extension}"
    path = instance_path / relative
    path.write_bytes(photo.data)
    path.chmod(0o600)
    return relative


# --- tracking and staff updates -----------------------------------------------------------


def find_complaint_by_token(session: Session, token: str) -> Complaint:
    """The complaint a private tracking link names; NotFound for any other text."""
    complaint = None
    if 0 < len(token) <= 128:
        query = select(Complaint).where(Complaint.token_hash == hash_token(token))
        complaint = session.scalar(query)
    if complaint is None:
        raise NotFound("no complaint has this tracking link", {"token": ["unknown"]})
    return complaint


def add_complaint_update(
    session: Session,
    actor: str,
    complaint: Complaint,
    body: str,
    public: bool,
    status: ComplaintStatus | None = None,
) -> ComplaintUpdate:
    """Add a note or a public update to a complaint, optionally moving its status.

    The first public update is the first response (first_response_at); resolving and
    closing set their times, reopening clears them.
    """
    body = _clean(body)
    if not body or len(body) > UPDATE_LENGTH:
        raise Invalid("an update needs a text", {"body": [f"1 to {UPDATE_LENGTH} characters"]})
    if status is not None and status is not complaint.status:
        _check_transition(complaint.status, status)
    now = utcnow()
    update = ComplaintUpdate(
        complaint_id=complaint.id, created_at=now, author=actor, body=body, public=public
    )
    update.status = status
    if status is not None:
        _move(complaint, status, now)
    if public and complaint.first_response_at is None:
        complaint.first_response_at = now
    session.add(update)
    session.flush()
    audit_write(
        session,
        actor,
        "complaint.update",
        complaint,
        {"update_id": update.id, "public": public, "status": status and status.value},
    )
    return update


def _check_transition(current: ComplaintStatus, target: ComplaintStatus) -> None:
    if target not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(s.value for s in TRANSITIONS[current])) or "none"
        raise Conflict(
            f"a complaint that is {current.value} cannot become {target.value}",
            {"status": [f"from {current.value} allowed: {allowed}"]},
        )


def _move(complaint: Complaint, status: ComplaintStatus, now: dt.datetime) -> None:
    complaint.status = status
    if status is ComplaintStatus.resolved:
        complaint.resolved_at = now
    elif status in (ComplaintStatus.closed, ComplaintStatus.rejected):
        complaint.closed_at = now
    elif status is ComplaintStatus.investigating:  # reopened, or simply under way
        complaint.resolved_at = complaint.closed_at = None


def public_complaint_view(session: Session, complaint: Complaint) -> dict:
    """What the holder of the tracking link sees: status, times, the product, and the
    public updates in order. No contact data, no internal notes, no staff names."""
    item = None
    if complaint.item_id is not None:
        item = session.get(Item, complaint.item_id, options=[joinedload(Item.product)])
    updates = [update for update in complaint.updates if update.public]
    return {
        "reference": complaint.reference,
        "status": complaint.status.value,
        "category": complaint.category,
        "created_at": complaint.created_at,
        "first_response_at": complaint.first_response_at,
        "resolved_at": complaint.resolved_at,
        "closed_at": complaint.closed_at,
        "product": item.product.name if item else None,
        "serial": item.serial if item else None,
        "scanned_code": complaint.scanned_code,
        "photo": complaint.photo_path is not None,
        "updates": [
            {
                "at": update.created_at,
                "body": update.body,
                "status": update.status and update.status.value,
            }
            for update in updates
        ],
    }
