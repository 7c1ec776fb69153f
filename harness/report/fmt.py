"""Number formatting shared by the HTML and Markdown renderers."""

from __future__ import annotations

import re
from typing import Any

MISSING = "—"

# Not allowed in XML 1.0 (C0 controls but tab/LF/CR, lone surrogates, U+FFFE/U+FFFF), plus
# CR (XML turns it into LF) and DEL: shown as escapes so that every report parses and
# shows what was written, whatever a fault name holds.
_UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def _escape_char(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` with every character XML 1.0 forbids (and DEL) written as ``\\xNN``."""
    return _UNPRINTABLE.sub(_escape_char, text)


def pct(value: float | None, digits: int = 3) -> str:
    """0.99951 → ``99.951%``; None → ``—``."""
    return MISSING if value is None else f"{value * 100:.{digits}f}%"


def ms(value: float | None) -> str:
    """Milliseconds with a sensible precision."""
    if value is None:
        return MISSING
    return f"{value:.3f} ms" if value < 10 else f"{value:,.1f} ms"


def secs(value: float | None) -> str:
    """Seconds with millisecond precision."""
    return MISSING if value is None else f"{value:.3f} s"


def num(value: float | None, digits: int = 1) -> str:
    """A plain number; integers without decimals."""
    if value is None:
        return MISSING
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.{digits}f}"


def ratio_x(value: float | None) -> str:
    """An inflation factor, e.g. ``3.20×``."""
    return MISSING if value is None else f"{value:.2f}×"


def measured(check: dict[str, Any], key: str = "measured") -> str:
    """A check's measured value or threshold in its unit."""
    value = check.get(key)
    unit = check.get("unit")
    if unit == "ratio":
        return pct(value)
    if unit == "ms":
        return ms(value)
    if unit == "s":
        return secs(value)
    if unit == "writes":
        return MISSING if value is None else f"{int(value):,}"
    return num(value, 3)


def durability_rows(d: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, value) rows of a run's durability read-back (summary["durability"])."""
    if d.get("error"):
        return [("could not check", str(d["error"]))]
    read = f"{d.get('selected', 0):,}" + (" (random sample)" if d.get("sampled") else "")
    rows = [
        ("acknowledged writes", f"{d.get('acked', 0):,}"),
        ("read back", read),
        ("ok", f"{d.get('ok', 0):,}"),
        ("lost (404)", f"{d.get('lost', 0):,}"),
        ("corrupt (wrong payload)", f"{d.get('corrupt', 0):,}"),
        ("unknown (error, timeout, 5xx)", f"{d.get('unknown', 0):,}"),
        ("unchecked (time budget)", f"{d.get('unchecked', 0):,}"),
        ("read-back time", secs(d.get("elapsed_s"))),
    ]
    for key, label in (("lost_ids", "lost ids"), ("corrupt_ids", "corrupt ids")):
        ids = d.get(key) or []
        if ids:
            more = f" … ({len(ids)} listed)" if len(ids) > 5 else ""
            rows.append((label, ", ".join(ids[:5]) + more))
    if d.get("unknown_reasons"):
        reasons = d["unknown_reasons"]
        rows.append(("unknown because", ", ".join(f"{k} ×{v}" for k, v in reasons.items())))
    return rows


def verdict_text(verdict: str) -> str:
    """The banner word of a verdict."""
    return {
        "pass": "PASS",
        "fail": "FAIL",
        "aborted": "ABORTED",
        "unchecked": "UNCHECKED",
        "error": "ERROR",
        "interrupted": "INTERRUPTED",
    }.get(verdict, verdict.upper())


def recovered_text(fault: dict[str, Any]) -> str:
    """``yes`` / ``no`` / the reason it is unknown."""
    if not fault.get("applied"):
        return "not applied"
    if fault.get("recovered"):
        return "yes"
    return "no" + (f" ({fault['recovery_note']})" if fault.get("recovery_note") else "")
