"""Log lines an on-call engineer reads while Postgres is down."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
import structlog

from app.infra.logging import configure_logging


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """configure_logging binds handlers to this test's captured stderr: put back what was."""
    root = logging.getLogger()
    handlers, level, config = root.handlers[:], root.level, structlog.get_config()
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.configure(**config)


def test_the_pool_retry_warning_is_one_line_with_its_error(
        capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO")
    try:
        raise ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 5432)")
    except ConnectionRefusedError:
        logging.getLogger("asyncpg.pool").warning(
            "Failed to restore the pool connection floor; retrying", exc_info=True)
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert "Traceback" not in lines[0]
    assert "retrying: ConnectionRefusedError" in lines[0]
    assert "Connect call failed" in lines[0]


def test_other_libraries_keep_their_tracebacks(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO")
    try:
        raise ValueError("a bug")
    except ValueError:
        logging.getLogger("orderpass.tests.a_library").exception("a failure")
    assert "Traceback" in capsys.readouterr().err
