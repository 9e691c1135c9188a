"""The OpenAPI document describes every route the API serves; its docs page works offline."""

import re
from html.parser import HTMLParser

import pytest
from openapi_spec_validator import validate

# The document and its page describe the API; they are not operations of it.
SELF_DESCRIPTION = {"/api/v1/openapi.json", "/api/v1/docs"}
METHODS = {"get", "put", "post", "delete", "patch"}


@pytest.fixture
def document(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.get_json()


def _api_routes(app) -> set[tuple[str, str]]:
    """(method, OpenAPI path) of every route registered under /api/v1."""
    return {
        (method.lower(), re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule.removeprefix("/api/v1")))
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1") and rule.rule not in SELF_DESCRIPTION
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }


def _operations(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield method, path, operation


def test_the_document_is_valid_openapi_3_1(document):
    assert document["openapi"] == "3.1.0"
    validate(document)


def test_the_document_needs_no_key(client):
    assert client.get("/api/v1/openapi.json").status_code == 200


def test_every_registered_route_and_method_is_documented(app, document):
    documented = {(method, path) for method, path, _ in _operations(document)}
    assert documented == _api_routes(app)


def test_the_servers_entry_makes_the_paths_absolute(document):
    assert document["servers"] == [{"url": "/api/v1"}]


def test_every_operation_has_an_id_a_summary_and_responses(document):
    ids = []
    for method, path, operation in _operations(document):
        assert operation["summary"], (method, path)
        assert operation["responses"], (method, path)
        ids.append(operation["operationId"])
    assert len(ids) == len(set(ids))


def test_success_and_error_responses_are_described(document):
    for method, path, operation in _operations(document):
        responses = operation["responses"]
        successes = [code for code in responses if code.startswith("2")]
        assert len(successes) == 1, (method, path)
        assert "401" in responses, (method, path)
        assert "403" in responses, (method, path)
        if method == "post":
            assert {"400", "413", "415", "422"} <= set(responses), (method, path)
            assert operation["requestBody"]["required"] is True
            assert "application/json" in operation["requestBody"]["content"]
        if "{" in path:
            assert "404" in responses, (method, path)


def test_errors_are_documented_in_the_one_error_shape(document):
    error = document["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]
    body = error["properties"]["error"]
    ref = body.get("$ref") or body["allOf"][0]["$ref"]
    inner = document["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert set(inner["properties"]) == {"code", "message", "fields"}
    for response in document["components"]["responses"].values():
        schema = response["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/Error"}


def test_path_parameters_are_declared(document):
    for method, path, operation in _operations(document):
        declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
        assert declared == set(re.findall(r"{(\w+)}", path)), (method, path)


def test_pages_document_their_paging_parameters(document):
    parameters = {p["name"] for p in document["paths"]["/products"]["get"]["parameters"]}
    assert {"after", "limit"} <= parameters
    page = document["paths"]["/products"]["get"]["responses"]["200"]["content"]
    assert set(page["application/json"]["schema"]["properties"]) == {"items", "next_after"}


def test_input_rules_are_published(document):
    schemas = document["components"]["schemas"]
    sku = schemas["ProductIn"]["properties"]["sku"]
    assert sku["maxLength"] == 64
    assert "pattern" in sku
    assert set(schemas["ProductIn"]["required"]) == {"sku", "name"}
    assert schemas["BatchStatusIn"]["properties"]["status"]["enum"]


# --- the docs page --------------------------------------------------------------------------


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls: list[str] = []
        self.inline_scripts = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in ("src", "href", "action", "srcset", "data"):
            if attrs.get(name):
                self.urls.append(attrs[name])
        if tag == "script" and not attrs.get("src"):
            self.inline_scripts += 1


@pytest.fixture
def docs_page(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    return response.get_data(as_text=True)


def test_the_docs_page_loads_nothing_from_another_host(docs_page):
    parser = _Links()
    parser.feed(docs_page)
    assert parser.urls, "the page should at least link its own stylesheet"
    external = [u for u in parser.urls if re.match(r"(?i)^(?:[a-z][a-z0-9+.-]*:)?//", u)]
    assert external == []
    assert not re.search(r"(?i)(?:src|href)\s*=\s*[\"']?\s*https?://", docs_page)
    assert "@import" not in docs_page


def test_the_docs_page_lists_every_operation(document, docs_page):
    for method, path, operation in _operations(document):
        assert f"<code>{path}</code>" in docs_page, path
        assert f'id="{operation["operationId"]}"' in docs_page, (method, path)


def test_the_docs_page_runs_under_the_content_security_policy(client, docs_page):
    parser = _Links()
    parser.feed(docs_page)
    assert parser.inline_scripts == 0
    assert " style=" not in docs_page
    assert "<style" not in docs_page
