"""Render run folders with an earlier hachaos and with this tree; compare their summary.json.

For a change of the analysis that must not change a figure (docs/performance.md,
"Streaming analysis"): each run folder is copied twice, `hachaos report` renders one
copy with the code of ``--base`` (a git revision, exported to a scratch folder) and
the other with this tree, and the two summary.json are compared byte for byte. Where
they differ, every differing field is listed with both values; the other reports
(summary.md, report.html, junit.xml, annotations.json) are compared too and named
when they differ. Usage:

    .venv/bin/python benchmarks/report_equivalence.py --base REV RUN_DIR [RUN_DIR ...]

Exit 0 when every pair is identical, 1 otherwise. The run folders are never written.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RENDERED = ("summary.json", "summary.md", "report.html", "junit.xml", "annotations.json")


def export(rev: str, dest: Path) -> None:
    """The tree of ``rev`` into ``dest`` (git archive)."""
    archive = dest.with_suffix(".tar")
    subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", "-o", str(archive), rev], check=True
    )
    with tarfile.open(archive) as tar:
        tar.extractall(dest, filter="data")
    archive.unlink()


def render(code: Path, run_dir: Path) -> None:
    """`hachaos report run_dir` with the package of ``code``."""
    env = dict(os.environ, PYTHONPATH=str(code))
    result = subprocess.run(
        [sys.executable, "-m", "harness.cli", "report", str(run_dir)],
        env=env,
        cwd=code,
        check=False,  # judged by the summary.json it leaves
        capture_output=True,
        text=True,
    )
    if not (run_dir / "summary.json").is_file():
        raise SystemExit(f"{run_dir}: no summary.json:\n{result.stdout}{result.stderr}")


ABSENT = "<absent>"  # a key only one side has (null is a value)


def differences(a: Any, b: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    """Every leaf where two JSON documents differ, as (path, a, b)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for key in sorted(set(a) | set(b)):
            out += differences(a.get(key, ABSENT), b.get(key, ABSENT), f"{path}.{key}")
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        out = []
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            out += differences(x, y, f"{path}[{i}]")
        return out
    return [] if a == b else [(path or ".", a, b)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base", required=True, help="git revision to compare against")
    parser.add_argument("runs", nargs="+", type=Path)
    args = parser.parse_args()
    same = 0
    with tempfile.TemporaryDirectory(prefix="hachaos-equiv-") as tmp:
        base = Path(tmp) / "base"
        export(args.base, base)
        for i, run in enumerate(args.runs):
            copies: dict[str, dict[str, bytes]] = {}
            for side, code in (("base", base), ("this", ROOT)):
                copy = Path(tmp) / f"{i}-{side}" / run.name
                shutil.copytree(run, copy)
                for name in RENDERED:
                    (copy / name).unlink(missing_ok=True)
                render(code, copy)
                copies[side] = {n: (copy / n).read_bytes() for n in RENDERED if (copy / n).exists()}
            base_files, this_files = copies["base"], copies["this"]
            others = [n for n in RENDERED[1:] if base_files.get(n) != this_files.get(n)]
            if base_files["summary.json"] == this_files["summary.json"]:
                same += 1
                also = f" (but {', '.join(others)} differ)" if others else " (every report too)"
                print(f"identical  {run}{also}")
                continue
            print(f"DIFFERENT  {run}")
            old, new = (json.loads(c["summary.json"]) for c in (base_files, this_files))
            for where, a, b in differences(old, new)[:40]:
                print(f"    {where}: {a!r} -> {b!r}")
    print(f"{same} of {len(args.runs)} summary.json identical (base {args.base})")
    return 0 if same == len(args.runs) else 1


if __name__ == "__main__":
    sys.exit(main())
