"""Security suite fixtures: the integration fixtures (sandbox, migrated database, clean
seeded state per test, `client`), plus logged-in helpers and a browser page."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.helpers.browser import browser, page  # noqa: F401  (fixtures)
from tests.helpers.infra import start_servers
from tests.helpers.server import RunningProcess, start_web

start_servers()


@pytest.fixture(autouse=True)
async def _fresh_state(clean_state: None) -> None:
    """Every test starts from the seeded demo state and an empty sandbox."""


@pytest.fixture(scope="module")
def web() -> Iterator[RunningProcess]:
    """The web app as a real server process (browsers, SSE)."""
    with start_web(env={"SSE_HEARTBEAT_SECONDS": "1"}) as server:
        yield server


