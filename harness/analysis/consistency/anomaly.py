"""What a checker finds: an anomaly of one class, with the few operations that prove it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.analysis.consistency.history import Op, witness


@dataclass(frozen=True)
class Anomaly:
    """One anomaly: its class, the key, a sentence and a minimal witness.

    ``edges`` (cycles only) are ``(from op index, to op index, kind)`` with kind
    ``ww``, ``wr``, ``rw`` or ``rt`` (real time).
    """

    kind: str
    key: str
    text: str
    ops: tuple[Op, ...]
    edges: tuple[tuple[int, int, str], ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind,
            "key": self.key,
            "text": self.text,
            "ops": witness(self.ops),
        }
        if self.edges:
            out["edges"] = [list(e) for e in self.edges]
        out.update(self.extra)
        return out


def of(kind: str, key: str, text: str, ops: Sequence[Op], **extra: Any) -> Anomaly:
    """An anomaly whose witness is ``ops`` (each once, history order)."""
    unique = tuple({o.index: o for o in ops}.values())
    return Anomaly(kind, key, text, unique, extra=extra)


def present(*ops: Op | None) -> list[Op]:
    """The operations that are there (a witness leaves out the initial nil's "write")."""
    return [o for o in ops if o is not None]
