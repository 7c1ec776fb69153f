"""`hachaos cleanup`: revert whatever a dead run left behind."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from harness.cli.output import EXIT_INFRA, console, err_console, guarded
from harness.engine import registry as engines
from harness.faults.heal import CleanupResult, heal


def cleanup(
    run: Annotated[
        str | None, typer.Option("--run", help="Only this run id (default: every dead run).")
    ] = None,
    project: Annotated[
        str | None, typer.Option("--project", help="Only runs of this compose project.")
    ] = None,
    keep_stacks: Annotated[
        bool,
        typer.Option("--keep-stacks", help="Leave the dead runs' stacks up (only revert faults)."),
    ] = False,
    kubeconfig: Annotated[
        Path | None,
        typer.Option(
            "--kubeconfig",
            help="Kubernetes runs whose journal names no kubeconfig: the cluster to clean.",
        ),
    ] = None,
    images: Annotated[
        bool,
        typer.Option(
            "--images",
            help="Also remove stale hachaos-build/* images: all but the newest --keep per "
            "service; never one a container uses or one built in the last hour.",
        ),
    ] = False,
    keep: Annotated[
        int,
        typer.Option("--keep", min=0, max=100, help="With --images: tags kept per service."),
    ] = engines.IMAGES_KEPT,
) -> None:
    """Revert faults left applied by runs that died (crash, kill -9, power loss).

    Reads the journals in $XDG_STATE_HOME/hachaos/journal (default
    ~/.local/state/hachaos), reverts every fault not confirmed reverted,
    newest first (retrying each a few times), verifies each, removes orphan
    helper containers, then removes the stacks those runs deployed (containers,
    networks, volumes; never a project hachaos adopted or was told to --keep).
    Runs still alive are left alone. Safe to run again at any time.
    With --images, also removes the build images of older contents (only images
    hachaos built: hachaos-build/<service>, labelled by Compose with that project).
    Exit code 3 if anything could not be undone.
    """
    if kubeconfig is not None:  # read by the Kubernetes engine, in this process only
        os.environ["HACHAOS_KUBECONFIG"] = str(kubeconfig.resolve())
    with guarded():
        result = heal(project=project, run_id=run, stacks=not keep_stacks)
    _show(result)  # before the images: a failed prune must not hide what was undone
    pruned = _prune(keep) if images else []
    if not (result.done or result.failed or result.skipped or pruned):
        console.print("nothing to clean up")
    if result.failed:
        raise typer.Exit(EXIT_INFRA)


def _show(result: CleanupResult) -> None:
    for line in result.skipped:
        console.print(f"[yellow]skipped[/] {escape(line)}", soft_wrap=True)
    for line in result.done:
        console.print(f"[green]done[/] {escape(line)}", soft_wrap=True)
    for line in result.failed:
        err_console.print(f"[bold red]FAILED[/] {escape(line)}", soft_wrap=True)


def _prune(keep: int) -> list[str]:
    with guarded():
        pruned = engines.prune_images(keep)
    for tag in pruned:
        console.print(f"[green]done[/] removed build image {escape(tag)}", soft_wrap=True)
    return pruned
