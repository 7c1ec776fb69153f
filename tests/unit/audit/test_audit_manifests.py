"""`hachaos audit` of Kubernetes manifests: each rule on a hand-written workload."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from harness.audit.manifests import audit_manifests, is_manifest_source
from harness.audit.sarif import render_sarif

REPO = Path(__file__).resolve().parents[3]
SCHEMA = REPO / "tests" / "fixtures" / "sarif" / "sarif-schema-2.1.0.json"

BAD = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      hostNetwork: true
      volumes: [{name: logs, hostPath: {path: /var/log}}]
      containers:
        - name: web
          image: example/web:1
          securityContext: {privileged: true, capabilities: {add: [NET_ADMIN]}}
          env: [{name: DB_PASSWORD, value: hunter2}]
"""

GOOD = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      securityContext: {runAsNonRoot: true, runAsUser: 10001}
      containers:
        - name: web
          image: example/web:1
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: {drop: [ALL]}
          resources:
            requests: {cpu: 10m, memory: 16Mi}
            limits: {cpu: 100m, memory: 64Mi}
          readinessProbe: {tcpSocket: {port: 80}}
          livenessProbe: {tcpSocket: {port: 80}}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web}
spec: {minAvailable: 1, selector: {matchLabels: {app: web}}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web}
spec: {podSelector: {}, policyTypes: [Ingress]}
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "stack.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_bad_workload_findings(tmp_path: Path) -> None:
    result = audit_manifests(_write(tmp_path, BAD))
    got = sorted((f.rule, f.severity, f.service) for f in result.findings)
    who = "Deployment/web/web"
    assert got == sorted(
        [
            ("privileged", "critical", who),
            ("host-namespace", "high", "Deployment/web"),
            ("host-path", "high", "Deployment/web"),
            ("root-user", "high", who),
            ("cap-add", "high", who),  # NET_ADMIN is a dangerous one
            ("secret-in-environment", "high", who),
            ("privilege-escalation", "medium", who),
            ("writable-root-fs", "medium", who),
            ("no-resource-limits", "medium", who),
            ("no-resource-requests", "medium", who),
            ("no-readiness-probe", "medium", who),
            ("no-network-policy", "medium", ""),
            ("no-disruption-budget", "medium", "Deployment/web"),
            ("no-cap-drop", "low", who),
            ("no-liveness-probe", "low", who),
        ]
    )
    assert result.findings[0].severity == "critical"  # most severe first


def test_a_hardened_stack_has_no_finding(tmp_path: Path) -> None:
    assert audit_manifests(_write(tmp_path, GOOD)).findings == []


def test_the_reference_manifests_pass_the_audit() -> None:
    assert audit_manifests(REPO / "k8s" / "web-ha" / "app.yaml").services == ["Deployment/app"]
    result = audit_manifests(REPO / "k8s" / "web-ha")
    assert [f.rule for f in result.findings] == []


def test_sarif_of_a_manifest_audit_validates(tmp_path: Path) -> None:
    doc = json.loads(render_sarif(audit_manifests(_write(tmp_path, BAD))))
    jsonschema.Draft4Validator(json.loads(SCHEMA.read_text())).validate(doc)
    assert len(doc["runs"][0]["results"]) == 15


def test_manifests_are_told_from_compose_files(tmp_path: Path) -> None:
    assert is_manifest_source(_write(tmp_path, GOOD))
    assert is_manifest_source(tmp_path)
    compose = tmp_path / "compose.yaml"
    compose.write_text("services:\n  web: {image: x}\n", encoding="utf-8")
    assert not is_manifest_source(compose)
