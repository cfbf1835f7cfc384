"""`orderpass bench platform` at small scale, as a subprocess: 20 restaurants with 3 kitchen
screens each, 60 customers on their status pages, 5 paid orders/s spread by Zipf. Every
frame reaches the screens and pages it belongs to and none reaches another restaurant's
screen or another customer's page. Correctness only: no timing is asserted."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(120)
def test_platform_smoke(tmp_path: Path) -> None:
    out = tmp_path / "platform.json"
    env = {key: value for key, value in os.environ.items()
           if key not in ("DATABASE_URL", "REDIS_URL")}  # its own embedded servers
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "bench", "platform", "--json", str(out),
         "--platform-restaurants", "20", "--platform-customers", "60", "--rate", "5",
         "--platform-seconds", "4"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=110, check=False)
    assert result.returncode == 0, (f"exit {result.returncode}\nstderr:\n{result.stderr[-3000:]}"
                                    f"\nstdout:\n{result.stdout[-3000:]}")
    platform = json.loads(out.read_text())["platform"]
    assert platform["restaurants"] == 20 and platform["orders"] == 20
    assert platform["connections"] == 20 * 3 + 60
    assert platform["connections_live"] == platform["connections"]
    # Every paid order on its restaurant's 3 screens and its customer's page …
    assert platform["frames_expected"] == 20 * (3 + 1)
    assert platform["frames_missing"] == 0
    # … and nowhere else.
    assert platform["frames_misdelivered"] == 0, platform["misdelivered_examples"]
    assert platform["webhook_errors"] == 0 and platform["stream_errors"] == 0
    assert platform["redis_subscriptions"] >= 20 + 60  # a channel per restaurant and order
    assert "platform frames misdelivered" in result.stdout  # the table
    # The web's full collections in the window, read from its /metrics (the pacer's
    # histogram); at this scale there may be none, but the reading must be there.
    assert isinstance(platform["gc_full_collections"], int)
    assert platform["gc_full_collections"] >= 0 and platform["gc_pause_ms_total"] >= 0
    data_dir = re.search(r"/\S*orderpass-bench-\w+", result.stdout)  # no orphans of ours
    assert data_dir is not None
    leftovers = [p.info["cmdline"] for p in psutil.process_iter(["cmdline"])
                 if any(data_dir.group() in part for part in (p.info["cmdline"] or []))]
    assert leftovers == []
