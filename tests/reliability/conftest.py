"""Reliability fixtures: a whole Orderpass stack per test module (tests/helpers/stack.py)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

from tests.helpers.stack import Stack, new_root


@pytest.fixture(scope="module")
def stack_env() -> dict[str, str]:
    """Extra environment for this module's web and worker (modules override it)."""
    return {}


@pytest.fixture(scope="module")
def stack(stack_env: dict[str, str]) -> Iterator[Stack]:
    root = new_root()
    running = Stack(root, env=stack_env)
    try:
        running.start()
        yield running
    finally:
        running.stop()
        if not os.environ.get("ORDERPASS_KEEP_TEST_DATA"):
            running.servers.remove_data()
            shutil.rmtree(root, ignore_errors=True)
