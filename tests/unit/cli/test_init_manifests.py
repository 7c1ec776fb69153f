"""`hachaos init` on a folder of Kubernetes manifests writes a scenario for that engine."""

from __future__ import annotations

from pathlib import Path

import yaml
from typer.testing import CliRunner

from harness.cli.app import app

REPO = Path(__file__).resolve().parents[3]


def test_init_on_manifests_writes_a_kubernetes_scenario_that_validates(tmp_path: Path) -> None:
    out = tmp_path / "scenario.yaml"
    result = CliRunner().invoke(app, ["init", str(REPO / "k8s" / "web-ha"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    data = yaml.safe_load(out.read_text())
    assert data["name"] == "web-ha-starter"
    assert data["stack"]["engine"] == "kubernetes"
    assert Path(tmp_path / data["stack"]["manifests"]).resolve() == REPO / "k8s" / "web-ha"
    # the entry is the NodePort Service in front (HAProxy), on its Service port
    assert data["stack"]["target"] == {"service": "lb", "port": 8080}
    assert "load to lb:8080" in result.output
