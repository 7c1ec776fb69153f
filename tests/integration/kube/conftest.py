"""One k8s/web-ha namespace per test module on the local cluster, and a look at its pods
from the host (the local cluster's node is this machine), independent of harness code.

Holds /tmp/hachaos-kube.lock shared (the cluster's down/up test takes it alone).
"""

from __future__ import annotations

import fcntl
import json
import re
import secrets
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.engine.kubernetes import helper_pods
from harness.engine.kubernetes.engine import KubernetesEngine
from harness.evidence.events import EventLog
from harness.faults.runner import FaultRunner

ROOT = Path(__file__).resolve().parents[3]
LOCK = Path("/tmp/hachaos-kube.lock")
STATE = Path("/var/lib/hachaos/kube")
KUBECONFIG = STATE / "admin.kubeconfig"
KUBECTL = "/var/cache/hachaos/kube/bin/kubectl"


def kubectl(*args: str, timeout: float = 60) -> str:
    return subprocess.run(
        [KUBECTL, "--kubeconfig", str(KUBECONFIG), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    ).stdout


@pytest.fixture(scope="session")
def local_cluster() -> Iterator[None]:
    """The local cluster, held shared: no down/up of it while these tests run."""
    with LOCK.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_SH)
        if not KUBECONFIG.exists() or "ok" not in kubectl("get", "--raw", "/readyz"):
            pytest.fail("the local cluster is not up: run `make kube` (scripts/ensure-kube)")
        yield


@dataclass
class Deployed:
    """k8s/web-ha deployed into a namespace of its own."""

    engine: KubernetesEngine

    @property
    def namespace(self) -> str:
        return self.engine.namespace

    def runner(self, run_dir: Path) -> FaultRunner:
        run_dir.mkdir(parents=True, exist_ok=True)
        log = EventLog(run_dir / "events.jsonl")
        _LOGS.append(log)
        return FaultRunner(
            project=self.namespace,
            run_id=f"it{secrets.token_hex(6)}",
            run_dir=run_dir,
            events=log,
            engine="kubernetes",
            select=self.engine.select,
        )

    def pod(self, app: str, number: int = 1) -> str:
        """The name of the ``number``-th oldest Ready pod of ``app`` (the engine's numbering)."""
        return self.engine.select(app, (number,))[0].name

    def helpers(self) -> list[str]:
        """Helper pods not deleted yet (a deleted one may linger while the kubelet, slow on
        a busy host, removes it; its process has ended: the netns checks show that)."""
        out = kubectl("get", "pods", "-n", self.namespace, "-l", "io.hachaos/helper", "-o", "json")
        return [
            p["metadata"]["name"]
            for p in json.loads(out)["items"]
            if not p["metadata"].get("deletionTimestamp")
        ]


_LOGS: list[EventLog] = []


@pytest.fixture(scope="module")
def web_ha(local_cluster: None) -> Iterator[Deployed]:
    ns = f"hachaos-it-{secrets.token_hex(4)}"
    engine = KubernetesEngine(ROOT / "k8s" / "web-ha", ns, f"it-{ns}")
    helper_pods.ensure_image()
    try:
        engine.deploy(ready_timeout=300)
        yield Deployed(engine)
    finally:
        engine.teardown()


@pytest.fixture(autouse=True)
def state_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Each test journals into its own state folder; event logs are closed after it."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    yield tmp_path / "state"
    while _LOGS:
        _LOGS.pop().close()


# ------------------------------------------------------------------ the host's view
def container_id(namespace: str, pod: str) -> str:
    """The runtime id of the pod's first container (kubectl, not harness code)."""
    raw = kubectl(
        "get",
        "pod",
        pod,
        "-n",
        namespace,
        "-o",
        "jsonpath={.status.containerStatuses[0].containerID}",
    )
    cid = raw.split("://", 1)[-1].strip()
    assert re.fullmatch(r"[0-9a-f]{64}", cid), raw
    return cid


def pids_of(cid: str) -> list[int]:
    """Host pids of the container's live processes (its cgroup names it; no zombies)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if cid in (proc / "cgroup").read_text() and state_of(int(proc.name)) != "Z":
                found.append(int(proc.name))
        except OSError:
            continue
    return sorted(found)


def state_of(pid: int) -> str:
    """The process's state letter (R, S, T, Z...) from /proc/<pid>/stat."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


def zombies_of(cid: str) -> list[int]:
    out = []
    for proc in Path("/proc").iterdir():
        try:
            if (
                proc.name.isdigit()
                and cid in (proc / "cgroup").read_text()
                and state_of(int(proc.name)) == "Z"
            ):
                out.append(int(proc.name))
        except OSError:
            continue
    return out


def in_netns(pid: int, *argv: str) -> str:
    done = subprocess.run(
        ["nsenter", "-t", str(pid), "-n", "--", *argv],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return done.stdout


def netns_state(pid: int) -> str:
    """The netns's iptables rules and qdiscs, counters dropped. A table with no rule whose
    chains all accept by policy counts as absent: iptables-nft creates one on first use,
    and it filters nothing."""
    kept = []
    for table in in_netns(pid, "iptables-save").split("COMMIT\n"):
        lines = [re.sub(r" \[\d+:\d+\]$", "", x) for x in table.splitlines() if x[:1] != "#"]
        if any(x.startswith("-") or (x.startswith(":") and " ACCEPT" not in x) for x in lines):
            kept.append("\n".join(lines))
    return "\n".join(kept) + "\n--\n" + in_netns(pid, "tc", "qdisc", "show")


def netns_inode(pid: int) -> int:
    return Path(f"/proc/{pid}/ns/net").stat().st_ino


def processes_of_uid_in_netns(uid: int, inode: int) -> list[int]:
    """Host pids of processes of ``uid`` inside the network namespace ``inode``."""
    out = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            uids = (proc / "status").read_text().split("\nUid:", 1)[1].split()
            if int(uids[0]) == uid and (proc / "ns" / "net").stat().st_ino == inode:
                out.append(int(proc.name))
        except (OSError, IndexError, ValueError):
            continue
    return out


def wait_until(check: Callable[[], bool], timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False
