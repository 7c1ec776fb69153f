"""What a run records from inside the stack: container metrics and the stack's own metrics.

One seam for the orchestrator: :meth:`RunTelemetry.start` once the stack is up,
:meth:`RunTelemetry.stop` before teardown (never raises), :meth:`record` for run.json.
An engine without the ContainerStats ability gets no container metrics and a
note saying so, never an error.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.engine.port import StackEngine
from harness.engine.stats import ContainerStats
from harness.run.clock import REAL_CLOCK, Clock
from harness.run.sampler import ContainerSampler
from harness.run.scraper import StackScraper, container_targets
from harness.scenario.models import StackBase

_log = logging.getLogger(__name__)


@dataclass
class RunTelemetry:
    """The container sampler and the stack scraper of one run."""

    stack: StackBase
    engine: StackEngine
    run_dir: Path
    emit: Callable[..., object]
    clock: Clock = REAL_CLOCK
    sampler: ContainerSampler | None = None
    scraper: StackScraper | None = None
    notes: list[str] = field(default_factory=list)

    def start(self) -> None:
        """Start sampling and scraping in background threads."""
        stats = self.engine if isinstance(self.engine, ContainerStats) else None
        if self.stack.container_metrics:
            if stats is None:
                self.notes.append(
                    f"container metrics: the {self.engine.kind} engine cannot report them"
                )
            else:
                self.sampler = ContainerSampler(stats, self.run_dir, clock=self.clock)
                self.sampler.start()
        if self.stack.metrics:
            if stats is None:
                self.notes.append(
                    f"stack metrics: the {self.engine.kind} engine cannot list containers to scrape"
                )
                return
            self.scraper = StackScraper(
                self.stack.metrics,
                container_targets(stats.stack_containers, self.engine.published_port),
                self.run_dir,
                emit=self.emit,
            )
            self.scraper.start()

    def stop(self) -> None:
        """Stop both and write their files (idempotent; never raises)."""
        for part in (self.sampler, self.scraper):
            if part is None:
                continue
            try:
                part.stop()
            except Exception:  # a bug here must not skip the run's cleanup
                _log.warning("stopping %s failed", type(part).__name__, exc_info=True)
                self.notes.append(f"{type(part).__name__} did not stop cleanly")

    def record(self) -> dict[str, Any]:
        """run.json ``telemetry``: warnings and each endpoint's scrape status."""
        warnings = list(self.notes)
        for part in (self.sampler, self.scraper):
            if part is not None:
                warnings += part.warnings
        out: dict[str, Any] = {"containers": self.sampler is not None, "warnings": warnings}
        if self.scraper is not None:
            out["stack_metrics"] = [s.to_dict() for s in self.scraper.status]
        return out
