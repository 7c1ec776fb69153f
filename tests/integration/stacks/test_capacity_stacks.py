"""The reference stacks that capacity experiments rely on, on the real engine.

- the app's service time and concurrency (WORK_MS, WORKERS): requests beyond
  WORKERS queue for a slot, /health never does;
- compose/rate-limited: the app's token bucket answers at most RATE_LIMIT requests a
  second (after RATE_BURST saved up), 429 beyond; HAProxy answers /fast itself.
"""

from __future__ import annotations

import contextlib
import http.client
import secrets
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from harness.engine.compose import ComposeProject
from harness.ports import reserve_loopback_port

pytestmark = pytest.mark.docker

ROOT = Path(__file__).resolve().parents[3]


def _get(port: int, path: str) -> tuple[int, float]:
    """(status, seconds) of one GET on a new connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    start = time.monotonic()
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        resp.read()
        return resp.status, time.monotonic() - start
    finally:
        conn.close()


@contextlib.contextmanager
def _deploy(file: Path, overrides: tuple[Path, ...], env: dict[str, str]) -> Iterator[int]:
    reservation = reserve_loopback_port()
    project = ComposeProject(
        file,
        f"hachaos-it-cap-{secrets.token_hex(3)}",
        env={**env, "HACHAOS_PORT": str(reservation.port)},
        overrides=overrides,
    )
    try:
        project.up(wait_timeout=120)
        yield reservation.port
    finally:
        project.down()
        reservation.release()


@pytest.fixture
def slow_app(tmp_path: Path) -> Iterator[int]:
    """web-single's app with a 300 ms service time and one worker slot."""
    override = tmp_path / "work.yaml"
    override.write_text(
        "services:\n  app:\n    environment:\n      WORK_MS: '300'\n      WORKERS: '1'\n"
    )
    with _deploy(ROOT / "compose/web-single/compose.yaml", (override,), {}) as port:
        yield port


def test_one_worker_slot_serves_requests_one_after_the_other(slow_app: int) -> None:
    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(lambda _: _get(slow_app, "/"), range(3)))
        assert all(status == 200 for status, _ in results)
        # Three requests through one 300 ms slot: the last one waits for the two others.
        slowest = max(seconds for _, seconds in results)
        assert 0.85 <= slowest < 3.0
        assert min(seconds for _, seconds in results) >= 0.29
        # /health bypasses the queue even while every slot is taken.
        busy = [pool.submit(_get, slow_app, "/") for _ in range(2)]
        time.sleep(0.05)
        status, seconds = _get(slow_app, "/health")
        assert status == 200
        assert seconds < 0.25
        assert all(f.result()[0] == 200 for f in busy)


def test_rate_limited_stack_answers_at_most_its_limit_per_second() -> None:
    """5/s with one token saved up: far below what even a busy host sends, so the bucket,
    not the host, decides how many are answered."""
    stack = ROOT / "compose/rate-limited/compose.yaml"
    with _deploy(stack, (), {"RATE_LIMIT": "5", "RATE_BURST": "1"}) as port:
        start = time.monotonic()
        with ThreadPoolExecutor(6) as pool:
            results = list(pool.map(lambda _: _get(port, "/"), range(60)))
        elapsed = time.monotonic() - start
        statuses = [status for status, _ in results]
        assert set(statuses) == {200, 429}
        # one token, then 5 a second for as long as the requests kept coming; the client's
        # and the app's clocks see the same span give or take a request's latency
        expected = 1 + 5 * elapsed
        assert expected - 3 <= statuses.count(200) <= expected + 1
        assert _get(port, "/fast")[0] == 200
