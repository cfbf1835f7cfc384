"""Embedded Postgres and Valkey start on a port found free a moment before. On a busy
machine something else may bind it in between (the machine's outgoing connections take
ports from the same range): the server then exits at once with "address already in use".
It is started again on another port at once (before, the start failed after its whole
readiness timeout)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import redis

from app.dev import embedded

pytestmark = pytest.mark.own_servers


def test_a_port_taken_before_each_server_listens_is_given_up_for_another(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = int(squatter.getsockname()[1])
        picks = {"redis_port": [taken], "postgres_port": [taken]}  # each one's first pick
        real_pick = embedded.EmbeddedServers._pick_port

        def pick(self: embedded.EmbeddedServers, name: str, preferred: int | None) -> int:
            return picks[name].pop() if picks[name] else real_pick(self, name, preferred)
        monkeypatch.setattr(embedded.EmbeddedServers, "_pick_port", pick)
        servers = embedded.EmbeddedServers(tmp_path / "data", durable=False)
        try:
            servers.start()
            assert taken not in (servers._port(servers.redis_url),
                                 servers._port(servers.database_url))
            assert redis.Redis.from_url(servers.redis_url).ping()
            assert all(process.poll() is None for process in servers.processes)
            assert len(servers.processes) == 2  # the two that died are not kept
        finally:
            servers.stop()
            servers.remove_data()
