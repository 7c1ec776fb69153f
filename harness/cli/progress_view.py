"""Live terminal progress (rich) and a quiet line-per-interval mode for CI logs."""

from __future__ import annotations

import time
from types import TracebackType

from rich.live import Live
from rich.markup import escape
from rich.table import Table

from harness.cli.output import console, err_console
from harness.run.progress import Progress

_QUIET_EVERY = 10.0  # seconds between progress lines in quiet mode
_SETUP_PHASES = ("deploy", "teardown", "report")  # no load figures to show yet/anymore


def _fmt(p: Progress) -> list[tuple[str, str]]:
    p99 = f"{p.p99_ms:.1f} ms" if p.p99_ms is not None else "-"
    faults = ", ".join(p.active_faults) if p.active_faults else "none"
    return [
        ("phase", p.phase + (f" ({escape(p.message)})" if p.message else "")),
        ("t", f"{p.elapsed - p.warmup:+.1f} s  ({p.elapsed:.1f} / {p.total:.0f} s)"),
        ("requests/s (5 s)", f"{p.rps:.1f}"),
        ("errors (5 s)", f"{p.error_rate * 100:.2f} %"),
        ("p99 (5 s)", p99),
        ("requests", str(p.requests)),
        ("active faults", faults),
    ]


class ProgressView:
    """Receives Progress snapshots from the orchestrator and shows them."""

    def __init__(self, *, quiet: bool) -> None:
        self.quiet = quiet or not console.is_terminal
        self._live: Live | None = None
        self._last_line = 0.0
        self._last_phase = ""

    def __enter__(self) -> ProgressView:
        if not self.quiet:
            self._live = Live(console=console, refresh_per_second=4, transient=True)
            self._live.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._live is not None:
            self._live.__exit__(exc_type, exc, tb)
            self._live = None

    def update(self, p: Progress) -> None:
        """Show one snapshot."""
        if self._live is not None:
            table = Table(show_header=False, box=None, pad_edge=False)
            for key, value in _fmt(p):
                table.add_row(f"[bold]{key}[/]", value)
            self._live.update(table)
            return
        now = time.monotonic()
        changed = p.phase != self._last_phase or (p.message and p.phase in _SETUP_PHASES)
        if changed or now - self._last_line >= _QUIET_EVERY:
            self._last_phase, self._last_line = p.phase, now
            if p.phase in _SETUP_PHASES:
                console.print(f"  {p.phase}: {escape(p.message)}", soft_wrap=True)
                return
            parts = [f"{k}={v}" for k, v in _fmt(p)]
            console.print("  " + "  ".join(parts), soft_wrap=True)

    def notice(self, message: str) -> None:
        """An out-of-band message (signals, healed leftovers, failed reverts)."""
        err_console.print(f"[yellow]{escape(message)}[/]", soft_wrap=True)
