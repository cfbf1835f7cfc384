"""Structured logging (structlog) for every process; request ids bound per request."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from typing import Any

import msgspec
import structlog


class _CurrentStderr:
    """Whatever `sys.stderr` is when a line is written. Loggers are cached on first use with
    their file: bound to the `sys.stderr` of that moment (a test's captured stream, closed
    after it), a later line raised "I/O operation on closed file" in an unrelated test."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def configure_logging(level: str = "INFO", json: bool = False) -> None:
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
        structlog.processors.format_exc_info,
    ]
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer(serializer=_json_line) if json
        else structlog.dev.ConsoleRenderer(colors=_colors())
    )
    structlog.configure(
        processors=[*shared, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        # one write per line, its newline included (print's two let two uvicorn workers'
        # lines interleave mid-line on a shared stderr)
        logger_factory=structlog.WriteLoggerFactory(file=_CurrentStderr()),  # type: ignore[arg-type]
        cache_logger_on_first_use=True,
    )
    # Route the standard library's loggers (uvicorn, arq, piccolo) through the same format.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        processor=renderer, foreign_pre_chain=shared))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # The stripe SDK logs every request and response at INFO (two lines per Checkout Session,
    # 2-3 % of the web's CPU at intake); our gateway logs each call itself, with the order.
    stripe_level = max(logging.WARNING, logging.getLevelName(level.upper()))
    logging.getLogger("stripe").setLevel(stripe_level)
    # httpx logs every request at INFO (the worker's Resend calls, the sandbox's webhook
    # deliveries): the email's own line already says it was sent, with the order.
    logging.getLogger("httpx").setLevel(stripe_level)
    pool_logger = logging.getLogger("asyncpg.pool")
    if not any(isinstance(f, OneLineTraceback) for f in pool_logger.filters):
        pool_logger.addFilter(OneLineTraceback())
    arq_logger = logging.getLogger("arq.worker")
    if not any(isinstance(f, QuietPeriodicRuns) for f in arq_logger.filters):
        arq_logger.addFilter(QuietPeriodicRuns())


class QuietPeriodicRuns(logging.Filter):
    """Drops arq's start and finish lines of periodic jobs (`cron:<name>`) below WARNING:
    an idle worker wrote 26 a minute. `workers/periodic.py` logs a run that did something,
    and a failure keeps arq's own line. Also its "recording health" line, written every
    health check (10 s) since every cron run moves its job counts: the worker's own
    heartbeat (`/admin/system`, the `worker_heartbeat_stale` alert) says it is alive."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING:
            return True
        message = record.getMessage()
        return " cron:" not in message and not message.startswith("recording health:")


class OneLineTraceback(logging.Filter):
    """asyncpg's pool logs a full traceback each time it fails to reopen its floor of
    connections (1, 2, 4 … 60 s apart while Postgres is down): forty lines per retry that
    say "connection refused", burying the request lines that name the orders affected.
    Keeps the warning, with the error on its line."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            record.msg = f"{record.getMessage()}: {error.__class__.__name__}: {error}"
            record.args = None
            record.exc_info = None
            record.exc_text = None
        return True


def _colors() -> bool:
    # FORCE_COLOR (the common convention): `orderpass dev` relays its children's output
    # through a pipe to a terminal, each line behind the child's name.
    return sys.stderr.isatty() or os.environ.get("FORCE_COLOR", "") not in ("", "0")


def _json_line(event: dict[str, Any], default: Callable[[Any], Any] | None = None,
               **_: Any) -> str:
    """One log line as JSON through msgspec: json.dumps was a quarter of a line's cost, and
    the web process writes several lines per paid order. Objects JSON cannot hold go through
    structlog's fallback (their repr), as with json.dumps."""
    return msgspec.json.encode(event, enc_hook=default).decode()


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    return structlog.get_logger(name)
