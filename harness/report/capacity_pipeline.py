"""An experiment folder's capacity.json → every report format → files."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from harness.analysis.capacity.document import CAPACITY_FILE, CapacityDocument
from harness.errors import ScenarioError
from harness.report.capacity_html import render_capacity_html
from harness.report.capacity_junit import render_capacity_junit
from harness.report.capacity_markdown import render_capacity_markdown
from harness.report.writer import write_reports

CAPACITY_RENDERERS: dict[str, tuple[str, Callable[[CapacityDocument], str]]] = {
    "html": ("capacity.html", render_capacity_html),
    "md": ("capacity.md", render_capacity_markdown),
    "json": (CAPACITY_FILE, CapacityDocument.to_json),
    "junit": ("junit.xml", render_capacity_junit),
}


def render_capacity_documents(doc: CapacityDocument, formats: Sequence[str]) -> dict[str, str]:
    """``{file name: text}`` for each format (capacity.json is always written)."""
    unknown = [f for f in formats if f not in CAPACITY_RENDERERS]
    if unknown:
        raise ScenarioError(
            f"unknown report format(s): {', '.join(unknown)}",
            hint=f"choose from {', '.join(CAPACITY_RENDERERS)}",
        )
    wanted = dict.fromkeys(["json", *formats])
    return {CAPACITY_RENDERERS[f][0]: CAPACITY_RENDERERS[f][1](doc) for f in wanted}


def write_capacity(folder: Path, doc: CapacityDocument, formats: Sequence[str]) -> Path:
    """Write the experiment's reports into ``folder``; returns capacity.html's path."""
    write_reports(folder, render_capacity_documents(doc, formats))
    return folder / "capacity.html"


def rerender_capacity(folder: Path, formats: Sequence[str] | None = None) -> CapacityDocument:
    """Render the reports of an experiment folder again from its capacity.json."""
    doc = CapacityDocument.read(folder / CAPACITY_FILE)
    write_reports(folder, render_capacity_documents(doc, formats or list(CAPACITY_RENDERERS)))
    return doc
