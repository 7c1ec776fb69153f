"""Unit tests never wait on the wall clock for something to happen.

A ``sleep`` that hopes another thread, process or coroutine got somewhere in the
meantime fails on a loaded machine (2 cores, many jobs). Tests wait on an event,
a pipe, a pidfd or an injected clock instead. The few sleeps that are not such
waits are listed below with the reason.
"""

from __future__ import annotations

import ast
from pathlib import Path

UNIT = Path(__file__).resolve().parents[1]

# (file relative to tests/unit, enclosing function): why this sleep is not a race.
ALLOWED = {
    ("evidence/test_folder.py", "slow_mkdir"): "widens a race window on purpose; asserts no time",
    ("run/test_guards_wiring.py", "_watch"): "bounded poll of a watcher thread's verdict",
}


def _is_sleep(node: ast.AST) -> bool:
    if not (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "sleep"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id in ("time", "asyncio", "gevent")
    ):
        return False
    first = node.args[0] if node.args else None
    # sleep(0) only yields to the event loop: no time passes
    return not (isinstance(first, ast.Constant) and not first.value)


def _sleeps(tree: ast.AST) -> list[tuple[str, int]]:
    """(enclosing function, line) of every ``time.sleep``/``asyncio.sleep`` call that waits."""
    found: list[tuple[str, int]] = []

    def visit(node: ast.AST, func: str) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            func = node.name
        if _is_sleep(node):
            found.append((func, getattr(node, "lineno", 0)))
        for child in ast.iter_child_nodes(node):
            visit(child, func)

    visit(tree, "<module>")
    return found


def test_no_unit_test_sleeps_to_wait() -> None:
    offenders = []
    for path in sorted(UNIT.rglob("*.py")):
        rel = path.relative_to(UNIT).as_posix()
        for func, line in _sleeps(ast.parse(path.read_text(), str(path))):
            if (rel, func) not in ALLOWED:
                offenders.append(f"tests/unit/{rel}:{line} in {func}")
    assert offenders == [], "wait on an event, a pipe or an injected clock instead"


def test_the_scan_sees_a_sleep_after_a_kill() -> None:
    src = "import os, time\ndef t():\n    os.kill(1, 15)\n    time.sleep(0.05)\n"
    assert _sleeps(ast.parse(src)) == [("t", 4)]
    assert _sleeps(ast.parse("async def f():\n    await asyncio.sleep(0)\n")) == []
    assert _sleeps(ast.parse("SCRIPT = 'import time; time.sleep(60)'\n")) == []
