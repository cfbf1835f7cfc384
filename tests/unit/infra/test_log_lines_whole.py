"""Each log line reaches stderr in one write, its newline included. Written as the line and
then its newline (print's two writes), two uvicorn workers sharing one stderr interleaved
mid-line: "live streams ended for shutdown streams=22026-12-06T03:55:35Z … web app started"
(a CI run), which neither a person nor a log shipper can read back."""

from __future__ import annotations

import sys

import pytest

from app.infra.logging import configure_logging, get_logger


class Recorder:
    def __init__(self) -> None:
        self.writes: list[str] = []

    def write(self, text: str) -> int:
        self.writes.append(text)
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


@pytest.mark.parametrize("json", [False, True])
def test_a_log_line_is_one_write(monkeypatch: pytest.MonkeyPatch, json: bool) -> None:
    recorder = Recorder()
    monkeypatch.setattr(sys, "stderr", recorder)
    configure_logging("INFO", json=json)
    try:
        get_logger("orderpass.test").info("live streams ended for shutdown", streams=2)
    finally:
        configure_logging("INFO")
    assert len(recorder.writes) == 1, recorder.writes
    [line] = recorder.writes
    assert line.endswith("\n") and line.count("\n") == 1 and "streams" in line, line
