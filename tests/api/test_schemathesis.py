"""Property-based check of the whole API against its own OpenAPI document (schemathesis).

Each operation gets a bounded number of generated requests, valid and invalid, sent with an
admin key: no answer may be a 5xx, and every answer must match what the document promises.
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import positive_data_acceptance

from api.openapi import build_spec
from tests import factories

EXAMPLES = 15
OPERATIONS = [
    (method.upper(), path)
    for path, operations in build_spec()["paths"].items()
    for method in operations
]


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_the_api_keeps_its_documented_promises(app, session, method, path):
    factories.make_batch(session)  # something for reads and writes to find
    _, key = factories.make_key(session, "admin")
    session.commit()
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operation = schema[path][method]

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    def check(case):
        case.call_and_validate(
            headers={"Authorization": f"Bearer {key}"},
            # Cross-field and domain rules (a GTIN's check digit, a window's order) cannot
            # be written in OpenAPI, so schema-valid input may still be refused, rightly.
            excluded_checks=[positive_data_acceptance],
        )

    check()
