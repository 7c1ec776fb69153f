"""What the machine looks like, and what changed: the self-chaos driver's evidence.

A snapshot lists the engine's containers (with their state: paused shows here),
networks, volumes, images and swarm state, and, for every running container,
the iptables rules (filter, nat, mangle) and tc qdiscs of its network namespace.
Those are read from the host with ``nsenter --net=/proc/<pid>/ns/net``: the
host is root here, and this touches no engine state (a helper container would
itself be a container to account for).

Scope: ``strict`` attributes every difference (the whole machine; what CI and
``make selfchaos`` use). ``own`` (``--scope-own``, for a shared development
machine) only counts objects that carry the driver's unique prefix in their name,
compose project label or ``io.hachaos.project``/``io.hachaos.run`` label, plus
netns changes of pre-existing containers that name one of the driver's fault
tags (the ``HACHAOS-<tag>`` chains of the driver's own runs); other netns
changes of foreign containers are listed as ignored. With Swarm points the driver
holds the swarm lock, and the swarm state, docker_gwbridge and ingress count too.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import docker

NETNS_TABLES = ("filter", "nat", "mangle")
COMPOSE_PROJECT = "com.docker.compose.project"
HACHAOS_LABELS = ("io.hachaos.project", "io.hachaos.run")
SWARM_NETWORKS = frozenset({"docker_gwbridge", "ingress"})


@dataclass(frozen=True)
class Obj:
    """One engine object: kind, stable key, readable name, labels and a state string."""

    kind: str  # container | network | volume | image | swarm
    key: str
    name: str
    labels: tuple[tuple[str, str], ...] = ()
    state: str = ""

    def label(self, key: str) -> str:
        return dict(self.labels).get(key, "")


@dataclass
class Snapshot:
    """The machine at one moment."""

    objects: dict[tuple[str, str], Obj] = field(default_factory=dict)
    # container id -> {"iptables filter": [rules], ..., "tc": [qdiscs]}
    netns: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    # container id -> error text, when its netns could not be read (it vanished)
    netns_errors: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Scope:
    """Which differences count: everything (strict) or only the driver's own."""

    own_only: bool = False
    prefix: str = ""  # names/projects/run ids of the driver start with this
    tags: frozenset[str] = frozenset()  # fault tags of the driver's runs (from journals)
    # The driver holds the machine's swarm lock: the swarm state and the networks a swarm
    # makes (docker_gwbridge, ingress) are its to account for, whatever their names.
    swarm: bool = False

    def owns(self, obj: Obj) -> bool:
        if not self.own_only:
            return True
        if self.swarm and (
            obj.kind == "swarm" or (obj.kind == "network" and obj.name in SWARM_NETWORKS)
        ):
            return True
        return self.owns_name(obj.name) or any(
            self.owns_name(obj.label(k)) for k in (COMPOSE_PROJECT, *HACHAOS_LABELS)
        )

    def owns_name(self, text: str) -> bool:
        """A name is ours when it starts with the prefix or contains it as a run id part."""
        if not text or not self.prefix:
            return False
        return text.startswith(self.prefix) or f"-{self.prefix}" in text

    def owns_rule(self, rule: str) -> bool:
        return not self.own_only or any(f"HACHAOS-{t}" in rule for t in self.tags)


# ---------------------------------------------------------------------- reading
ENGINE_NETWORKS = frozenset({"bridge", "host", "none"})


def _client() -> Any:
    return docker.from_env(timeout=60)


def _labels(raw: dict[str, str] | None) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((raw or {}).items()))


def take(*, netns: bool = True, netns_of: Iterable[str] | None = None) -> Snapshot:
    """Snapshot the machine; netns of every running container (or only ``netns_of`` ids)."""
    api = _client().api
    snap = Snapshot()
    running: list[str] = []
    for c in api.containers(all=True):
        name = (c.get("Names") or ["?"])[0].lstrip("/")
        state = str(c.get("State", ""))
        obj = Obj("container", c["Id"], name, _labels(c.get("Labels")), state)
        snap.objects[(obj.kind, obj.key)] = obj
        net_mode = str((c.get("HostConfig") or {}).get("NetworkMode", ""))
        # A container that shares another's netns (a fault helper) or the host's has
        # no netns of its own to compare.
        own_netns = not net_mode.startswith("container:") and net_mode != "host"
        if state in ("running", "paused") and own_netns:
            running.append(c["Id"])
    for n in api.networks():
        # The engine's own networks are re-created with new ids whenever dockerd
        # starts: they are compared by name, every other network by id.
        key = n["Name"] if n["Name"] in ENGINE_NETWORKS else n["Id"]
        obj = Obj("network", key, n["Name"], _labels(n.get("Labels")))
        snap.objects[(obj.kind, obj.key)] = obj
    for v in api.volumes().get("Volumes") or []:
        obj = Obj("volume", v["Name"], v["Name"], _labels(v.get("Labels")))
        snap.objects[(obj.kind, obj.key)] = obj
    for i in api.images(all=False):
        tags = ",".join(sorted(t for t in (i.get("RepoTags") or []) if t != "<none>:<none>"))
        obj = Obj("image", i["Id"], tags or i["Id"][:19], _labels(i.get("Labels")), tags)
        snap.objects[(obj.kind, obj.key)] = obj
    swarm = api.info().get("Swarm") or {}
    state = f"{swarm.get('LocalNodeState', '')} node={swarm.get('NodeID', '')}"
    snap.objects[("swarm", "swarm")] = Obj("swarm", "swarm", "swarm", (), state)
    if netns:
        wanted = set(netns_of) if netns_of is not None else None
        for cid in running:
            if wanted is not None and cid not in wanted:
                continue
            try:
                snap.netns[cid] = read_netns(api, cid)
            except NetnsGone as exc:
                snap.netns_errors[cid] = str(exc)
    return snap


class NetnsGone(Exception):
    """The container stopped (or vanished) while its netns was read."""


def read_netns(api: Any, cid: str) -> dict[str, list[str]]:
    """iptables rules per table and tc qdiscs of a container's network namespace."""
    try:
        pid = int(api.inspect_container(cid)["State"]["Pid"])
    except docker.errors.NotFound as exc:
        raise NetnsGone(f"{cid[:12]} vanished") from exc
    if pid <= 0:
        raise NetnsGone(f"{cid[:12]} is not running")
    ns = f"--net=/proc/{pid}/ns/net"
    out: dict[str, list[str]] = {}
    for table in NETNS_TABLES:
        rules = _nsenter(ns, ["iptables", "-w", "-t", table, "-S"])
        out[f"iptables {table}"] = [engine_dns_stable(r) for r in rules]
    out["tc"] = [_strip_handle(q) for q in _nsenter(ns, ["tc", "qdisc", "show"])]
    return out


def engine_dns_stable(rule: str) -> str:
    """The engine's embedded-DNS NAT rule without its random port.

    dockerd picks a new port for 127.0.0.11 each time a container starts, so a
    container restarted by a fault (or by an engine restart) would otherwise show
    changed rules that nobody but the engine wrote.
    """
    if "DOCKER_OUTPUT" not in rule and "DOCKER_POSTROUTING" not in rule:
        return rule
    rule = re.sub(r"127\.0\.0\.11:\d+", "127.0.0.11:PORT", rule)
    return re.sub(r"--sport \d+", "--sport PORT", rule)


def _nsenter(ns: str, cmd: list[str]) -> list[str]:
    proc = subprocess.run(
        ["nsenter", ns, *cmd], capture_output=True, text=True, timeout=20, check=False
    )
    if proc.returncode != 0:
        raise NetnsGone(f"{' '.join(cmd)}: {proc.stderr.strip()[:200]}")
    return [line.strip() for line in proc.stdout.splitlines() if line.strip()]


def _strip_handle(qdisc: str) -> str:
    # The kernel numbers the default noqueue qdiscs itself (``qdisc noqueue 0: dev eth0``);
    # keep the text as is, it is stable for an untouched interface.
    return " ".join(qdisc.split())


# ---------------------------------------------------------------------- diffing
@dataclass
class Diff:
    """Differences between two snapshots, split into what counts and what is ignored."""

    leftovers: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)

    def add(self, counted: bool, line: str) -> None:
        (self.leftovers if counted else self.ignored).append(line)


def diff(before: Snapshot, after: Snapshot, scope: Scope) -> Diff:
    """Name every object that appeared, vanished or changed state, and every netns change."""
    d = Diff()
    for key, obj in sorted(after.objects.items()):
        old = before.objects.get(key)
        if old is None:
            what = f" ({obj.state})" if obj.state and obj.kind == "container" else ""
            d.add(scope.owns(obj), f"new {obj.kind} {obj.name}{what}")
        elif old.state != obj.state:
            d.add(scope.owns(obj), f"{obj.kind} {obj.name}: {old.state} -> {obj.state}")
    for key, obj in sorted(before.objects.items()):
        if key not in after.objects:
            d.add(scope.owns(obj), f"gone {obj.kind} {obj.name}")
    names = {o.key: o for o in after.objects.values() if o.kind == "container"}
    names.update({o.key: o for o in before.objects.values() if o.kind == "container"})
    for cid, now in sorted(after.netns.items()):
        then = before.netns.get(cid)
        obj = names.get(cid)
        cname = obj.name if obj else cid[:12]
        owned = obj is not None and scope.owns(obj)
        if then is None:
            # A container that did not exist (or did not run) before: compare with a clean netns.
            for line in unclean(now):
                d.add(owned, f"netns of {cname}: {line}")
            continue
        for part in sorted(set(now) | set(then)):
            old_lines, new_lines = then.get(part, []), now.get(part, [])
            for rule in sorted(set(new_lines) - set(old_lines)):
                d.add(owned or scope.owns_rule(rule), f"netns of {cname}: {part} + {rule}")
            for rule in sorted(set(old_lines) - set(new_lines)):
                d.add(owned or scope.owns_rule(rule), f"netns of {cname}: {part} - {rule}")
    return d


def unclean(netns: dict[str, list[str]]) -> list[str]:
    """Lines of a netns that a freshly started container would not have.

    A fresh container has only policy lines (``-P``) in filter and mangle, the
    engine's embedded-DNS rules (``DOCKER_OUTPUT``/``DOCKER_POSTROUTING``) in nat,
    and default qdiscs (noqueue; the kernel's defaults on eth*).
    """
    bad: list[str] = []
    for part, lines in netns.items():
        for line in lines:
            if line.startswith("-P "):
                continue
            if part == "iptables nat" and "DOCKER_" in line:
                continue
            if part == "tc" and (" noqueue " in f" {line} " or line.startswith("qdisc noqueue")):
                continue
            bad.append(f"{part} {line}")
    return bad
