"""What the live progress display shows (the CLI renders it)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Progress:
    """A snapshot of the run for the progress display."""

    phase: str  # deploy | warmup | run | cooldown | teardown | report
    elapsed: float  # seconds since load start
    total: float  # warmup + duration + cooldown
    rps: float = 0.0
    error_rate: float = 0.0
    p99_ms: float | None = None
    requests: int = 0
    active_faults: tuple[str, ...] = field(default_factory=tuple)
    message: str = ""
    warmup: float = 0.0  # so that t = elapsed - warmup lines up with the plan's offsets
