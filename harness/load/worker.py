"""Start a hachaos load worker that joins a master, possibly from another machine.

    python -m harness.load.worker --master-host 10.0.0.5 --master-port 5557

The worker learns the run's settings from the master. Without
``HACHAOS_SAMPLES_DIR`` it ships its samples to the master, which writes them
into the run folder like a local worker's. This module does not import Locust;
it replaces itself with a Locust worker process.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ENTRY = Path(__file__).with_name("locust_entry.py")


def worker_command(
    master_host: str, master_port: int, *, loglevel: str = "WARNING", python: str | None = None
) -> list[str]:
    """The command line of one Locust worker running the hachaos entry locustfile."""
    return [
        python or sys.executable,
        "-m",
        "locust",
        "-f",
        str(ENTRY),
        "--worker",
        "--master-host",
        master_host,
        "--master-port",
        str(master_port),
        "--loglevel",
        loglevel,
    ]


def main(argv: list[str] | None = None) -> int:
    """Parse the flags and exec the Locust worker (does not return on success)."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--master-host", required=True, help="address of the hachaos master")
    parser.add_argument("--master-port", type=int, default=5557, help="its --master-bind-port")
    parser.add_argument("--locustfile", type=Path, help="the same locustfile the run uses, if any")
    parser.add_argument("--loglevel", default="WARNING")
    args = parser.parse_args(argv)
    if args.locustfile:
        os.environ["HACHAOS_LOCUSTFILE"] = str(args.locustfile.resolve())
    cmd = worker_command(args.master_host, args.master_port, loglevel=args.loglevel)
    os.execv(cmd[0], cmd)
    return 0  # not reached


if __name__ == "__main__":
    raise SystemExit(main())
