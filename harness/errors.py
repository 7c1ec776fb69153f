"""The one exception tree of hachaos.

HarnessError
├── ScenarioError      invalid scenario or usage            → exit 2
├── EngineError        Docker engine / compose failures     → exit 3
│   └── TargetNotFound a container vanished or never matched
├── FaultError         a fault did not apply or verify      → exit 3
│   └── RevertError    a fault could not be undone          → exit 3
├── LoadError          the load generator failed            → exit 3
├── ReportError        analysis or rendering failed         → exit 3
├── NotSteady          steady_state did not hold before the faults → exit 3
├── HistoryError       the run history database failed or is too new → exit 3
└── Interrupted        SIGINT/TERM/HUP/QUIT arrived         → 128 + signal

Every message says what happened and what to do next. Third-party errors are
translated where they enter (``raise ... from exc``) so that callers only ever
see this tree.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass


class HarnessError(Exception):
    """Root of every error hachaos raises on purpose."""

    exit_code = 3

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n  hint: {self.hint}" if self.hint else self.message


@dataclass(frozen=True)
class Problem:
    """One located problem in a scenario file."""

    path: str  # YAML path such as ``faults[2].target.service``
    message: str
    file: str = ""
    line: int = 0
    column: int = 0
    suggestion: str | None = None

    def location(self) -> str:
        if not self.file:
            return self.path or "<scenario>"
        return f"{self.file}:{self.line}:{self.column}"

    def render(self) -> str:
        where = f"{self.location()}: {self.path}: " if self.path else f"{self.location()}: "
        tail = f" (did you mean {self.suggestion!r}?)" if self.suggestion else ""
        return f"{where}{self.message}{tail}"


class ScenarioError(HarnessError):
    """The scenario (or a command's usage) is invalid; nothing was deployed."""

    exit_code = 2

    def __init__(
        self, message: str, *, problems: list[Problem] | None = None, hint: str | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.problems: list[Problem] = problems or []

    def __str__(self) -> str:
        lines = [self.message, *("  " + p.render() for p in self.problems)]
        if self.hint:
            lines.append(f"  hint: {self.hint}")
        return "\n".join(lines)


class EngineError(HarnessError):
    """The Docker engine or Compose failed or is unreachable."""


class TargetNotFound(EngineError):
    """A selector resolved to no container, or a container disappeared."""


class FaultError(HarnessError):
    """A fault could not be applied, or did not verify as in effect."""


class RevertError(FaultError):
    """A fault could not be reverted; the stack may still be degraded."""


class LoadError(HarnessError):
    """The load generator could not start or died."""


class ReportError(HarnessError):
    """Analysis or report rendering failed."""


class NotSteady(HarnessError):
    """A steady-state probe did not hold before the first fault: nothing was injected."""


class HistoryError(HarnessError):
    """The run history (SQLite file or PostgreSQL server) could not be read or written."""


@dataclass
class Interrupted(HarnessError):
    """A signal stopped the run; cleanup still ran."""

    signum: int = signal.SIGINT

    def __post_init__(self) -> None:
        name = signal.Signals(self.signum).name
        HarnessError.__init__(
            self, f"interrupted by {name}; faults reverted, partial report written"
        )

    @property
    def exit_code(self) -> int:  # type: ignore[override]
        return 128 + int(self.signum)
