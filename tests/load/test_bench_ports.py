"""The bench starts its web and sandbox on ports found free a moment before. On a busy
machine something else may bind one in between (CI: the web died with "address already in
use" and the bench failed). The bench then starts its processes again on other ports."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
import pytest

from app.bench import runner


@pytest.mark.timeout(120)
def test_a_port_taken_before_the_web_listens_is_given_up_for_another(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)  # its own embedded servers
    monkeypatch.delenv("REDIS_URL", raising=False)
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = int(squatter.getsockname()[1])
        picks = [taken]  # the web's first pick: a port something else listens on by then
        real_pick = runner.free_port
        monkeypatch.setattr(runner, "free_port", lambda: picks.pop() if picks else real_pick())
        said: list[str] = []
        system = runner.BenchSystem(data_dir=tmp_path / "bench", echo=said.append)
        try:
            system.start()
            assert system.web_port != taken
            assert httpx.get(f"{system.web_url}/readyz", timeout=5).status_code == 200
            assert any("web process found its port taken" in line for line in said), said
        finally:
            system.stop()
