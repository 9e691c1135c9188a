"""Complaints: submitting, photos checked by content, tracking tokens, staff updates."""

import hashlib
import io
import json
import re
import stat
import struct
import zlib

import pytest
from PIL import Image
from sqlalchemy import select

from tests import factories
from trace import codes
from trace.audit.models import AuditEntry
from trace.audit.services import verify_chain
from trace.complaints import services as complaints
from trace.complaints.models import Complaint, ComplaintStatus, Severity
from trace.errors import Conflict, Invalid, NotFound

CONTACT = complaints.Contact("Li Lei", "li.lei@example.com", "+86 138 0013 8000")


def image_bytes(kind: str = "JPEG", size=(64, 48), **options) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 40, 40)).save(buffer, kind, **options)
    return buffer.getvalue()


def camera_exif() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "SecretCameraMaker"  # Make
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to show
    return exif.tobytes()


def submit(session, tmp_path, **overrides):
    data = {
        "item_id": (overrides.pop("item", None) or factories.make_item(session)).id,
        "category": "defect",
        "description": "The kettle does not switch off after boiling.",
        "contact": CONTACT,
        "instance_path": tmp_path,
    }
    data.update(overrides)
    return complaints.submit_complaint(session, "public", **data)


# --- submitting ---------------------------------------------------------------------------


def test_a_complaint_about_a_code_no_item_has_keeps_the_code(session, tmp_path):
    code = codes.new_code()
    complaint, token = complaints.submit_complaint(
        session,
        "public",
        scanned_code=f" {code.lower()} ",
        category="counterfeit",
        description="Bought at a market stall; the box looks different.",
        instance_path=tmp_path,
    )
    stored = session.get(Complaint, complaint.id)
    assert (stored.item_id, stored.scanned_code, stored.severity) == (None, code, Severity.high)
    view = complaints.public_complaint_view(session, stored)
    assert (view["product"], view["scanned_code"]) == (None, code)
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "complaint.submit"))
    assert json.loads(entry.data)["scanned_code"] == code
    assert complaints.find_complaint_by_token(session, token).id == complaint.id


@pytest.mark.parametrize("category", ["safety", "recall", "defect"])
def test_a_code_no_item_has_is_reported_as_counterfeit_or_other(session, tmp_path, category):
    with pytest.raises(Invalid) as error:
        complaints.submit_complaint(
            session,
            "public",
            scanned_code=codes.new_code(),
            category=category,
            description="Bought at a market stall.",
        )
    assert error.value.fields["category"] == ["one of: counterfeit, other"]
    assert session.scalars(select(Complaint)).all() == []


@pytest.mark.parametrize(
    ("scanned", "kept"),
    [("FAKE-123", "FAKE-123"), ("A\x00B\x07C", "ABC"), ("x" * 100, "x" * 64), ("\x00", "-")],
)
def test_text_that_is_no_code_is_kept_clean_and_short(scanned, kept):
    assert complaints.as_scanned(scanned) == kept


@pytest.mark.parametrize("subject", [{}, {"item_id": 1, "scanned_code": "X"}])
def test_a_complaint_is_about_an_item_or_a_code(session, tmp_path, subject):
    with pytest.raises(ValueError):
        complaints.submit_complaint(
            session, "public", **subject, category="other", description="Something odd."
        )


def test_submit_creates_a_received_complaint_linked_to_the_item(session, tmp_path):
    item = factories.make_item(session)
    complaint, _ = submit(session, tmp_path, item=item)
    stored = session.get(Complaint, complaint.id)
    assert stored.item_id == item.id
    assert (stored.status, stored.severity, stored.channel) == (
        ComplaintStatus.received,
        Severity.medium,
        "scan_page",
    )
    assert (stored.contact_name, stored.contact_email, stored.contact_phone) == (
        "Li Lei",
        "li.lei@example.com",
        "+86 138 0013 8000",
    )
    assert stored.created_at.tzinfo is not None
    assert stored.first_response_at is None


def test_reference_and_token(session, tmp_path):
    complaint, token = submit(session, tmp_path)
    year = complaint.created_at.year
    assert re.fullmatch(rf"C-{year}-[0-9A-HJKMNP-TV-Z]{{6}}", complaint.reference)
    assert len(token) >= 40  # 256 bits from secrets
    assert complaint.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in json.dumps([complaint.reference, complaint.token_hash])


def test_references_and_tokens_are_unique(session, tmp_path):
    submitted = [submit(session, tmp_path) for _ in range(20)]
    assert len({c.reference for c, _ in submitted}) == 20
    assert len({token for _, token in submitted}) == 20


@pytest.mark.parametrize(
    ("category", "severity"),
    [("safety", Severity.high), ("recall", Severity.high), ("damaged", Severity.medium)],
)
def test_severity_follows_the_category(session, tmp_path, category, severity):
    complaint, _ = submit(session, tmp_path, category=category)
    assert complaint.severity is severity


def test_contact_details_are_optional(session, tmp_path):
    complaint, _ = submit(session, tmp_path, contact=None)
    assert (complaint.contact_name, complaint.contact_email, complaint.contact_phone) == (
        None,
        None,
        None,
    )


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"category": "angry"}, "category"),
        ({"category": ""}, "category"),
        ({"description": "bad"}, "description"),
        ({"description": "   \n  "}, "description"),
        ({"description": "x" * 2001}, "description"),
        ({"contact": complaints.Contact(email="not-an-email")}, "contact_email"),
        ({"contact": complaints.Contact(phone="call me maybe")}, "contact_phone"),
        ({"contact": complaints.Contact(name="n" * 201)}, "contact_name"),
        ({"photo": b"GIF89a not really"}, "photo"),
    ],
)
def test_invalid_input_names_the_field_and_writes_nothing(session, tmp_path, overrides, field):
    before = factories.count(session, Complaint)
    with pytest.raises(Invalid) as raised:
        submit(session, tmp_path, **overrides)
    assert field in raised.value.fields
    assert factories.count(session, Complaint) == before
    assert not (tmp_path / complaints.PHOTO_FOLDER).exists()


def test_every_bad_field_is_reported_at_once(session, tmp_path):
    with pytest.raises(Invalid) as raised:
        submit(session, tmp_path, category="x", description="", photo=b"nope")
    assert set(raised.value.fields) == {"category", "description", "photo"}


def test_control_characters_are_removed(session, tmp_path):
    complaint, _ = submit(session, tmp_path, description="It\x00 leaks\r\n\x07 water\tbadly")
    assert complaint.description == "It leaks\n water\tbadly"


def test_the_audit_entry_holds_no_personal_data(session, tmp_path):
    complaint, token = submit(session, tmp_path)
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "complaint.submit")).one()
    assert entry.entity_id == str(complaint.id)
    for private in ["Li Lei", "li.lei@", "138 0013", "switch off", token]:
        assert private not in entry.data
    assert json.loads(entry.data)["reference"] == complaint.reference
    assert verify_chain(session).ok


# --- photos -------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "extension"), [("JPEG", "jpg"), ("PNG", "png"), ("WEBP", "webp")])
def test_photos_are_stored_under_the_instance_path(session, tmp_path, kind, extension):
    complaint, _ = submit(session, tmp_path, photo=image_bytes(kind))
    assert complaint.photo_path.startswith(complaints.PHOTO_FOLDER + "/")
    assert complaint.photo_path.endswith("." + extension)
    stored = tmp_path / complaint.photo_path
    with Image.open(stored) as image:
        assert image.format == kind
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600


def test_the_type_is_told_by_content_not_by_name(session, tmp_path):
    png = image_bytes("PNG")
    complaint, _ = submit(session, tmp_path, photo=png)  # no name at all: content decides
    assert complaint.photo_path.endswith(".png")
    with pytest.raises(Invalid):
        complaints.check_photo(b"\xff\xd8\xff\xe0 but then text, not a JPEG")


@pytest.mark.parametrize("kind", ["GIF", "BMP", "TIFF"])
def test_other_image_formats_are_refused(kind):
    with pytest.raises(Invalid) as raised:
        complaints.check_photo(image_bytes(kind))
    assert "photo" in raised.value.fields


def test_a_truncated_image_is_refused():
    with pytest.raises(Invalid):
        complaints.check_photo(image_bytes("JPEG", size=(400, 300))[:600])


def test_a_photo_over_the_size_limit_is_refused():
    data = image_bytes("PNG")
    with pytest.raises(Invalid) as raised:
        complaints.check_photo(data, max_bytes=len(data) - 1)
    assert "photo" in raised.value.fields
    assert complaints.check_photo(data, max_bytes=len(data)).extension == "png"


def claimed_size_png(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims `width` x `height` pixels (its CRC made right)."""
    png = bytearray(image_bytes("PNG", size=(1, 1)))
    header = png[12:29]  # "IHDR" and its 13 bytes of data
    header[4:12] = struct.pack(">II", width, height)
    png[12:29] = header
    png[29:33] = struct.pack(">I", zlib.crc32(bytes(header)))
    return bytes(png)


@pytest.mark.parametrize("size", [(20_000, 20_000), (100_000, 600)])
def test_a_decompression_bomb_is_refused_before_decoding(size):
    with pytest.raises(Invalid) as raised:
        complaints.check_photo(claimed_size_png(*size))
    assert "photo" in raised.value.fields


def test_metadata_is_stripped_and_orientation_kept():
    photo = complaints.check_photo(image_bytes("JPEG", size=(64, 48), exif=camera_exif()))
    assert b"SecretCameraMaker" not in photo.data
    image = Image.open(io.BytesIO(photo.data))
    assert image.size == (48, 64)  # turned upright, as the camera meant it
    assert not image.getexif()


def test_large_photos_are_scaled_down():
    photo = complaints.check_photo(image_bytes("JPEG", size=(4000, 3000)))
    assert max(Image.open(io.BytesIO(photo.data)).size) == complaints.PHOTO_MAX_SIDE


# --- tracking -----------------------------------------------------------------------------


def test_find_by_token(session, tmp_path):
    complaint, token = submit(session, tmp_path)
    assert complaints.find_complaint_by_token(session, token).id == complaint.id


@pytest.mark.parametrize("token", ["", "x", "x" * 500])
def test_an_unknown_token_finds_nothing(session, tmp_path, token):
    _, real = submit(session, tmp_path)
    with pytest.raises(NotFound):
        complaints.find_complaint_by_token(session, token)
    with pytest.raises(NotFound):
        complaints.find_complaint_by_token(session, real[:-1])


def test_the_public_view_shows_status_and_public_updates_only(session, tmp_path):
    item = factories.make_item(session, serial="KT-000042")
    complaint, _ = submit(session, tmp_path, item=item, photo=image_bytes())
    complaints.add_complaint_update(session, "qe:zhao", complaint, "Internal: call Li", False)
    complaints.add_complaint_update(
        session,
        "qe:zhao",
        complaint,
        "We are looking into it.",
        True,
        ComplaintStatus.investigating,
    )
    view = complaints.public_complaint_view(session, complaint)
    assert view["reference"] == complaint.reference
    assert (view["status"], view["category"], view["photo"]) == ("investigating", "defect", True)
    assert (view["product"], view["serial"]) == ("Electric kettle", "KT-000042")
    assert [(u["body"], u["status"]) for u in view["updates"]] == [
        ("We are looking into it.", "investigating")
    ]
    text = json.dumps(view, default=str)
    for private in ["Li Lei", "li.lei", "138 0013", "Internal", "qe:zhao", "switch off", "token"]:
        assert private not in text


# --- staff updates ------------------------------------------------------------------------


def test_the_first_public_update_is_the_first_response(session, tmp_path):
    complaint, _ = submit(session, tmp_path)
    complaints.add_complaint_update(session, "qe:zhao", complaint, "note to self", False)
    assert complaint.first_response_at is None
    update = complaints.add_complaint_update(session, "qe:zhao", complaint, "Thank you!", True)
    assert complaint.first_response_at == update.created_at
    complaints.add_complaint_update(session, "qe:zhao", complaint, "Another", True)
    assert complaint.first_response_at == update.created_at


def test_status_moves_and_their_times(session, tmp_path):
    complaint, _ = submit(session, tmp_path)
    complaints.add_complaint_update(
        session, "qe", complaint, "Acknowledged", True, ComplaintStatus.acknowledged
    )
    resolved = complaints.add_complaint_update(
        session, "qe", complaint, "Replaced", True, ComplaintStatus.resolved
    )
    assert complaint.resolved_at == resolved.created_at
    closed = complaints.add_complaint_update(
        session, "qe", complaint, "Done", False, ComplaintStatus.closed
    )
    assert (complaint.status, complaint.closed_at) == (ComplaintStatus.closed, closed.created_at)
    complaints.add_complaint_update(
        session, "qe", complaint, "Customer says it is back", True, ComplaintStatus.investigating
    )
    assert (complaint.resolved_at, complaint.closed_at) == (None, None)


@pytest.mark.parametrize(
    ("path", "target"),
    [
        ([], ComplaintStatus.closed),
        ([ComplaintStatus.investigating], ComplaintStatus.acknowledged),
        ([ComplaintStatus.investigating], ComplaintStatus.received),
    ],
)
def test_a_transition_that_is_not_allowed_is_a_conflict(session, tmp_path, path, target):
    complaint, _ = submit(session, tmp_path)
    for status in path:
        complaints.add_complaint_update(session, "qe", complaint, "on it", True, status)
    with pytest.raises(Conflict):
        complaints.add_complaint_update(session, "qe", complaint, "skip ahead", True, target)
    assert complaint.status is (path[-1] if path else ComplaintStatus.received)


@pytest.mark.parametrize("body", ["", "   ", "x" * 5001])
def test_an_update_needs_a_text(session, tmp_path, body):
    complaint, _ = submit(session, tmp_path)
    with pytest.raises(Invalid):
        complaints.add_complaint_update(session, "qe", complaint, body, True)


def test_updates_are_audited(session, tmp_path):
    complaint, _ = submit(session, tmp_path)
    complaints.add_complaint_update(
        session, "qe:zhao", complaint, "Call +86 138", True, ComplaintStatus.acknowledged
    )
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "complaint.update")).one()
    assert entry.actor == "qe:zhao"
    assert json.loads(entry.data)["status"] == "acknowledged"
    assert "+86" not in entry.data
