"""Capturing a module's INFO lines whatever the suite's log configuration: its level is
WARNING and structlog caches a logger on first use, so `capture_logs` may see nothing."""

from __future__ import annotations

import logging
from types import ModuleType

import pytest
import structlog


def capture_info(monkeypatch: pytest.MonkeyPatch, module: ModuleType,
                 name: str = "log") -> structlog.testing.LogCapture:
    """`module.<name>` replaced by a logger at INFO whose lines land in the returned capture."""
    capture = structlog.testing.LogCapture()
    monkeypatch.setattr(module, name, structlog.wrap_logger(
        None, processors=[capture],
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO)))
    return capture
