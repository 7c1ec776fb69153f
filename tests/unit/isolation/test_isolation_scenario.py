"""checks.isolation in a scenario: bounded fields and service names checked against compose."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import ScenarioError
from harness.run.validate import validate_file

ROOT = Path(__file__).resolve().parents[3]

SCENARIO = """\
version: 1
name: iso
stack:
  compose: {compose}
  target: {{service: lb, port: 8080}}
load: {{model: open, rps: 1}}
timing: {{warmup: 1s, duration: 5s, cooldown: 1s}}
checks:
  isolation:
    deny: [{{from: lb, to: {to}, port: {port}}}]
    probe_every: {every}
"""


def _write(tmp_path: Path, to: str = "db", port: int = 5432, every: str = "5s") -> Path:
    path = tmp_path / "s.yaml"
    compose = ROOT / "compose" / "web-secure" / "compose.yaml"
    path.write_text(SCENARIO.format(compose=compose, to=to, port=port, every=every))
    return path


def test_valid_isolation_block(tmp_path: Path) -> None:
    validate_file(_write(tmp_path))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"to": "redis"}, "checks.isolation.deny[0].to: unknown service 'redis'"),
        ({"port": 70000}, "checks.isolation.deny[0].port"),
        ({"every": "0.1s"}, "checks.isolation.probe_every"),
    ],
)
def test_invalid_isolation_block(tmp_path: Path, kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ScenarioError) as err:
        validate_file(_write(tmp_path, **kwargs))  # type: ignore[arg-type]
    assert message in str(err.value)
