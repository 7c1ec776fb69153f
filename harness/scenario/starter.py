"""A commented starter scenario for any compose file (`hachaos init`); pure, no engine.

It reads the canonical ``docker compose config`` document, picks the entry
service (the one load goes to), proposes a ``ready_path`` and writes a file
that validates and runs as it is: steady load on the ready path, sane checks,
and one suggested fault per service left commented out, so the first run
shows the stack's baseline and nothing breaks until the user chooses to.

Entry choice, in order: a service publishing an HTTP-looking port (80, 8080,
... rather than a database's 5432); a load balancer by name or image (haproxy,
nginx, traefik, envoy, lb, proxy, gateway, ...); a service that depends on
others and that no other published service depends on (the front of the
stack); then the name, so the choice is stable.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from harness.scenario.compose import ComposeConfig, ServiceInfo

_LB_WORDS = ("haproxy", "nginx", "traefik", "envoy", "caddy", "proxy", "gateway", "ingress")
_LB_NAMES = frozenset({"lb", "loadbalancer", "load-balancer", "balancer", "front", "edge"})
_HTTP_PORTS = (80, 8080, 8000, 443, 8443, 3000, 5000, 8888, 9000, 8081, 4000, 5173)
_TLS_PORTS = frozenset({443, 8443})
_NOT_HTTP_PORTS = frozenset(
    {22, 25, 53, 389, 1433, 1521, 2181, 3306, 5432, 5672, 6379, 9042, 9092, 11211, 27017}
)
_STORE_WORDS = (
    "redis", "postgres", "mysql", "mariadb", "mongo", "db", "kafka", "rabbit",
    "memcache", "elastic", "cassandra", "etcd", "zookeeper", "sql",
)  # fmt: skip
_URL = re.compile(r"https?://[^\s'\"\\)]+")
_NAME_CHARS = re.compile(r"[^A-Za-z0-9_.-]+")
DEFAULT_DURATION_S = 60.0


class StarterError(ValueError):
    """The compose file gives no way to send load (no published port)."""


@dataclass(frozen=True)
class Entry:
    """Where the load goes and why."""

    service: str
    port: int
    scheme: str
    why: str


@dataclass(frozen=True)
class Starter:
    """What ``init`` found, and the file it writes."""

    entry: Entry
    ready_path: str
    ready_why: str
    suggestions: list[str] = field(default_factory=list)  # one line per suggested fault
    text: str = ""


def depends_on(raw: Mapping[str, Any], service: str) -> list[str]:
    """Services ``service`` depends on (compose's long or short form)."""
    svc = (raw.get("services") or {}).get(service) or {}
    deps = svc.get("depends_on") or {}
    return sorted(deps) if isinstance(deps, Mapping | list) else []


def healthcheck_path(raw: Mapping[str, Any], service: str) -> str | None:
    """The path of an HTTP URL in a service's healthcheck command, or None."""
    svc = (raw.get("services") or {}).get(service) or {}
    check = svc.get("healthcheck") or {}
    if check.get("disable"):
        return None
    test = check.get("test")
    text = " ".join(map(str, test)) if isinstance(test, list) else str(test or "")
    m = _URL.search(text)
    if m is None:
        return None
    parts = urlsplit(m.group(0))
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    # the path goes into the YAML and into an HTTP request line: keep it plain
    return path if re.fullmatch(r"/[A-Za-z0-9._~/?&=%+-]{0,200}", path) else None


def _http_port(info: ServiceInfo) -> int | None:
    ports = [p for p in info.ports if p not in _NOT_HTTP_PORTS]
    if not ports:
        return None
    known = [p for p in _HTTP_PORTS if p in ports]
    return known[0] if known else min(ports)


def _is_lb(info: ServiceInfo) -> bool:
    name = info.name.lower()
    image = (info.image or "").lower()
    return name in _LB_NAMES or any(w in name or w in image for w in _LB_WORDS)


def _is_store(info: ServiceInfo) -> bool:
    text = f"{info.name} {info.image or ''}".lower()
    return any(w in text for w in _STORE_WORDS)


def pick_entry(compose: ComposeConfig) -> Entry:
    """The service and port the load goes to (see the module docstring)."""
    raw = compose.raw
    published = {n: s for n, s in compose.services.items() if s.ports}
    if not published:
        raise StarterError(
            "no service publishes a port, so load cannot reach the stack; publish the entry's"
            ' HTTP port on the loopback interface, e.g. ports: ["127.0.0.1:0:8080"]'
        )
    depended = {d for n in published for d in depends_on(raw, n)}

    def rank(info: ServiceInfo) -> tuple[int, int, int, int, str]:
        http = _http_port(info) is not None
        front = bool(depends_on(raw, info.name)) and info.name not in depended
        return (-http, -_is_lb(info), -front, -len(depends_on(raw, info.name)), info.name)

    best = min(published.values(), key=rank)
    port = _http_port(best) or min(best.ports)
    if _is_lb(best):
        why = "a load balancer that publishes a port"
    elif depends_on(raw, best.name) and best.name not in depended:
        why = f"the front of the stack: it depends on {', '.join(depends_on(raw, best.name))}"
    elif len(published) == 1:
        why = "the only service that publishes a port"
    else:
        why = "publishes an HTTP-looking port"
    return Entry(best.name, port, "https" if port in _TLS_PORTS else "http", why)


def _ready(raw: Mapping[str, Any], entry: Entry) -> tuple[str, str]:
    path = healthcheck_path(raw, entry.service)
    if path:
        return path, f"from {entry.service}'s healthcheck"
    return "/", "no HTTP healthcheck on the entry; any 2xx answer of / counts as ready"


def _fmt_s(seconds: float) -> str:
    return f"{seconds:g}s"


def suggest_faults(compose: ComposeConfig, entry: Entry, duration: float) -> list[list[str]]:
    """One suggested fault per service, as YAML lines (commented out by the caller).

    Every suggestion validates against the compose file once uncommented: its
    window lies inside ``[0, duration]`` and it targets replicas that exist.
    """
    at = max(round(duration / 4), 1)
    hold = max(min(round(duration / 4), 10), 1)
    raw = compose.raw
    out: list[list[str]] = []
    for name, info in compose.services.items():
        users = sorted(n for n in compose.services if name in depends_on(raw, n))
        if info.replicas > 1:
            why = f"{info.replicas} replicas: the others should carry the load"
            lines = ["type: kill", f"target: {{service: {name}, count: 1}}"]
        elif _is_store(info):
            why = "a data store down: errors while it is, recovery after (add checks.durability)"
            lines = ["type: kill", f"target: {{service: {name}}}"]
            hold = min(hold, 5)
        elif name == entry.service:
            why = "the entry, one replica: a short freeze is an outage the checks should see"
            lines = ["type: pause", f"target: {{service: {name}}}"]
            hold = min(hold, 2)
        elif info.restart in ("always", "unless-stopped", "on-failure"):
            why = f"restart: {info.restart} should bring it back by itself"
            out.append(
                [
                    f"# {name}: {why}",
                    "type: crash",
                    f"target: {{service: {name}}}",
                    f"at: {_fmt_s(at)}",
                ]
            )
            continue
        else:
            why = "one replica, no restart policy: expect an outage"
            lines = ["type: stop", f"target: {{service: {name}}}"]
        if users and info.replicas == 1 and not _is_store(info) and name != entry.service:
            why += f" (used by {', '.join(users)})"
        out.append([f"# {name}: {why}", *lines, f"at: {_fmt_s(at)}", f"for: {_fmt_s(hold)}"])
        hold = max(min(round(duration / 4), 10), 1)
    return out


def _yaml_text(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def scenario_name(compose_path: str) -> str:
    """A valid scenario name from the compose file's folder (or file) name."""
    parts = [p for p in re.split(r"[\\/]", compose_path) if p and p not in (".", "..")]
    if parts and "." not in parts[-1]:  # a folder (of manifests): its own name
        stem = parts[-1]
    else:
        stem = parts[-2] if len(parts) >= 2 else (parts[-1].rsplit(".", 1)[0] if parts else "stack")
    cleaned = _NAME_CHARS.sub("-", stem).strip("-._") or "stack"
    return f"{cleaned[:80]}-starter"


_REQUESTS_EXAMPLE = (
    "    # - name: create",
    "    #   method: POST",
    "    #   path: /api/things",
    '    #   json: {ref: "{uuid}"}',
    "    #   expect: [201]",
    "    #   capture: {thing: $.id}     # keep the id the answer holds",
    '    # - {name: read, path: "/api/things/{captured.thing}", expect: [200]}',
)

_CHECKS = (
    "",
    "checks:",
    "  availability:",
    "    overall: 99%",
    "    # after_recovery: 99%   # once a fault is uncommented (no fault: nothing to recover)",
    "  latency:",
    "    - {percentile: 99, max: 1s}",
    "  recovery:",
    "    max: 30s         # per fault, once one is uncommented",
    "  # Read every acknowledged write back after the faults (any HTTP API):",
    "  # durability:",
    '  #   write: {method: POST, path: /api/things, json: {ref: "{key}"}, expect: [201]}',
    "  #   id: $.id",
    '  #   read: {path: "/api/things/{id}", expect: [200]}',
    '  #   compare: {"$.ref": "{key}"}',
    "",
)


def render_starter(
    compose: ComposeConfig,
    compose_ref: str,
    *,
    duration: float = DEFAULT_DURATION_S,
    rps: float = 10.0,
    stack_keys: Sequence[tuple[str, str]] = (),
) -> Starter:
    """The starter scenario for ``compose``; ``compose_ref`` is its path as the file gives it.

    ``stack_keys``: the stack's engine keys when it is not a compose file, e.g.
    ``(("engine", "kubernetes"), ("manifests", ref))`` (default: ``compose: <ref>``)."""
    entry = pick_entry(compose)
    ready_path, ready_why = _ready(compose.raw, entry)
    faults = suggest_faults(compose, entry, duration)
    lines = [
        *_head(compose, compose_ref),
        *_stack(entry, compose_ref, stack_keys, ready_path, ready_why),
        *_load(rps, ready_path),
        "",
        "timing:",
        "  warmup: 5s         # t = 0 is the end of the warmup",
        f"  duration: {_fmt_s(duration)}",
        "  cooldown: 10s      # load goes on after the run, to see recovery",
        "",
        "# Suggested faults, one per service. To try one, make the next line `faults:`,",
        "# uncomment the fault (its `- ` line and the lines under it) and check the",
        "# timeline with `hachaos plan FILE`.",
        "faults: []",
    ]
    for fault in faults:
        lines.append(f"  {fault[0]}")
        lines.append(f"  # - {fault[1]}")
        lines += [f"  #   {line}" for line in fault[2:]]
    lines += _CHECKS
    suggestions = [f[0].removeprefix("# ") for f in faults]
    return Starter(entry, ready_path, ready_why, suggestions, "\n".join(lines))


def _head(compose: ComposeConfig, compose_ref: str) -> list[str]:
    services = ", ".join(
        f"{n} ({s.replicas} replica{'s' if s.replicas != 1 else ''}"
        + (f", publishes {', '.join(map(str, s.ports))}" if s.ports else "")
        + ")"
        for n, s in compose.services.items()
    )
    return [
        f"# Starter scenario written by `hachaos init` for {compose_ref}.",
        f"# Services: {services}.",
        "# Check it with `hachaos validate FILE`, preview it with `hachaos plan FILE`,",
        "# run it with `hachaos run FILE`. Every key is described in docs/scenarios.md.",
        "version: 1",
        f"name: {scenario_name(compose_ref)}",
        "description: Baseline of the stack under steady load; uncomment a fault below to"
        " break it.",
        "seed: 1",
    ]


def _stack(
    entry: Entry,
    compose_ref: str,
    stack_keys: Sequence[tuple[str, str]],
    ready_path: str,
    ready_why: str,
) -> list[str]:
    target = f"{{service: {entry.service}, port: {entry.port}"
    target += f", scheme: {entry.scheme}}}" if entry.scheme == "https" else "}"
    keys = [
        f"  {k}: {_yaml_text(v)}" + ("   # relative to this file" if v == compose_ref else "")
        for k, v in stack_keys
    ] or [f"  compose: {_yaml_text(compose_ref)}   # relative to this file"]
    return [
        "",
        "stack:",
        *keys,
        f"  target: {target}   # {entry.why}",
        f"  ready_path: {_yaml_text(ready_path)}   # {ready_why}",
        "  ready_timeout: 2m",
    ]


def _load(rps: float, ready_path: str) -> list[str]:
    return [
        "",
        "load:",
        "  model: open        # a fixed arrival rate: latency is corrected for coordinated"
        " omission",
        f"  rps: {rps:g}",
        "  timeout: 2s        # a request slower than this is a failure",
        "  requests:          # what the load sends; add your API's requests here",
        f"    - {{name: ready, method: GET, path: {_yaml_text(ready_path)}}}",
        *_REQUESTS_EXAMPLE,
    ]
