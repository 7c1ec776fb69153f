"""`hachaos audit`: exit codes by --fail-on, JSON output, bad input.

Uses `docker compose config` (offline, no engine needed) on tiny compose files
whose images do not exist locally, so only the file is judged.
"""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from harness.cli.app import app

# One medium finding at most per rule; `privileged` is the one critical one.
MEDIUM_ONLY = """\
services:
  web:
    image: hachaos-test/absent-image:none
    user: "1000"
    read_only: true
    cap_drop: [ALL]
    security_opt: ["no-new-privileges:true"]
    restart: always
    deploy:
      resources:
        limits: {memory: 64M, cpus: "0.1", pids: 32}
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "compose.yaml"
    path.write_text(text)
    return path


def test_exit_code_follows_fail_on(tmp_path: Path) -> None:
    path = _write(tmp_path, MEDIUM_ONLY)  # only finding: no-healthcheck (medium)
    runner = CliRunner()
    assert runner.invoke(app, ["audit", str(path)]).exit_code == 0
    assert runner.invoke(app, ["audit", str(path), "--fail-on", "medium"]).exit_code == 1
    assert runner.invoke(app, ["audit", str(path), "--fail-on", "critical"]).exit_code == 0


def test_json_output(tmp_path: Path) -> None:
    # privileged instead of restart: critical + no-healthcheck + no-restart-policy
    path = _write(tmp_path, MEDIUM_ONLY.replace("    restart: always\n", "    privileged: true\n"))
    res = CliRunner().invoke(app, ["audit", str(path), "--format", "json"])
    assert res.exit_code == 1
    doc = json.loads(res.stdout)
    assert doc["counts"] == {"low": 0, "medium": 2, "high": 0, "critical": 1}
    first = doc["findings"][0]
    assert (first["rule"], first["service"], first["line"]) == ("privileged", "web", 8)


def test_bad_input_exits_2(tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["audit", str(tmp_path / "missing.yaml")]).exit_code == 2
    broken = _write(tmp_path, "services: [not, a, mapping]\n")
    assert runner.invoke(app, ["audit", str(broken)]).exit_code == 2
    assert runner.invoke(app, ["audit", str(broken), "--fail-on", "bogus"]).exit_code == 2


ROOT = Path(__file__).resolve().parents[3]


def test_web_secure_is_clean_and_its_leaky_copy_is_caught_statically() -> None:
    runner = CliRunner()
    secure = runner.invoke(
        app, ["audit", str(ROOT / "compose/web-secure/compose.yaml"), "--format", "json"]
    )
    assert (secure.exit_code, json.loads(secure.stdout)["findings"]) == (0, [])
    leaky = ROOT / "tests/fixtures/compose/web-secure-leaky/compose.yaml"
    res = runner.invoke(app, ["audit", str(leaky), "--format", "json", "--fail-on", "medium"])
    assert res.exit_code == 1
    (finding,) = json.loads(res.stdout)["findings"]
    # lb was put on `back` too: every service now shares it (the top-level networks: key)
    assert (finding["rule"], finding["service"], finding["line"]) == ("shared-network", "*", 77)
    assert finding["message"] == "all 3 services share network(s) back"
