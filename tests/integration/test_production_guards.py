"""Production refuses to start without the secrets it must be given (issue #14 item 13),
one line per missing setting; outside production every process on one data dir shares one
generated key, so `orderpass web --workers 2` keeps its logins."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from tests.helpers.accounts import PASSWORD
from tests.helpers.sandbox import free_port
from tests.helpers.server import ROOT, wait_healthy

ORDERPASS = [sys.executable, "-m", "app.cli"]
SECRETS = ("SECRET_KEY", "METRICS_TOKEN", "STRIPE_WEBHOOK_SECRET", "RESEND_WEBHOOK_SECRET")


def _env(**overrides: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in SECRETS}
    env.update(overrides)
    return env


def test_production_refuses_to_start_without_its_secrets(tmp_path: Path) -> None:
    for command in (["web", "--port", str(free_port())], ["worker"], ["migrate"]):
        result = subprocess.run([*ORDERPASS, *command], capture_output=True, text=True,
                                timeout=60, cwd=ROOT, env=_env(
                                    ORDERPASS_ENV="production", METRICS_TOKEN="t",
                                    ORDERPASS_DATA_DIR=str(tmp_path)))
        assert result.returncode != 0, command
        lines = result.stderr.strip().splitlines()
        assert [line.split(":")[0] for line in lines] == [
            "missing setting SECRET_KEY", "missing setting STRIPE_WEBHOOK_SECRET",
            "missing setting RESEND_WEBHOOK_SECRET"], result.stderr
        assert "Traceback" not in result.stderr
    assert not (tmp_path / "secrets.json").exists()  # nothing generated in production


def test_every_process_of_a_dev_data_dir_shares_one_key(tmp_path: Path) -> None:
    """Two uvicorn workers without SECRET_KEY: each login and CSRF token signed by one is
    accepted by the other (each used to generate its own key: 9 of 12 logins failed)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "web.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [*ORDERPASS, "web", "--port", str(port), "--workers", "2"], cwd=ROOT,
            env=_env(ORDERPASS_DATA_DIR=str(tmp_path / "data"), PUBLIC_BASE_URL=url,
                     STRIPE_WEBHOOK_SECRET="whsec_x", RESEND_WEBHOOK_SECRET="whsec_eA==",
                     LOGIN_RATE_LIMIT_PER_MINUTE="1000"),
            stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_healthy(url, process, log_path)
        for _ in range(12):
            # A new connection per request, so the kernel spreads them over both workers.
            with httpx.Client(base_url=url, timeout=10, headers={"connection": "close"},
                              limits=httpx.Limits(max_keepalive_connections=0)) as browser:
                browser.get("/login")
                response = browser.post("/login", data={
                    "email": "kitchen@demo.test", "password": PASSWORD,
                    "_csrf_token": browser.cookies["csrftoken"]})
                assert response.status_code == 303, response.text[:300]
                assert browser.get("/kitchen/demo").status_code == 200
    finally:
        process.terminate()
        process.wait(15)
    assert (tmp_path / "data" / "secrets.json").exists()
