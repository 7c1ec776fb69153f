"""`hachaos worker`: a load worker started by hand that joins a run's master."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from harness.cli.output import guarded
from harness.load.worker import exec_worker, parse_master


def worker(
    master: Annotated[
        str,
        typer.Option(
            "--master",
            help="ADDRESS:PORT of the run's master, as `hachaos run` prints it "
            "(`load.workers.remote.listen`).",
        ),
    ],
    locustfile: Annotated[
        Path | None,
        typer.Option("--locustfile", help="The run's own locustfile, when it has one."),
    ] = None,
    loglevel: Annotated[str, typer.Option("--loglevel", help="Locust's log level.")] = "WARNING",
) -> None:
    """Join a hachaos run as a Locust worker (on this or another machine).

    The worker takes the run's settings from the master, sends its share of the load and
    ships every sample back to the master. Its clock offset to the master is measured
    when it joins. It has no stop of its own: it ends with the run (docs/load.md).
    """
    with guarded():
        parse_master(master)  # a bad address is exit 2 here, before Locust starts
        if locustfile is not None and not locustfile.is_file():
            raise typer.BadParameter(f"{locustfile} is not a file", param_hint="--locustfile")
        exec_worker(master, locustfile=locustfile, loglevel=loglevel)
