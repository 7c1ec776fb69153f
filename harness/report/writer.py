"""The only code that writes report files. Writes are atomic (temp file, then rename)."""

from __future__ import annotations

from pathlib import Path

from harness.errors import ReportError
from harness.evidence.durable import replace_durably


def write_text(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` atomically, so a reader never sees half a report."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        replace_durably(tmp, path)
    except OSError as exc:
        raise ReportError(
            f"cannot write {path}: {exc.strerror or exc}",
            hint="check free disk space and permissions of the run folder",
        ) from exc
    return path


def write_reports(run_dir: Path, documents: dict[str, str]) -> dict[str, Path]:
    """Write ``{file name: text}`` into the run folder; returns the paths written."""
    return {name: write_text(run_dir / name, text) for name, text in documents.items()}
