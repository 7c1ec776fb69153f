"""Names on a swarm: the labels hachaos reads and sets, stack names, engine timestamps."""

from __future__ import annotations

import re
from datetime import datetime

from harness.errors import ScenarioError

NAMESPACE = "com.docker.stack.namespace"  # on every object of a stack: its name
SERVICE_NAME = "com.docker.swarm.service.name"  # on a task's container: <stack>_<service>
# Set on the node when hachaos initialised the swarm; the value is the run id.
CREATED_BY = "io.hachaos.swarm-created-by"
# Set with CREATED_BY: whether docker_gwbridge was there before the swarm ("found") or the
# swarm made it ("made"); `docker swarm leave` leaves it behind either way.
GWBRIDGE_LABEL = "io.hachaos.swarm-gwbridge"
GWBRIDGE = "docker_gwbridge"  # the bridge a swarm node's containers reach the host through
# Set by scripts/swarm-node on a node whose engine hachaos started: that engine's pid.
ENGINE_PID_LABEL = "io.hachaos.engine-pid"
STACK_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,47}$")


def check_stack_name(stack: str) -> str:
    """The stack name, validated (it reaches the docker CLI's argv)."""
    if not STACK_RE.match(stack):
        raise ScenarioError(
            f"{stack!r} is not a valid swarm stack name",
            hint="use lower-case letters, digits, '-' and '_' (at most 48 characters)",
        )
    return stack


def short_name(service_name: str, stack: str) -> str:
    """A service's name in the stack file: ``<stack>_app`` is ``app``."""
    prefix = f"{stack}_"
    return service_name[len(prefix) :] if service_name.startswith(prefix) else service_name


def parse_ts(text: str) -> float:
    """Epoch seconds of an engine timestamp (RFC 3339 with nanoseconds); 0.0 when unset."""
    if not text or text.startswith("0001-"):
        return 0.0
    m = re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$", text)
    if not m:
        raise ValueError(f"not an engine timestamp: {text!r}")
    frac = (m.group(2) or "0")[:6].ljust(6, "0")
    zone = "+00:00" if m.group(3) == "Z" else m.group(3)
    return datetime.fromisoformat(f"{m.group(1)}.{frac}{zone}").timestamp()
