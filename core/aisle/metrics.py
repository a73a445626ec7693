"""Every Prometheus metric Aisle exports, defined once; instrumenting is one line each.

Counters and histograms live in the process that moves them. With
``PROMETHEUS_MULTIPROC_DIR`` set (several ``aisle serve`` processes behind one port),
prometheus-client writes them to files in that directory and :func:`exposition` adds
every process's up. The backlog gauges (outbox depth, wake-up lag…) are not counted by
any process: they are read from the database when scraped (:class:`Backlog`), so they
are exported once per scrape, never summed across processes.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    start_http_server,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

__all__ = [
    "ACTION_RUNS",
    "ATTEMPT_SECONDS",
    "CONTENT_TYPE",
    "EVENTS_ACCEPTED",
    "EVENTS_PROCESSED",
    "HTTP_REQUESTS",
    "HTTP_SECONDS",
    "LOCK_CONTENTION",
    "QUEUE_DEPTH",
    "SYNC_RECORDS",
    "SYNC_RUNS",
    "TRANSITIONS",
    "Backlog",
    "exposition",
    "serve_metrics",
    "sync_finished",
]

CONTENT_TYPE = CONTENT_TYPE_LATEST

EVENTS_ACCEPTED = Counter(
    "aisle_events_accepted",
    "Events stored (a repeated idempotency key is not counted), by source.",
    ["source"],
)
EVENTS_PROCESSED = Counter(
    "aisle_events_processed",
    "Attempts to apply an accepted event to the journeys, by outcome (processed, error).",
    ["outcome"],
)
TRANSITIONS = Counter(
    "aisle_transitions",
    "Engine transitions written: an enrollment started (start) or moved on (step).",
    ["kind"],
)
ACTION_RUNS = Counter(
    "aisle_action_runs",
    "Action run attempts by executor and outcome (succeeded, failed: retry scheduled, "
    "dead, deferred: send window, discarded: the claim was lost meanwhile).",
    ["executor", "outcome"],
)
ATTEMPT_SECONDS = Histogram(
    "aisle_action_attempt_seconds",
    "Wall time of one action run attempt, by executor.",
    ["executor"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
SYNC_RUNS = Counter(
    "aisle_crm_sync_runs",
    "CRM sync runs finished, by provider and outcome (succeeded, partial, failed, cancelled).",
    ["provider", "outcome"],
)
SYNC_RECORDS = Counter(
    "aisle_crm_sync_records",
    "Records a finished CRM sync run handled, by provider and outcome (created, updated…).",
    ["provider", "outcome"],
)
QUEUE_DEPTH = Gauge(
    "aisle_queue_depth",
    "Messages waiting in a Redis queue for a worker, as the scheduler last saw it.",
    ["queue"],
    # Every scheduler reports the same queues: the largest is the truth of the moment.
    multiprocess_mode="max",
)
LOCK_CONTENTION = Counter(
    "aisle_lock_contention",
    "Times work was skipped because another process held the lock it needed, by lock.",
    ["lock"],
)
HTTP_REQUESTS = Counter(
    "aisle_http_requests",
    "HTTP requests answered, by method, route template and status.",
    ["method", "route", "status"],
)
HTTP_SECONDS = Histogram(
    "aisle_http_request_seconds",
    "HTTP request latency (until the response started), by method and route template.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


def sync_finished(provider: str, outcome: str, counts: Mapping[str, int]) -> None:
    """Count a finished CRM sync run and the records it handled."""
    SYNC_RUNS.labels(provider, outcome).inc()
    for kind, count in counts.items():
        SYNC_RECORDS.labels(provider, kind).inc(count)


@dataclass(frozen=True)
class Backlog:
    """What is waiting, read from the database when scraped."""

    outbox_depth: int
    """Action runs waiting for an attempt (pending, or failed with a retry scheduled)."""
    outbox_oldest_due_seconds: float
    """How long the oldest due waiting run has been due (0: none is due)."""
    wakeup_lag_seconds: float
    """Now minus the due time of the oldest unfired wake-up (0: none is due)."""
    events_pending: int
    """Accepted events not yet applied to the journeys."""


class _BacklogCollector(Collector):
    def __init__(self, backlog: Backlog) -> None:
        self.backlog = backlog

    def collect(self) -> Iterator[Metric]:
        b = self.backlog
        yield GaugeMetricFamily(
            "aisle_outbox_depth", "Action runs waiting for an attempt.", value=b.outbox_depth
        )
        yield GaugeMetricFamily(
            "aisle_outbox_oldest_due_seconds",
            "Seconds the oldest due action run has waited past its due time.",
            value=b.outbox_oldest_due_seconds,
        )
        yield GaugeMetricFamily(
            "aisle_wakeup_lag_seconds",
            "Now minus the due time of the oldest unfired wake-up.",
            value=b.wakeup_lag_seconds,
        )
        yield GaugeMetricFamily(
            "aisle_events_pending",
            "Accepted events not yet applied to the journeys.",
            value=b.events_pending,
        )


def _process_registry() -> CollectorRegistry:
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory:
        return REGISTRY
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
    return registry


def exposition(backlog: Backlog | None = None) -> bytes:
    """The Prometheus text of this process's metrics (every process's, in multiprocess
    mode), followed by ``backlog`` as gauges."""
    text = generate_latest(_process_registry())
    if backlog is not None:
        gauges = CollectorRegistry(auto_describe=False)
        gauges.register(_BacklogCollector(backlog))
        text += generate_latest(gauges)
    return text


def serve_metrics(port: int, host: str = "0.0.0.0") -> int:  # noqa: S104 (scraped from outside)
    """Serve this process's metrics on ``host:port`` from a daemon thread (``aisle worker
    --metrics-port``); returns the port taken (``0`` asks for any free one)."""
    server, _thread = start_http_server(port, addr=host, registry=_process_registry())
    return int(server.server_port)
