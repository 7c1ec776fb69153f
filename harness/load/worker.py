"""Start a hachaos load worker that joins a master, possibly from another machine.

    hachaos worker --master 10.0.0.5:5557
    python -m harness.load.worker --master 10.0.0.5:5557

The worker learns the run's settings from the master. Without
``HACHAOS_SAMPLES_DIR`` it ships its samples to the master, which writes them
into the run folder like a local worker's. This module does not import Locust;
it replaces itself with a Locust worker process.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import sys
from pathlib import Path

from harness.errors import ScenarioError

ENTRY = Path(__file__).with_name("locust_entry.py")
# A placed worker's own view of the target (e.g. http://lb:8080 on the stack's network).
TARGET_ENV = "HACHAOS_TARGET_URL"
# A placed worker's copy of the user's locustfile (base64), where it has no file system
# shared with the master.
LOCUSTFILE_SOURCE_ENV = "HACHAOS_LOCUSTFILE_SOURCE"
MAX_LOCUSTFILE_BYTES = 256 * 1024
DEFAULT_PORT = 5557


def parse_master(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[v6]:PORT`` for IPv6; the port defaults to 5557) as (host, port)."""
    host, sep, port_text = text.rpartition(":")
    if not sep or (host.count(":") and not host.startswith("[")):
        host, port_text = text, str(DEFAULT_PORT)
    host = host.strip("[]")
    if not host or len(host) > 253 or not all(c.isalnum() or c in ".-:" for c in host):
        raise ScenarioError(f"not a master address: {text!r}", hint="give HOST:PORT")
    try:
        port = int(port_text)
    except ValueError:
        raise ScenarioError(
            f"not a port: {port_text!r} in {text!r}", hint="give HOST:PORT"
        ) from None
    if not 1 <= port <= 65535:
        raise ScenarioError(f"port {port} is out of range in {text!r}", hint="give HOST:PORT")
    if ":" in host:  # a v6 host must be an address, never a name with ':'
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise ScenarioError(f"not a master address: {text!r}", hint="give HOST:PORT") from None
    return host, port


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


def exec_worker(master: str, *, locustfile: Path | None = None, loglevel: str = "WARNING") -> None:
    """Replace this process with a Locust worker joining ``master`` (``HOST:PORT``)."""
    host, port = parse_master(master)
    if locustfile is not None:
        os.environ["HACHAOS_LOCUSTFILE"] = str(locustfile.resolve())
    # a hand-started worker writes nothing locally: its samples go to the master
    os.environ.pop("HACHAOS_SAMPLES_DIR", None)
    cmd = worker_command(host, port, loglevel=loglevel)
    os.execv(cmd[0], cmd)


def main(argv: list[str] | None = None) -> int:
    """Parse the flags and exec the Locust worker (does not return on success)."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--master", help="HOST:PORT the hachaos run prints")
    parser.add_argument("--master-host", help="(older spelling) address of the master")
    parser.add_argument("--master-port", type=int, default=DEFAULT_PORT, help="its port")
    parser.add_argument("--locustfile", type=Path, help="the same locustfile the run uses, if any")
    parser.add_argument("--loglevel", default="WARNING")
    args = parser.parse_args(argv)
    master = args.master or (args.master_host and f"{args.master_host}:{args.master_port}")
    if not master:
        parser.error("give --master HOST:PORT")
    exec_worker(master, locustfile=args.locustfile, loglevel=args.loglevel)
    return 0  # not reached


if __name__ == "__main__":
    raise SystemExit(main())
