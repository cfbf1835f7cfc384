"""The transactional outbox: work promised inside an order transaction (kitchen publish,
customer email) delivered after commit by the fast path, and re-delivered by the worker's
relay for anything the fast path missed. Every consumer is idempotent.

The outbox knows the kinds of rows, not the code that delivers them: each kind's consumer
registers itself (`@consumer(kind)`) in the module that owns it, and a process that delivers
rows loads them all at start-up (`app.outbox_consumers.load`)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
from arq.connections import ArqRedis
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_delay, wait_exponential

from app.infra import db
from app.infra.logging import get_logger
from app.infra.unavailable import DEPENDENCY_ERRORS
from app.piccolo_conf import DB

log = get_logger("orderpass.outbox")
MAX_ATTEMPTS = 12  # then the row is dead-lettered for a human (admin page, alert)
BATCH = 100
OUTBOX_GRACE_S = 10  # the relay leaves rows alone this long: the fast path usually wins
KINDS = frozenset({"kitchen.publish", "email.send"})  # see kitchen_event() and email()

# `consumer(redis, payload)` delivers one row of its kind; raising means "not delivered".
Consumer = Callable[[ArqRedis, dict[str, Any]], Awaitable[None]]
_consumers: dict[str, Consumer] = {}


def consumer(kind: str) -> Callable[[Consumer], Consumer]:
    """Register the decorated function as the one that delivers rows of `kind`."""
    if kind not in KINDS:
        raise ValueError(f"unknown outbox kind {kind!r}")

    def register(function: Consumer) -> Consumer:
        _consumers[kind] = function
        return function

    return register


def registered() -> frozenset[str]:
    """The kinds that have a consumer in this process."""
    return frozenset(_consumers)


@dataclass(frozen=True)
class OutboxRow:
    """One promise made inside an order transaction: `kind` says which consumer delivers it,
    `dedupe_key` (unique) makes inserting it twice a no-op, `payload` is the consumer's input."""

    kind: str
    dedupe_key: str
    payload: dict[str, Any]


def kitchen_event(restaurant_id: int, order_ref: str, event: str, *, tag: str) -> OutboxRow:
    """Tell the restaurant's screens (and the order's status page) that the order changed.
    `tag` makes the dedupe key: one row per (order, tag), e.g. `order.paid` or `v3`."""
    return OutboxRow("kitchen.publish", f"kitchen:{order_ref}:{tag}",
                     {"restaurant_id": restaurant_id, "order_ref": order_ref, "event": event})


def email(kind: str, order_ref: str, *, recipient: str | None = None,
          restaurant_id: int | None = None, suffix: str = "", refund_id: str = "") -> OutboxRow:
    """Send the customer the `kind` email about the order (once: Resend idempotency key).
    Knowing the recipient here saves the fast path from reading the order back. `suffix`
    names a later email of the same kind about something new (the rest of a payment
    refunded after a part was): its own row and key, still sent once. `refund_id`: the
    refund an `order_refunded` email tells (kept on its row)."""
    payload: dict[str, Any] = {"kind": kind, "order_ref": order_ref}
    if recipient is not None and restaurant_id is not None:
        payload |= {"recipient": recipient, "restaurant_id": restaurant_id}
    if suffix:
        payload["suffix"] = suffix
    if refund_id:
        payload["refund_id"] = refund_id
    return OutboxRow("email.send", f"email:{kind}:{order_ref}" + (f":{suffix}" if suffix else ""),
                     payload)


async def add(connection: asyncpg.Connection, rows: Sequence[OutboxRow],
              grace_s: float = OUTBOX_GRACE_S) -> None:
    """Insert `rows` inside the caller's transaction (`transaction.connection` of Piccolo's
    `DB.transaction()`); a row whose dedupe key exists already is skipped."""
    if not rows:
        return
    await connection.execute(f"WITH once AS (SELECT 1), {insert_after('once', 1)} SELECT 1",
                             *as_parameters(rows, grace_s))


def insert_after(source: str, first: int) -> str:
    """A CTE that inserts outbox rows once for each row of CTE `source` (none if it is empty),
    for composing into a caller's statement; the rows come as parameters `$first` (kinds),
    `$first+1` (dedupe keys), `$first+2` (JSON payloads), `$first+3` (grace seconds), see
    `as_parameters`."""
    if not source.isidentifier():
        raise ValueError(f"not a CTE name: {source!r}")
    kinds, keys, payloads, grace = (f"${first + offset}" for offset in range(4))
    # Only a checked identifier and parameter numbers are interpolated.
    return (
        f"outbox_rows AS (INSERT INTO outbox (kind, dedupe_key, payload, next_attempt_at) "  # noqa: S608
        f"SELECT row.kind, row.dedupe_key, row.payload::jsonb, "
        f"now() + make_interval(secs => {grace}::float8) FROM {source}, "
        f"unnest({kinds}::text[], {keys}::text[], {payloads}::text[]) "
        f"AS row (kind, dedupe_key, payload) ON CONFLICT (dedupe_key) DO NOTHING)")


def as_parameters(rows: Sequence[OutboxRow], grace_s: float = OUTBOX_GRACE_S
                  ) -> tuple[list[str], list[str], list[str], float]:
    """The parameters of `insert_after` for `rows`."""
    return ([row.kind for row in rows], [row.dedupe_key for row in rows],
            [json.dumps(row.payload) for row in rows], float(grace_s))


async def deliver_now(redis: ArqRedis, rows: Sequence[OutboxRow], *, mark: bool = True,
                      delivered: Sequence[OutboxRow] = ()) -> list[OutboxRow]:
    """The fast path after commit: deliver each row, then (unless `mark` is off) mark the
    delivered ones done, with `delivered` (rows the caller already delivered), in one
    bookkeeping write. Returns the rows delivered here. Never raises: whatever is not done
    here the relay re-delivers."""
    done: list[OutboxRow] = []
    for row in rows:
        try:
            await deliver(redis, row.kind, row.payload)
        except Exception as error:
            log.warning("outbox fast path failed; the relay will retry", kind=row.kind,
                        order_id=row.payload.get("order_ref"), dedupe_key=row.dedupe_key,
                        error=str(error)[:300])
            continue
        done.append(row)
    if mark:
        await mark_done([*delivered, *done])
    return done


async def mark_done(rows: Sequence[OutboxRow], *, also: str = "",
                    also_args: Sequence[Any] = (), retry_s: float = 0.0) -> None:
    """Mark delivered `rows` done (and a paid order whose kitchen publish went out shown) in
    one statement committed without waiting for the flush. `also`: CTEs of the caller's
    bookkeeping to run in the same statement, with parameters from `$3` (`also_args`): the
    paid order's funnel count. `retry_s`: for callers past their answer (the webhook's
    follow-up), how long to keep trying while Postgres is unreachable (a restart takes a
    few seconds; the relay would take up to OUTBOX_GRACE_S plus its period). Never raises:
    a row left pending is delivered again by the relay, which every consumer shrugs off."""
    keys = [row.dedupe_key for row in rows]
    if not keys and not also:
        return
    shown = [ref for row in rows if (ref := shown_by(row.kind, row.payload))]
    sql = _mark_done_sql(also)
    try:
        try:
            await db.execute(sql, keys, shown, *also_args)
        except DEPENDENCY_ERRORS:
            if not retry_s:
                raise
            # Only now the retrying machinery (a tenth of a millisecond on every paid order)
            async for attempt in AsyncRetrying(
                    stop=stop_after_delay(retry_s), wait=wait_exponential(multiplier=0.2, max=1),
                    retry=retry_if_exception_type(DEPENDENCY_ERRORS), reraise=True):
                with attempt:
                    await db.execute(sql, keys, shown, *also_args)
    except Exception as error:  # delivered twice at worst: every consumer is idempotent
        log.warning("outbox rows not marked done",
                    order_id=rows[0].payload.get("order_ref") if rows else None,
                    error=str(error)[:300])


def shown_by(kind: str, payload: dict[str, Any]) -> str | None:
    """The paid order whose kitchen screens a delivered row told (its `kitchen_shown_at`
    is then set), or None."""
    if kind == "kitchen.publish" and payload.get("event") == "order.paid":
        return str(payload["order_ref"])
    return None


def backoff_seconds(attempts: int) -> int:
    return min(600, 5 * 2 ** max(0, attempts - 1))


async def deliver(redis: ArqRedis, kind: str, payload: dict[str, Any]) -> None:
    """Do what one outbox row promised; raises if it could not be done."""
    deliver_row = _consumers.get(kind)
    if deliver_row is None:
        raise ValueError(f"unknown outbox kind {kind!r}" if kind not in KINDS else
                         f"no consumer loaded for outbox kind {kind!r}")
    await deliver_row(redis, payload)


# Delivered rows are done, and a paid order whose kitchen publish went out was shown (the
# first time wins): one statement, so the fast path pays for one bookkeeping write.
# Committed without waiting for the WAL flush: if a crash loses it, the relay delivers the
# rows once more, which every consumer shrugs off.
def _mark_done_sql(also: str = "") -> str:
    return (  # only constants and the caller's CTEs are interpolated
        "WITH shown AS (UPDATE paid_order SET kitchen_shown_at = "  # noqa: S608
        "coalesce(kitchen_shown_at, now()) WHERE public_id = ANY($2::text[]) RETURNING id)"
        f"{', ' + also if also else ''} "
        "UPDATE outbox SET status = 'done', done_at = now(), attempts = attempts + 1 "
        f"FROM {db.ASYNC_COMMIT} WHERE dedupe_key = ANY($1::text[]) AND status = 'pending'")


async def relay(redis: ArqRedis) -> dict[str, int]:
    """Deliver due rows; rows claimed with SKIP LOCKED so several workers never collide."""
    counts = {"done": 0, "retry": 0, "dead": 0}
    async with DB.transaction() as transaction:
        connection = transaction.connection
        rows = await connection.fetch(
            "SELECT id, kind, payload, attempts FROM outbox WHERE status = 'pending' "
            "AND next_attempt_at <= now() ORDER BY next_attempt_at LIMIT $1 "
            "FOR UPDATE SKIP LOCKED", BATCH)
        for row in rows:
            payload = json.loads(row["payload"]) if isinstance(row["payload"], str) \
                else row["payload"]
            try:
                await deliver(redis, row["kind"], payload)
            except Exception as error:
                attempts = row["attempts"] + 1
                dead = attempts >= MAX_ATTEMPTS
                await connection.execute(
                    "UPDATE outbox SET attempts = $2, last_error = $3, status = $4, "
                    "next_attempt_at = now() + make_interval(secs => $5) WHERE id = $1",
                    row["id"], attempts, str(error)[:1000], "dead" if dead else "pending",
                    backoff_seconds(attempts))
                counts["dead" if dead else "retry"] += 1
                log.log(40 if dead else 30, "outbox delivery failed", outbox_id=row["id"],
                        kind=row["kind"], order_id=payload.get("order_ref"),
                        attempts=attempts, dead=dead, error=str(error)[:300])
                continue
            await connection.execute(
                "UPDATE outbox SET status = 'done', done_at = now(), attempts = attempts + 1 "
                "WHERE id = $1", row["id"])
            if shown_ref := shown_by(row["kind"], payload):
                await connection.execute(
                    "UPDATE paid_order SET kitchen_shown_at = coalesce(kitchen_shown_at, now())"
                    " WHERE public_id = $1", shown_ref)
            counts["done"] += 1
    if rows:
        log.info("outbox relayed", **counts)
    return counts
