"""The ``hachaos`` command line."""

from __future__ import annotations

import typer

from harness import __version__
from harness.cli import (
    audit_cmd,
    build_cmd,
    capacity_cmd,
    cleanup_cmd,
    compare_cmd,
    history_cmd,
    init_cmd,
    isolation_cmd,
    plan_cmd,
    report_cmd,
    run_cmd,
    schema_cmd,
    suite_cmd,
    trend_cmd,
    validate_cmd,
)

app = typer.Typer(
    name="hachaos",
    help=(
        "Chaos and load testing for highly available Docker Compose stacks.\n\n"
        "Write a scenario (stack + load + faults + SLOs), check it with `hachaos validate`, "
        "preview it with `hachaos plan`, then `hachaos run` it. Each run writes an evidence "
        "folder under reports/ (HTML, Markdown, JSON, JUnit).\n\n"
        "Exit codes: 0 pass, 1 SLO failed, 2 invalid input, 3 infrastructure error, "
        "130/143 interrupted."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"hachaos {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Chaos and load testing for highly available Docker Compose stacks."""


app.command("init")(init_cmd.init)
app.command("run")(run_cmd.run)
app.command("capacity")(capacity_cmd.capacity)
app.command("validate")(validate_cmd.validate)
app.command("plan")(plan_cmd.plan)
app.command("schema")(schema_cmd.schema)
app.command("cleanup")(cleanup_cmd.cleanup)
app.command("build")(build_cmd.build)
app.command("suite")(suite_cmd.suite)
app.command("report")(report_cmd.report)
app.command("compare")(compare_cmd.compare)
app.command("audit")(audit_cmd.audit)
app.command("isolation")(isolation_cmd.isolation)
app.add_typer(history_cmd.app, name="history")
app.command("trend")(trend_cmd.trend)


def main() -> None:
    """Console-script entry point."""
    app()
