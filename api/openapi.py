"""The OpenAPI 3 document, built from the endpoint declarations."""

from __future__ import annotations

import re
from functools import cache

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from api.endpoint import REGISTRY, Endpoint
from api.schemas.common import Error
from trace.auth.models import Role

PATH_PARAM = re.compile(r"<(?:(\w+):)?(\w+)>")
ERROR_TEXT = {
    400: "Malformed request",
    401: "No API key, or an unknown or revoked one",
    403: "The key's role or binding does not allow this",
    404: "Unknown resource",
    409: "Conflicts with the current state",
    413: "Body too large",
    415: "Body is not JSON",
    422: "Validation failed; `fields` names each bad field",
    503: "The database stayed busy (SQLite's write lock); try again after Retry-After",
}


def openapi_path(rule: str) -> str:
    return PATH_PARAM.sub(r"{\2}", rule)


def _path_parameters(rule: str) -> list[dict]:
    params = []
    for converter, name in PATH_PARAM.findall(rule):
        schema = {"type": "integer", "minimum": 0} if converter == "int" else {"type": "string"}
        params.append({"in": "path", "name": name, "required": True, "schema": schema})
    return params


def _error_codes(ep: Endpoint) -> list[int]:
    codes = [400, 404, 422] if ep.query or ep.body or "<" in ep.rule else []
    if not ep.public:
        codes += [401, 403]
    if ep.method != "GET":
        codes += [409, 413, 415, 503] if ep.body else [409, 503]
    return sorted(set(codes))


def _operation(ep: Endpoint) -> dict:
    operation = {
        "operationId": ep.name,
        "summary": ep.summary,
        "tags": [ep.tag] if ep.tag else [],
        "parameters": _path_parameters(ep.rule),
        "responses": {},
        # require_role lets admins do anything, so the document says so too.
        "x-roles": sorted(role.value for role in ep.roles | {Role.admin}),
    }
    if ep.query:
        operation["parameters"].append({"in": "query", "schema": ep.query})
    if ep.body:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": ep.body}},
        }
    operation["responses"][str(ep.status)] = _success(ep)
    for code in _error_codes(ep):
        operation["responses"][str(code)] = {"$ref": f"#/components/responses/E{code}"}
    if ep.public:
        operation["security"] = []
    return operation


def _file_schema(media: str) -> dict:
    # A JSON document (EPCIS JSON-LD, say) is an object to clients and checkers, not bytes.
    if media.endswith("+json"):
        return {"schema": {"type": "object"}}
    return {"schema": {"type": "string", "format": "binary"}}


def _success(ep: Endpoint) -> dict:
    if ep.produces:
        content = {media: _file_schema(media) for media in ep.produces}
        return {"description": "The file", "content": content}
    if ep.response is None:
        return {"description": "Done"}
    schema = ep.response
    if ep.many:
        schema = {
            "type": "object",
            "required": ["items", "next_after"],
            "properties": {
                "items": {"type": "array", "items": ep.response},
                "next_after": {
                    "type": ["integer", "null"],
                    "description": "pass as `after` to get the next page; null on the last",
                },
            },
        }
    return {"description": "OK", "content": {"application/json": {"schema": schema}}}


@cache
def build_spec() -> dict:
    """The whole document; built once per process, the declarations never change at run time."""
    spec = APISpec(
        title="Trace API",
        version="1.0.0",
        openapi_version="3.1.0",
        plugins=[MarshmallowPlugin()],
        info={"description": "One item, one code: production, quality, logistics and service."},
        servers=[{"url": "/api/v1"}],
    )
    spec.components.security_scheme("apiKey", {"type": "http", "scheme": "bearer"})
    spec.components.schema("Error", schema=Error)
    for code, text in ERROR_TEXT.items():
        spec.components.response(
            f"E{code}", {"description": text, "content": {"application/json": {"schema": "Error"}}}
        )
    operations: dict[str, dict] = {}
    for ep in REGISTRY:
        operations.setdefault(openapi_path(ep.rule), {})[ep.method.lower()] = _operation(ep)
    for path, ops in operations.items():
        spec.path(path=path, operations=ops)
    document = spec.to_dict()
    document["security"] = [{"apiKey": []}]
    return document
