"""Shared base of the faults served by the fault proxy (harness/faults/proxy/faultproxy.py).

The helper (sharing the target's netns, NET_ADMIN) starts the proxy as
``PROXY_UID``; the proxy binds 127.0.0.1 on a free port, drops root and writes
the port to a file. The helper, still root, then installs two chains:

- ``nat OUTPUT``: the target's NEW TCP connections to the chosen peers (or to
  anything but loopback) are REDIRECTed to the proxy; the proxy's own uid is
  exempt (``-m owner``), so its upstream connections go out untouched.
- ``filter OUTPUT``: packets of connections the target opened *before* the
  fault (they skip nat) are rejected with a TCP reset. Clients therefore
  reconnect, through the proxy, on their next request: a pooled connection
  cannot dodge the fault.

On revert (SIGTERM, the dead-man deadline, or a fresh helper after a crash) both
chains are removed and the proxy is stopped; every connection through it is
closed, so clients reconnect directly. The revert is verified with
``iptables-save``: no rule of this fault may remain.
"""

from __future__ import annotations

import shlex
from typing import Any, TypeVar

from harness.engine import helpers
from harness.engine.containers import Target
from harness.errors import FaultError, TargetNotFound
from harness.faults.base import FaultContext
from harness.faults.netns import NetnsFault
from harness.scenario.models import HttpMatch, PeerPort, ProxiedFault
from harness.scenario.plan import PlannedFault

ProxiedT = TypeVar("ProxiedT", bound=ProxiedFault)

# Nobody else's uid: traffic of this uid is never redirected (the proxy's own).
PROXY_UID = 1_234_567
LOOPBACK = "127.0.0.0/8"


def proxy_chain(tag: str) -> str:
    """Name of the fault's chains (nat and filter); at most 28 characters."""
    return f"HACHAOS-P{tag}"


def peer_ips(ctx: FaultContext, target: Target, to: PeerPort) -> list[str]:
    """Addresses of the peer's replicas on every network they share with ``target``."""
    mine = ctx.containers.addresses(target.id)
    found: set[str] = set()
    for p in ctx.containers.project_targets(ctx.project):
        if p.service != to.service or p.id == target.id:
            continue
        if to.index is not None and p.number != to.index:
            continue
        try:
            theirs = ctx.containers.addresses(p.id)
        except TargetNotFound:
            continue
        found.update(ip for net, ip in theirs.items() if net in mine)
    return sorted(found)


def _check_ip(ip: str) -> str:
    parts = ip.split(".")
    if len(parts) != 4 or not all(p.isdigit() and int(p) <= 255 for p in parts):
        raise FaultError(f"unexpected peer address {ip!r} (only IPv4 is supported)")
    return ip


def _proxy_command(files: str, argv: list[str], deadline: float) -> str:
    """The proxy's command line: it drops to PROXY_UID and dies by itself after the deadline."""
    return " ".join(
        shlex.quote(a)
        for a in [
            "python3",
            helpers.PROXY_PATH,
            *argv,
            "--uid",
            str(PROXY_UID),
            "--deadline",
            f"{deadline + 5:.0f}",
            "--port-file",
            f"{files}.port",
        ]
    )


def _redirect_rules(name: str, matches: list[str]) -> list[str]:
    """The chain ``name`` in nat (REDIRECT to the proxy's port $P) and in filter (RST for
    what the redirect cannot take over), both exempting the proxy's own uid and loopback."""
    exempt = [f"-m owner --uid-owner {PROXY_UID} -j RETURN", f"-d {LOOPBACK} -j RETURN"]
    nat = [f"iptables -w -t nat -N {name}"]
    nat += [f"iptables -w -t nat -A {name} {r}" for r in exempt]
    nat += [f'iptables -w -t nat -A {name} {m} -j REDIRECT --to-ports "$P"' for m in matches]
    rst = [f"iptables -w -N {name}"]
    rst += [f"iptables -w -A {name} {r}" for r in exempt]
    rst += [
        f"iptables -w -A {name} {m} -m conntrack --ctdir ORIGINAL -j REJECT --reject-with tcp-reset"
        for m in matches
    ]
    return nat + rst


def _apply_script(name: str, files: str, cmd: str, rules: list[str], kill: list[str]) -> str:
    return "\n".join(
        [
            f"rm -f {files}.port",
            f"{cmd} >{files}.log 2>&1 &",
            f"echo $! >{files}.pid",
            # Wait (up to 10 s) for the proxy to listen; its port is the REDIRECT target.
            f"i=0; while [ ! -s {files}.port ]; do i=$((i+1)); "
            f'if [ $i -gt 200 ] || ! kill -0 "$(cat {files}.pid)"; then cat {files}.log; '
            "exit 1; fi; sleep 0.05; done",
            f"P=$(cat {files}.port)",
            'case "$P" in ""|*[!0-9]*) echo "bad proxy port"; exit 1;; esac',
            *rules,
            *kill,
            f"iptables -w -t nat -I OUTPUT 1 -p tcp -j {name}",
            f"iptables -w -I OUTPUT 1 -p tcp -j {name}",
        ]
    )


def _revert_script(name: str, files: str) -> str:
    return "\n".join(
        [
            f"iptables -w -t nat -D OUTPUT -p tcp -j {name} 2>/dev/null",
            f"iptables -w -D OUTPUT -p tcp -j {name} 2>/dev/null",
            f"iptables -w -t nat -F {name} 2>/dev/null; iptables -w -t nat -X {name} 2>/dev/null",
            f"iptables -w -F {name} 2>/dev/null; iptables -w -X {name} 2>/dev/null",
            # Stop the proxy: it closes each connection once idle (3 s at most); KILL after 5 s.
            f'if [ -s {files}.pid ]; then pid=$(cat {files}.pid); kill "$pid" 2>/dev/null; '
            f'i=0; while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do i=$((i+1)); '
            f'sleep 0.1; done; kill -9 "$pid" 2>/dev/null; rm -f {files}.pid; fi',
            "true",
        ]
    )


def proxy_scripts(
    tag: str,
    argv: list[str],
    ips: list[str] | None,
    port: int | None,
    deadline: float,
    replica: int = 0,
) -> dict[str, str]:
    """apply/revert/present/absent for one proxied fault on one replica; ``ips`` None =
    all egress TCP."""
    name = proxy_chain(tag)
    files = f"/tmp/hachaos-proxy-{tag}" + (f"-{int(replica)}" if replica else "")
    if ips is None:
        matches = ["-p tcp"]
    else:
        dport = f" --dport {int(port)}" if port is not None else ""
        matches = [f"-p tcp -d {_check_ip(ip)}{dport}" for ip in ips]
    # Idle pooled connections to the peers are aborted before the redirect starts:
    # their clients notice while idle and reconnect, through the proxy, without an
    # error. What `ss -K` misses (or a kernel without it) the REJECT resets.
    kill = [
        f"ss -K -t state established dst {ip} dport = :{int(port)} >/dev/null 2>&1 || true"
        for ip in (ips or [])
        if port is not None
    ]
    cmd = _proxy_command(files, argv, deadline)
    present = " && ".join(
        [
            f"iptables -w -t nat -C OUTPUT -p tcp -j {name}",
            f"iptables -w -C OUTPUT -p tcp -j {name}",
            f'kill -0 "$(cat {files}.pid)"',
        ]
    )
    # This replica's proxy: of that uid (its sh, root, carries the same argv) and with its
    # own port file. A helper that sees the host's processes (a Kubernetes helper pod has
    # hostPID) also sees the proxies of other replicas and of other runs.
    absent = (
        f"! iptables-save | grep -q -- {name} && "
        f"! pgrep -u {PROXY_UID} -f -- {files}.port >/dev/null"
    )
    return {
        "apply": _apply_script(name, files, cmd, _redirect_rules(name, matches), kill),
        "revert": _revert_script(name, files),
        "present": present,
        "absent": absent,
    }


class ProxyFault(NetnsFault[ProxiedT]):
    """A fault served by the fault proxy; subclasses give the proxy's arguments."""

    # NET_ADMIN installs the rules; SETUID/SETGID let the proxy drop root to
    # PROXY_UID, which the rules exempt (after that it holds no capability at all);
    # KILL lets the helper's root check and stop that other-uid process. The helper
    # has a pid namespace of its own, so KILL reaches nothing but its own processes.
    helper_caps = ("NET_ADMIN", "SETUID", "SETGID", "KILL")

    @classmethod
    def proxy_argv(cls, step: PlannedFault) -> list[str]:
        """The proxy's fault arguments (``--mode ...``), from the validated spec."""
        raise NotImplementedError

    @classmethod
    def proxy_seed(cls, step: PlannedFault, target: Target) -> int:
        """A seed per (fault, occurrence, replica): the same plan draws the same requests."""
        return step.fault_index * 1_000_003 + step.occurrence * 1009 + target.number

    @classmethod
    def scripts(
        cls, step: PlannedFault, target: Target, tag: str, ctx: FaultContext
    ) -> dict[str, str]:
        spec = cls.spec_of(step)
        ips: list[str] | None = None
        port: int | None = None
        if spec.to is not None:
            ips = peer_ips(ctx, target, spec.to)
            port = spec.to.port
            if not ips:
                which = f" replica {spec.to.index}" if spec.to.index else ""
                raise FaultError(
                    f"{step.type}: {target.name} shares no network with "
                    f"{spec.to.service}{which} in project {ctx.project}",
                    hint="check `to`: a service of the same compose project (and replica index)",
                )
        window = (step.end - step.start) if step.end is not None else 0.0
        argv = [*cls.proxy_argv(step), "--seed", str(cls.proxy_seed(step, target))]
        return proxy_scripts(tag, argv, ips, port, max(window, 0.0) + ctx.margin, target.number)

    @classmethod
    def mechanism(cls, step: PlannedFault, ctx: FaultContext) -> str | None:
        return "proxy"

    @classmethod
    def extra_state(
        cls, step: PlannedFault, targets: list[Target], ctx: FaultContext
    ) -> dict[str, Any]:
        return {"mechanism": cls.mechanism(step, ctx)}


def seconds(value: float) -> str:
    """A duration for the proxy's argv."""
    return f"{value:.6f}"


def proxy_args(mode: str, *options: tuple[str, str]) -> list[str]:
    """The proxy's argv: ``--mode MODE`` then each ``(--option, value)``."""
    return ["--mode", mode, *(word for pair in options for word in pair)]


def match_argv(spec: HttpMatch) -> list[str]:
    """The proxy's HTTP request filter: share, method and path prefix."""
    argv = ["--fraction", f"{spec.percent:.6f}", "--path-prefix", spec.path_prefix]
    if spec.method:
        argv += ["--method", spec.method]
    return argv
