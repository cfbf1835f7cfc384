"""Integration suite: the shared fixtures (tests/helpers/fixtures.py) on the session's
Postgres and Redis."""

from __future__ import annotations

from tests.helpers.fixtures import *  # noqa: F403
from tests.helpers.infra import start_servers

start_servers()
