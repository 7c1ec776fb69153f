"""The run record: the scenario as given and ``run.json``, rewritten at each milestone.

``run.json`` is written atomically whenever something worth keeping is known
(inputs, the deployed stack's facts, t0, the end), so a run that dies half-way
still leaves a readable record of how far it got.
"""

from __future__ import annotations

import shutil
import signal
import time
from pathlib import Path
from typing import Any

from harness.evidence.folder import write_json_atomic
from harness.load.driver import LoadResult
from harness.records import RUN_META_SCHEMA
from harness.run import environment
from harness.scenario.models import Scenario


class RunRecord:
    """``run.json`` of one run folder, kept in memory and written whole."""

    def __init__(self, run_dir: Path) -> None:
        self.path = run_dir / "run.json"
        self.meta: dict[str, Any] = {}

    def start(self, scenario: Scenario, *, run_id: str, project: str, seed: int) -> None:
        """Copy the scenario into the run folder and write the first ``run.json``."""
        assert scenario.source is not None
        run_dir = self.path.parent
        shutil.copyfile(scenario.source, run_dir / "scenario.yaml")
        dumped = scenario.model_dump(mode="json", by_alias=True, exclude={"source"})
        write_json_atomic(run_dir / "scenario.json", dumped)
        timing = scenario.timing
        self.meta = {
            "schema": RUN_META_SCHEMA,
            "run_id": run_id,
            "scenario": scenario.name,
            "scenario_file": str(scenario.source),
            "scenario_sha256": environment.file_sha256(scenario.source),
            "seed": seed,
            "project": project,
            "target_url": "",
            "load_model": scenario.load.model,
            "load_arrivals": scenario.load.arrivals if scenario.load.model == "open" else None,
            "t0_wall": None,
            "warmup": timing.warmup,
            "duration": timing.duration,
            "cooldown": timing.cooldown,
            "started_wall": None,
            "ended_wall": None,
            "outcome": "running",
            "signal": None,
            "errors": [],
            "generator": {},
            "environment": {},
        }
        self.write()

    def write(self) -> None:
        write_json_atomic(self.path, self.meta)

    def finish(
        self,
        outcome: str,
        signum: int | None,
        *,
        target_url: str,
        errors: list[str],
        load: LoadResult | None,
    ) -> None:
        """The end: outcome, signal, errors and the load generator's health."""
        self.meta.update(
            target_url=target_url,
            ended_wall=time.time(),
            outcome=outcome,
            signal=signal.Signals(signum).name if signum else None,
            errors=errors,
            generator=(
                {
                    "saturated": load.generator_saturated,
                    "cpu_max": load.worker_cpu_max,
                    "workers": load.workers,
                    "dropped": load.dropped,
                    "late": load.late,
                    # when it sent: the per-second series keep only whole seconds of it
                    "sending_from_wall": load.sending_from_wall,
                    "sending_until_wall": load.sending_until_wall,
                }
                if load
                else {}
            ),
        )
        self.write()
