"""Number formatting shared by the HTML and Markdown renderers."""

from __future__ import annotations

import re

from harness.analysis.expectation import expectation_text
from harness.analysis.summary_model import Durability, FaultRecord, Summary

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


def measured(value: float | None, unit: str) -> str:
    """A check's measured value or threshold in its unit."""
    if unit == "ratio":
        return pct(value)
    if unit == "ms":
        return ms(value)
    if unit == "s":
        return secs(value)
    if unit in ("writes", "count", "anomalies"):
        return MISSING if value is None else f"{int(value):,}"
    return num(value, 3)


def durability_rows(d: Durability) -> list[tuple[str, str]]:
    """(label, value) rows of a run's durability read-back (the summary's ``durability``)."""
    if d.error:
        return [("could not check", str(d.error))]
    read = f"{d.selected:,}" + (" (random sample)" if d.sampled else "")
    rows = [
        ("acknowledged writes", f"{d.acked:,}"),
        ("read back", read),
        ("ok", f"{d.ok:,}"),
        ("lost (read says missing)", f"{d.lost:,}"),
        ("corrupt (wrong payload)", f"{d.corrupt:,}"),
        ("unknown (error, timeout, 5xx)", f"{d.unknown:,}"),
        ("unchecked (time budget)", f"{d.unchecked:,}"),
        ("read-back time", secs(d.elapsed_s)),
    ]
    if d.timed_out:
        rows.append(
            (
                "timed-out writes",
                f"{d.timed_out:,}: landed {d.timed_out_landed:,}, not landed"
                f" {d.timed_out_not_landed:,}, unknown {d.timed_out_unknown:,}",
            )
        )
    for ids, label in ((d.lost_ids, "lost ids"), (d.corrupt_ids, "corrupt ids")):
        if ids:
            more = f" … ({len(ids)} listed)" if len(ids) > 5 else ""
            rows.append((label, ", ".join(ids[:5]) + more))
    if d.unknown_reasons:
        reasons = d.unknown_reasons
        rows.append(("unknown because", ", ".join(f"{k} ×{v}" for k, v in reasons.items())))
    return rows


def expect_line(s: Summary) -> str:
    """``expect: fail (as expected)``; empty for a summary written before ``expect``."""
    if s.expect is None:
        return ""
    return "expect: " + expectation_text(s.verdict, s.expect.verdict)


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


def recovered_text(fault: FaultRecord) -> str:
    """``yes`` / ``no`` / the reason it is unknown."""
    if not fault.applied:
        return "not applied"
    if fault.recovered:
        return "yes"
    return "no" + (f" ({fault.recovery_note})" if fault.recovery_note else "")
