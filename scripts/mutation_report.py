"""Summarise mutmut's results (mutants/**/*.meta) into docs/testing.md.

Writes, between markers in docs/testing.md, the killed / survived / timeout table per module
and the list of surviving mutants (the changed line, and why it survives where a rule below
recognises an equivalent mutant). Run after `mutmut run` (`make mutate` does both).

usage: .venv/bin/python scripts/mutation_report.py [--print]
"""

from __future__ import annotations

import ast
import difflib
import json
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MUTANTS = ROOT / "mutants"
DOC = ROOT / "docs" / "testing.md"

STATUS = {1: "killed", 3: "killed", 0: "survived", 5: "no tests", 33: "no tests", 34: "skipped",
          36: "timeout", 24: "timeout", -24: "timeout", 152: "timeout", 255: "timeout",
          37: "caught by type check", None: "not checked"}  # fmt: skip

# Rules for mutants that cannot change behaviour: (regex on the "- old | + new" diff, reason).
EQUIVALENT: list[tuple[str, str]] = [
    (
        r"strict=(True|False)\b.*\| \+.*(strict=(None|False|True)|, \)\]|, \):)",
        "zip() of sequences that always have the same length: `strict` changes nothing",
    ),
    (
        r"side=\"left\".*\| \+.*searchsorted\([^)]*, \)",
        '`side="left"` is numpy\'s default for searchsorted',
    ),
    (
        r"dtype=np\.int64.*\| \+.*(dtype=None|, \))",
        "numpy's default integer dtype is int64 on the 64-bit Linux this runs on",
    ),
    (
        r"dtype=np\.float64.*\| \+.*(dtype=None|astype\(None\)|, \))",
        "numpy's default float dtype is float64",
    ),
    (
        r"astype\(np\.float64\).*\| \+.*astype\(None\)",
        "`astype(None)` is float64, the array's dtype already",
    ),
    (
        r"dtype=np\.int8.*\| \+.*(dtype=None|, \)\)?$)",
        "phase codes compare equal as int8, int64 or float (only the memory changes)",
    ),
    (r"astype\(np\.int8\).*\| \+.*astype\(None\)", "0/1 flags compare equal in any dtype"),
    (
        r"_UNIT_MAGNITUDE",
        "`_UNIT_MAGNITUDE` is 0 (lowest trackable value 1 µs): adding, subtracting or "
        "shifting by it changes nothing",
    ),
    (
        r"vsub >= _SUB_BUCKET_COUNT",
        "unreachable branch (HdrHistogram's normalisation): for every counts index the "
        "bucket's lowest value shifted by its bucket index is below the sub-bucket count "
        "(checked over all 23 552 indexes)",
    ),
    (
        r'(bool\(|not )ev\.get\("(ok|self_healing)", False\).*\| \+.*ev\.get\("\2", (None)?\)',
        "`bool()` / `not` of a missing key: None and False are both false",
    ),
    (
        r"nan_to_num\(latency_ms, nan=0\.0\).*\| \+.*nan_to_num\(latency_ms, \)",
        "`nan=0.0` is np.nan_to_num's default",
    ),
    (
        r"np\.bincount\(.*\.astype\(np\.int64\).*\| \+.*\.astype\(None\)",
        "bincount already counts in int64; float64 counts are exact below 2**53 and `total` "
        "is cast back to int",
    ),
    (
        r"spans = np\.where\(keep, spans, -1\.0\).*\| \+.*spans, -2\.0\)",
        "any negative marker works: at least one span is kept (checked just above) and kept "
        "spans are never negative",
    ),
    (
        r'samples\["start_us"\]\.to_numpy\(dtype=np\.int64, na_value=0\).*\| \+.*na_value=1\)',
        "a row without a start time lies before t0 with 0 or 1 µs after the epoch alike: "
        "dropped as warmup either way",
    ),
    (
        r'^- detail = "" \| \+ detail = (None|"XXXX")$',
        "every branch below sets `detail` before it is read",
    ),
    (r'kind="stable".*\| \+.*kind="STABLE"', "numpy reads the sort kind case-insensitively"),
    (r'encoding="utf-8".*\| \+.*encoding="UTF-8"', "the same codec"),
    (
        r'encoding="utf-8".*\| \+.*encoding=None',
        "the locale's encoding is UTF-8 wherever hachaos runs (Debian, C.UTF-8)",
    ),
    (
        r'dtype="object".*\| \+.*dtype=None',
        "pandas gives an empty Series the object dtype by default",
    ),
    (
        r"return any\(a <= m < b",
        "m is the midpoint of two consecutive breaks and every span end is a break, so m "
        "never equals a span end",
    ),
    (r"elif m < first", "m is a segment midpoint and `first` is a break: never equal"),
    (
        r"seg = np\.clip\(seg|len\(self\.labels\) - 1",
        "only reached for times outside [0, end), which label_of's contract excludes "
        "(end_of_run puts end after the last request)",
    ),
    (
        r"intended_us > 0.*\| \+.*intended_us > 1",
        "an intended start 1 µs after the Unix epoch never occurs",
    ),
    (
        r"na_value=np\.nan.*\| \+.*(na_value=None|, \))",
        "the latency column is float64 with NaN, never pd.NA: nothing to replace",
    ),
    (
        r"ends < n.*\| \+.*ends <= n",
        "ends never exceeds n, and at ends == n both branches read t[n - 1]",
    ),
    (
        r"impact_end - f\.injected_s.*\| \+.*impact_end \+ f\.injected_s",
        "only the duration passed to phase_metrics changes; the fault record keeps only its "
        "latency, which does not depend on the duration",
    ),
    (
        r"f\.window_end\(end_s\)\).*\| \+.*window_end\(None\)",
        "window_end reads end_s only when there is no revert and no self-healing, and then "
        "the fault never recovers, so this branch is not taken",
    ),
    (
        r"if jitter > 0:.*\| \+.*if jitter >= 0:",
        "`uniform(-0, 0)` is 0.0 and every draw has its own generator: drawing a zero shift "
        "changes nothing",
    ),
    (
        r"fault\.every or 0\.0.*\| \+.*fault\.every or 1\.0",
        "`every` is None only when `repeat` is 1 (validated), so the occurrence is 0 and the "
        "product is 0 whatever the fallback",
    ),
    (
        r'pick == "random" and taken < available.*\| \+.*taken <= available',
        "sampling every replica and sorting gives 1..n, the same as the first n (the pick "
        "generator is private to this occurrence)",
    ),
    (
        r"problems \+= _check_overlaps.*\| \+.*problems = _check_overlaps",
        "`problems` is empty on that line: the overlap check runs only when no other check "
        "found a problem",
    ),
    (
        r"'' if may else 's'\} at \{earliest.*\| \+.*(\(may\) or True|'XXsXX'|'S')\} at",
        "an occurrence can start before 0 s only through jitter (`at` is never negative), so "
        "`may` is always set in this message",
    ),
    (
        r"round\(check\.max \* 1000\.0, 6\).*\| \+.*round\(check\.max \* 1000\.0, 7\)",
        "thresholds are given to the microsecond at most: rounding to 6 or 7 decimals of a "
        "millisecond gives the same float",
    ),
    (
        r"^- if end < t <= end \+ settle: \| \+ if end <= t <= end \+ settle:$",
        "t == end (the revert) is taken by the `during` branch just above, since a window is "
        "injected before it is reverted",
    ),
    (
        r"^- if not windows or t < min\(w\.injected_s .*\| \+ if not windows or t <= min\(",
        "t equal to the first injection is taken by that window's `during` branch above",
    ),
    (r'float\("inf"\).*\| \+.*float\("INF"\)', "float() reads infinity case-insensitively"),
    (
        r'^- return Summary\.model_json_schema\(by_alias=True, mode="serialization"\) \| \+ '
        r'return Summary\.model_json_schema\((by_alias=None, mode="serialization"|'
        r'mode="serialization"|by_alias=True, )\)$',
        "`by_alias` defaults to True (None reads as the default), and the summary models have "
        "no serializer nor computed field, so the validation and serialization schemas are "
        "equal (checked: Summary.model_json_schema() == summary_json_schema())",
    ),
    (
        r'if limits\["CpuQuota"\] > 0:.*\| \+ if limits\["CpuQuota"\] >= 0:',
        "cpu.effective: a quota of 0 gives 0 / period = 0.0 cores, the value the unlimited "
        "branch returns",
    ),
    (
        r'super\(\)\.extra_state\(step, (None, ctx|targets, None)\), "original": original\}',
        "Cpu's parent Fault.extra_state reads only the step's spec (spec_state), never the "
        "targets or the context",
    ),
    (
        r"max\(back, 0\) // 1024.*\| \+.*max\(back, 1\) // 1024",
        "disk message: 0 and 1 KiB both show as 0 MiB (integer division by 1024)",
    ),
    (
        r"ThreadPoolExecutor\(max_workers=max\(1, min\(8, len\(live\)\)\)\)",
        "netns: the pool's size only sets how many targets are handled at once; each "
        "target's result is collected in order either way",
    ),
    (
        r"zip\(live, results, strict=True\).*\| \+.*zip\(live, results, (strict=\w+)?\)",
        "netns: results is pool.map over live, so both always have the same length",
    ),
    (
        r'- "(pass|fail|unchecked|error|interrupted)": "([A-Z]+)",\s*'
        r'\| \+ "(XX\w+XX|[A-Z]+)": "\2",',
        "verdict_text: a verdict missing from the table falls back to verdict.upper(), the "
        "same word",
    ),
    (
        r"\}\.get\(verdict, verdict\.upper\(\)\).*\| \+ \}\.get\(None, verdict\.upper\(\)\)",
        "verdict_text: every value of the table is its key upper-cased, so looking up None "
        "(the fallback, verdict.upper()) gives the same word",
    ),
]


def _status(code: int | None) -> str:
    return STATUS.get(code, "suspicious")


def results() -> dict[str, dict[str, str]]:
    """{module: {mutant: status}} from every .meta file."""
    out: dict[str, dict[str, str]] = defaultdict(dict)
    for meta in sorted(MUTANTS.rglob("*.py.meta")):
        module = str(meta.relative_to(MUTANTS))[: -len(".meta")]
        data = json.loads(meta.read_text())
        for key, code in data.get("exit_code_by_key", {}).items():
            out[module][key] = _status(code)
    return out


def _functions(path: Path, cache: dict[Path, dict[str, str]]) -> dict[str, str]:
    if path not in cache:
        src = path.read_text()
        cache[path] = {
            n.name: ast.get_source_segment(src, n) or ""
            for n in ast.walk(ast.parse(src))
            if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
        }
    return cache[path]


def diff(module: str, mutant: str, cache: dict[Path, dict[str, str]]) -> str:
    """The changed line(s) of a mutant, as ``- old | + new``."""
    fn, _, num = mutant.rsplit(".", 1)[-1].rpartition("__mutmut_")
    funcs = _functions(MUTANTS / module, cache)
    orig, mut = funcs.get(f"{fn}__mutmut_orig"), funcs.get(f"{fn}__mutmut_{num}")
    if orig is None or mut is None:
        return "?"
    mut = mut.replace(f"{fn}__mutmut_{num}", f"{fn}__mutmut_orig", 1)
    lines = difflib.unified_diff(orig.splitlines(), mut.splitlines(), lineterm="", n=0)
    return " | ".join(
        f"{x[0]} {x[1:].strip()}" for x in lines if x[:1] in "+-" and x[:3] not in ("+++", "---")
    )


SLACK = (
    "the two comparisons differ only for a value exactly at the float slack (1e-9 / 1e-12) "
    "around the threshold, which no real measurement can hit"
)


def _only_slack(change: str) -> bool:
    """The mutant only flips > / >= (or < / <=) or the sign of a 1e-9-style slack."""
    parts = change.split(" | ")
    if len(parts) != 2 or "1e-" not in parts[0]:
        return False

    def norm(line: str) -> str:
        line = line[2:].replace(">=", ">").replace("<=", "<")
        return line.replace("- 1e-", "+ 1e-")

    return norm(parts[0]) == norm(parts[1])


def reason(change: str) -> str:
    if _only_slack(change):
        return SLACK
    for pattern, why in EQUIVALENT:
        if re.search(pattern, change):
            return why
    return ""


def render(res: dict[str, dict[str, str]]) -> tuple[str, str]:
    head = "| module | mutants | killed | survived | timeout | no tests | not checked | killed % |"
    rows = [head, "|---|---:|---:|---:|---:|---:|---:|---:|"]
    groups: dict[str, Counter[str]] = defaultdict(Counter)
    for module in sorted(res):
        c = Counter(res[module].values())
        group = "/".join(module.split("/")[:2]) + "/"
        groups[group] += c
        rows.append(_row(f"`{module}`", c))
    rows.append("| **per folder** | | | | | | | |")
    for group in sorted(groups):
        rows.append(_row(f"**`{group}`**", groups[group]))
    survivors = ["| mutant | change | why it survives |", "|---|---|---|"]
    cache: dict[Path, dict[str, str]] = {}
    for module in sorted(res):
        for mutant, status in sorted(res[module].items()):
            if status != "survived":
                continue
            change = diff(module, mutant, cache)
            short = mutant.split(".")[-1]
            cell = change.replace("|", "\\|").replace("\\| + ", "→ + ")
            survivors.append(f"| `{module}` `{short}` | `{cell}` | {reason(change)} |")
    return "\n".join(rows), "\n".join(survivors)


def _row(label: str, c: Counter[str]) -> str:
    total = sum(c.values())
    decided = c["killed"] + c["survived"] + c["timeout"]
    pct = f"{100 * (c['killed'] + c['timeout']) / decided:.1f}" if decided else "-"
    return (
        f"| {label} | {total} | {c['killed']} | {c['survived']} | {c['timeout']} | "
        f"{c['no tests']} | {c['not checked']} | {pct} |"
    )


def replace_between(text: str, name: str, body: str) -> str:
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    if start not in text:
        return text.rstrip("\n") + f"\n\n{start}\n{body}\n{end}\n"
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{start}\n{body}\n{end}{tail}"


def main(argv: list[str]) -> int:
    table, survivors = render(results())
    if "--print" in argv:
        print(table)
        print(survivors)
        return 0
    text = DOC.read_text(encoding="utf-8")
    text = replace_between(text, "mutation-table", table)
    text = replace_between(text, "mutation-survivors", survivors)
    DOC.write_text(text, encoding="utf-8")
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
