"""`hachaos isolation COMPOSE`: deploy, probe every service pair on every exposed port, tear down.

The observed matrix is also offered as a starter ``checks.isolation`` block:
what was open becomes ``allow``, what was closed becomes ``deny``.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from harness.engine import helpers
from harness.engine.compose.project import ComposeProject
from harness.engine.probe import endpoints, probe_from
from harness.errors import HarnessError
from harness.ports import reserve_loopback_port
from harness.run.isolation import Rule, probe_round

MAX_SERVICES = 32


def pair_rules(services: Sequence[str]) -> list[Rule]:
    """One rule per ordered pair of distinct services, on every port the target exposes."""
    return [("observe", a, b, None) for a in services for b in services if a != b]


def matrix(observations: Sequence[dict[str, Any]]) -> list[tuple[str, str, int | None, str]]:
    """``(from, to, port, state)`` per pair and port: open when any replica pair connected."""
    seen: dict[tuple[str, str, int | None], set[str]] = {}
    for o in observations:
        seen.setdefault((o["from"], o["to"], o.get("port")), set()).add(str(o["state"]))
    out = []
    for (a, b, port), states in sorted(
        seen.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2] or 0)
    ):
        if "open" in states:
            state = "open" if states == {"open"} else "partly open"
        else:
            state = "closed" if states & {"timeout", "refused"} else sorted(states)[0]
        out.append((a, b, port, state))
    return out


def starter_block(rows: Sequence[tuple[str, str, int | None, str]]) -> dict[str, Any]:
    """A ``checks: {isolation: …}`` block from the observed matrix (portless rows skipped)."""
    allow = [{"from": a, "to": b, "port": p} for a, b, p, s in rows if p and "open" in s]
    deny = [{"from": a, "to": b, "port": p} for a, b, p, s in rows if p and s == "closed"]
    return {"checks": {"isolation": {"deny": deny, "allow": allow, "probe_every": "5s"}}}


def observe(
    compose_file: Path,
    *,
    timeout_s: float = 1.0,
    ready_timeout: float = 180.0,
    project: str | None = None,
    on_step: Callable[[str], None] = lambda _m: None,
) -> list[dict[str, Any]]:
    """Deploy the stack under a fresh project, probe once, always tear it down."""
    name = project or f"hachaos-isolation-{secrets.token_hex(3)}"
    port = reserve_loopback_port()  # held until teardown, so no concurrent run takes it
    stack = ComposeProject(compose_file.resolve(), name, env={"HACHAOS_PORT": str(port.port)})
    helpers.ensure_image()
    on_step(f"deploying {compose_file} as {name}")
    try:
        stack.up(wait_timeout=ready_timeout)
        eps = endpoints(name)
        services = sorted(eps)[:MAX_SERVICES]
        on_step(f"probing {len(services)} services pairwise")
        return probe_round(
            pair_rules(services),
            eps,
            lambda cid, targets: probe_from(
                cid, targets, timeout_s=timeout_s, run_id=f"isolation-{name}", project=name
            ),
        )
    finally:
        on_step(f"tearing {name} down")
        try:
            stack.down()
        except HarnessError:
            on_step(f"teardown failed: run `docker compose -p {name} down -v`")
            raise
        finally:
            port.release()
