"""Dev-only secrets generated once and kept under the data dir, so every process started
there (web workers, the worker, the sandbox, CLI commands, restarts) shares them: sessions
and CSRF tokens signed by one web worker are accepted by the next, and the sandbox signs
webhooks with the secret the web app verifies. Production never uses this: it refuses to
start without its own secrets (app/settings.py)."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets
from pathlib import Path
from typing import Any

FILE = "secrets.json"
DEV_STATE = "dev.json"  # a running `orderpass dev`: its pid and sandbox URL


def _generate() -> dict[str, str]:
    return {
        "SECRET_KEY": secrets.token_urlsafe(32),
        "STRIPE_WEBHOOK_SECRET": "whsec_" + secrets.token_hex(24),
        # Svix secrets are base64 after the prefix.
        "RESEND_WEBHOOK_SECRET": "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode(),
    }


def _read(path: Path) -> dict[str, str]:
    try:
        stored = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in stored.items()} if isinstance(stored, dict) else {}


def _create_once(path: Path, values: dict[str, str]) -> None:
    """Write `values` to `path` unless it exists: two processes starting at once (uvicorn
    workers) both end up reading the one file that won."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    temporary.write_text(json.dumps(values, indent=2))
    temporary.chmod(0o600)
    try:
        os.link(temporary, path)  # atomic, and fails if the file is there already
    except FileExistsError:
        pass
    finally:
        temporary.unlink()


def dev_secrets(data_dir: Path) -> dict[str, str]:
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / FILE
    stored = _read(path)
    if not stored:
        _create_once(path, _generate())
        stored = _read(path)
    merged = {key: stored.get(key) or value for key, value in _generate().items()}
    if merged != stored:  # an older file lacking a key: add it, keep the others
        _create_once(path.with_name(FILE + ".new"), merged)
        with contextlib.suppress(OSError):
            os.replace(path.with_name(FILE + ".new"), path)
        stored = _read(path)
    return stored


def write_dev_state(data_dir: Path, **state: Any) -> None:
    (data_dir / DEV_STATE).write_text(json.dumps({"supervisor_pid": os.getpid(), **state}))


def clear_dev_state(data_dir: Path) -> None:
    path = data_dir / DEV_STATE
    if _read(path).get("supervisor_pid") == str(os.getpid()):
        path.unlink(missing_ok=True)


def running_dev(data_dir: Path) -> dict[str, str]:
    """What a live `orderpass dev` on this data dir published (empty if none runs)."""
    import psutil

    state = _read(data_dir / DEV_STATE)
    pid = state.get("supervisor_pid", "")
    if not pid.isdigit() or not psutil.pid_exists(int(pid)):
        return {}
    return state
