"""checks.consistency in every report: summary rows, witnesses and their timeline pictures.

A witness picture is drawn like Porcupine's visualisation: one row per
process, each operation a bar from its invoke to its complete (an ``info``
one fades out to the right: it may have taken effect at any later time),
labelled with what it did; a cycle's edges are arrows between the bars. The
SVG is inline and self-contained (no script, no fetched file), a few KB each.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import Any

from harness.analysis.summary_model import Consistency

WITNESS_HEAD = ("process", "operation", "result", "invoked (ms since t0)", "completed")
ROW_H = 26
LABEL_W = 70
PLOT_W = 620
TYPE_FILL = {"ok": "#4c9a2a", "fail": "#9a9a9a", "info": "#d08c1c"}


@dataclass(frozen=True)
class WitnessView:
    """One witness as the reports show it; times are ms since the run's t = 0."""

    kind: str
    key: str
    text: str
    rows: list[tuple[str, str, str, str, str]]  # process, operation, type, invoke, complete
    svg: str


def consistency_rows(c: Consistency) -> list[tuple[str, str]]:
    """(label, value) rows: the history's size, each check's count, stale-read figures."""
    if c.error:
        return [("could not check", c.error)]
    types = ", ".join(f"{k} {v:,}" for k, v in c.types.items())
    rows = [
        ("model", c.model),
        (
            "operations",
            f"{c.operations:,} ({types}) on {c.keys:,} keys by {c.processes:,} processes",
        ),
    ]
    for check in c.checks:
        value = f"unknown: {check.unknown}" if check.unknown else f"{check.anomalies:,}"
        rows.append((check.check, value))
    for name, why in c.skipped.items():
        rows.append((name, f"not applicable: {why}"))
    if c.anomalies:
        rows.append(("anomalies by class", ", ".join(f"{k} {v:,}" for k, v in c.anomalies.items())))
    stale = c.stale or {}
    if stale.get("stale"):
        ms, versions = stale.get("ms") or {}, stale.get("versions") or {}
        rows.append(
            (
                "stale reads",
                f"{stale['stale']:,} of {stale.get('reads', 0):,} reads; behind by"
                f" {_num(ms.get('p50'))} ms median, {_num(ms.get('max'))} ms max;"
                f" {_num(versions.get('max'))} versions max",
            )
        )
    if c.final_reads is not None:
        rows.append(("final reads", final_reads_text(c.final_reads, c.final_read_keys)))
    lin = c.linearizability
    if lin:
        rows.append(("linearizability checker", str(lin.get("checker", ""))))
    if c.elapsed_s is not None:
        rows.append(("check time", f"{c.elapsed_s:.2f} s"))
    return rows


def final_reads_text(final: dict[str, Any], keys_read: int | None) -> str:
    """What the final-read phase did, in one line."""
    text = (
        f"{final.get('ok', 0):,} of {final.get('selected', 0):,} keys read after the faults"
        f" ({final.get('tries', 0):,} tries, {_num(final.get('elapsed_s'))} s, after waiting"
        f" {_num(final.get('waited_s'))} s)"
    )
    missed = [f"{final[k]:,} {k}" for k in ("failed", "unread") if final.get(k)]
    if missed:
        text += "; " + ", ".join(missed)
    notes = final.get("notes") or []
    if notes:
        text += "; " + "; ".join(str(n) for n in notes)
    if keys_read is not None and keys_read != final.get("ok"):
        text += f"; {keys_read:,} keys with an ok final read in the history"
    return text


def _num(value: Any) -> str:
    return "—" if value is None else f"{float(value):g}"


def witnesses(c: Consistency) -> list[WitnessView]:
    """The witnesses of ``c`` with their op rows and pictures."""
    t0 = c.t0_mono_ns
    out = []
    for w in c.witnesses:
        ops: list[dict[str, Any]] = w.get("ops") or []
        base = t0 if t0 is not None else min((o["invoke_ns"] for o in ops), default=0)
        rows = [
            (
                str(o["process"]),
                str(o["text"]),
                str(o["type"]) + (" (mismatch)" if o.get("mismatch") else ""),
                _ms(o["invoke_ns"] - base),
                "never" if o["type"] == "info" else _ms(o["complete_ns"] - base),
            )
            for o in ops
        ]
        out.append(
            WitnessView(
                str(w.get("kind")), str(w.get("key")), str(w.get("text")), rows, timeline(w)
            )
        )
    return out


def _ms(ns: int) -> str:
    return f"{ns / 1e6:,.1f}"


def timeline(w: dict[str, Any]) -> str:
    """An inline SVG of one witness: a row per process, a bar per operation, cycle arrows."""
    ops: list[dict[str, Any]] = w.get("ops") or []
    if not ops:
        return ""
    procs = list(dict.fromkeys(o["process"] for o in ops))
    start = min(o["invoke_ns"] for o in ops)
    end = max(max(o["complete_ns"], o["invoke_ns"]) for o in ops)
    span = max(end - start, 1)

    def x(ns: float) -> float:
        return float(LABEL_W + (ns - start) / span * PLOT_W)

    height = ROW_H * len(procs) + 30
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="witness" viewBox="0 0'
        f' {LABEL_W + PLOT_W + 20} {height}" role="img">',
        f"<title>{escape(str(w.get('kind')))} on key {escape(str(w.get('key')))}</title>",
    ]
    pos: dict[int, tuple[float, float, float]] = {}  # op index -> (x0, x1, y)
    for row, proc in enumerate(procs):
        y = 8 + row * ROW_H
        out.append(
            f'<text x="2" y="{y + 14}" font-size="11">{escape(_short(str(proc), 10))}</text>'
        )
    for o in ops:
        y = 8 + procs.index(o["process"]) * ROW_H
        x0 = x(o["invoke_ns"])
        info = o["type"] == "info"
        x1 = LABEL_W + PLOT_W if info else max(x(o["complete_ns"]), x0 + 3)
        fill = TYPE_FILL.get(o["type"], "#777")
        opacity = ' fill-opacity="0.35"' if info else ""
        out.append(
            f'<rect x="{x0:.1f}" y="{y}" width="{x1 - x0:.1f}" height="18" rx="3"'
            f' fill="{fill}"{opacity}><title>{escape(str(o["text"]))} ({o["type"]})</title></rect>'
        )
        out.append(
            f'<text x="{x0 + 3:.1f}" y="{y + 13}" font-size="10" fill="#fff">'
            f"{escape(_short(str(o['text']), max(int((x1 - x0) / 6), 4)))}</text>"
        )
        pos[int(o["index"])] = (x0, x1, y + 9)
    out += _edges(w.get("edges") or [], pos)
    axis_y = height - 8
    out.append(
        f'<text x="{LABEL_W}" y="{axis_y}" font-size="10">0 ms</text>'
        f'<text x="{LABEL_W + PLOT_W}" y="{axis_y}" font-size="10" text-anchor="end">'
        f"{span / 1e6:,.1f} ms</text>"
    )
    if w.get("edges"):
        out.insert(
            2,
            '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6"'
            ' markerHeight="6" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#b0303a"/>'
            "</marker></defs>",
        )
    out.append("</svg>")
    return "".join(out)


def _edges(
    edges: list[tuple[int, int, str]], pos: dict[int, tuple[float, float, float]]
) -> list[str]:
    """An arrow per dependency edge of the witness, from one bar's end to the next's start."""
    out: list[str] = []
    for a, b, kind in edges:
        if a in pos and b in pos:
            xa, ya = pos[a][1], pos[a][2]
            xb, yb = pos[b][0], pos[b][2]
            out.append(
                f'<path d="M{xa:.1f},{ya} C{xa + 30:.1f},{ya} {xb - 30:.1f},{yb} {xb:.1f},{yb}"'
                f' fill="none" stroke="#b0303a" stroke-width="1.5"'
                f' marker-end="url(#arrow)"><title>{escape(str(kind))}</title></path>'
            )
            out.append(
                f'<text x="{(xa + xb) / 2:.1f}" y="{(ya + yb) / 2 - 3:.1f}" font-size="10"'
                f' fill="#b0303a">{escape(str(kind))}</text>'
            )
    return out


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(limit - 1, 1)] + "…"
