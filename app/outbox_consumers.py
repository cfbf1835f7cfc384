"""Every outbox consumer, loaded by each process that delivers outbox rows (the web app, the
worker, the CLI's reconcile) before its first delivery.

A consumer registers itself with `app.platform.outbox` in the module that owns its kind;
this is the one list of those modules, so that no process misses one: the outbox itself
imports no domain."""

from __future__ import annotations

from app.platform import outbox


def load() -> frozenset[str]:
    """Import every consumer; the kinds now registered (all of `outbox.KINDS`, or raise)."""
    import app.live.feed  # kitchen.publish
    import app.notifications.service  # noqa: F401  (email.send)

    missing = outbox.KINDS - outbox.registered()
    if missing:
        raise RuntimeError(f"no outbox consumer for {', '.join(sorted(missing))}")
    return outbox.registered()
