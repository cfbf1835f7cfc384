"""arq WorkerSettings: which jobs and crons a worker runs, and its retry/timeout defaults."""

from __future__ import annotations

from arq import cron

from workers.lifecycle import shutdown, startup
from workers.maintenance import prune_heartbeats


class WorkerSettings:
    functions = [prune_heartbeats]
    cron_jobs = [cron(prune_heartbeats, minute=0, second=0, timeout=30)]
    on_startup = startup
    on_shutdown = shutdown
    job_timeout = 60
    max_tries = 5
    health_check_interval = 10
    keep_result = 3600
    allow_abort_jobs = True
