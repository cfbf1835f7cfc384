"""A worker whose stop hangs ends anyway, and says what held it (workers/runner.py)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

# A process whose event loop has a task that never ends, asked to stop: what a worker
# looks like when a job ignores its cancellation.
HANGING = textwrap.dedent("""
    import asyncio, threading
    from workers import runner
    runner.STOP_GRACE_S = 0.5
    stop = threading.Event()
    loop = asyncio.new_event_loop()

    async def stuck_in_a_job():
        while True:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                pass  # swallowed: the stop cannot end this task

    async def main():
        task = asyncio.create_task(stuck_in_a_job(), name="email-job")
        await asyncio.sleep(0.05)
        stop.set()  # as arq's signal handler does
        task.cancel()
        await task

    threading.Thread(target=runner._watch_the_stop, args=(stop, [loop]), daemon=True).start()
    loop.run_until_complete(main())
""")


def test_a_stop_that_hangs_ends_after_the_grace_and_names_what_held_it() -> None:
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-c", HANGING], cwd=ROOT, capture_output=True,
                            text=True, timeout=30)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert time.monotonic() - started < 15, output
    assert "worker stop took too long" in output, output
    assert "email-job at stuck_in_a_job" in output, output  # the task and where it waits
    assert "Traceback" not in output, output
