"""Dev-only secrets generated once and kept under the data dir, so restarts keep sessions
and the sandbox keeps signing webhooks with the secret the web app verifies."""

from __future__ import annotations

import base64
import json
import secrets
from pathlib import Path


def _generate() -> dict[str, str]:
    return {
        "SECRET_KEY": secrets.token_urlsafe(32),
        "STRIPE_WEBHOOK_SECRET": "whsec_" + secrets.token_hex(24),
        # Svix secrets are base64 after the prefix.
        "RESEND_WEBHOOK_SECRET": "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode(),
    }


def dev_secrets(data_dir: Path) -> dict[str, str]:
    path = data_dir / "secrets.json"
    stored: dict[str, str] = {}
    if path.exists():
        stored = json.loads(path.read_text())
    fresh = _generate()
    merged = {key: stored.get(key) or value for key, value in fresh.items()}
    if merged != stored:
        path.write_text(json.dumps(merged, indent=2))
        path.chmod(0o600)
    return merged
