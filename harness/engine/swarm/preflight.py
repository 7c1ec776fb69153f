"""What a stack needs of this swarm that it cannot have: refused before anything is deployed.

Without IPVS (this kind of machine: no /proc/net/ip_vs) Swarm's routing mesh
(ingress-mode ports) and virtual service IPs (``endpoint_mode: vip``, the
default) accept no connection. A published ingress port can never work, so it is
refused. A ``vip`` service is only broken when something reaches it *by its
name*: one reached only through a host-mode port (an entry service) works. So a
``vip`` service is refused when another service on its network names it where
hachaos can read (environment, command, entrypoint, health check, links, the
text files of its build context, the files mounted into it); when another
service depends on it but names it nowhere hachaos can read (an image's own
files are out of sight), the run goes on with a warning that the report repeats.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import ScenarioError

IPVS_PROC = Path("/proc/net/ip_vs")
IPVS_HINT = (
    "this kernel has no IPVS (no /proc/net/ip_vs; `modprobe ip_vs` fails), so Swarm's routing "
    "mesh (ingress-mode ports) and virtual service IPs (endpoint_mode: vip, the default) accept "
    "no connection. Give every service that others reach by name `deploy: {endpoint_mode: "
    "dnsrr}` (its name then resolves to one address per task; HAProxy follows them with "
    "`server-template` + `resolvers`) and publish in host mode (long syntax: `ports: "
    "[{target: 8080, published: ${HACHAOS_PORT}, mode: host}]`); compose/web-swarm does both"
)
# Reading a service's files is bounded: a build context can be a whole repository.
MAX_FILES = 200  # per folder
MAX_FILE_BYTES = 256 * 1024
SKIPPED_DIRS = frozenset({".git", "node_modules", "__pycache__", ".venv", "venv"})


def ipvs_available(proc: Path = IPVS_PROC) -> bool:
    """Whether the kernel has IPVS (what Swarm's VIPs and ingress routing mesh need)."""
    return proc.exists()


@dataclass(frozen=True)
class Reach:
    """Service ``by`` names service ``name`` (at ``where``)."""

    by: str
    where: str


def names_host(text: str, name: str) -> bool:
    """Whether ``text`` uses ``name`` as a host: ``name:port``, ``//name``, ``@name``,
    ``=name`` or a quoted ``"name"``. Prose (``in front of the app``) and Swarm's task
    list (``tasks.name``, which needs no virtual IP) are not."""
    n = re.escape(name)
    end = r"(?![\w.\-])"
    patterns = (
        rf"(?<![\w.\-]){n}:\d",  # name:port
        rf"(?://|@|=){n}{end}",  # scheme://name, user@name, key=name
        rf"([\"']){n}\1",  # "name" or 'name'
    )
    return any(re.search(p, text) for p in patterns)


def _words(value: Any) -> list[str]:
    """The arguments of a command given as a list or as one string."""
    if isinstance(value, list):
        return [str(v) for v in value]
    return str(value or "").split()


def _folder_texts(root: Path, label: str) -> Iterator[tuple[str, str]]:
    """(where, text) of the small text files below ``root`` (bounded in count and size)."""
    files = [root] if root.is_file() else []
    if root.is_dir():
        for path in sorted(root.rglob("*")):
            if len(files) >= MAX_FILES:
                break
            if path.is_file() and not SKIPPED_DIRS & set(path.relative_to(root).parts):
                files.append(path)
    for path in files:
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                continue
            data = path.read_bytes()
        except OSError:
            continue
        if b"\0" not in data:
            yield f"{label} {path.name}", data.decode(errors="replace")


def _mounted(svc: Mapping[str, Any], top: Mapping[str, Any]) -> Iterator[Path]:
    for vol in svc.get("volumes") or []:
        if isinstance(vol, Mapping) and vol.get("type") == "bind" and vol.get("source"):
            yield Path(str(vol["source"]))
    for kind in ("configs", "secrets"):
        for ref in svc.get(kind) or []:
            source = ref.get("source") if isinstance(ref, Mapping) else ref
            file = ((top.get(kind) or {}).get(str(source)) or {}).get("file")
            if file:
                yield Path(str(file))


def _texts(svc: Mapping[str, Any], top: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """Everything hachaos can read of what a service runs, as (where, text)."""
    for key, value in (svc.get("environment") or {}).items():
        yield f"environment {key}", str(value or "")
    for field in ("command", "entrypoint"):
        for word in _words(svc.get(field)):
            yield field, word
    for word in _words((svc.get("healthcheck") or {}).get("test")):
        yield "health check", word
    build = svc.get("build")
    if isinstance(build, Mapping) and build.get("context"):
        yield from _folder_texts(Path(str(build["context"])), "build context file")
    for path in _mounted(svc, top):
        yield from _folder_texts(path, "mounted file")


def _networks(svc: Mapping[str, Any]) -> set[str]:
    return set(svc.get("networks") or {"default": None})


def reaches(raw: Mapping[str, Any], name: str) -> tuple[list[Reach], list[str]]:
    """Who reaches service ``name`` by name (as far as hachaos can read), and who depends on
    it without naming it anywhere readable."""
    services = raw.get("services") or {}
    target = services.get(name) or {}
    found: list[Reach] = []
    silent: list[str] = []
    for other, svc in sorted(services.items()):
        if other == name or not isinstance(svc, Mapping):
            continue
        if not _networks(svc) & _networks(target):
            continue  # no shared network: its name does not resolve there
        links = [str(link).split(":", 1)[0] for link in svc.get("links") or []]
        hit = next(
            (
                Reach(other, where)
                for where, text in _texts(svc, raw)
                if text.strip() == name or names_host(text, name)
            ),
            Reach(other, "links") if name in links else None,
        )
        if hit is not None:
            found.append(hit)
        elif name in (svc.get("depends_on") or {}):
            silent.append(other)
    return found, silent


def _vip(svc: Mapping[str, Any]) -> bool:
    return ((svc.get("deploy") or {}).get("endpoint_mode") or "vip") != "dnsrr"


def hazards(raw: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """What cannot work on a swarm without IPVS (refusals), and what hachaos cannot tell
    (warnings), in a stack's canonical (`docker compose config`) form."""
    refusals: list[str] = []
    warnings: list[str] = []
    for name, svc in sorted((raw.get("services") or {}).items()):
        if not isinstance(svc, Mapping):
            continue
        for port in svc.get("ports") or []:
            if not isinstance(port, Mapping) or port.get("mode") != "host":
                refusals.append(f"service {name!r} publishes {port!r} in ingress mode")
        if not _vip(svc):
            continue
        found, silent = reaches(raw, name)
        refusals += [
            f"service {name!r} uses endpoint_mode vip (the default) and service {r.by!r} "
            f"reaches it by name ({r.where})"
            for r in found
        ]
        warnings += [
            f"service {name!r} uses endpoint_mode vip and service {other!r} depends on it, but "
            f"hachaos found the name {name!r} nowhere it can read in {other!r} (environment, "
            "command, health check, build context, mounted files): if it connects to "
            f"{name!r} by name, that fails on this swarm (no IPVS); `deploy: {{endpoint_mode: "
            "dnsrr}` makes sure"
            for other in silent
        ]
    return refusals, warnings


def preflight(raw: Mapping[str, Any], file: Path, *, proc: Path = IPVS_PROC) -> list[str]:
    """Refuse, before anything is deployed, a stack that cannot work on this kernel;
    returns what hachaos could not tell (to warn about and report)."""
    if ipvs_available(proc):
        return []
    refusals, warnings = hazards(raw)
    if refusals:
        raise ScenarioError(
            f"{file} cannot run on this swarm: " + "; ".join(refusals), hint=IPVS_HINT
        )
    return warnings
