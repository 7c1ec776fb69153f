"""Plant each bug of issue 10 in a copy of the tree and check that the unit tests catch it.

usage: .venv/bin/python scripts/planted_bugs.py [name ...]
Prints one line per bug: CAUGHT (with the failing tests) or MISSED. Exit 1 if any is missed.
The working tree is never modified: every bug is planted in a temporary copy.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# name: (file, exact original text, planted text)
BUGS: dict[str, tuple[str, str, str]] = {
    "availability >= becomes >": (
        "harness/analysis/slo.py",
        "passed=measured is not None and measured >= threshold,",
        "passed=measured is not None and measured > threshold,",
    ),
    "TTR window end closed": (
        "harness/analysis/recovery.py",
        'last = np.searchsorted(reqs.t, starts + window, side="left")',
        'last = np.searchsorted(reqs.t, starts + window, side="right")',
    ),
    "corrected-latency clamp dropped": (
        "harness/analysis/samples.py",
        "np.maximum(start_us - intended_us, 0)",
        "(start_us - intended_us)",
    ),
    "every repeat same jitter": (
        "harness/scenario/plan.py",
        '_rng(seed, index, occurrence, "jitter")',
        '_rng(seed, index, 0, "jitter")',
    ),
    "latency checks read raw, not corrected": (
        "harness/analysis/slo.py",
        'kind = "corrected" if check.corrected and lat.get("corrected") else "raw"',
        'kind = "raw"',
    ),
    "partition present check loses its jump checks": (
        "harness/faults/netns.py",
        '+ [f"iptables -w -C {h} -j {name}" for h in hooks]',
        "+ []",
    ),
    "dead-man script loses its revert at the deadline": (
        "harness/faults/netns.py",
        '"revert >/dev/null 2>&1; echo EXPIRED\\n"',
        '"echo EXPIRED\\n"',
    ),
    "dead-man script loses its revert on TERM": (
        "harness/faults/netns.py",
        "\"trap 'revert >/dev/null 2>&1; echo REVERTED; exit 0' TERM INT HUP\\n\"",
        "\"trap 'echo REVERTED; exit 0' TERM INT HUP\\n\"",
    ),
    "disk fill swaps its arguments (call site)": (
        "harness/faults/disk.py",
        'fill_script(self.state["path"], self.file, self.state["fill"])',
        'fill_script(self.file, self.state["path"], self.state["fill"])',
    ),
    "disk fill swaps its arguments (in the script)": (
        "harness/faults/disk.py",
        "def fill_script(path: str, file: str, fill: float) -> str:",
        "def fill_script(file: str, path: str, fill: float) -> str:",
    ),
}


def plant(name: str) -> tuple[bool, list[str]]:
    rel, original, planted = BUGS[name]
    with tempfile.TemporaryDirectory(prefix="hachaos-planted-") as tmp:
        copy = Path(tmp)
        for item in ("harness", "tests", "compose", "scenarios", "docs", "pyproject.toml"):
            src = ROOT / item
            if src.is_dir():
                shutil.copytree(src, copy / item, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy(src, copy / item)
        target = copy / rel
        text = target.read_text()
        if text.count(original) != 1:
            raise SystemExit(f"{name}: the original text is not in {rel} exactly once")
        target.write_text(text.replace(original, planted))
        out = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m",
             "not docker and not e2e and not browser", "tests/unit"],
            cwd=copy, capture_output=True, text=True, timeout=900, check=False,
        )  # fmt: skip
        failed = [ln.split(" ", 1)[1].split(" - ")[0] for ln in out.stdout.splitlines()
                  if ln.startswith("FAILED ")]  # fmt: skip
        return out.returncode != 0, failed


def main(names: list[str]) -> int:
    missed = 0
    for name in names or list(BUGS):
        caught, failed = plant(name)
        missed += not caught
        print(f"{'CAUGHT' if caught else 'MISSED'}  {name}", flush=True)
        for test in failed:
            print(f"          {test}", flush=True)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
