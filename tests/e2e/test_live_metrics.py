"""A real Prometheus (Debian's 2.42, `make prometheus`) scrapes a real run; the inside view.

One run of web-ha with a replica killed, serving its live metrics on 127.0.0.1 and
pushing them to a real Pushgateway at the end. Checked:
- Prometheus's request and failure counters agree with summary.json within one scrape
  interval's worth of requests; the fault showed as active; the phases went by;
- the pushed counters equal summary.json;
- the killed replica's container metrics stop and resume inside the fault window, and
  HAProxy's backend loses a server and gets it back (summary.json and report.html);
- two bad stack.metrics endpoints are warnings, not a failed run;
- annotations.json and the event log hold the fault window.
Everything listens on 127.0.0.1 only. Adds about 60 s to `make test` (measured: see
docs/metrics.md).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.ports import reserve_loopback_port
from tests.e2e.conftest import HACHAOS, ROOT, events, load_json, only_run_dir

pytestmark = [pytest.mark.e2e, pytest.mark.docker]

SCRAPE_S = 1.0
SCENARIO = "tests/e2e/scenarios/live-metrics.yaml"


def _get(url: str, timeout: float = 5.0) -> str:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=timeout) as resp:
        return str(resp.read().decode())


def _wait_up(url: str, what: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"{what} exited: {log.read_text()[-2000:]}")
        try:
            _get(url, 2.0)
            return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"{what} did not come up: {log.read_text()[-2000:]}")


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[dict[str, int]]:
    """Prometheus scraping the run's port every second, and a Pushgateway; loopback only."""
    if shutil.which("prometheus") is None or shutil.which("prometheus-pushgateway") is None:
        pytest.fail(
            "prometheus is not installed: run `make prometheus` (scripts/ensure-prometheus)"
        )
    ports = [reserve_loopback_port() for _ in range(3)]
    run_port, prom_port, push_port = (p.port for p in ports)
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s, scrape_timeout: 900ms}\n"
        "scrape_configs:\n"
        "  - job_name: hachaos\n"
        f"    static_configs: [{{targets: ['127.0.0.1:{run_port}']}}]\n"
    )
    procs = []
    for p in ports[1:]:
        p.release()  # the servers bind them now
    prom_log, push_log = tmp_path / "prometheus.log", tmp_path / "pushgateway.log"
    with prom_log.open("wb") as plog, push_log.open("wb") as glog:
        procs.append(
            subprocess.Popen(
                [
                    "prometheus",
                    f"--config.file={config}",
                    f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                    f"--web.listen-address=127.0.0.1:{prom_port}",
                ],
                stdout=plog,
                stderr=subprocess.STDOUT,
            )
        )
        procs.append(
            subprocess.Popen(
                ["prometheus-pushgateway", f"--web.listen-address=127.0.0.1:{push_port}"],
                stdout=glog,
                stderr=subprocess.STDOUT,
            )
        )
    try:
        _wait_up(f"http://127.0.0.1:{prom_port}/-/ready", "prometheus", procs[0], prom_log)
        _wait_up(f"http://127.0.0.1:{push_port}/metrics", "pushgateway", procs[1], push_log)
        ports[0].release()  # hachaos binds the run's port
        yield {"run": run_port, "prometheus": prom_port, "pushgateway": push_port}
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _query(port: int, promql: str) -> list[dict[str, Any]]:
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
    doc = json.loads(_get(url))
    assert doc["status"] == "success", doc
    return list(doc["data"]["result"])


def _scalar(port: int, promql: str) -> float:
    result = _query(port, promql)
    return float(result[0]["value"][1]) if result else 0.0


def test_prometheus_agrees_with_the_run_and_the_kill_shows_inside(
    tmp_path: Path, servers: dict[str, int], down_after: list[str]
) -> None:
    project = f"hachaos-e2e-live-{int(time.time()) % 100000}"
    down_after.append(project)
    out = tmp_path / "runs"
    proc = subprocess.run(
        [
            *HACHAOS,
            "run",
            SCENARIO,
            "--quiet",
            "--out",
            str(out),
            "--project",
            project,
            "--metrics-port",
            str(servers["run"]),
            "--pushgateway",
            f"http://127.0.0.1:{servers['pushgateway']}",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    run = only_run_dir(out)
    summary = load_json(run / "summary.json")
    assert summary["verdict"] == "pass"

    # --- a real Prometheus scraped the run: counters agree within one scrape interval
    prom = servers["prometheus"]
    requests = _scalar(prom, "sum(last_over_time(hachaos_requests_total[30m]))")
    failures = _scalar(prom, "sum(last_over_time(hachaos_failures_total[30m]))")
    per_interval = summary["headline"]["throughput_rps"] * SCRAPE_S
    assert abs(requests - summary["headline"]["requests"]) <= per_interval, (requests, summary)
    assert abs(failures - summary["metrics"]["overall"]["failed"]) <= per_interval
    assert _scalar(prom, 'max_over_time(hachaos_fault_active{fault="kill-app#0"}[30m])') == 1.0
    for phase in ("warmup", "run", "cooldown"):
        seen = f'max_over_time(hachaos_run_phase{{hachaos_run_phase="{phase}"}}[30m])'
        assert _scalar(prom, seen) == 1.0, phase
    assert _scalar(prom, "max_over_time(hachaos_run_aborted[30m])") == 0.0
    buckets = _scalar(
        prom, 'sum(last_over_time(hachaos_request_latency_seconds_bucket{le="+Inf"}[30m]))'
    )
    assert buckets == requests

    # --- the Pushgateway got the final figures, exactly
    pushed = _get(f"http://127.0.0.1:{servers['pushgateway']}/metrics")
    total = sum(
        float(line.rsplit(" ", 1)[1])
        for line in pushed.splitlines()
        if line.startswith("hachaos_requests_total{") and summary["run"]["run_id"] in line
    )
    assert total == summary["headline"]["requests"]

    # --- the killed replica's metrics stopped and resumed inside the fault's window
    (fault,) = summary["faults"]
    start, end = fault["injected_s"], fault["window_end_s"]
    app2 = next(
        r for r in summary["containers"]["replicas"] if r["service"] == "app" and r["replica"] == 2
    )
    assert len(app2["down"]) == 1, app2
    stopped, resumed = app2["down"][0]
    assert start - 1.5 <= stopped <= start + 1.5 and end - 1.5 <= resumed <= end + 12.0, app2
    others = [r for r in summary["containers"]["replicas"] if r is not app2]
    assert all(not r["down"] for r in others), others
    app = summary["containers"]["services"]["app"]
    assert app["faults"]["kill-app#0"]["cpu_pct"]["p95"] is not None

    # --- HAProxy's backend lost a server and got it back
    (active,) = summary["stack_metrics"]["series"]
    values = [v for _, v in active["changes"]]
    assert values[0] == 3.0 and min(values) <= 2.0 and values[-1] == 3.0, active["changes"]
    assert active["faults"]["kill-app#0"]["min"] <= 2.0
    html = (run / "report.html").read_text()
    assert "app: CPU per replica" in html and "haproxy_backend_active_servers" in html

    # --- the bad endpoints are warnings, never errors
    bad = [w for w in summary["warnings"] if w.startswith("stack metrics: app:")]
    assert any("app:9999/metrics: never scraped" in w for w in bad), summary["warnings"]
    assert any("/health: never scraped" in w and "not Prometheus text" in w for w in bad), bad
    assert summary["errors"] == [] and "Traceback" not in proc.stderr

    # --- the fault window as annotations
    (note,) = load_json(run / "annotations.json")
    t0 = summary["run"]["t0_wall"]
    assert note["time"] == round((t0 + start) * 1000)
    assert "fault:kill-app#0" in note["tags"]
    lines = [e for e in events(run) if e["kind"] == "annotation"]
    assert [e["time"] for e in lines] == [note["time"]]
