"""Loading input and dumping output fast, exactly as the marshmallow schemas do.

marshmallow spends microseconds of bookkeeping on every field, and a bulk post of 10,000
inspections has some 200,000 fields in and 40,000 out. So each schema is compiled once
into a plain Python function written from its own declarations.

Loading: the same field types, validators, defaults, unknown-field rule and schema
validators. A compiled loader returns exactly what `schema.load` would return, or gives
up; then marshmallow loads the input again and says what is wrong in its own words and
shape. Error messages thus always come from marshmallow, and a field type, validator
option or hook this module does not know makes its schema load through marshmallow alone:
correctness never depends on this module knowing a type, only speed does.

Dumping: each value is read with marshmallow's own accessor and converted as the field's
_serialize does; a field of another kind is dumped by its own `serialize`, and a schema
with dump hooks by marshmallow.
"""

from __future__ import annotations

import functools
import math
import uuid
from collections.abc import Callable

from marshmallow import EXCLUDE, RAISE, Schema, fields, validate
from marshmallow.decorators import (
    POST_DUMP,
    POST_LOAD,
    PRE_DUMP,
    PRE_LOAD,
    VALIDATES,
    VALIDATES_SCHEMA,
)
from marshmallow.utils import ensure_text_type, get_value, missing

from api.schemas.fields import NOT_TEXT, Pattern, StrictFloat, Text, trimmed

Compiled = Callable[[object], object]


class Unsure(Exception):
    """The compiled loader cannot vouch for this input: marshmallow decides."""


class Loader:
    """Loads input for one schema: compiled when it can be, by marshmallow otherwise."""

    def __init__(self, schema: Schema):
        self.schema = schema
        self.compiled = compile_schema(schema)

    def load(self, data):
        if self.compiled is not None:
            try:
                return self.compiled(data)
            except Exception:  # whatever went wrong, marshmallow's answer is the answer
                pass
        return self.schema.load(data)


@functools.cache
def loader(schema_class: type[Schema]) -> Loader:
    """The one loader of `schema_class`, built on first use (schemas are stateless)."""
    return Loader(schema_class())


class Dumper:
    """Dumps output for one schema: compiled when it can be, by marshmallow otherwise."""

    def __init__(self, schema: Schema):
        self.schema = schema
        self.compiled = compile_dump(schema)

    def dump(self, obj):
        if self.compiled is None:
            return self.schema.dump(obj)
        return self.compiled(obj)


@functools.cache
def dumper(schema_class: type[Schema], many: bool = False) -> Dumper:
    """The one dumper of `schema_class` (of lists of them if `many`), built on first use."""
    return Dumper(schema_class(many=many))


def compile_dump(schema: Schema) -> Compiled | None:
    """A function dumping as `schema.dump` does, or None if none can be built."""
    source = _Source()
    name = source.dump_schema(schema)
    return None if name is None else source.build(name)


def compile_schema(schema: Schema, unknown: str | None = None) -> Compiled | None:
    """A function loading one object as `schema.load` does, or None if none can be built."""
    source = _Source()
    name = source.schema(schema, unknown)
    return None if name is None else source.build(name)


class _Source:
    """Python source of a compiled loader or dumper, and the objects the source refers to."""

    def __init__(self):
        self.lines: list[str] = []
        self.names: dict[str, object] = {
            "Unsure": Unsure,
            "missing": missing,
            "UUID": uuid.UUID,
            "isfinite": math.isfinite,
            "get_value": get_value,
            "ensure_text_type": ensure_text_type,
        }

    def ref(self, obj, hint: str) -> str:
        name = f"{hint}_{len(self.names)}"
        self.names[name] = obj
        return name

    def build(self, name: str) -> Compiled:
        namespace = dict(self.names)
        exec(compile("\n".join(self.lines), f"<compiled {name}>", "exec"), namespace)
        return namespace[name]

    def dump_schema(self, schema: Schema) -> str | None:
        """Write a function dumping what `schema` dumps (a list if schema.many); its name."""
        hooks = schema._hooks
        if hooks[PRE_DUMP] or hooks[POST_DUMP] or schema.dict_class is not dict:
            return None
        if type(schema).get_attribute is not Schema.get_attribute:
            return None
        body = []
        for attr_name, field in schema.dump_fields.items():
            key = attr_name if field.data_key is None else field.data_key
            body += self.dump_field(field, attr_name, key)
        name = self.ref(None, f"dump_{type(schema).__name__}")
        one = name if not schema.many else self.ref(None, f"dump_one_{type(schema).__name__}")
        self.lines += [f"def {one}(obj):", "    out = {}", *(f"    {line}" for line in body)]
        self.lines += ["    return out", ""]
        if schema.many:  # as Schema._serialize: None is dumped as one object
            self.lines += [
                f"def {name}(objs):",
                f"    return {one}(objs) if objs is None else [{one}(obj) for obj in objs]",
                "",
            ]
        return name

    def dump_field(self, field: fields.Field, attr_name: str, key: str) -> list[str]:
        """Lines putting the field's dumped value under `key` in `out` (as Field.serialize)."""
        kind, conversion = type(field), None
        reads = (
            kind.serialize is fields.Field.serialize and kind.get_value is fields.Field.get_value
        )
        if reads and field._CHECK_ATTRIBUTE and field.dump_default is missing:
            conversion = self.dump_conversion(field, attr_name)
        if conversion is None:  # the field's own way, unchanged
            serialize = self.ref(field.serialize, "serialize")
            accessor = self.ref(field.parent.get_attribute, "get_attribute")
            return [
                f"v = {serialize}({attr_name!r}, obj, accessor={accessor})",
                "if v is not missing:",
                f"    out[{key!r}] = v",
            ]
        check_key = attr_name if field.attribute is None else field.attribute
        read = f"get_value(obj, {check_key!r}, missing)"
        if "." not in check_key:  # a dict's own key first, as get_value finds it
            read = f"obj[{check_key!r}] if type(obj) is dict and {check_key!r} in obj else {read}"
        return [
            f"v = {read}",
            "if v is not missing:",
            *(f"    {line}" for line in conversion),
            f"    out[{key!r}] = v",
        ]

    def dump_conversion(self, field: fields.Field, attr_name: str) -> list[str] | None:
        """Lines turning a value `v` (maybe None) into what field._serialize returns."""
        kind = type(field)
        own = kind._serialize
        if own is fields.Field._serialize:
            return []
        if own is fields.String._serialize:
            return ["if v is not None and type(v) is not str:", "    v = ensure_text_type(v)"]
        if own is fields.UUID._serialize:
            return ["if v is not None:", "    v = str(v)"]
        if own is fields.Number._serialize and kind._format_num is fields.Number._format_num:
            if field.as_string or field.num_type not in (int, float):
                return None
            number = field.num_type.__name__
            return [f"if v is not None and type(v) is not {number}:", f"    v = {number}(v)"]
        if own is fields.DateTime._serialize and isinstance(field, fields.DateTime):
            function = field.SERIALIZATION_FUNCS.get(field.format or field.DEFAULT_FORMAT)
            if function is None:
                return None
            return ["if v is not None:", f"    v = {self.ref(function, 'format')}(v)"]
        if own is fields.Enum._serialize and field.by_value is True:
            if type(field.field)._serialize is not fields.Field._serialize:
                return None
            return ["if v is not None:", "    v = v.value"]
        if own is fields.List._serialize:
            return self.dump_list(field, attr_name)
        if own is fields.Nested._serialize and not field.many:
            nested = self.dump_schema(field.schema)
            if nested is None:
                return None
            return ["if v is not None:", f"    v = {nested}(v)"]
        serialize = self.ref(field._serialize, "own_serialize")  # exact, just not inlined
        return [f"v = {serialize}(v, {attr_name!r}, obj)"]

    def dump_list(self, field: fields.List, attr_name: str) -> list[str] | None:
        inner = self.dump_conversion(field.inner, attr_name)
        if inner is None or any("obj" in line for line in inner):
            return None
        each = self.ref(None, "dump_each")
        self.lines += [f"def {each}(v):", *(f"    {line}" for line in inner), "    return v", ""]
        return ["if v is not None:", f"    v = [{each}(e) for e in v]"]

    def schema(self, schema: Schema, unknown: str | None) -> str | None:
        """Write a function loading one object of `schema`; its name, or None."""
        unknown = schema.unknown if unknown is None else unknown
        if not _compilable(schema, unknown):
            return None
        body = []
        for attr_name, field in schema.load_fields.items():
            lines = self.field(field)
            target = field.attribute or attr_name
            if lines is None or "." in target:
                return None
            key = attr_name if field.data_key is None else field.data_key
            body += _present_or_not(field, key, target, lines, self)
        for validator, pass_original in _schema_validators(schema):
            call = self.ref(validator, "validates_schema")
            extra = "data, " if pass_original else ""
            arguments = f"partial={schema.partial!r}, many=False, unknown={unknown!r}"
            body.append(f"{call}(result, {extra}{arguments})")
        known = self.ref(frozenset(_data_keys(schema)), "known")
        name = self.ref(None, f"load_{type(schema).__name__}")
        head = [
            f"def {name}(data):",
            "    if type(data) is not dict:",
            "        raise Unsure",
        ]
        if unknown == RAISE:
            head += [f"    if not {known}.issuperset(data):", "        raise Unsure"]
        self.lines += [*head, "    result = {}", *(f"    {line}" for line in body)]
        self.lines += ["    return result", ""]
        return name

    def field(self, field: fields.Field) -> list[str] | None:
        """Lines turning a present, non-None value `v` into the field's output in `v`."""
        if field.pre_load or field.post_load:
            return None
        cls = type(field)
        if cls.deserialize is not fields.Field.deserialize:
            return None
        if cls._validate is not fields.Field._validate:
            return None
        lines = self.conversion(field)
        for validator in field.validators:
            checks = self.check(validator)
            if lines is None or checks is None:
                return None
            lines += checks
        return lines

    def conversion(self, field: fields.Field) -> list[str] | None:
        for base, write in CONVERSIONS:
            if isinstance(field, base) and _loads_as(type(field), base):
                return write(self, field)
        return None

    def check(self, validator) -> list[str]:
        """Lines raising Unsure where `validator` would refuse `v`."""
        kind = type(validator)
        if kind is validate.Length:
            return _length_check(validator)
        if kind is validate.Range:
            return _range_check(validator, self)
        if kind is Pattern:
            return [f"if {self.ref(validator.regex.fullmatch, 'fullmatch')}(v) is None:", _NO]
        if kind is validate.Regexp:
            return [f"if {self.ref(validator.regex.match, 'match')}(v) is None:", _NO]
        if kind is validate.OneOf:
            return [f"if v not in {self.ref(validator.choices, 'choices')}:", _NO]
        return [f"{self.ref(validator, 'validator')}(v)"]  # raises if it refuses


_NO = "    raise Unsure"


def _compilable(schema: Schema, unknown: str) -> bool:
    hooks = schema._hooks
    if schema.many or schema.partial or unknown not in (RAISE, EXCLUDE):
        return False
    return not (hooks[PRE_LOAD] or hooks[POST_LOAD] or hooks[VALIDATES]) and (
        schema.dict_class is dict
    )


def _data_keys(schema: Schema):
    for attr_name, field in schema.load_fields.items():
        yield attr_name if field.data_key is None else field.data_key


def _present_or_not(field, key: str, target: str, lines: list[str], source: _Source):
    """What Field.deserialize and Schema._deserialize do with one key of the input."""
    out = [f"v = data.get({key!r}, missing)", "if v is missing:"]
    if field.required:
        out.append(_NO)
    elif field.load_default is missing:
        out.append("    pass")
    else:
        default = source.ref(field.load_default, "default")
        value = f"{default}()" if callable(field.load_default) else default
        out.append(f"    result[{target!r}] = {value}")
    out.append("elif v is None:")
    out.append(f"    result[{target!r}] = None" if field.allow_none else _NO)
    out.append("else:")
    out += [f"    {line}" for line in lines]
    out.append(f"    result[{target!r}] = v")
    return out


def _schema_validators(schema: Schema):
    # As Schema._do_load runs them for one object: collection hooks first, then the others.
    hooks = schema._hooks[VALIDATES_SCHEMA]
    for attr_name, _, options in [h for h in hooks if h[1]] + [h for h in hooks if not h[1]]:
        yield getattr(schema, attr_name), options.get("pass_original", False)


# Methods through which the field types below load a value: a subclass that overrides any
# of them loads differently from its base, so it is not compiled as that base.
LOADING_METHODS = ("_deserialize", "_validated", "_format_num", "_test_collection", "_load")


def _loads_as(cls: type, base: type) -> bool:
    return all(getattr(cls, name, None) is getattr(base, name, None) for name in LOADING_METHODS)


def _is_str() -> list[str]:
    return ["if type(v) is not str:", _NO]


def _string(_source, _field) -> list[str]:
    return _is_str()


def _text(source: _Source, _field) -> list[str]:
    # Text's rules: trimmed, and neither control characters nor lone surrogates.
    trim, not_text = source.ref(trimmed, "trimmed"), source.ref(NOT_TEXT.search, "not_text")
    return [*_is_str(), f"v = {trim}(v)", f"if {not_text}(v):", _NO]


def _uuid(_source, _field) -> list[str]:
    return [*_is_str(), "v = UUID(v)"]


def _float(_source, field: fields.Float) -> list[str]:
    # Numbers only: StrictFloat's rule is kept, and a plain Float's numeric strings are
    # left to marshmallow. True and False are not numbers here, as in marshmallow.
    lines = ["if type(v) is not float and type(v) is not int:", _NO, "v = float(v)"]
    if not field.allow_nan:
        lines += ["if not isfinite(v):", _NO]
    return lines


def _integer(_source, _field) -> list[str]:
    return ["if type(v) is not int:", _NO]


def _boolean(source: _Source, field: fields.Boolean) -> list[str]:
    if not field.truthy:
        return ["v = bool(v)"]
    truthy, falsy = source.ref(field.truthy, "truthy"), source.ref(field.falsy, "falsy")
    return [
        f"if v in {truthy}:",
        "    v = True",
        f"elif v in {falsy}:",
        "    v = False",
        "else:",
        _NO,
    ]


def _enum(source: _Source, field: fields.Enum) -> list[str] | None:
    if field.by_value is True:
        # What Enum(value) finds first; other values (a _missing_ hook's) go to marshmallow.
        by_value = source.ref({member.value: member for member in field.enum}, "by_value")
        return [f"v = {by_value}[v]"]
    if field.by_value is False:
        return [*_is_str(), f"v = {source.ref(field.enum, 'enum')}[v]"]
    return None


def _datetime(source: _Source, field: fields.DateTime) -> list[str] | None:
    parse = field.DESERIALIZATION_FUNCS.get(field.format)
    if parse is None:
        return None
    lines = [*_is_str(), f"v = {source.ref(parse, 'parse')}(v)"]
    if isinstance(field, fields.AwareDateTime):
        lines.append("if v.tzinfo is None or v.tzinfo.utcoffset(v) is None:")
        if field.default_timezone is None:
            lines.append(_NO)
        else:
            lines.append(f"    v = v.replace(tzinfo={source.ref(field.default_timezone, 'tz')})")
    return lines


def _list(source: _Source, field: fields.List) -> list[str] | None:
    inner = source.field(field.inner)
    if inner is None:
        return None
    each = source.ref(None, "each")
    none = "return None" if field.inner.allow_none else "raise Unsure"
    source.lines += [
        f"def {each}(v):",
        "    if v is None:",
        f"        {none}",
        *(f"    {line}" for line in inner),
        "    return v",
        "",
    ]
    return ["if type(v) is not list:", _NO, f"v = [{each}(e) for e in v]"]


def _nested(source: _Source, field: fields.Nested) -> list[str] | None:
    if field.many:
        return None
    name = source.schema(field.schema, field.unknown)
    return None if name is None else [f"v = {name}(v)"]


def _refused(_source, _field) -> None:
    return None


# Most specific first: a field is written as the first entry it is an instance of, if it
# loads through that entry's methods unchanged.
CONVERSIONS = (
    (Text, _text),
    (fields.String, _string),
    (fields.UUID, _uuid),
    (StrictFloat, _float),
    (fields.Float, _float),
    (fields.Integer, _integer),
    (fields.Boolean, _boolean),
    (fields.Enum, _enum),
    (fields.AwareDateTime, _datetime),
    (fields.NaiveDateTime, _refused),
    (fields.DateTime, _datetime),
    (fields.List, _list),
    (fields.Nested, _nested),
)


def _length_check(length: validate.Length) -> list[str]:
    if length.equal is not None:
        return [f"if len(v) != {length.equal!r}:", _NO]
    lines = ["n = len(v)"]
    if length.min is not None:
        lines += [f"if n < {length.min!r}:", _NO]
    if length.max is not None:
        lines += [f"if n > {length.max!r}:", _NO]
    return lines


def _range_check(rule: validate.Range, source: _Source) -> list[str]:
    lines = []
    if rule.min is not None:
        low = source.ref(rule.min, "low")
        lines += [f"if v {'<' if rule.min_inclusive else '<='} {low}:", _NO]
    if rule.max is not None:
        high = source.ref(rule.max, "high")
        lines += [f"if v {'>' if rule.max_inclusive else '>='} {high}:", _NO]
    return lines
