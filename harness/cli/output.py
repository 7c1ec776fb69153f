"""Console output and the mapping from errors to exit codes (the only printing code)."""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from harness.errors import HarnessError, Interrupted
from harness.report.fmt import printable

EXIT_PASS = 0
EXIT_SLO_FAILED = 1
EXIT_INVALID = 2
EXIT_INFRA = 3

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)

T = TypeVar("T")


def plain(text: str) -> str:
    """Text from a run (a fault or check name) safe to print: no Rich markup, no escapes."""
    return escape(printable(text))


def exit_code_for(exc: BaseException) -> int:
    """The documented exit code for an exception raised by a command."""
    if isinstance(exc, Interrupted):
        return exc.exit_code
    if isinstance(exc, HarnessError):
        return exc.exit_code
    if isinstance(exc, KeyboardInterrupt):
        return 130
    return EXIT_INFRA


@contextmanager
def guarded() -> Iterator[None]:
    """Run a command body; print HarnessErrors as one clear block and exit with their code."""
    try:
        yield
    except typer.Exit:
        raise
    except HarnessError as exc:
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(exit_code_for(exc)) from None
    except KeyboardInterrupt:
        err_console.print("[bold red]interrupted[/]")
        raise typer.Exit(130) from None


def call_guarded(fn: Callable[[], T]) -> T:
    """Call ``fn`` under :func:`guarded`."""
    with guarded():
        return fn()
    raise AssertionError("unreachable")  # pragma: no cover


def verdict_exit_code(verdict: str, signal_name: str | None = None) -> int:
    """0 pass or unchecked, 1 a check failed or the run aborted, 3 error; 128 + signal."""
    if verdict == "interrupted" or signal_name:
        try:
            return 128 + int(signal.Signals[signal_name or "SIGINT"])
        except KeyError:
            return 130
    codes = {
        "pass": EXIT_PASS,
        "unchecked": EXIT_PASS,
        "fail": EXIT_SLO_FAILED,
        "aborted": EXIT_SLO_FAILED,  # a stop condition held: an SLO was breached
    }
    return codes.get(verdict, EXIT_INFRA)


def worst_code(codes: list[int]) -> int:
    """The exit code of many runs: interrupted beats infrastructure error beats SLO
    failure beats pass."""
    return max(codes, key=lambda c: {0: 0, 1: 1, 3: 2}.get(c, 3)) if codes else 0
