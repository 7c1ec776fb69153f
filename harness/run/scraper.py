"""The stack's own metrics: scrape ``stack.metrics`` endpoints during the run.

Each endpoint is scraped every ``interval`` on every running container of its
service, at that container's address on the stack's networks (or, with
``published: true``, at the port the engine publishes on 127.0.0.1): traffic
goes only to the run's own containers or to loopback, and never through a proxy
from the environment. The text is parsed with prometheus_client's parser; every
sample is stored in stack_metrics.parquet (docs/metrics.md).

An endpoint that does not answer, answers an error or sends something that does
not parse is a warning of the report (its status goes to run.json ``telemetry``),
never a failed run: every failure is caught here.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as openmetrics_families,
)
from prometheus_client.parser import text_string_to_metric_families

from harness.engine.stats import StackContainer
from harness.evidence.durable import replace_durably
from harness.records import EV_SCRAPE_FAILED, STACK_METRIC_COLUMNS, STACK_METRICS_FILE
from harness.run.sampler import lower_priority
from harness.scenario.models import MetricsEndpoint

MAX_BODY = 16 * 2**20  # bytes read from one scrape
MAX_SAMPLES = 50_000  # kept from one scrape
MAX_ROWS = 5_000_000  # kept from the whole run
MAX_EVENTS = 20  # scrape-failure events per endpoint
TIMEOUT_S = 2.0
FLUSH_ROWS = 50_000
_log = logging.getLogger(__name__)
# No proxy from the environment: a scrape goes to the run's container or loopback, nowhere else.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))

SCHEMA = pa.schema(
    [
        ("wall", pa.float64()),
        ("endpoint", pa.int32()),
        ("service", pa.string()),
        ("replica", pa.int32()),
        ("name", pa.string()),
        ("labels", pa.string()),
        ("value", pa.float64()),
    ]
)
assert tuple(SCHEMA.names) == STACK_METRIC_COLUMNS

Sample = tuple[str, dict[str, str], float]


class ScrapeError(Exception):
    """One scrape failed: unreachable, an HTTP error, or text that does not parse."""


def parse_exposition(text: str, content_type: str = "") -> list[Sample]:
    """(name, labels, value) of every sample; ScrapeError when the text does not parse."""
    parse = (
        openmetrics_families if "openmetrics" in content_type else text_string_to_metric_families
    )
    out: list[Sample] = []
    try:
        for family in parse(text):
            for s in family.samples:
                out.append((s.name, dict(s.labels), float(s.value)))
                if len(out) >= MAX_SAMPLES:
                    return out
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise ScrapeError(f"not Prometheus text format: {exc}") from exc
    return out


def fetch(url: str, timeout: float) -> tuple[str, str]:
    """GET ``url``: (body, content type); ScrapeError on any failure."""
    request = urllib.request.Request(
        url, headers={"Accept": "text/plain;version=0.0.4", "User-Agent": "hachaos-scraper"}
    )
    try:
        with _OPENER.open(request, timeout=timeout) as resp:
            body = resp.read(MAX_BODY + 1)
            kind = resp.headers.get("Content-Type", "")
    except urllib.error.HTTPError as exc:
        raise ScrapeError(f"HTTP {exc.code}") from exc
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ScrapeError(f"unreachable ({reason})") from exc
    if len(body) > MAX_BODY:
        raise ScrapeError(f"the answer is larger than {MAX_BODY // 2**20} MiB")
    return body.decode("utf-8", errors="replace"), kind


def scrape_url(address: str, port: int, path: str) -> str:
    """The URL of one scrape; ``address`` must be an IP address (the engine's, or loopback)."""
    ip = ipaddress.ip_address(address)
    host = f"[{ip}]" if ip.version == 6 else str(ip)
    return f"http://{host}:{int(port)}{path}"


@dataclass
class EndpointStatus:
    """How the scrapes of one endpoint went (run.json ``telemetry.stack_metrics``)."""

    index: int
    service: str
    port: int
    path: str
    scrapes: int = 0
    failed: int = 0
    samples: int = 0  # in the last good scrape
    targets: int = 0  # containers scraped in the last round
    last_error: str | None = None
    streak: int = 0
    events: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Every field but the internal ``streak`` and ``events`` counters."""
        return {k: v for k, v in asdict(self).items() if k not in ("streak", "events")}


Targets = Callable[[MetricsEndpoint], list[tuple[int, str, int]]]  # (replica, address, port)


def container_targets(
    list_containers: Callable[[], list[StackContainer]],
    published: Callable[[str, int], tuple[str, int]],
) -> Targets:
    """Where to scrape an endpoint: each running container's first address, or the
    published port on 127.0.0.1."""

    def targets(ep: MetricsEndpoint) -> list[tuple[int, str, int]]:
        if ep.published:
            host, port = published(ep.service, ep.port)
            return [(0, "127.0.0.1" if host in ("", "0.0.0.0", "::") else host, port)]
        return [
            (c.replica, c.addresses[0], ep.port)
            for c in list_containers()
            if c.service == ep.service and c.state == "running" and c.addresses
        ]

    return targets


@dataclass
class StackScraper:
    """Scrapes every endpoint on its interval until :meth:`stop`; writes the samples."""

    endpoints: Sequence[MetricsEndpoint]
    targets: Targets
    run_dir: Path
    emit: Callable[..., object] = lambda *_a, **_k: None
    fetch: Callable[[str, float], tuple[str, str]] = fetch
    now: Callable[[], float] = time.time
    status: list[EndpointStatus] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    _rows: list[tuple[Any, ...]] = field(default_factory=list)
    _written: int = 0
    _writer: pq.ParquetWriter | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.status = [
            EndpointStatus(i, ep.service, ep.port, ep.path) for i, ep in enumerate(self.endpoints)
        ]

    @property
    def path(self) -> Path:
        return self.run_dir / STACK_METRICS_FILE

    def start(self) -> None:
        if self.endpoints and self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="scraper", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop, write the file; never raises (a failure becomes a warning)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=15.0)
        try:
            self._flush(final=True)
        except (OSError, pa.ArrowException) as exc:
            self.warnings.append(f"the stack's metrics could not be written: {exc}")

    def _loop(self) -> None:
        lower_priority()
        due = [time.monotonic()] * len(self.endpoints)
        with ThreadPoolExecutor(max_workers=4, thread_name_prefix="scrape") as pool:
            while not self._stop.is_set():
                now = time.monotonic()
                for i, ep in enumerate(self.endpoints):
                    if now >= due[i]:
                        due[i] = max(due[i] + ep.interval, now)
                        try:
                            self.scrape_endpoint(i, pool)
                        except Exception as exc:  # never let a scrape end the run
                            _log.warning("scraping %s failed", ep.service, exc_info=True)
                            self._failed(i, f"internal error: {exc!r}")
                if len(self._rows) >= FLUSH_ROWS:
                    self._flush()
                self._stop.wait(max(min(due) - time.monotonic(), 0.05))

    def scrape_endpoint(self, i: int, pool: ThreadPoolExecutor | None = None) -> None:
        """One round of endpoint ``i``: every target, in parallel when given a pool."""
        ep, st = self.endpoints[i], self.status[i]
        try:
            targets = self.targets(ep)
        except Exception as exc:  # the engine did not answer: this round is a failure
            self._failed(i, f"cannot list its containers: {exc}")
            return
        st.targets = len(targets)
        if not targets:
            self._failed(i, f"no running container of {ep.service!r} to scrape")
            return
        timeout = min(TIMEOUT_S, max(ep.interval * 0.9, 0.2))

        def one(target: tuple[int, str, int]) -> tuple[int, float, list[Sample] | str]:
            replica, address, port = target
            wall = self.now()
            try:
                body, kind = self.fetch(scrape_url(address, port, ep.path), timeout)
                return replica, wall, parse_exposition(body, kind)
            except ScrapeError as exc:
                return replica, wall, f"{ep.service}.{replica} ({address}:{port}{ep.path}): {exc}"

        results = list(pool.map(one, targets)) if pool else [one(t) for t in targets]
        for replica, wall, got in results:
            st.scrapes += 1
            if isinstance(got, str):
                self._failed(i, got)
                continue
            st.streak, st.samples = 0, len(got)
            self._keep(i, ep.service, replica, wall, got)

    def _failed(self, i: int, error: str) -> None:
        st = self.status[i]
        st.failed += 1
        st.last_error = error
        st.streak += 1
        if st.streak == 1 and st.events < MAX_EVENTS:
            st.events += 1
            self.emit(EV_SCRAPE_FAILED, endpoint=i, service=st.service, error=error)

    def _keep(self, i: int, service: str, replica: int, wall: float, got: list[Sample]) -> None:
        with self._lock:
            room = MAX_ROWS - self._written - len(self._rows)
            if room <= 0:
                if not self.warnings:
                    self.warnings.append(f"the stack's metrics stopped at {MAX_ROWS} samples")
                return
            for name, labels, value in got[:room]:
                labels_text = json.dumps(labels, sort_keys=True, separators=(",", ":"))
                self._rows.append((wall, i, service, replica, name, labels_text, value))

    def _flush(self, final: bool = False) -> None:
        with self._lock:
            rows, self._rows = self._rows, []
        partial = self.path.with_name(f".{self.path.name}.partial")
        if rows:
            columns = list(zip(*rows, strict=True))
            table = pa.Table.from_arrays(
                [pa.array(col, type=f.type) for col, f in zip(columns, SCHEMA, strict=True)],
                schema=SCHEMA,
            )
            if self._writer is None:
                self._writer = pq.ParquetWriter(partial, SCHEMA, compression="zstd")
            self._writer.write_table(table)
            self._written += len(rows)
        if final and self._writer is not None:
            self._writer.close()
            self._writer = None
            replace_durably(partial, self.path)
