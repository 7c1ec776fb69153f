"""One audit: compose document (+ image configs, + live containers) → located findings. Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from harness.audit.facts import live_facts, static_facts
from harness.audit.locate import locate
from harness.audit.models import AuditResult, ServiceFacts
from harness.audit.rules import evaluate
from harness.scenario.compose import replica_counts


def service_facts(
    raw: Mapping[str, Any],
    images: Mapping[str, Mapping[str, Any] | None] | None = None,
    live: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
    project: str = "",
) -> list[ServiceFacts]:
    """Facts per service of a canonical compose document, overridden by live containers."""
    images = images or {}
    counts = replica_counts(raw)
    out = []
    for name, given in sorted((raw.get("services") or {}).items()):
        svc = given or {}
        facts = static_facts(name, svc, counts[name], images.get(str(svc.get("image") or "")))
        if live is not None:
            facts = live_facts(facts, live.get(name) or [], project)
        out.append(facts)
    return out


def review(
    raw: Mapping[str, Any],
    text: str,
    file: str,
    *,
    images: Mapping[str, Mapping[str, Any] | None] | None = None,
    live: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
    project: str = "",
) -> AuditResult:
    """Audit one stack. ``text`` is the compose file as written (for line numbers)."""
    facts = service_facts(raw, images, live, project)
    return AuditResult(
        compose_file=file,
        mode="live" if live is not None else "static",
        findings=locate(evaluate(facts), text, file),
        services=[f.name for f in facts],
    )
