"""Every malformed fixture fails with exactly these located problems.

Each entry is ``line:column: yaml.path: message`` as `hachaos validate` prints
it after the file name. ``{dir}`` stands for the fixtures' absolute folder.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import ScenarioError
from harness.run.validate import validate_file

INVALID = Path(__file__).resolve().parents[2] / "fixtures" / "scenarios" / "invalid"

EXPECTED: dict[str, list[str]] = {
    "bandwidth-rate": [
        "14:11: faults[0].rate: expected a rate such as 500kbit or 1mbit, found '1 mbps'",
    ],
    "checks-unknown-key": [
        (
            "12:3: checks.availabilty: unknown key 'availabilty'; expected one of: "
            "availability, consistency, durability, isolation, latency, max_failure_span, "
            "min_capacity, n_plus_1, recovery "
            "(did you mean "
            "'availability'?)"
        ),
    ],
    "closed-needs-users": [
        "7:3: load: the closed model needs `users` (or `stages`)",
    ],
    "compose-missing": [
        "4:12: stack.compose: compose file {dir}/missing-compose.yaml does not exist",
    ],
    "consistency-bad-ops": [
        (
            "12:38: checks.consistency.read.value: unsupported JSON path '$.items[*]' at "
            "position 7 ('[*]'); hachaos takes only `$`, `.name`, `['name']` and `[N]`"
        ),
        (
            "13:12: checks.consistency.write: unknown placeholder {ky}; expected one of "
            "{expected}, {key}, {process}, {run_id}, {value}"
        ),
        "14:18: checks.consistency.ops_per_key: expected a value of at least 10, found 5",
    ],
    "consistency-closed-model": [
        (
            "11:5: checks.consistency: the consistency workload runs inside the open model: "
            "set `load.model: open` with `rps` (its keys rotate by the arrival rate)"
        ),
    ],
    "count-above-replicas": [
        (
            "13:13: faults[0].target: the selector wants 4 containers but service 'app' "
            "has 3 replicas"
        ),
    ],
    "count-and-percent": [
        (
            "13:13: faults[0].target: give only one of count, percent, all, index; found "
            "count, percent"
        ),
    ],
    "duplicate-key": [
        "11:1: timing: duplicate key 'timing'; it was already given on line 8",
    ],
    "duration-units": [
        ("9:13: timing.duration: expected a duration such as 500ms, 10s or 2m, found '10 sec'"),
    ],
    "empty-file": [
        "1:1: expected a mapping with version, name, stack, ..., found nothing",
    ],
    "fault-name-clashes-default": [
        (
            "13:11: faults[0].name: fault name 'kill-3' is also the automatic name "
            "(type-position) of faults[2]; give every fault its own name"
        ),
    ],
    "fault-name-duplicate": [
        (
            "18:11: faults[1].name: fault name 'blip' is already used by faults[0]; give "
            "every fault its own name"
        ),
    ],
    "fault-not-mapping": [
        "12:5: faults[0]: expected a mapping, found 'kill app at 10s'",
    ],
    "fault-type-missing": [
        (
            # The fault types come from the registry, sorted by name.
            "12:5: faults[0].type: missing required key 'type'; expected one of: bandwidth, "
            "blackhole, cpu, crash, disk, dns, http-delay, http-error, kill, latency, loss, "
            "memory, node-drain, node-loss, partition, pause, restart, rolling-restart, scale, "
            "service-scale, service-update, slow, stop"
        ),
    ],
    "fault-type-typo": [
        (
            "12:11: faults[0].type: unknown fault type 'partiton'; expected one of: bandwidth,"
            " blackhole, cpu, crash, disk, dns, http-delay, http-error, kill, latency, loss, "
            "memory, node-drain, node-loss, partition, pause, restart, rolling-restart, scale, "
            "service-scale, service-update, slow, stop (did you mean 'partition'?)"
        ),
    ],
    "for-and-until": [
        "12:5: faults[0]: give either `for` or `until`, not both",
    ],
    "index-beyond": [
        "13:13: faults[0].target: index 5 does not exist: service 'app' has 3 replicas",
    ],
    "jitter-before-start": [
        (
            "14:9: faults[0].at: the fault may start at -1s, before the run starts at 0s;"
            " move `at` later or reduce `jitter`"
        ),
    ],
    "jitter-too-large": [
        "12:5: faults[0]: `jitter` (5s) must be less than half of `every` (10s)",
    ],
    "latency-percentile-zero": [
        "13:20: checks.latency[0].percentile: expected a value above 0, found 0",
    ],
    "limits-exceeded": [
        "7:10: load.users: expected a value of at most 10000, found 100001",
        "8:14: load.processes: expected a value of at most 64 or 'auto', found 1000",
        "10:13: timing.duration: a duration must be at most 24h (86400s), found '25h'",
        "13:35: faults[0].target.count: expected a value of at most 1000, found 5000",
        (
            "16:11: faults[0].size: this size must be at most 64GiB (68719476736 bytes), "
            "found 107374182400 bytes"
        ),
        "20:13: faults[1].repeat: expected a value of at most 1000, found 1000000",
    ],
    "long-name": [
        "2:7: name: expected at most 100 characters, found 101 characters",
        "11:7: tags: expected at most 100 items, found 101 items",
    ],
    "locustfile-missing": [
        "8:15: load.locustfile: locustfile '{dir}/nowhere/locustfile.py' does not exist",
    ],
    "mix-all-zero": [
        "8:8: load.mix: at least one weight of the mix must be above 0",
    ],
    "name-pattern": [
        (
            "2:7: name: expected a name of letters, digits, '.', '_' or '-' that starts "
            "with a letter or digit, found 'bad name'"
        ),
    ],
    "nonfinite-numbers": [
        "6:18: stack.ready_timeout: a duration must be a finite number, found inf",
        "9:15: load.spawn_rate: expected a finite number, found nan",
        "10:15: load.mix.read: expected a finite number, found inf",
        "10:28: load.mix.write: expected a finite number, found '1e999'",
        "13:13: timing.cooldown: expected a duration such as 500ms, 10s or 2m, found '1e999'",
        "18:10: faults[0].for: expected a duration such as 500ms, 10s or 2m, found 'nan s'",
        "19:11: faults[0].cpus: expected a finite number, found -inf",
        "21:27: checks.availability.overall: a percentage must be a finite number, found nan",
        "23:20: checks.latency[0].percentile: expected a finite number, found inf",
    ],
    "overlap": [
        (
            "16:5: faults[1]: pause-2#0 overlaps kill-1#0 on app replica(s) 2 (seed 0); "
            "move it, or set `allow_overlap: true` on one of them"
        ),
    ],
    "percent-above-100": [
        (
            "13:37: faults[0].target.percent: a percentage must lie between 0% and 100%, "
            "found '150%'"
        ),
    ],
    "percent-zero": [
        (
            "13:13: faults[0].target: the selector resolves to zero containers (service "
            "'app' has 3 replicas); raise percent or use count"
        ),
    ],
    "pick-all-with-count": [
        (
            "13:13: faults[0].target: `pick: all` takes every replica; drop count or pick"
            " first|random"
        ),
    ],
    "processes-word": [
        "8:14: load.processes: expected a whole number or 'auto', found 'fast'",
    ],
    "python-field-name": [
        "15:5: faults[0].for_: unknown key 'for_' (did you mean 'for'?)",
    ],
    "rate-limits": [
        "13:11: faults[0].rate: a rate must be above 0bit and at most 100gbit, found '0bit'",
        "18:11: faults[1].rate: a rate must be above 0bit and at most 100gbit, found '101gbit'",
    ],
    "ready-timeout-units": [
        ("6:18: stack.ready_timeout: expected a duration such as 500ms, 10s or 2m, found 'soon'"),
    ],
    "repeat-after-run": [
        (
            "12:5: faults[0]: occurrence 4 of 4 happens at 65s, after the run ends at "
            "timing.duration = 60s; shorten it or lengthen the run"
        ),
    ],
    "repeat-needs-every": [
        "12:5: faults[0]: `repeat` above 1 needs `every`",
    ],
    "report-format-typo": [
        (
            "12:19: report.formats[1]: expected 'html', 'md', 'json' or 'junit', found "
            "'htm' (did you mean 'html'?)"
        ),
    ],
    "rps-in-closed": [
        "7:3: load: `rps` belongs to the open model; set `model: open` or use `users`",
    ],
    "run-longer-than-a-day": [
        "9:3: timing: warmup + duration + cooldown is 90000s; a run may last at most 24h (86400s)",
    ],
    "selector-unknown-key": [
        (
            "13:28: faults[0].target.cout: unknown key 'cout'; expected one of: all, "
            "count, index, percent, pick, service (did you mean 'count'?)"
        ),
    ],
    "stack-missing-compose": [
        (
            "4:3: stack.compose: missing required key 'compose' (compose file path, "
            "relative to the scenario file)"
        ),
    ],
    "stage-kind-typo": [
        (
            "9:14: load.stages[0].kind: expected 'ramp', 'step' or 'spike', found 'rmp' "
            "(did you mean 'ramp'?)"
        ),
    ],
    "stage-zero-duration": [
        "9:42: load.stages[0].duration: expected a value above 0, found '0s'",
    ],
    "target-not-local": [
        (
            "5:11: stack.target: load may only go to 127.0.0.1 or localhost, found host "
            "'example.com'"
        ),
    ],
    "target-port-not-published": [
        (
            "5:31: stack.target.port: service 'lb' does not publish container port 80; it"
            " publishes 8080"
        ),
    ],
    "target-port-range": [
        "5:31: stack.target.port: expected a value of at most 65535, found 70000",
    ],
    "target-service-unknown": [
        (
            "5:21: stack.target.service: unknown service 'lbb'; tiny.yaml has: app, lb, "
            "redis (did you mean 'lb'?)"
        ),
    ],
    "target-unknown-key": [
        (
            "5:11: stack.target.port: missing required key 'port' (container port; "
            "resolved to the host port)"
        ),
        (
            "5:25: stack.target.prt: unknown key 'prt'; expected one of: port, scheme, "
            "service (did you mean 'port'?)"
        ),
    ],
    "target-wrong-type": [
        "5:11: stack.target: expected a mapping or a string, found 8080",
    ],
    "timing-missing-duration": [
        (
            "9:3: timing.duration: missing required key 'duration' (measured run; faults "
            "happen inside it)"
        ),
    ],
    "top-level-list": [
        "1:1: expected a mapping with version, name, stack, ..., found a list",
    ],
    "too-many-occurrences": [
        "11:3: faults: the faults happen 1200 times in all (repeats included); the limit is 1000",
    ],
    "unknown-peer": [
        (
            "14:13: faults[0].peers[0]: unknown service 'redsi'; tiny.yaml has: app, lb, "
            "redis (did you mean 'redis'?)"
        ),
    ],
    "unknown-service": [
        (
            "13:23: faults[0].target.service: unknown service 'ap'; tiny.yaml has: app, "
            "lb, redis (did you mean 'app'?)"
        ),
    ],
    "unknown-top-key": [
        (
            "11:1: fautls: unknown key 'fautls'; expected one of: abort, checks, description, "
            "expect, experiment, faults, load, name, report, seed, stack, steady_state, tags, "
            "timing, version"
            " (did you mean 'faults'?)"
        ),
    ],
    "version-missing": [
        "1:1: version: missing required key 'version' (format version; always 1)",
    ],
    "version-wrong": [
        "1:10: version: expected 1, found 2",
    ],
    "window-after-run": [
        (
            "12:5: faults[0]: the fault lasts until 70s, after the run ends at "
            "timing.duration = 60s; shorten it or lengthen the run"
        ),
    ],
    "windowed-needs-for": [
        "12:5: faults[0]: a `kill` fault needs `for` or `until`",
    ],
    "yaml-bool-key": [
        (
            "12:18: checks.availability.on: unknown key 'on'; expected one of: "
            "after_recovery, baseline, during_faults, overall"
        ),
    ],
    "yaml-billion-laughs": [
        (
            "6:4: YAML aliases expand this value to more than 100000 nodes (the limit); "
            "write the values out or use fewer aliases"
        ),
    ],
    "yaml-huge-integer": [
        (
            "3:7: invalid YAML: cannot read this value: Exceeds the limit (4300 digits) for "
            "integer string conversion: value has 4400 digits"
        ),
    ],
    "yaml-recursive-alias": [
        "2:7: a YAML alias refers to a node that contains it (a recursive value)",
    ],
    "yaml-syntax": [
        (
            "4:5: invalid YAML: expected ',' or '}', but got ':' (while parsing a flow "
            "mapping at line 3, column 8)"
        ),
    ],
}


def _problems(path: Path) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        validate_file(path)
    prefix = f"{path}:"
    rendered = []
    for problem in info.value.problems:
        text = problem.render()
        assert text.startswith(prefix), text
        rendered.append(text.removeprefix(prefix))
    return rendered


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_invalid_fixture_is_located(name: str) -> None:
    path = INVALID / f"{name}.yaml"
    expected = [line.replace("{dir}", str(INVALID)) for line in EXPECTED[name]]
    assert _problems(path) == expected


def test_every_fixture_has_expectations() -> None:
    on_disk = {p.stem for p in INVALID.glob("*.yaml")}
    assert on_disk == set(EXPECTED)
    assert len(on_disk) >= 30


def test_error_counts_problems() -> None:
    with pytest.raises(ScenarioError) as info:
        validate_file(INVALID / "target-unknown-key.yaml")
    assert info.value.message.endswith("target-unknown-key.yaml: 2 problems")
    assert info.value.exit_code == 2
