"""The records a run leaves behind, shared by load/, run/, analysis/ and report/.

Run folder (``reports/<scenario>/<UTC timestamp>/``):

- ``run.json``            run metadata (see ``RunMeta``)
- ``scenario.yaml``       the scenario file as given
- ``scenario.json``       the validated scenario (``model_dump(by_alias=True)``)
- ``events.jsonl``        one JSON object per line: phases and fault timings
- ``journal.jsonl``       crash-safe record of fault applies/reverts (faults/)
- ``samples.parquet``     one row per request (columns below), sorted by start time
- ``durability.json``     read-back of acknowledged writes (only with ``checks.durability``)
- ``containers.parquet``  container metrics, one row per container about every second
- ``stack_metrics.parquet`` samples scraped from ``stack.metrics`` endpoints (docs/metrics.md)
- ``annotations.json``    the fault windows as Grafana annotations
- ``report.html``, ``summary.md``, ``summary.json``, ``junit.xml``

Times: ``*_us`` are integer microseconds since the Unix epoch (host wall
clock); ``wall*`` fields in events are float seconds since the epoch and
``mono*`` are ``time.monotonic()`` seconds of the orchestrator.
"""

from __future__ import annotations

from typing import Final

# ------------------------------------------------------------------ samples
# One row per request. ``intended_us`` is 0 when the load model has no schedule
# (closed model); then corrected latency equals raw latency.
SAMPLE_COLUMNS: Final[tuple[str, ...]] = (
    "intended_us",  # int64: when the open model meant to send it
    "start_us",  # int64: when it was actually sent
    "latency_ms",  # float64: unrounded response time (NaN for dropped)
    "status",  # int32: HTTP status, 0 when there was no response
    "outcome",  # str: one of OUTCOMES
    "bytes",  # int64: response body length
    "name",  # str: request name, e.g. "GET /"
    "worker",  # str: worker id
    "item",  # str: item the request wrote or read ("" when not applicable), see below
)

# ``item`` is how durability checking learns which writes were acknowledged:
# - a write the server acknowledged (built-in workload: ``POST /items`` answered
#   201) holds ``"<id> <key>"``: the server's id, one space, the payload's unique
#   ``key`` (neither contains a space);
# - a read of one item (``GET /items/{id}``) holds ``"<id>"``;
# - every other row holds ``""``. A user locustfile fills it by putting
#   ``ITEM_CONTEXT_KEY`` into the request's Locust ``context``; samples written
#   before this column existed read as ``""``.
# - the generic durability check (``checks.durability.write``) tags an acknowledged
#   write ``"<id> <key>"`` with the id percent-encoded (so it holds no space), and a
#   write that got no response ``"? <key>"`` (``TIMED_OUT_ITEM``): it may have landed.
ITEM_CONTEXT_KEY: Final = "hachaos_item"
ITEM_COLUMN_DEFAULT: Final = ""
TIMED_OUT_ITEM: Final = "?"
# A workload that knows better than the status (an expected 404, an unexpected 200)
# puts one of OUTCOMES under this context key; the recorder takes it as the outcome.
OUTCOME_CONTEXT_KEY: Final = "hachaos_outcome"

OUTCOMES: Final[tuple[str, ...]] = (
    "ok",
    "http_4xx",
    "http_5xx",
    "timeout",
    "refused",
    "reset",
    "other",
    "dropped",  # open model: could not be started at all (generator-side)
    "unexpected_status",  # declarative requests: a 1xx-3xx status outside `expect`
)

SUCCESS: Final = "ok"

# ------------------------------------------------------------------ container metrics
# containers.parquet: one row per container of the stack per sampler round (about 1 s).
# Counters are cumulative as the engine reports them; metric columns are null while the
# container does not run (the gap is the evidence of a kill) or its reading is stale.
CONTAINERS_FILE: Final = "containers.parquet"
CONTAINER_COLUMNS: Final[tuple[str, ...]] = (
    "wall",  # float64: epoch s of the sampler round
    "service",  # str
    "replica",  # int32: compose container number / swarm task slot
    "container",  # str: container id (12 hex)
    "state",  # str: running | exited | restarting | paused | created | dead | gone
    "health",  # str: healthy | unhealthy | starting | "" (no health check)
    "restarts",  # int32: the engine's restart count (restart policy), -1 unknown
    "cpu_pct",  # float64: % of one core since the previous reading
    "mem_bytes",  # int64: memory use less the inactive page cache
    "mem_limit",  # int64
    "net_rx",  # int64: bytes received, all interfaces
    "net_tx",  # int64
    "blk_read",  # int64: bytes read from block devices
    "blk_write",  # int64
    "pids",  # int64
)

# stack_metrics.parquet: every sample of every scrape of a ``stack.metrics`` endpoint.
STACK_METRICS_FILE: Final = "stack_metrics.parquet"
STACK_METRIC_COLUMNS: Final[tuple[str, ...]] = (
    "wall",  # float64: epoch s of the scrape
    "endpoint",  # int32: index in stack.metrics
    "service",  # str
    "replica",  # int32
    "name",  # str: sample name (e.g. haproxy_backend_active_servers)
    "labels",  # str: the sample's labels as sorted compact JSON
    "value",  # float64
)

# ------------------------------------------------------------------ events
# ``kind`` values written to events.jsonl.
EV_RUN_START: Final = "run.start"  # t0_wall, t0_mono, warmup, duration, cooldown
EV_PHASE: Final = "phase"  # phase: warmup|run|cooldown, wall, mono
EV_FAULT_APPLY: Final = "fault.apply"
EV_FAULT_REVERT: Final = "fault.revert"
EV_FAULT_ERROR: Final = "fault.error"
EV_FAULT_PREFLIGHT: Final = "fault.preflight"  # fault, key, type, mechanism (netem|proxy)
EV_TARGET_GONE: Final = "fault.target_gone"
EV_RUN_END: Final = "run.end"  # outcome: completed|aborted|interrupted|error
EV_DURABILITY: Final = "durability"  # acked, checked, ok, lost, corrupt, unknown, unchecked, error
EV_CONSISTENCY: Final = "consistency"  # operations, anomalies (by class), error
# Guards (harness/scenario/guards.py): a stop condition held (index, type, condition,
# measured, detail, condition_wall, wall, cancelled, active); its faults reverted (wall,
# reverted, ok); a steady-state round (stage: before|after, ok, wall, results).
EV_ABORT: Final = "abort"
EV_ABORT_REVERTED: Final = "abort.reverted"
EV_STEADY: Final = "steady"
# host.jsonl (harness/run/host_noise.py), every 2 s: load1, cores, steal (fraction),
# busy_cores, own_cores (hachaos and its children), container_cores, other_cores.
EV_HOST: Final = "host"
# One line per fault window, Grafana-annotation shaped (time/timeEnd in epoch ms, text,
# tags), written when the run ends; the same windows as annotations.json.
EV_ANNOTATION: Final = "annotation"
# A stack.metrics endpoint that could not be scraped or parsed (first failure of a streak).
EV_SCRAPE_FAILED: Final = "metrics.scrape_failed"

# Fault events carry: fault (name), type, index, occurrence, service, targets
# (container names), planned (offset s from t0), planned_wall, wall_start,
# wall_end, mono_start, mono_end, ok (bool), error (str|None), self_healing (bool),
# and for types with a choice of mechanism, mechanism (e.g. "netem" or "proxy").

# ------------------------------------------------------------------ run.json
# Written by the orchestrator (harness/run/), read by analysis/ and report/:
# {
#   "schema": 1, "run_id": str, "scenario": str, "scenario_file": str,
#   "scenario_sha256": str, "seed": int, "project": str, "target_url": str,
#   "load_model": "open" | "closed",
#   "load_arrivals": "uniform" | "poisson" | null,   # open model only
#   "t0_wall": float,        # epoch s at t = 0 (end of warmup, start of measurement)
#   "warmup": float, "duration": float, "cooldown": float,   # seconds
#   "started_wall": float, "ended_wall": float | null,
#   "outcome": "completed" | "aborted" | "interrupted" | "error",
#   "signal": "SIGINT" | "SIGTERM" | null,
#   "errors": [str],         # infrastructure errors (fault not applied, revert failed, ...)
#   "generator": {"saturated": bool, "cpu_max": float, "workers": int,
#                 "dropped": int, "late": int,
#                 "sending_from_wall": float | null, "sending_until_wall": float | null},
#   "environment": {"hachaos": str, "git_commit": str | null, "engine_version": str,
#                   "compose_version": str, "images": {service: image_id},
#                   "host_cores": int, "python": str, "platform": str}
# }
RUN_META_SCHEMA: Final = 1
