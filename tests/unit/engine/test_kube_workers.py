"""Load workers as a Deployment beside a Kubernetes stack: its manifest, the pods as worker
tasks, the address and target the workers use, and removal of this run's Deployment only.

API answers are scripted; what is checked is this module's reading of them and what it
asks the API to do (the real cluster: tests/e2e/test_kube_placed_workers.py).
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from kubernetes.client.exceptions import ApiException
from pydantic import ValidationError

from harness.clock import FakeClock
from harness.engine.kubernetes import images, pods, workers, workloads
from harness.engine.port import WorkerPlacement
from harness.errors import EngineError, ScenarioError
from harness.faults.catalog import Scenario
from harness.scenario.models import RecordedScenario

RUN = "20261207T221000Z-a1b2c3-shop"
NS_NAME = "shop"
OURS = {
    "io.hachaos/load-workers": "true",
    "io.hachaos/project": NS_NAME,
    "app.kubernetes.io/managed-by": "hachaos",
}


def meta(name: str, labels: dict[str, str], run: str | None = RUN, **more: Any) -> SimpleNamespace:
    annotations = {"io.hachaos/run-id": run} if run else {}
    return SimpleNamespace(
        name=name,
        labels=labels,
        annotations=annotations,
        deletion_timestamp=more.get("deleting"),
        creation_timestamp=more.get("created", "2026-12-07T22:10:00Z"),
    )


def container(
    waiting: tuple[str, str] | None = None, restarts: int = 0, exit_code: int = 0
) -> SimpleNamespace:
    last = (
        SimpleNamespace(terminated=SimpleNamespace(exit_code=exit_code, reason="Error"))
        if restarts
        else SimpleNamespace(terminated=None)
    )
    state = SimpleNamespace(
        waiting=SimpleNamespace(reason=waiting[0], message=waiting[1]) if waiting else None
    )
    return SimpleNamespace(state=state, last_state=last, restart_count=restarts)


def pod(
    name: str,
    labels: dict[str, str],
    *,
    run: str | None = RUN,
    phase: str = "Running",
    node: str | None = "node-a",
    ip: str | None = None,
    host_network: bool = False,
    containers: list[SimpleNamespace] | None = None,
    conditions: list[SimpleNamespace] | None = None,
    created: str = "2026-12-07T22:10:00Z",
) -> SimpleNamespace:
    return SimpleNamespace(
        metadata=meta(name, labels, run, created=created),
        spec=SimpleNamespace(node_name=node, hostname=None, host_network=host_network),
        status=SimpleNamespace(
            phase=phase,
            pod_ip=ip,
            container_statuses=containers or [],
            conditions=conditions or [],
        ),
    )


class FakeApi:
    """core + apps calls the module makes, answered from lists the test sets."""

    def __init__(self) -> None:
        self.pods: list[SimpleNamespace] = []
        self.deployments: list[SimpleNamespace] = []
        self.services: dict[str, SimpleNamespace] = {}
        self.deleted: list[str] = []
        self.created: list[dict[str, Any]] = []
        self.pod_lists = 0
        self.pods_gone_after: int | None = None  # pod listings before the pods are gone

    def list_namespaced_pod(self, ns: str, label_selector: str = "", **_: Any) -> SimpleNamespace:
        assert ns == NS_NAME
        self.pod_lists += 1
        if self.pods_gone_after is not None and self.pod_lists > self.pods_gone_after:
            return SimpleNamespace(items=[])
        wanted = dict(kv.split("=") for kv in label_selector.split(",") if kv)
        items = [
            p for p in self.pods if all(p.metadata.labels.get(k) == v for k, v in wanted.items())
        ]
        return SimpleNamespace(items=items)

    def list_namespaced_deployment(
        self, ns: str, label_selector: str = "", **_: Any
    ) -> SimpleNamespace:
        wanted = dict(kv.split("=") for kv in label_selector.split(","))
        items = [
            d
            for d in self.deployments
            if all(d.metadata.labels.get(k) == v for k, v in wanted.items())
        ]
        return SimpleNamespace(items=items)

    def delete_namespaced_deployment(self, name: str, ns: str, **_: Any) -> None:
        self.deleted.append(f"{ns}/{name}")

    def create_namespaced_deployment(self, ns: str, body: dict[str, Any], **_: Any) -> None:
        if any(d["metadata"]["name"] == body["metadata"]["name"] for d in self.created):
            raise ApiException(status=409, reason="Conflict")
        self.created.append(body)

    def read_namespaced_service(self, name: str, ns: str, **_: Any) -> SimpleNamespace:
        if name not in self.services:
            raise ApiException(status=404, reason="Not Found")
        return self.services[name]


@pytest.fixture
def api() -> FakeApi:
    return FakeApi()


@pytest.fixture
def cluster(api: FakeApi) -> Any:
    return SimpleNamespace(core=api, apps=api, local=True, kubeconfig=None)


PLACEMENT = WorkerPlacement(
    replicas=2,
    command=("python3", "-m", "harness.load.worker", "--master", "10.88.0.1:41234"),
    env={"HACHAOS_TARGET": "http://10.96.4.5:80", "A": "1"},
)


def test_the_deployment_spreads_labelled_workers_that_run_once() -> None:
    body = workers.deployment(NS_NAME, RUN, PLACEMENT, "hachaos-worker:abc123", "Never")
    match = {"io.hachaos/load-workers": "true", "io.hachaos/project": "shop"}
    assert body["metadata"] == {
        "name": "hachaos-load-workers",
        "namespace": "shop",
        "labels": OURS,
        "annotations": {"io.hachaos/run-id": RUN},
    }
    spec = body["spec"]
    assert spec["replicas"] == 2 and spec["selector"] == {"matchLabels": match}
    assert spec["template"]["metadata"] == {
        "labels": OURS,
        "annotations": {"io.hachaos/run-id": RUN},
    }
    pod_spec = spec["template"]["spec"]
    assert pod_spec["affinity"] == {
        "podAntiAffinity": {
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {
                    "weight": 100,
                    "podAffinityTerm": {
                        "labelSelector": {"matchLabels": match},
                        "topologyKey": "kubernetes.io/hostname",
                    },
                }
            ]
        }
    }
    (c,) = pod_spec["containers"]
    assert c["image"] == "hachaos-worker:abc123" and c["imagePullPolicy"] == "Never"
    assert c["env"] == [
        {"name": "A", "value": "1"},
        {"name": "HACHAOS_TARGET", "value": "http://10.96.4.5:80"},
    ]
    # sh -c SCRIPT $0 "$@": the worker's own argv comes whole after the script's name
    assert c["command"][:2] == ["/bin/sh", "-c"]
    assert c["command"][3:] == [
        "hachaos-worker",
        "python3",
        "-m",
        "harness.load.worker",
        "--master",
        "10.88.0.1:41234",
    ]
    assert "/run/hachaos-once/started" in c["command"][2] and 'exec "$@"' in c["command"][2]
    assert c["volumeMounts"] == [{"name": "once", "mountPath": "/run/hachaos-once"}]
    assert pod_spec["volumes"] == [{"name": "once", "emptyDir": {}}]
    assert pod_spec["automountServiceAccountToken"] is False
    assert pod_spec["shareProcessNamespace"] is True  # the worker is not PID 1


def test_a_bad_image_or_namespace_never_reaches_the_api() -> None:
    with pytest.raises(ScenarioError, match="not an image name"):
        workers.deployment(NS_NAME, RUN, PLACEMENT, "img; rm -rf /", "Never")
    with pytest.raises(Exception, match="namespace"):
        workers.deployment("Bad_NS", RUN, PLACEMENT, "img:1", "Never")


def test_the_default_image_is_refused_on_a_cluster_it_cannot_reach(
    cluster: Any, api: FakeApi
) -> None:
    cluster.local = False
    with pytest.raises(ScenarioError, match="local cluster") as err:
        workers.place(cluster, NS_NAME, RUN, PLACEMENT)
    assert "load.workers.kubernetes.image" in (err.value.hint or "")
    assert api.created == []


def test_a_given_image_is_loaded_when_docker_has_it(
    cluster: Any, api: FakeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    loaded: list[list[str]] = []

    def load(wanted: list[str]) -> list[str]:
        loaded.append(wanted)
        return wanted

    monkeypatch.setattr(images, "load_local", load)
    given = WorkerPlacement(replicas=1, command=("x",), image="reg.local/w:1")
    workers.place(cluster, NS_NAME, RUN, given)
    assert loaded == [["reg.local/w:1"]]
    assert api.created[0]["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] == (
        "IfNotPresent"
    )
    with pytest.raises(EngineError, match="already has a Deployment hachaos-load-workers"):
        workers.place(cluster, NS_NAME, RUN, given)


def test_worker_tasks_say_why_a_worker_is_missing(cluster: Any, api: FakeApi) -> None:
    api.pods = [
        pod(
            "hachaos-load-workers-7d9-b2",
            OURS,
            phase="Pending",
            containers=[container(("ErrImageNeverPull", 'image "w:1" is not present'))],
            created="2026-12-07T22:10:02Z",
        ),
        pod("hachaos-load-workers-7d9-a1", OURS, node="node-b"),
        pod(
            "hachaos-load-workers-7d9-c3",
            OURS,
            phase="Pending",
            node=None,
            conditions=[
                SimpleNamespace(
                    type="PodScheduled", status="False", message="0/1 nodes available", reason=""
                )
            ],
            created="2026-12-07T22:10:03Z",
        ),
        pod(
            "hachaos-load-workers-7d9-d4",
            OURS,
            containers=[container(restarts=1, exit_code=3)],
            created="2026-12-07T22:10:04Z",
        ),
        pod("hachaos-load-workers-old-x", OURS, run="another-run"),  # not this run's
    ]
    got = [t.describe() for t in workers.tasks(cluster, NS_NAME, RUN)]
    assert got == [
        "hachaos-load-workers-7d9-a1 on node-b: Running",
        "hachaos-load-workers-7d9-b2 on node-a: Pending (ErrImageNeverPull: "
        'image "w:1" is not present)',
        "hachaos-load-workers-7d9-c3 on no node yet: Pending (not scheduled: 0/1 nodes available)",
        "hachaos-load-workers-7d9-d4 on node-a: Running (exited with 3 (Error), not rejoined)",
    ]
    # the host name a worker reports is its pod's name
    assert workers.tasks(cluster, NS_NAME, RUN)[0].host == "hachaos-load-workers-7d9-a1"


def _dep(name: str, labels: dict[str, str], run: str | None = RUN) -> SimpleNamespace:
    return SimpleNamespace(metadata=meta(name, labels, run))


def test_removal_deletes_this_runs_deployment_only_and_waits(cluster: Any, api: FakeApi) -> None:
    api.deployments = [
        _dep("hachaos-load-workers", OURS),
        _dep("look-alike", OURS, run="another-run"),
        _dep("not-managed", {k: v for k, v in OURS.items() if "managed-by" not in k}),
    ]
    api.pods = [pod("hachaos-load-workers-7d9-a1", OURS)]
    api.pods_gone_after = 2  # listed twice with the pod, gone at the third look
    clock = FakeClock()
    done = workers.remove(cluster, NS_NAME, RUN, clock=clock)
    assert api.deleted == ["shop/hachaos-load-workers"]
    assert done == ["removed load worker Deployment shop/hachaos-load-workers"]
    assert api.pod_lists == 3 and clock.sleeps == 2


def test_removal_is_bounded_and_says_what_is_left(cluster: Any, api: FakeApi) -> None:
    api.deployments = [_dep("hachaos-load-workers", OURS)]
    api.pods = [pod("hachaos-load-workers-7d9-a1", OURS), pod("hachaos-load-workers-7d9-b2", OURS)]
    clock = FakeClock()
    done = workers.remove(cluster, NS_NAME, RUN, timeout=5.0, clock=clock)
    assert done[1] == "2 worker pod(s) still terminating after 5 s"
    assert clock.sleeps == 11  # tries at 0, 0.5 ... 5.5: the last one past the deadline


def test_nothing_of_this_run_nothing_removed(cluster: Any, api: FakeApi) -> None:
    api.deployments = [_dep("look-alike", OURS, run="another-run")]
    assert workers.remove(cluster, NS_NAME, RUN) == []
    assert api.deleted == [] and api.pod_lists == 0


def test_cleanup_removes_a_dead_runs_deployment_on_its_namespace(
    cluster: Any, api: FakeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(workloads, "for_namespace", lambda ns: cluster)
    api.deployments = [_dep("hachaos-load-workers", OURS)]
    assert workloads.remove_left_workers(NS_NAME, RUN) == [
        "removed load worker Deployment shop/hachaos-load-workers"
    ]
    with pytest.raises(Exception, match="namespace"):
        workloads.remove_left_workers("../etc", RUN)


def test_the_master_listens_where_the_stacks_pods_route_to(
    cluster: Any, api: FakeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []

    def route(address: str) -> str:
        asked.append(address)
        return "10.88.0.1" if address.startswith("10.88.") else "127.0.0.1"

    monkeypatch.setattr(workers, "source_address_toward", route)
    api.pods = [
        pod("helper", {pods.HELPER_LABEL: "1"}, ip="10.88.0.40"),
        pod("hachaos-load-workers-x", OURS, ip="10.88.0.41"),
        pod("host-net", {}, ip="127.0.0.1", host_network=True),
        pod("pending", {}, ip=None),
        pod("web-1", {"app": "web"}, ip="10.88.0.7"),
    ]
    assert workers.master_address(cluster, NS_NAME) == "10.88.0.1"
    assert asked == ["10.88.0.7"]
    api.pods = [pod("web-1", {"app": "web"}, ip="192.168.9.9")]  # routes over loopback
    with pytest.raises(EngineError, match="cannot tell which address") as err:
        workers.master_address(cluster, NS_NAME)
    assert "load.workers.kubernetes.listen" in (err.value.hint or "")


def _svc(cluster_ip: str, *ports: tuple[int, int]) -> SimpleNamespace:
    return SimpleNamespace(
        spec=SimpleNamespace(
            cluster_ip=cluster_ip, ports=[SimpleNamespace(port=p, target_port=t) for p, t in ports]
        )
    )


def test_the_workers_reach_the_target_at_its_cluster_ip(cluster: Any, api: FakeApi) -> None:
    api.services = {"web": _svc("10.96.4.5", (80, 8080), (443, 8443))}
    assert workers.target_url(cluster, NS_NAME, "web", 80, "http") == "http://10.96.4.5:80"
    # the target port names the Service's port the pods connect to
    assert workers.target_url(cluster, NS_NAME, "web", 8443, "https") == "https://10.96.4.5:443"
    api.services["v6"] = _svc("fd00:96::5", (80, 80))
    assert workers.target_url(cluster, NS_NAME, "v6", 80, "http") == "http://[fd00:96::5]:80"
    api.services["headless"] = _svc("None", (80, 80))
    with pytest.raises(ScenarioError, match="headless"):
        workers.target_url(cluster, NS_NAME, "headless", 80, "http")
    with pytest.raises(ScenarioError, match="has no port 9000"):
        workers.target_url(cluster, NS_NAME, "web", 9000, "http")
    with pytest.raises(ScenarioError, match="has no Service 'db'"):
        workers.target_url(cluster, NS_NAME, "db", 5432, "http")


def test_worker_pods_are_never_stack_targets(
    cluster: Any, api: FakeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert pods.hachaos_pod(OURS) and pods.hachaos_pod({pods.HELPER_LABEL: "1"})
    assert not pods.hachaos_pod({"app": "web"}) and not pods.hachaos_pod(None)
    monkeypatch.setattr(pods, "for_namespace", lambda ns: cluster)
    web = pod("web", {"app": "web"})
    worker = pod("hachaos-load-workers-7d9-a1", OURS)
    for p in (web, worker):  # bare pods: each its own workload
        p.metadata.namespace, p.metadata.owner_references = NS_NAME, []
        p.spec.containers = [SimpleNamespace(name="c")]
    api.pods = [worker, web]
    api.list_namespaced_service = lambda ns, **_: SimpleNamespace(items=[])  # type: ignore[method-assign]
    assert [t.name for t in pods.project_targets(NS_NAME)] == ["web"]
    assert [p.metadata.name for p in pods.workload_pods(cluster, NS_NAME, "web")] == ["web"]
    assert pods.workload_pods(cluster, NS_NAME, "hachaos-load-workers-7d9-a1") == []


def _scenario(engine: str) -> dict[str, Any]:
    stack: dict[str, Any] = {"engine": engine, "target": {"service": "web", "port": 80}}
    stack["manifests" if engine == "kubernetes" else "compose"] = "stack.yaml"
    return {
        "version": 1,
        "name": "w",
        "stack": stack,
        "load": {"model": "open", "rps": 10, "workers": {"kubernetes": {"replicas": 2}}},
        "timing": {"duration": 10},
        "source": Path("/tmp/s.yaml"),
    }


def test_kubernetes_workers_are_accepted_beside_a_kubernetes_stack_only() -> None:
    s = Scenario.model_validate(_scenario("kubernetes"))
    assert s.load.workers is not None
    name, spec = s.load.workers.placement() or ("", None)
    assert name == "kubernetes" and spec is not None and spec.replicas == 2
    with pytest.raises(ValidationError, match=r"set `stack\.engine: kubernetes`"):
        Scenario.model_validate(_scenario("swarm"))


def test_a_recorded_scenario_reads_back_its_kubernetes_workers() -> None:
    """The dump carries every placing engine's key (``swarm: null`` beside ours)."""
    dumped = Scenario.model_validate(_scenario("kubernetes")).model_dump(
        mode="json", by_alias=True, exclude={"source"}
    )
    assert dumped["load"]["workers"]["swarm"] is None
    rec = RecordedScenario.model_validate(dumped)
    assert rec.load.workers is not None
    name, spec = rec.load.workers.placement() or ("", None)
    assert name == "kubernetes" and spec is not None and spec.replicas == 2
