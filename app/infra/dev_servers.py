"""The servers a running `orderpass dev` supervises, as it records them under its data dir
(`app/dev/embedded.py` writes the file): how every other process (web, worker, CLI) finds
them when DATABASE_URL / REDIS_URL are unset, without loading the dev supervisor."""

from __future__ import annotations

import json
from pathlib import Path

import psutil

STATE_FILE = "servers.json"


def running_servers(data_dir: Path) -> dict[str, str] | None:
    """URLs of the embedded servers a live `orderpass dev` is supervising, if any."""
    state_file = data_dir / STATE_FILE
    if not state_file.exists():
        return None
    try:
        state = json.loads(state_file.read_text())
    except (ValueError, OSError):
        return None
    if not psutil.pid_exists(int(state.get("supervisor_pid", 0))):
        return None
    return {"database_url": state["database_url"], "redis_url": state["redis_url"]}
