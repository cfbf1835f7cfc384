"""The outbox delivers each kind through the consumer its owner registered, and the process
entry points load every consumer before their first delivery."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from app import outbox_consumers
from app.platform import outbox
from tests.helpers.source import parse

ROOT = Path(__file__).resolve().parents[3]


def test_load_registers_a_consumer_for_every_kind() -> None:
    assert outbox_consumers.load() == outbox.KINDS


async def test_an_unknown_kind_is_refused_not_dropped() -> None:
    with pytest.raises(ValueError, match=r"unknown outbox kind 'fax\.send'"):
        await outbox.deliver(None, "fax.send", {})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown outbox kind"):
        outbox.consumer("fax.send")


@pytest.mark.parametrize("path", ["app/asgi.py", "workers/lifecycle.py", "app/cli.py"])
def test_every_process_that_delivers_rows_loads_the_consumers(path: str) -> None:
    tree = parse(ROOT / path)
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call)
             and isinstance(node.func, ast.Attribute) and node.func.attr == "load"
             and isinstance(node.func.value, ast.Name)
             and node.func.value.id == "outbox_consumers"]
    assert calls, f"{path} delivers outbox rows but never calls outbox_consumers.load()"
