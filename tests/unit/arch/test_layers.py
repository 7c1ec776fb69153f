"""The import-linter contracts of pyproject.toml (docs/architecture.md) pass on the tree and
fail on planted wrong-way imports, each in a temporary copy of the package."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"

# file, planted line, the import-linter line that must report it (contract name or chain)
PLANTED = [
    # upward: the evidence layer must not know the orchestrator
    (
        "harness/evidence/journal.py",
        "import harness.run.orchestrator",
        "harness.evidence.journal -> harness.run.orchestrator",
    ),
    # upward: scenario must not import the fault plugins
    (
        "harness/scenario/semantics.py",
        "import harness.faults.registry",
        "harness.scenario.semantics -> harness.faults.registry",
    ),
    # sideways: siblings on one layer never import each other
    (
        "harness/faults/kill.py",
        "import harness.load.driver",
        "harness.faults.kill -> harness.load.driver",
    ),
    (
        "harness/analysis/metrics.py",
        "import harness.engine.client",
        "harness.analysis.metrics -> harness.engine.client",
    ),
    # third-party bans, each only where it belongs
    ("harness/load/driver.py", "import pandas", "harness.load.driver -> pandas"),
    ("harness/run/orchestrator.py", "import docker", "harness.run.orchestrator -> docker"),
    ("harness/report/html.py", "import rich", "harness.report.html -> rich"),
    (
        "harness/engine/compose/project.py",
        "import locust",
        "harness.engine.compose.project -> locust",
    ),
    ("harness/faults/kill.py", "import pyarrow", "harness.faults.kill -> pyarrow"),
    # only engine, load and run start processes; pure layers never do
    ("harness/faults/kill.py", "import subprocess", "harness.faults.kill -> subprocess"),
    ("harness/analysis/metrics.py", "import subprocess", "harness.analysis.metrics -> subprocess"),
]


def _copy(tmp_path: Path) -> Path:
    shutil.copytree(
        ROOT / "harness", tmp_path / "harness", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    # lint-imports puts its working folder first on sys.path: it reads the copy.
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=tree,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_tree_keeps_every_contract(tmp_path: Path) -> None:
    result = _lint(_copy(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_every_planted_wrong_way_import_breaks_a_contract(tmp_path: Path) -> None:
    tree = _copy(tmp_path)
    for file, line, _ in PLANTED:
        path = tree / file
        path.write_text(path.read_text() + f"\n{line}  # planted\n")
    result = _lint(tree)
    assert result.returncode == 1, result.stdout
    report = " ".join(result.stdout.split())  # the report wraps long lines
    missing = [chain for _, _, chain in PLANTED if chain not in report]
    assert not missing, result.stdout


@pytest.mark.parametrize(("file", "line", "chain"), PLANTED[:2], ids=["upward", "scenario-faults"])
def test_one_planted_import_alone_fails_lint(
    tmp_path: Path, file: str, line: str, chain: str
) -> None:
    tree = _copy(tmp_path)
    path = tree / file
    path.write_text(path.read_text() + f"\n{line}  # planted\n")
    result = _lint(tree)
    assert result.returncode == 1
    assert chain in " ".join(result.stdout.split())
