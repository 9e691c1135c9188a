"""Compiled loaders and dumpers do exactly what marshmallow does with the same schemas.

A compiled loader may give up on any input (marshmallow then decides); it must never
accept what marshmallow refuses, nor load anything differently. Dumpers must give
marshmallow's output for every response schema of the API.
"""

import datetime as dt
import math
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from marshmallow import Schema, ValidationError, fields

from api.endpoint import REGISTRY
from api.schemas.capture import bulk_in
from api.schemas.compiled import Loader, compile_dump, compile_schema
from api.schemas.fields import MAX_ID
from api.schemas.quality import (
    InspectionIn,
    InspectionOut,
    MeasurementIn,
    ProcessRecordIn,
    ProcessRecordOut,
)
from tests import factories
from trace.quality.models import InspectionResult

CAPTURE_SCHEMAS = [InspectionIn, ProcessRecordIn, MeasurementIn]
BULK_SCHEMAS = [bulk_in(InspectionIn), bulk_in(ProcessRecordIn)]


def measurement(**overrides):
    return {"name": "leak", "value": 0.21, "unit": "mA", "upper_limit": 0.5, **overrides}


def inspection(**overrides):
    data = {
        "event_id": str(uuid.uuid4()),
        "item_code": "ABCDEFGHJKMNPQRS0",
        "station": "IL1-QC",
        "inspector": "QC-1",
        "occurred_at": "2026-11-01T16:00:00+08:00",
        "result": "pass",
        "measurements": [measurement()],
    }
    return {**data, **overrides}


def process_record(**overrides):
    data = {
        "event_id": str(uuid.uuid4()),
        "batch_id": 7,
        "station": "OV-1",
        "parameter": "oven_temp",
        "value": 221.5,
        "unit": "C",
        "lower_limit": 210,
        "upper_limit": 230,
        "occurred_at": "2026-11-01T02:00:00Z",
    }
    return {**data, **overrides}


EXAMPLES = {InspectionIn: inspection, ProcessRecordIn: process_record, MeasurementIn: measurement}

# Values that each break some rule of some field, or come close to one.
# fmt: off
ODD_VALUES = [
    None, True, False, 0, 1, -1, 2, 1.0, 1.5, -0.0, 2**63, 2**64, 10**400,
    math.nan, math.inf, -math.inf, "", " ", "  x  ", "x", "x" * 65, "x" * 1001, "A" * 33,
    "a\x00b", "a\x7fb", "tab\there", "line\nbreak", "\ud800", "has space", "ok/code-1.2_3",
    "-lead", "5", "1e3", "NaN", "pass", "PASS", "fail", "rework", "yes", "true", "1",
    "2026-11-01T08:00:00Z", "2026-11-01T08:00:00", "2026-11-01", "2026-11-01T08:00:00+0530",
    "9999-12-31T23:00:00-05:00", "9999-12-31T23:00:00Z", "0001-01-01T00:00:00+05:00",
    "not a time", "00000000-0000-0000-0000-000000000000", "{12345678123456781234567812345678}",
    str(uuid.uuid4()).upper(), [], [None], ["A1"], ["has space"], ["A"] * 51,
    [measurement()], [measurement(value="high")], [{}], {}, {"name": "x"},
]
# fmt: on

FIELD_NAMES = sorted(
    {name for schema in CAPTURE_SCHEMAS for name in schema().load_fields} | {"colour"}
)


@st.composite
def mutated(draw, make):
    """A valid example with some fields replaced by odd values, removed or added."""
    data = make()
    for _ in range(draw(st.integers(0, 3))):
        name = draw(st.sampled_from(FIELD_NAMES))
        if draw(st.booleans()) and name in data:
            del data[name]
        else:
            data[name] = draw(st.sampled_from(ODD_VALUES))
    if "measurements" in data and draw(st.booleans()):
        data["measurements"] = [draw(mutated(measurement)) for _ in range(draw(st.integers(0, 2)))]
    return data


def outcome(load, data):
    try:
        return "loaded", load(data)
    except ValidationError as error:
        return "refused", error.messages
    except Exception as error:  # what else a loader raises is part of what it does
        return "raised", type(error)


def compiled(schema_class):
    schema = schema_class()
    load = compile_schema(schema)
    assert load is not None, f"{schema_class.__name__} does not compile"
    return schema, load


@pytest.mark.parametrize("schema_class", [*CAPTURE_SCHEMAS, *BULK_SCHEMAS])
def test_the_capture_schemas_compile(schema_class):
    compiled(schema_class)


@pytest.mark.parametrize("schema_class", CAPTURE_SCHEMAS)
@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(data=st.data())
def test_a_compiled_loader_accepts_only_what_marshmallow_accepts(schema_class, data):
    schema, load = compiled(schema_class)
    record = data.draw(mutated(EXAMPLES[schema_class]))
    expected = outcome(schema.load, record)
    fast = outcome(load, record)
    if fast[0] == "loaded":
        assert expected == fast
    assert outcome(Loader(schema).load, record) == expected


# Values each field accepts, in the forms clients send them.
VALID_VALUES = {
    "event_id": [str(uuid.uuid4()), str(uuid.uuid4()).upper(), uuid.uuid4().hex],
    "occurred_at": [
        "2026-11-01T16:00:00+08:00",
        "2026-11-01T08:00:00Z",
        "2026-11-01T08:00:00.123456+00:00",
        "2026-11-01 08:00:00-05:30",
    ],
    "result": ["pass", "fail", "rework"],
    "is_final": [True, False],
    "is_public": [True, False],
    "defect_codes": [[], ["D1"], ["SCRATCH", "a/b.c-d_e"]],
    "notes": [None, "ok", "  trimmed  ", "第二次返工", "\u3000全角空格\u200b"],
    "unit": [None, "mA", " C "],
    "value": [0, 1, -2.5, 1e300, 0.21],
    "lower_limit": [None, 0, -1.5],
    "upper_limit": [None, 10**6, 2.75],
    "replaces": [1, MAX_ID],
    "void_reason": ["misread", "  typo  "],
}


@st.composite
def varied(draw, schema_class):
    """A valid record with its optional fields and their forms drawn."""
    data, names = EXAMPLES[schema_class](), schema_class().load_fields
    for name, values in VALID_VALUES.items():
        if name in data or (name in names and draw(st.booleans())):
            data[name] = draw(st.sampled_from(values))
    if data.get("replaces") is None:
        data.pop("void_reason", None)
    low, high = data.get("lower_limit"), data.get("upper_limit")
    if low is not None and high is not None and low > high:
        data["lower_limit"], data["upper_limit"] = high, low
    if "measurements" in data:
        data["measurements"] = [draw(varied(MeasurementIn)) for _ in range(draw(st.integers(0, 3)))]
    return data


@pytest.mark.parametrize("schema_class", CAPTURE_SCHEMAS)
@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(data=st.data())
def test_valid_records_take_the_compiled_path_and_load_alike(schema_class, data):
    schema, load = compiled(schema_class)
    record = data.draw(varied(schema_class))
    assert load(record) == schema.load(record)


@pytest.mark.parametrize(
    ("record", "field"),
    [
        (inspection(result="PASS"), "result"),
        (inspection(is_final="yes"), "is_final"),
        (inspection(is_final=1), "is_final"),
        (inspection(notes="\u200b\u3000"), "notes"),
        (inspection(void_reason="without replaces"), "void_reason"),
        (inspection(occurred_at="2026-11-01T16:00:00"), "occurred_at"),
        (inspection(event_id="not-a-uuid"), "event_id"),
        (inspection(notes="  \x00  "), "notes"),
        (inspection(defect_codes=["ok", "has space"]), "defect_codes"),
        (inspection(measurements=[measurement(value=math.nan)]), "measurements"),
        (inspection(measurements=[measurement(value="0.5")]), "measurements"),
        (inspection(measurements=[measurement(lower_limit=5, upper_limit=1)]), "measurements"),
        (inspection(measurements=[measurement(name="   ")]), "measurements"),
        (inspection(colour="red"), "colour"),
        (inspection(batch_id=1), "item_code"),
        (process_record(value=True), "value"),
        (process_record(lower_limit=300), "lower_limit"),
    ],
)
def test_refused_records_get_marshmallows_messages(record, field):
    schema, _ = compiled(InspectionIn if "inspector" in record else ProcessRecordIn)
    with pytest.raises(ValidationError) as expected:
        schema.load(record)
    with pytest.raises(ValidationError) as got:
        Loader(schema).load(record)
    assert got.value.messages == expected.value.messages
    assert field in got.value.messages


def test_a_bulk_post_names_the_index_and_field_of_each_bad_record():
    schema, _ = compiled(BULK_SCHEMAS[0])
    records = [inspection() for _ in range(4)]
    records[1]["result"] = "maybe"
    records[3]["measurements"][0]["value"] = "high"
    with pytest.raises(ValidationError) as expected:
        schema.load({"records": records})
    with pytest.raises(ValidationError) as got:
        Loader(schema).load({"records": records})
    assert got.value.messages == expected.value.messages
    assert set(got.value.messages["records"]) == {1, 3}


def test_a_bulk_post_loads_as_marshmallow_loads_it():
    schema, load = compiled(BULK_SCHEMAS[0])
    body = {"records": [inspection(defect_codes=["D1"], is_final=True), inspection()]}
    assert load(body) == schema.load(body)
    assert load(body)["records"][0]["result"] is InspectionResult.passed


def test_what_cannot_be_mirrored_is_left_to_marshmallow():
    assert compile_schema(Schema.from_dict({"at": fields.NaiveDateTime()})()) is None
    assert compile_schema(Schema.from_dict({"n": fields.Decimal()})()) is None
    many = fields.Nested(MeasurementIn, many=True)
    assert compile_schema(Schema.from_dict({"n": many})()) is None
    assert Loader(Schema.from_dict({"n": fields.Decimal()})()).load({"n": "1.5"}) == {"n": 1.5}


# Dumping --------------------------------------------------------------------------------

RESPONSES = sorted({spec.response for spec in REGISTRY if spec.response}, key=lambda s: s.__name__)


def sample(field: fields.Field, depth: int = 0):
    """A value of the kind the field dumps, or None where nothing fits."""
    if isinstance(field, fields.Nested):
        return None if depth > 3 else sample_object(field.schema, depth + 1)
    if isinstance(field, fields.List):
        return [sample(field.inner, depth), sample(field.inner, depth)]
    if isinstance(field, fields.Enum):
        return next(iter(field.enum))
    kinds = [
        (fields.Boolean, 1),
        (fields.Integer, 7),
        (fields.Float, 2),
        (fields.UUID, uuid.UUID(int=5)),
        (fields.DateTime, dt.datetime(2026, 11, 1, 8, tzinfo=dt.UTC)),
        (fields.Date, dt.date(2026, 11, 1)),
        (fields.String, "text"),
    ]
    return next((value for kind, value in kinds if isinstance(field, kind)), None)


def sample_object(schema: Schema, depth: int = 0) -> dict:
    data = {}
    for name, field in schema.dump_fields.items():
        path = (field.attribute or name).split(".")
        target = data
        for part in path[:-1]:
            target = target.setdefault(part, {})
        target[path[-1]] = sample(field, depth)
    return data


@pytest.mark.parametrize("schema_class", RESPONSES, ids=lambda s: s.__name__)
def test_every_response_schema_dumps_as_marshmallow_does(schema_class):
    for many in (False, True):
        schema = schema_class(many=many)
        dump = compile_dump(schema)
        assert dump is not None
        full = sample_object(schema_class())
        empty = {}
        nones = dict.fromkeys(full)
        for obj in (full, empty, nones):
            data = [obj, obj] if many else obj
            assert outcome(dump, data) == outcome(schema.dump, data)


def test_records_as_objects_dump_as_marshmallow_does(session):
    inspection = factories.make_inspection(
        session,
        measurements=[{"name": "leak", "value": 0.2, "unit": "mA", "upper_limit": 0.5}],
        defect_codes=["D1"],
    )
    record = factories.make_process_record(session)
    for schema, obj in ((InspectionOut(), inspection), (ProcessRecordOut(), record)):
        assert compile_dump(schema)(obj) == schema.dump(obj)
