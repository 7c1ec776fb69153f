"""Live export of a run: an OpenMetrics endpoint on 127.0.0.1 and an optional Pushgateway push.

Opt-in (``hachaos run --metrics-port N``). Every scrape reads the load's newest
chunk files (harness.load.live.LiveCounts), so the counters lag the requests by
at most the workers' flush period (1 s) plus the scrape interval; once the load
has stopped they are recounted from the merged samples, and then equal the
summary's figures. Served by prometheus_client's own HTTP server (OpenMetrics when
the scraper asks for it, Prometheus text otherwise). Metrics: docs/metrics.md.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, push_to_gateway, start_http_server
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    InfoMetricFamily,
    StateSetMetricFamily,
)
from prometheus_client.registry import Collector

from harness.errors import HarnessError
from harness.load.live import LATENCY_BUCKETS_S, LiveCounts
from harness.records import SUCCESS
from harness.run.progress import Progress

PHASES = ("deploy", "warmup", "run", "cooldown", "teardown", "report", "done")
PUSH_TIMEOUT_S = 5.0
_log = logging.getLogger(__name__)


class ExportError(HarnessError):
    """The live endpoint could not start (the port is taken, or not allowed)."""


class RunCollector(Collector):
    """The run's state as metric families, computed at each scrape."""

    def __init__(self, counts: LiveCounts, info: dict[str, str]) -> None:
        self.counts = counts
        self.info = info
        self.phase = "deploy"
        self.active: tuple[str, ...] = ()
        self.seen_faults: set[str] = set()
        self.aborted = False
        self._lock = threading.Lock()

    def collect(self) -> Iterator[Any]:
        with self._lock:
            c = self.counts.poll()
            yield InfoMetricFamily("hachaos_run", "the run being exported", value=self.info)
            requests = CounterMetricFamily(
                "hachaos_requests",
                "measured requests (after the warmup, dropped ones apart) by outcome",
                labels=["outcome"],
            )
            failures = CounterMetricFamily(
                "hachaos_failures", "measured requests that failed, by outcome", labels=["outcome"]
            )
            for outcome, n in sorted(c.by_outcome.items()):
                requests.add_metric([outcome], n)
                if outcome != SUCCESS:
                    failures.add_metric([outcome], n)
            yield requests
            yield failures
            yield CounterMetricFamily(
                "hachaos_dropped", "open model: arrivals the generator could not send", c.dropped
            )
            yield CounterMetricFamily(
                "hachaos_warmup_requests",
                "requests sent during the warmup (not measured)",
                c.warmup,
            )
            bounds = [*(str(b) for b in LATENCY_BUCKETS_S), "+Inf"]
            yield HistogramMetricFamily(
                "hachaos_request_latency_seconds",
                "raw latency of the measured requests",
                buckets=list(zip(bounds, c.buckets, strict=True)),
                sum_value=c.latency_sum_s,
            )
            active = GaugeMetricFamily(
                "hachaos_fault_active", "1 while the fault is in effect", labels=["fault"]
            )
            for fault in sorted(self.seen_faults):
                active.add_metric([fault], 1.0 if fault in self.active else 0.0)
            yield active
            yield StateSetMetricFamily(
                "hachaos_run_phase",
                "the run's phase",
                value={p: p == self.phase for p in PHASES},
            )
            yield GaugeMetricFamily(
                "hachaos_run_aborted", "1 once a stop condition aborted the run", int(self.aborted)
            )

    def update(self, progress: Progress) -> None:
        with self._lock:
            if progress.phase in PHASES:
                self.phase = progress.phase
            if progress.phase in ("warmup", "run", "cooldown"):
                self.active = progress.active_faults
                self.seen_faults.update(progress.active_faults)
            elif progress.phase in ("teardown", "report"):
                self.active = ()


class LiveExporter:
    """The run's OpenMetrics endpoint on 127.0.0.1:``port`` (0 picks a free port)."""

    def __init__(self, port: int, samples_dir: Path, info: dict[str, str]) -> None:
        self.counts = LiveCounts(samples_dir)
        self.collector = RunCollector(self.counts, info)
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(self.collector)
        self.requested_port = port
        self.port = port
        self._server: WSGIServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Serve on 127.0.0.1 only; ExportError if the port cannot be bound."""
        try:
            self._server, self._thread = start_http_server(
                self.requested_port, addr="127.0.0.1", registry=self.registry
            )
        except OSError as exc:
            raise ExportError(
                f"--metrics-port {self.requested_port}: cannot listen on 127.0.0.1: {exc}",
                hint="pick a free port, or 0 for any free port",
            ) from exc
        self.port = int(self._server.server_port)

    def set_t0(self, t0_wall: float) -> None:
        """Requests start counting as measured from here (the end of the warmup)."""
        self.counts.t0_us = math.ceil(t0_wall * 1e6)  # the analysis' t >= 0

    def update(self, progress: Progress) -> None:
        self.collector.update(progress)

    def abort(self) -> None:
        with self.collector._lock:
            self.collector.aborted = True

    def final(self, samples: Path) -> None:
        """The load stopped and its samples are merged: count them exactly."""
        with self.collector._lock:
            self.counts.recount(samples)

    def done(self) -> None:
        with self.collector._lock:
            self.collector.phase, self.collector.active = "done", ()

    def push(self, gateway: str, run_id: str) -> None:
        """Push every metric to a Pushgateway (job ``hachaos``, grouped by run id)."""
        push_to_gateway(
            gateway,
            job="hachaos",
            registry=self.registry,
            grouping_key={"run_id": run_id},
            timeout=PUSH_TIMEOUT_S,
        )

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5.0)
