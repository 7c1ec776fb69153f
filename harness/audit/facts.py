"""Service facts from a ``docker compose config`` document or from container inspect documents.

Pure: the documents are fetched elsewhere (``harness.engine.inspection``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from harness.audit.models import Port, ServiceFacts

DOCKER_SOCKET = re.compile(r"(^|/)docker\.sock$")
# Variable names that usually carry a credential; *_FILE points to one instead.
SECRET_NAME = re.compile(
    r"(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIAL)", re.I
)


def is_secret_env(name: str, value: object) -> bool:
    """A credential-looking variable with a literal value (not a path to a secret file)."""
    if not SECRET_NAME.search(name) or name.upper().endswith("_FILE"):
        return False
    return isinstance(value, str) and value != "" and not value.startswith("/run/secrets/")


def _has_nnp(options: Sequence[str]) -> bool:
    norm = {o.replace("=", ":").replace(" ", "").lower() for o in options}
    return bool(norm & {"no-new-privileges", "no-new-privileges:true"})


def _positive(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value > 0
    if isinstance(value, str):
        try:
            return float(value) > 0
        except ValueError:
            return value.strip() != ""
    return False


def _cmd_text(value: object) -> str:
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return str(value or "")


def _healthcheck(svc: Mapping[str, Any], image: Mapping[str, Any] | None) -> bool | None:
    """Whether the service has a health check: the file's, else the image's (None: unknown)."""
    hc = svc.get("healthcheck")
    if isinstance(hc, Mapping) and hc:
        return bool(not hc.get("disable") and (hc.get("test") or ["?"])[0] != "NONE")
    if image is not None:
        test = (image.get("Healthcheck") or {}).get("Test") or []
        return bool(test) and test[0] != "NONE"
    return None


def _socket_mounts(svc: Mapping[str, Any]) -> tuple[str, ...]:
    """The sources of the volumes that mount the Docker socket."""
    return tuple(
        str(v.get("source"))
        for v in svc.get("volumes") or []
        if isinstance(v, Mapping)
        and (
            DOCKER_SOCKET.search(str(v.get("source") or ""))
            or DOCKER_SOCKET.search(str(v.get("target") or ""))
        )
    )


def static_facts(
    name: str,
    svc: Mapping[str, Any],
    replicas: int,
    image: Mapping[str, Any] | None = None,
) -> ServiceFacts:
    """Facts of one service of a canonical compose document.

    ``image`` is the image's inspect ``Config`` when it is available locally:
    its USER and HEALTHCHECK apply when the compose file sets neither.
    """
    deploy = svc.get("deploy") or {}
    limits = (deploy.get("resources") or {}).get("limits") or {}
    user = svc.get("user")
    user_from = "compose"
    if not user and image is not None:
        user, user_from = (image.get("User") or None), "image"
    restart = svc.get("restart") or (deploy.get("restart_policy") or {}).get("condition")
    env = svc.get("environment") or {}
    build = svc.get("build")
    context = str(build.get("context", "")) if isinstance(build, Mapping) else str(build or "")
    return ServiceFacts(
        name=name,
        user=str(user) if user else None,
        user_from=user_from,
        privileged=bool(svc.get("privileged")),
        cap_add=tuple(str(c).upper() for c in svc.get("cap_add") or []),
        cap_drop=tuple(str(c).upper() for c in svc.get("cap_drop") or []),
        socket_mounts=_socket_mounts(svc),
        network_mode=svc.get("network_mode"),
        pid=svc.get("pid"),
        ipc=svc.get("ipc"),
        ports=tuple(
            Port(host_ip=str(p.get("host_ip") or ""), target=int(p.get("target") or 0))
            for p in svc.get("ports") or []
            if isinstance(p, Mapping)
        ),
        healthcheck=_healthcheck(svc, image),
        restart=str(restart) if restart and restart != "no" else None,
        memory_limit=_positive(svc.get("mem_limit")) or _positive(limits.get("memory")),
        cpu_limit=_positive(svc.get("cpus")) or _positive(limits.get("cpus")),
        pids_limit=_positive(svc.get("pids_limit")) or _positive(limits.get("pids")),
        secret_env=tuple(sorted(k for k, v in env.items() if is_secret_env(k, v))),
        read_only=bool(svc.get("read_only")),
        no_new_privileges=_has_nnp([str(o) for o in svc.get("security_opt") or []]),
        networks=tuple(
            sorted(svc.get("networks") or ({} if svc.get("network_mode") else {"default": None}))
        ),
        replicas=replicas,
        depends_on=tuple(sorted(svc.get("depends_on") or {})),
        image=str(svc.get("image") or ""),
        command=" ".join(x for x in (context, _cmd_text(svc.get("command"))) if x),
    )


def live_facts(
    static: ServiceFacts, docs: Sequence[Mapping[str, Any]], project: str
) -> ServiceFacts:
    """The static facts overridden by what the engine reports for the first container.

    The container's Config already merges the image (USER, HEALTHCHECK), which
    is why the live view wins where it differs from the file.
    """
    if not docs:
        return static
    doc = docs[0]
    cfg = doc.get("Config") or {}
    hc = doc.get("HostConfig") or {}
    test = (cfg.get("Healthcheck") or {}).get("Test") or []
    env = dict(e.split("=", 1) if "=" in e else (e, "") for e in cfg.get("Env") or [])
    ports = tuple(
        Port(host_ip=str(b.get("HostIp") or ""), target=int(key.split("/")[0]))
        for key, binds in (hc.get("PortBindings") or {}).items()
        for b in binds or []
    )
    mounts = doc.get("Mounts") or []
    sockets = tuple(
        str(m.get("Source"))
        for m in mounts
        if DOCKER_SOCKET.search(str(m.get("Source") or ""))
        or DOCKER_SOCKET.search(str(m.get("Destination") or ""))
    )
    restart = (hc.get("RestartPolicy") or {}).get("Name") or None
    mode = str(hc.get("NetworkMode") or "")
    prefix = f"{project}_"
    nets = (doc.get("NetworkSettings") or {}).get("Networks") or {}
    return ServiceFacts(
        name=static.name,
        user=str(cfg.get("User") or "") or None,
        user_from="container",
        privileged=bool(hc.get("Privileged")),
        cap_add=tuple(str(c).upper() for c in hc.get("CapAdd") or []),
        cap_drop=tuple(str(c).upper() for c in hc.get("CapDrop") or []),
        socket_mounts=sockets,
        network_mode="host" if mode == "host" else static.network_mode,
        pid="host" if hc.get("PidMode") == "host" else None,
        ipc="host" if hc.get("IpcMode") == "host" else None,
        ports=ports,
        healthcheck=bool(test) and test[0] != "NONE",
        restart=None if restart in (None, "no") else str(restart),
        memory_limit=_positive(hc.get("Memory")),
        cpu_limit=_positive(hc.get("NanoCpus")) or _positive(hc.get("CpuQuota")),
        pids_limit=_positive(hc.get("PidsLimit")),
        secret_env=tuple(sorted(k for k, v in env.items() if is_secret_env(k, v))),
        read_only=bool(hc.get("ReadonlyRootfs")),
        no_new_privileges=_has_nnp([str(o) for o in hc.get("SecurityOpt") or []]),
        networks=tuple(sorted(n.removeprefix(prefix) for n in nets)) or static.networks,
        replicas=len(docs),
        depends_on=static.depends_on,
        image=static.image,
        command=static.command,
    )
