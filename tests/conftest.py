"""Settings for every test process. No server starts here: the suites that need Postgres and
Redis (integration, e2e, security, reliability) start them once per session from their own
conftest (`tests.helpers.infra.start_servers`); unit, sandbox and load tests run without."""

from __future__ import annotations

import pytest

from tests.helpers.infra import (
    TestInfrastructure,
    start_servers,
    stop_servers,
    use_test_environment,
)

use_test_environment()

# One copy of the shared fixtures for the whole run (see tests/helpers/fixtures.py); the
# browser module's too: its session fixture is the one Chromium a worker's browser tests share.
pytest_plugins = ["tests.helpers.fixtures", "tests.helpers.browser"]


def pytest_unconfigure(config: pytest.Config) -> None:
    stop_servers()


@pytest.fixture(scope="session")
def infrastructure() -> TestInfrastructure:
    return start_servers()
