"""`hachaos audit COMPOSE`: a security review of a compose stack (table, JSON or SARIF)."""

from __future__ import annotations

import json
import os
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from harness.audit.live import audit_compose
from harness.audit.manifests import audit_manifests, is_manifest_source
from harness.audit.models import AuditResult
from harness.audit.sarif import render_sarif
from harness.cli.output import EXIT_PASS, EXIT_SLO_FAILED, call_guarded, console

SEVERITY_STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "dim"}


class Format(StrEnum):
    table = "table"
    json = "json"
    sarif = "sarif"


class FailOn(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"


def _table(result: AuditResult) -> None:
    table = Table(title=f"audit of {result.compose_file} ({result.mode})", show_lines=False)
    for col in ("severity", "rule", "service", "location", "finding", "fix"):
        table.add_column(col, overflow="fold")
    for f in result.findings:
        style = SEVERITY_STYLE[f.severity]
        table.add_row(
            f"[{style}]{f.severity}[/]",
            f.rule,
            escape(f.service),
            escape(f.location()),
            escape(f.message),
            escape(f.fix),
        )
    console.print(table)
    counts = ", ".join(f"{n} {s}" for s, n in reversed(result.counts().items()))
    console.print(f"{len(result.findings)} finding(s): {counts}")


def audit(
    compose: Annotated[
        Path,
        typer.Argument(
            help="The compose file to review, or Kubernetes manifests (a file, a folder, a "
            "kustomize folder)."
        ),
    ],
    live: Annotated[
        str | None,
        typer.Option(
            "--live",
            metavar="PROJECT",
            help="Review the running containers of this compose project (their config wins, "
            "image USER included). Defaults to $HACHAOS_PROJECT inside a hachaos run.",
        ),
    ] = None,
    output_format: Annotated[
        Format, typer.Option("--format", help="Output format.")
    ] = Format.table,
    fail_on: Annotated[
        FailOn, typer.Option("--fail-on", help="Exit 1 when a finding is at or above this.")
    ] = FailOn.high,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write JSON/SARIF to this file.")
    ] = None,
) -> None:
    """Review a compose stack's (or Kubernetes manifests') permissions and isolation.

    Kubernetes manifests are reviewed as written: security contexts, resources, probes,
    PodDisruptionBudgets and NetworkPolicy presence. A compose file is static by default
    (the file as `docker compose config` resolves it, plus the local images' USER and
    HEALTHCHECK); live with --live. Each finding has a rule
    id, a severity, the service, file:line and a one-line fix.
    Exit codes: 0 no finding at or above --fail-on, 1 otherwise, 2 bad input, 3 engine error.
    """
    project = live or os.environ.get("HACHAOS_PROJECT") or None
    if is_manifest_source(compose):
        result = call_guarded(lambda: audit_manifests(compose))
    else:
        result = call_guarded(lambda: audit_compose(compose, live_project=project))
    if output_format is Format.table:
        _table(result)
    else:
        text = (
            render_sarif(result)
            if output_format is Format.sarif
            else json.dumps(result.to_dict(), indent=2) + "\n"
        )
        if output:
            output.write_text(text, encoding="utf-8")
            console.print(f"wrote {escape(str(output))}")
        else:
            typer.echo(text, nl=False)
    failing = result.at_or_above(fail_on.value)
    raise typer.Exit(EXIT_SLO_FAILED if failing else EXIT_PASS)
