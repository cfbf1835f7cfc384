"""Session-wide Postgres and Redis, started before any conftest or test imports the app
(the Piccolo engine reads DATABASE_URL when it is first imported)."""

from __future__ import annotations

import pytest

from tests.helpers.infra import TestInfrastructure

_infrastructure = TestInfrastructure().start()


def pytest_unconfigure(config: pytest.Config) -> None:
    _infrastructure.stop()


@pytest.fixture(scope="session")
def infrastructure() -> TestInfrastructure:
    return _infrastructure
