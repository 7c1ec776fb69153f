"""What the run does with an engine at its end (issue 22): the engine is finished (e.g. the
swarm this run created is left) only after the stack's teardown ended, even a failed one;
a failed teardown names that engine's own removal command; and what the engine could
not check at deploy is shown and recorded for the report.

Reuses the fakes of test_orchestrator.py (virtual time, no Docker)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import ClassVar

import pytest
import test_orchestrator as base
from test_orchestrator import scenario  # noqa: F401 - the fixture

from harness.errors import EngineError
from harness.faults.catalog import Scenario
from harness.run import orchestrator as orch
from harness.scenario.plan import build_plan

VIP_NOTE = "service 'queue' uses endpoint_mode vip and service 'worker' depends on it"


class SwarmLike(base.FakeEngine):
    """A Swarm-shaped fake: its teardown may fail, its finish leaves the swarm."""

    kind = "swarm"
    fail_teardown: ClassVar[bool] = True

    def with_env(self, **env: str) -> SwarmLike:
        return SwarmLike(self.file, self.project, {**self.env, **env})

    def teardown(self) -> None:
        super().teardown()  # logs "down"
        if self.fail_teardown:
            raise EngineError("listing services of stack: This node is not a swarm manager")

    def sweep(self) -> str:
        base._log("sweep")
        raise EngineError("the label sweep failed too")

    def finish(self) -> list[str]:
        base._log("finish")
        return ["left the swarm this run created"]

    def warnings(self) -> list[str]:
        return [VIP_NOTE]


def _run(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[orch.RunOutcome, list[str]]:
    fake: Scenario = request.getfixturevalue("scenario")
    notices: list[str] = []
    use = replace(
        base.FAKES,
        engine_for=lambda s, project, run_id: SwarmLike(Path("c.yaml"), project, {}),
    )
    outcome = orch.Orchestrator(
        fake,
        build_plan(fake, {"app": 3, "lb": 1}),
        orch.RunOptions(out_root=tmp_path / "out"),
        on_notice=notices.append,
        clock=base.CLOCK,
        collaborators=use,
    ).run()
    return outcome, notices


def test_the_engine_is_finished_after_a_failed_teardown_with_its_own_hint(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(SwarmLike, "fail_teardown", True)
    outcome, notices = _run(request, tmp_path)
    names = base._names()
    assert names[-3:] == ["down", "sweep", "finish"]  # leave only once the teardown ended
    assert any(e.startswith("teardown failed") for e in outcome.errors)
    (hint,) = [n for n in notices if n.startswith("teardown failed;")]
    project = outcome.project
    assert f"`hachaos cleanup --project {project}`" in hint
    assert f"docker stack rm {project}" in hint and "docker compose" not in hint
    assert notices[-1] == "left the swarm this run created"


def test_a_teardown_that_works_is_followed_by_the_finish(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(SwarmLike, "fail_teardown", False)
    outcome, notices = _run(request, tmp_path)
    assert base._names()[-2:] == ["down", "finish"]
    assert outcome.errors == [] and not any("teardown failed" in n for n in notices)


def test_what_the_engine_could_not_check_is_shown_and_recorded(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(SwarmLike, "fail_teardown", False)
    outcome, notices = _run(request, tmp_path)
    assert f"warning: {VIP_NOTE}" in notices
    meta = json.loads((outcome.run_dir / "run.json").read_text())
    assert meta["engine_warnings"] == [VIP_NOTE]
