"""arq WorkerSettings: which jobs and crons a worker runs, and its retry/timeout defaults."""

from __future__ import annotations

from arq import func

from workers.email_jobs import requeue_stale_emails, send_email_function
from workers.kitchen_jobs import (
    auto_reject_unaccepted,
    expire_links_in_closure,
    expire_links_with_sold_out,
    reject_orders_in_closures,
    release_scheduled_orders,
)
from workers.lifecycle import shutdown, startup
from workers.maintenance import prune_heartbeats
from workers.ops_jobs import (
    archive_orders,
    cleanup_temp_orders,
    evaluate_ops_alerts,
    prune_records,
    reconcile_with_stripe,
)
from workers.order_jobs import create_payment_link, expire_payment_link, sweep_expired_links
from workers.outbox_jobs import relay_outbox
from workers.periodic import periodic


class WorkerSettings:
    functions = [
        prune_heartbeats,
        send_email_function,
        func(create_payment_link, max_tries=8, timeout=30),
        func(expire_payment_link, max_tries=10, timeout=30),
        func(reject_orders_in_closures, timeout=120),  # queued after each closure is added
        func(expire_links_in_closure, max_tries=3, timeout=300),  # the same, at once
        func(expire_links_with_sold_out, max_tries=3, timeout=300),  # queued with an 86
    ]
    cron_jobs = [
        periodic(prune_heartbeats, minute=0, second=0, timeout=30),
        periodic(sweep_expired_links, second={7}, timeout=120),  # every minute
        periodic(relay_outbox, second=set(range(3, 60, 10)), timeout=60),  # every 10 s
        periodic(requeue_stale_emails, minute=set(range(0, 60, 5)), second=23, timeout=60),
        # every 30 s; unique: never two sweeps at once across workers
        periodic(auto_reject_unaccepted, second={11, 41}, timeout=120, unique=True),
        # every 15 s: scheduled orders reach the board at their slot minus prep
        periodic(release_scheduled_orders, second={1, 16, 31, 46}, timeout=60, unique=True),
        # every minute: orders paid inside a closure after it was added are rejected
        periodic(reject_orders_in_closures, second={26}, timeout=120, unique=True),
        # operations (app/ops, app/payments/reconciliation.py); unique: one run at a time
        periodic(reconcile_with_stripe, minute=set(range(2, 60, 5)), second=31, timeout=240,
                 unique=True),  # every 5 minutes
        periodic(cleanup_temp_orders, minute=set(range(4, 60, 15)), second=47, timeout=120,
                 unique=True),  # every 15 minutes
        periodic(archive_orders, minute=17, second=13, timeout=600, unique=True),  # hourly
        periodic(prune_records, hour=3, minute=41, second=29, timeout=600, unique=True),  # daily
        periodic(evaluate_ops_alerts, second=53, timeout=50, unique=True),  # every minute
    ]
    on_startup = startup
    on_shutdown = shutdown
    job_timeout = 60
    max_tries = 5
    health_check_interval = 10
    keep_result = 3600
    allow_abort_jobs = True
