"""No code outside harness/engine/ compares an engine's name: it asks the engine registry.

The check walks the syntax tree of every module of ``harness/`` (engine excluded) for a
comparison (``==``, ``!=``, ``in``, ``not in``, ``is``) or a ``match`` case against an
engine name, as a string or inside a literal set, tuple, list or ``frozenset(...)``. It
is run on the real tree, and on copies with comparisons planted.
"""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest

from harness.engine import registry as engines

ROOT = Path(__file__).resolve().parents[3]
# The registered engines, and the ones being added (so a new branch never slips in early).
NAMES = frozenset({"compose", "swarm", "kubernetes", *engines.names()})


def _names_in(node: ast.AST) -> list[str]:
    """Engine names a compared operand holds (a string, or a literal collection of them)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value] if node.value in NAMES else []
    if isinstance(node, ast.Set | ast.Tuple | ast.List):
        return [n for elt in node.elts for n in _names_in(elt)]
    collections = ("frozenset", "set", "tuple", "list")
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.args:
        return _names_in(node.args[0]) if node.func.id in collections else []
    return []


def engine_name_comparisons(root: Path) -> list[str]:
    """``path:line: name`` for each comparison with an engine name outside harness/engine/."""
    found = []
    for path in sorted((root / "harness").rglob("*.py")):
        rel = path.relative_to(root)
        if rel.parts[:2] == ("harness", "engine"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Compare):
                operands = [node.left, *node.comparators]
                hits = [n for o in operands for n in _names_in(o)]
            elif isinstance(node, ast.MatchValue):
                hits = _names_in(node.value)
            else:
                continue
            found += [f"{rel}:{getattr(node, 'lineno', 0)}: {name}" for name in hits]
    return found


def test_no_engine_name_is_compared_outside_the_engine_package() -> None:
    assert engine_name_comparisons(ROOT) == []


PLANTED = [
    ("harness/run/orchestrator.py", 'if self.engine.kind == "swarm":\n    pass'),
    ("harness/faults/heal.py", 'if "kubernetes" != jf.stack.engine:\n    pass'),
    ("harness/cli/cleanup_cmd.py", 'if engine in ("compose", "swarm"):\n    pass'),
    ("harness/faults/base.py", 'if engine not in frozenset({"swarm"}):\n    pass'),
    ("harness/run/validate.py", 'match engine:\n    case "compose":\n        pass'),
]


@pytest.mark.parametrize(("module", "code"), PLANTED)
def test_a_planted_comparison_is_caught(tmp_path: Path, module: str, code: str) -> None:
    shutil.copytree(
        ROOT / "harness", tmp_path / "harness", ignore=shutil.ignore_patterns("__pycache__")
    )
    planted = tmp_path / module
    text = planted.read_text(encoding="utf-8")
    planted.write_text(f"{text}\n\nengine = ''\n{code}\n", encoding="utf-8")
    found = engine_name_comparisons(tmp_path)
    assert len(found) >= 1 and all(f.startswith(f"{module}:") for f in found), found


def test_the_engine_package_itself_may_compare_names(tmp_path: Path) -> None:
    shutil.copytree(
        ROOT / "harness", tmp_path / "harness", ignore=shutil.ignore_patterns("__pycache__")
    )
    inside = tmp_path / "harness" / "engine" / "registry.py"
    inside.write_text(inside.read_text() + '\nif __name__ == "swarm":\n    pass\n')
    assert engine_name_comparisons(tmp_path) == []
