"""Schemathesis against the app's own OpenAPI document (`/schema/openapi.json`), on a real
`orderpass web` process (the in-process ASGI runner would run the app in another event
loop than the shared Postgres pool): no 5xx, and every answer conforms to the schema
(status code declared, body matching, content type, headers).

Schemathesis 4's Python API: one Hypothesis strategy per operation (`as_strategy`), valid
and invalid inputs. (Its pytest plugin's `from_fixture` breaks on pytest 9.)"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import CheckFunction, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.helpers.server import RunningProcess, start_web

# Enough to find schema and handler mismatches; the whole run stays well under a minute.
MAX_EXAMPLES = 30
# /readyz answers 503 by design while no worker heartbeat is fresh (no worker runs here);
# the 503 is declared in the schema, so conformance is still checked.
EXPECTED_5XX = {"/readyz"}
# Webhooks must refuse anything not signed by the provider, which OpenAPI cannot express:
# their 400s are declared, but "schema-valid request rejected" does not apply.
SIGNED = {"/webhooks/stripe", "/webhooks/resend"}


@pytest.fixture(scope="module")
def api_web() -> Iterator[RunningProcess]:
    with start_web(env={"ORDER_RATE_LIMIT_PER_MINUTE": "100000", "UNPAID_ORDERS_PER_IP": "0",
                        "UNPAID_ORDERS_PER_EMAIL": "0"}) as server:
        yield server


@pytest.fixture(scope="module")
def api_schema(api_web: RunningProcess) -> schemathesis.BaseSchema:
    config = SchemathesisConfig()
    # Invalid input may also be refused for its size: an order body over 32 KB is a 413
    # before it is read (large invalid bodies, e.g. 60 lines with options, hit it).
    rejection = config.projects.default.checks.negative_data_rejection
    rejection.expected_statuses = [*rejection.expected_statuses, "413"]
    return schemathesis.openapi.from_url(f"{api_web.url}/schema/openapi.json", config=config)


def operations(schema: schemathesis.BaseSchema) -> list[schemathesis.APIOperation]:
    found = []
    for result in schema.get_all_operations():
        if not isinstance(result, Ok):
            raise result.err()  # an invalid operation definition
        found.append(result.ok())
    return found


def test_the_schema_lists_the_public_api(api_schema: schemathesis.BaseSchema) -> None:
    listed = {f"{op.method.upper()} {op.path}" for op in operations(api_schema)}
    for expected in ("POST /api/orders", "GET /api/orders/{order_id}",
                     "GET /api/restaurants/{slug}/menu", "POST /webhooks/stripe",
                     "POST /webhooks/resend", "GET /healthz", "GET /readyz"):
        assert expected in listed, listed


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_api_conforms_to_its_schema(api_schema: schemathesis.BaseSchema,
                                    api_web: RunningProcess, mode: GenerationMode) -> None:
    failures: list[str] = []
    for operation in operations(api_schema):
        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True,
                  database=None, suppress_health_check=list(HealthCheck))
        def check(case: schemathesis.Case) -> None:
            excluded: list[CheckFunction] = (
                [not_a_server_error] if case.path in EXPECTED_5XX else [])
            if case.path in SIGNED:
                excluded.append(positive_data_acceptance)
            case.call_and_validate(timeout=10, excluded_checks=excluded)

        try:
            check()
        except Unsatisfiable:
            assert mode == GenerationMode.NEGATIVE  # no invalid input exists for it
        except (Exception, BaseExceptionGroup) as error:  # every operation, then report
            failures.append(f"{operation.method.upper()} {operation.path}: {error}")
    assert not failures, "\n\n".join([*failures, "server log:", api_web.log()[-6000:]])
