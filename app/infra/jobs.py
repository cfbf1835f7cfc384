"""Enqueueing several arq jobs in one Redis round trip.

`ArqRedis.enqueue_job` spends three round trips per job (WATCH, EXISTS, MULTI/EXEC) to keep
one rule: a job whose id is already queued, running or holding a result is not enqueued
again. Intake enqueues two jobs per order; at 200 orders/s those six round trips were a
tenth of the web process's time. `enqueue_jobs` keeps arq's rule and its wire format (the
job is arq's own `serialize_job`, the keys and the queue are arq's) and checks and writes
every job in one Lua script, which Redis runs atomically, as MULTI/EXEC did.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from arq.connections import ArqRedis
from arq.constants import (
    default_queue_name,
    in_progress_key_prefix,
    job_key_prefix,
    result_key_prefix,
)
from arq.jobs import serialize_job
from arq.utils import timestamp_ms, to_unix_ms
from redis.asyncio.client import Pipeline
from redis.commands.core import AsyncScript

# KEYS: job key, result key, queue per job. ARGV: ttl ms, serialized job, score, id per job.
# Returns one flag per job: 1 enqueued, 0 skipped (the id was queued, running or done).
_ENQUEUE = """
local flags = {}
for i = 0, #KEYS / 3 - 1 do
    local job_key, result_key, queue = KEYS[i * 3 + 1], KEYS[i * 3 + 2], KEYS[i * 3 + 3]
    if redis.call('exists', job_key, result_key) == 0 then
        redis.call('psetex', job_key, ARGV[i * 4 + 1], ARGV[i * 4 + 2])
        redis.call('zadd', queue, ARGV[i * 4 + 3], ARGV[i * 4 + 4])
        flags[#flags + 1] = 1
    else
        flags[#flags + 1] = 0
    end
end
return flags
"""

# KEYS: job key, in-progress key per job. ARGV: the queue, then the job ids. Drops each job
# that is queued and not running; returns how many it dropped.
_DROP = """
local dropped = 0
for i = 0, #KEYS / 2 - 1 do
    if redis.call('exists', KEYS[i * 2 + 2]) == 0 then
        dropped = dropped + redis.call('zrem', ARGV[1], ARGV[i + 2])
        redis.call('del', KEYS[i * 2 + 1])
    end
end
return dropped
"""

# KEYS: job key, in-progress key, result key per job. Deletes the result of each job that is
# neither queued nor running; returns how many it deleted.
_FORGET = """
local forgotten = 0
for i = 0, #KEYS / 3 - 1 do
    if redis.call('exists', KEYS[i * 3 + 1], KEYS[i * 3 + 2]) == 0 then
        forgotten = forgotten + redis.call('del', KEYS[i * 3 + 3])
    end
end
return forgotten
"""

# KEYS: the in-progress key per job. ARGV: the queue, the new score (ms), then the job ids.
# Moves each job that is queued and not running to the new score; returns how many it moved.
_RESCHEDULE = """
local moved = 0
for i = 1, #KEYS do
    if redis.call('exists', KEYS[i]) == 0 and redis.call('zscore', ARGV[1], ARGV[i + 2]) then
        moved = moved + redis.call('zadd', ARGV[1], 'XX', 'CH', ARGV[2], ARGV[i + 2])
    end
end
return moved
"""


@dataclass(frozen=True)
class JobSpec:
    """What `ArqRedis.enqueue_job(function, *args, _job_id=…, _defer_until=…)` would enqueue."""

    function: str
    args: tuple[Any, ...]
    job_id: str
    defer_until: datetime | None = None
    defer_by_s: float | None = None
    kwargs: dict[str, Any] = field(default_factory=dict)


def _script_args(redis: ArqRedis, jobs: list[JobSpec]) -> tuple[list[str], list[Any]]:
    """`_ENQUEUE`'s keys and arguments for `jobs`, serialized as arq would."""
    now = timestamp_ms()
    keys: list[str] = []
    argv: list[Any] = []
    for job in jobs:
        if job.defer_until is not None:
            score = to_unix_ms(job.defer_until)
        elif job.defer_by_s:
            score = now + int(job.defer_by_s * 1000)
        else:
            score = now
        ttl = score - now + redis.expires_extra_ms  # arq's default expiry
        keys += [job_key_prefix + job.job_id, result_key_prefix + job.job_id,
                 default_queue_name]
        argv += [max(ttl, 1), serialize_job(job.function, job.args, job.kwargs, None, now,
                                            serializer=redis.job_serializer), score, job.job_id]
    return keys, argv


async def enqueue_jobs(redis: ArqRedis, jobs: list[JobSpec]) -> list[bool]:
    """Enqueue `jobs` in one round trip; True for each one enqueued, False for each one
    skipped because its id is already queued, running or has a result (as arq does)."""
    if not jobs:
        return []
    keys, argv = _script_args(redis, jobs)
    global _script
    if _script is None:
        _script = redis.register_script(_ENQUEUE)
    # EVALSHA; on a server that lacks the script (a restart), it is loaded and run again.
    flags = await _script(keys=keys, args=argv, client=redis)
    return [bool(flag) for flag in flags]


def enqueue_jobs_in(transaction: Pipeline, redis: ArqRedis, jobs: list[JobSpec]) -> None:
    """Add the enqueueing of `jobs` to a MULTI/EXEC transaction being built, so they are
    written with its other writes, atomically and in its one round trip (intake saves an
    order with its link and its jobs together). Its result in `execute()` is `enqueue_jobs`'s
    flags (as 1/0). EVAL with the script's text, not EVALSHA: a NOSCRIPT error inside EXEC
    would leave the jobs out while the transaction's other writes are made."""
    if jobs:
        keys, argv = _script_args(redis, jobs)
        transaction.eval(_ENQUEUE, len(keys), *keys, *argv)


async def drop_queued_jobs(redis: ArqRedis, job_ids: list[str]) -> int:
    """Take jobs that have nothing left to do out of arq's queue (not running ones), in one
    round trip: the email jobs of rows a batch has just sent. Each would otherwise be
    dequeued, read its row and find it sent, a few Redis and Postgres round trips apiece.
    A job enqueued again later under the same id runs and finds its work done."""
    if not job_ids:
        return 0
    keys: list[str] = []
    for job_id in job_ids:
        keys += [job_key_prefix + job_id, in_progress_key_prefix + job_id]
    global _drop_script
    if _drop_script is None:
        _drop_script = redis.register_script(_DROP)
    return int(await _drop_script(keys=keys, args=[default_queue_name, *job_ids],
                                  client=redis))


async def reschedule_queued_jobs(redis: ArqRedis, job_ids: list[str], delay_s: float) -> int:
    """Move queued (not running) jobs to run `delay_s` from now, in one round trip: the email
    jobs of rows a batch has claimed and is about to send. Started meanwhile, each would only
    wait on its email's claim and find it sent (a tenth of the jobs arq ran while draining a
    backlog, a few Redis and Postgres round trips apiece). `delay_s=0` makes them due now
    again (the batch failed: they retry their emails)."""
    if not job_ids:
        return 0
    global _reschedule_script
    if _reschedule_script is None:
        _reschedule_script = redis.register_script(_RESCHEDULE)
    keys = [in_progress_key_prefix + job_id for job_id in job_ids]
    score = timestamp_ms() + int(delay_s * 1000)
    return int(await _reschedule_script(keys=keys, args=[default_queue_name, score, *job_ids],
                                        client=redis))


async def forget_finished_jobs(redis: ArqRedis, job_ids: list[str]) -> int:
    """Delete the kept result of each job that is neither queued nor running, in one round
    trip, so its id can be enqueued again: arq refuses an id while its result is kept
    (`keep_result`, an hour), and a job that ended without doing its work (arq's timeout,
    which it never retries) held its email back that long."""
    if not job_ids:
        return 0
    keys: list[str] = []
    for job_id in job_ids:
        keys += [job_key_prefix + job_id, in_progress_key_prefix + job_id,
                 result_key_prefix + job_id]
    global _forget_script
    if _forget_script is None:
        _forget_script = redis.register_script(_FORGET)
    return int(await _forget_script(keys=keys, args=[], client=redis))


_script: AsyncScript | None = None
_forget_script: AsyncScript | None = None
_drop_script: AsyncScript | None = None
_reschedule_script: AsyncScript | None = None
