"""Prometheus metrics shared by the web app and the workers (prometheus-client).

Counters and histograms live in each process. With several processes (uvicorn workers, arq
workers) set `PROMETHEUS_MULTIPROC_DIR` to an empty directory shared by all of them (wiped
at deploy): prometheus-client then writes per-process files there and `GET /metrics`
aggregates them (`MultiProcessCollector`). Unset, `/metrics` shows this process's default
registry. Gauges that describe shared state (outbox backlog, emails by status, open
discrepancies, queue depth) are not kept in processes: `/metrics` reads them from
Postgres/Redis at scrape time (see app/ops/metrics_controller.py).
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

ORDERS_SUBMITTED = Counter("orderpass_orders_submitted_total", "Orders submitted", ["restaurant"])
ORDERS_PAID = Counter("orderpass_orders_paid_total", "Orders paid", ["restaurant"])
ORDERS_EXPIRED = Counter("orderpass_orders_expired_total", "Payment links expired unpaid",
                         ["restaurant"])
PAYMENT_LINKS = Counter("orderpass_payment_links_total",
                        "Payment link creation attempts by result", ["result"])
WEBHOOK_EVENTS = Counter("orderpass_webhook_events_total", "Webhook events by type and result",
                         ["provider", "type", "result"])
PAYMENT_TO_KITCHEN = Histogram(
    "orderpass_payment_to_kitchen_seconds", "Webhook receipt to kitchen publish",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
REQUEST_LATENCY = Histogram(
    "orderpass_http_request_duration_seconds", "HTTP request latency by route and status class",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
GC_FULL_PAUSE = Histogram(
    "orderpass_gc_full_collection_seconds",
    "Full (generation 2) garbage collections: the event loop stands still meanwhile",
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5))
SSE_CLIENTS = Gauge("orderpass_sse_clients", "Open server-sent event streams",
                    multiprocess_mode="livesum")
# The fan-out's own cost, measured where it happens (app/live/hub.py): the CPU time (user and
# kernel: the socket writes are most of it) of the hub's loop writing a frame straight to
# every idle stream, and how many frames it wrote. Their ratio is what one more screen costs
# per update, without the rest of the process in the figure.
SSE_FANOUT_CPU = Counter(
    "orderpass_sse_fanout_cpu_seconds",
    "CPU time spent writing live frames straight to idle streams (the hub's thread)")
SSE_FANOUT_FRAMES = Counter(
    "orderpass_sse_fanout_frames", "Live frames written straight to idle streams by their hub")
RECONCILIATION_FINDINGS = Counter(
    "orderpass_reconciliation_findings_total",
    "Reconciliation findings by kind and action taken", ["kind", "action"])
RECONCILIATION_RUNS = Counter("orderpass_reconciliation_runs_total",
                              "Reconciliation runs by result", ["result"])
ORDERS_ARCHIVED = Counter("orderpass_orders_archived_total", "Orders moved to the archive")
TEMP_ORDERS_CLEANED = Counter("orderpass_temp_orders_cleaned_total",
                              "Abandoned temporary orders removed from Redis")
ALERTS_FIRED = Counter("orderpass_alerts_fired_total", "Alert notifications sent",
                       ["alert", "state"])
