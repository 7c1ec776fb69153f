"""Run and suite folders as history records: what `hachaos run`/`suite` record after each
run and what `hachaos history import` backfills from existing reports."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.analysis.runrecord import RunRecord, SuiteRecord, record_of
from harness.analysis.summary_model import SummaryError, read_summary
from harness.history.store import HistoryStore

MAX_DEPTH = 4  # reports/<scenario>/<stamp>/ is depth 2; a CI artifact may nest it deeper
MAX_FOLDERS = 100_000  # folders visited by one import at most


def _json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def run_record(
    run_dir: Path,
    *,
    suite: str | None = None,
    repeat: str | None = None,
    repetition: int | None = None,
) -> RunRecord:
    """The record of a finished run folder (its summary.json; tags and `expect` from its
    scenario.json). SummaryError when the folder has no readable summary."""
    summary = read_summary(run_dir / "summary.json")
    scenario = _json(run_dir / "scenario.json")
    tags = scenario.get("tags")
    expected = scenario.get("expect")
    return record_of(
        summary,
        run_dir=str(run_dir),
        tags=tuple(str(t) for t in tags) if isinstance(tags, list) else (),
        expected=expected if isinstance(expected, str) else "pass",
        suite=suite,
        repeat=repeat,
        repetition=repetition,
    )


def suite_record(suite_dir: Path) -> tuple[SuiteRecord, dict[str, str]] | None:
    """A suite folder's record and {run folder: scenario} of its runs; None if not a suite."""
    doc = _json(suite_dir / "suite.json")
    if doc.get("schema") != "hachaos.suite":
        return None
    rows = [r for r in doc.get("scenarios") or [] if isinstance(r, dict)]
    started = _stamp_epoch(suite_dir.name)
    record = SuiteRecord(
        suite=suite_dir.name,
        started_at=started,
        suite_dir=str(suite_dir),
        wall_s=doc.get("wall_s") if isinstance(doc.get("wall_s"), int | float) else None,
        tags=tuple(str(t) for t in doc.get("tags") or []),
        counts={k: int(v) for k, v in (doc.get("counts") or {}).items() if isinstance(v, int)},
        unexpected=int(doc.get("unexpected") or 0),
    )
    runs = {str(r["run_dir"]): str(r.get("scenario")) for r in rows if r.get("run_dir")}
    return record, runs


def _stamp_epoch(name: str) -> float:
    """Epoch seconds of a ``20261127T153000Z`` folder name (0 when it is not one)."""
    try:
        return datetime.strptime(name[:16], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC).timestamp()
    except ValueError:
        return 0.0


@dataclass
class ImportResult:
    """What one `hachaos history import` did."""

    added: int = 0
    known: int = 0  # recorded before
    suites: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (folder, why)


def _walk(root: Path) -> tuple[list[Path], list[Path]]:
    """Run folders (run.json) and suite folders (suite.json) under ``root``, bounded."""
    run_dirs, suite_dirs, visited = [], [], 0
    stack = [(root, 0)]
    while stack and visited < MAX_FOLDERS:
        folder, depth = stack.pop()
        visited += 1
        if (folder / "run.json").is_file():
            run_dirs.append(folder)
            continue
        if (folder / "suite.json").is_file():
            suite_dirs.append(folder)
            continue  # its runs/ hold copies of reports, not run folders
        if depth < MAX_DEPTH:
            try:
                children = sorted(p for p in folder.iterdir() if p.is_dir() and not p.is_symlink())
            except OSError:
                continue
            stack += [(c, depth + 1) for c in reversed(children)]
    return sorted(run_dirs), sorted(suite_dirs)


def import_folders(store: HistoryStore, root: Path) -> ImportResult:
    """Backfill the history from every run and suite folder under ``root``."""
    result = ImportResult()
    run_dirs, suite_dirs = _walk(root)
    suite_of: dict[str, str] = {}
    for suite_dir in suite_dirs:
        found = suite_record(suite_dir)
        if found is None:
            result.skipped.append((str(suite_dir), "suite.json is not a hachaos suite"))
            continue
        suite, runs = found
        result.suites += store.add_suite(suite)
        for listed in runs:
            suite_of[str(Path(listed).resolve())] = suite.suite
    for run_dir in run_dirs:
        try:
            record = run_record(run_dir, suite=suite_of.get(str(run_dir.resolve())))
        except SummaryError as exc:
            result.skipped.append((str(run_dir), exc.message))
            continue
        if store.add_run(record):
            result.added += 1
        else:
            result.known += 1
    return result
