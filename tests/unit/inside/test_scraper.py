"""Scraping stack.metrics endpoints: parsing, bad endpoints as warnings, stored samples.

The HTTP tests use a real server on 127.0.0.1 (no mock of the network)."""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from harness.records import EV_SCRAPE_FAILED, STACK_METRIC_COLUMNS
from harness.run.scraper import (
    ScrapeError,
    StackScraper,
    fetch,
    parse_exposition,
    scrape_url,
)
from harness.scenario.models import MetricsEndpoint

GOOD = """# HELP active Servers up
# TYPE active gauge
active{proxy="app"} 3
active{proxy="web"} 1
# TYPE reqs counter
reqs_total 42
"""
BODIES = {"/good": (200, GOOD), "/bad": (200, "this is { not metrics\n"), "/err": (500, "no")}


@pytest.fixture
def server() -> Iterator[int]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            code, body = BODIES.get(self.path, (404, ""))
            data = body.encode()
            self.send_response(code)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_: object) -> None:
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv.server_address[1]
    srv.shutdown()
    srv.server_close()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_parse_gives_every_sample() -> None:
    assert parse_exposition(GOOD) == [
        ("active", {"proxy": "app"}, 3.0),
        ("active", {"proxy": "web"}, 1.0),
        ("reqs_total", {}, 42.0),
    ]


def test_malformed_text_is_a_scrape_error() -> None:
    with pytest.raises(ScrapeError, match="not Prometheus text format"):
        parse_exposition("this is { not metrics\n")


def test_urls_take_ip_addresses_only() -> None:
    assert scrape_url("10.1.2.3", 8404, "/metrics?scope=server") == (
        "http://10.1.2.3:8404/metrics?scope=server"
    )
    assert scrape_url("::1", 80, "/m") == "http://[::1]:80/m"
    with pytest.raises(ValueError):
        scrape_url("example.org", 80, "/m")


def test_fetch_reads_a_real_server_and_names_http_errors(server: int) -> None:
    body, kind = fetch(f"http://127.0.0.1:{server}/good", 2.0)
    assert body == GOOD and "text/plain" in kind
    with pytest.raises(ScrapeError, match="HTTP 500"):
        fetch(f"http://127.0.0.1:{server}/err", 2.0)
    with pytest.raises(ScrapeError, match="unreachable"):
        fetch(f"http://127.0.0.1:{closed_port()}/good", 2.0)


def scraper(tmp_path: Path, path: str, port: int, events: list) -> StackScraper:
    ep = MetricsEndpoint(service="lb", port=port, path=path)
    return StackScraper(
        [ep],
        lambda e: [(1, "127.0.0.1", e.port)],
        tmp_path,
        emit=lambda kind, **f: events.append((kind, f)),
        now=lambda: 1000.0,
    )


def test_good_scrapes_are_stored_with_service_and_replica(tmp_path: Path, server: int) -> None:
    events: list = []
    s = scraper(tmp_path, "/good", server, events)
    s.scrape_endpoint(0)
    s.scrape_endpoint(0)
    s.stop()
    table = pq.read_table(tmp_path / "stack_metrics.parquet")
    assert tuple(table.column_names) == STACK_METRIC_COLUMNS
    assert table.num_rows == 6
    rows = table.to_pylist()
    assert rows[0] == {
        "wall": 1000.0,
        "endpoint": 0,
        "service": "lb",
        "replica": 1,
        "name": "active",
        "labels": '{"proxy":"app"}',
        "value": 3.0,
    }
    assert s.status[0].to_dict()["scrapes"] == 2 and s.status[0].failed == 0
    assert events == []


@pytest.mark.parametrize("path", ["/bad", "/err", "/good"])
def test_bad_endpoints_become_a_status_and_one_event_per_streak(
    tmp_path: Path, server: int, path: str
) -> None:
    events: list = []
    port = closed_port() if path == "/good" else server  # /good on a closed port: unreachable
    s = scraper(tmp_path, path, port, events)
    for _ in range(3):
        s.scrape_endpoint(0)
    s.stop()
    st = s.status[0]
    assert (st.scrapes, st.failed) == (3, 3)
    assert st.last_error is not None and st.last_error.startswith("lb.1 (127.0.0.1:")
    assert [k for k, _ in events] == [EV_SCRAPE_FAILED]  # one per streak, not per scrape
    assert not (tmp_path / "stack_metrics.parquet").exists()  # nothing scraped, nothing stored


def test_no_container_to_scrape_is_a_failure_too(tmp_path: Path) -> None:
    events: list = []
    ep = MetricsEndpoint(service="lb", port=1)
    s = StackScraper([ep], lambda e: [], tmp_path, emit=lambda k, **f: events.append(k))
    s.scrape_endpoint(0)
    assert s.status[0].last_error == "no running container of 'lb' to scrape"
    assert events == [EV_SCRAPE_FAILED]
