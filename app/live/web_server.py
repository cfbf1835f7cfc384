"""How `orderpass web` serves: uvicorn, with a graceful shutdown that ends the live streams.

uvicorn's graceful shutdown (SIGTERM or Ctrl-C: a deploy, `orderpass dev` stopping) stops
accepting, lets every connection finish its current response, waits up to
`timeout_graceful_shutdown` (WEB_GRACEFUL_SHUTDOWN_SECONDS) for that, cancels what is left
and only then runs the app's lifespan shutdown. A live stream (SSE: kitchen screens, status
pages, the menu editor) never finishes by itself, so every one of them held the process for
the whole grace period and was then cancelled with a traceback, while the screens still
showed "Live" against a server that accepted nothing (an outside try: the offline banner
after 10.5 s, the screen back after 13-16 s, against 4-5 s after a SIGKILL).

`DrainingServer` first stops accepting and ends every live stream of the process at once
(`app.live.sse.end_streams`): each gets the end of its response, its browser's EventSource
sees the stream close and reconnects, to whichever process serves next. Everything else in
flight (a webhook, an action) still finishes as before, within the grace period.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext, suppress

import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import multiprocess

from app.infra.logging import get_logger
from app.live import sse

log = get_logger("orderpass.web")


class DrainingServer(uvicorn.Server):
    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        # Stop accepting first (uvicorn's own shutdown does it again, harmlessly): a stream
        # ended here reconnects to another process, never to this one.
        for server in self.servers:
            server.close()
        ended = sse.end_streams()
        log.info("live streams ended for shutdown", streams=ended)
        await super().shutdown(sockets=sockets)


class DrainingProcess(multiprocess.Process):
    """A worker of `--workers N`, serving with DrainingServer."""

    @property
    def server(self) -> uvicorn.Server:
        if self._server is None:
            self._server = DrainingServer(config=self.config)
        return self._server


@contextmanager
def _workers_drain() -> Iterator[None]:
    # uvicorn's supervisor starts every worker, replacements included (a crashed one,
    # SIGHUP, SIGTTIN), as its module's `Process`: that is the one hook it has.
    original = multiprocess.Process
    multiprocess.Process = DrainingProcess  # type: ignore[misc]
    try:
        yield
    finally:
        multiprocess.Process = original  # type: ignore[misc]


def _workers_can_drain() -> bool:
    """uvicorn's supervisor still builds its workers as we expect (its `Process`, whose
    `server` property makes the worker's server): the hook is uvicorn's internals, written
    against 0.55 (pyproject.toml). Otherwise workers stop as uvicorn's own do."""
    process = getattr(multiprocess, "Process", None)
    return isinstance(getattr(process, "server", None), property)


def serve(config: uvicorn.Config) -> None:
    """`uvicorn.run` for `config` (one process, or `config.workers` under uvicorn's
    supervisor), every server process a DrainingServer."""
    if config.workers > 1:
        sock = config.bind_socket()
        drains = _workers_can_drain()
        if not drains:
            log.warning("this uvicorn's workers are not drained on shutdown: live streams "
                        "wait for the graceful timeout", uvicorn=uvicorn.__version__)
        with _workers_drain() if drains else nullcontext(), suppress(KeyboardInterrupt):
            multiprocess.Multiprocess(config, sockets=[sock]).run()
        return
    server = DrainingServer(config=config)
    # uvicorn raises the signal it caught again once stopped: Ctrl-C, a KeyboardInterrupt
    with suppress(KeyboardInterrupt):
        server.run()
    if not server.started:
        sys.exit(STARTUP_FAILURE)
