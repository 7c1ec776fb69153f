"""Read acknowledged writes back after the faults are reverted (Jepsen-style durability).

The samples' ``item`` column lists every write the system under test
acknowledged (``"<id> <key>"``, see :mod:`harness.records`). After the faults
are reverted, and before teardown, each of them (or a seeded random sample) is
read back with ``GET <target>/items/<id>`` and classified:

- ``ok``: 200 and the payload's ``key`` matches;
- ``lost``: 404, the system forgot a write it acknowledged;
- ``corrupt``: 200 with another payload (or no readable one);
- ``unknown``: an error, a timeout or any other status. The stack may still be
  healing, so these are never counted as lost.

Reads left when the time budget runs out are ``unchecked``. Traffic goes only
to the run's target URL, which must be on the loopback interface.

Any other HTTP API (``checks.durability`` with ``write``, ``id``, ``read``): the
read is the scenario's ``read`` template, ``{id}`` the write's captured id and
``{key}`` the unique key hachaos put in it; ``read.expect`` statuses are ``ok``
when every ``compare`` path holds its value (else ``corrupt``), ``read.missing``
statuses are ``lost``, anything else ``unknown``. Writes that got no response
because they timed out are counted apart: each is looked up by its key
(``lookup``, or ``read`` when that uses ``{key}`` and no ``{id}``) and counted as
``landed`` (an expect status), ``not landed`` (a missing status) or unknown.
"""

from __future__ import annotations

import http.client
import json
import random
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pyarrow.compute as pc
import pyarrow.parquet as pq

from harness.errors import EngineError, HarnessError
from harness.evidence.events import EventLog
from harness.evidence.folder import write_json_atomic
from harness.records import EV_DURABILITY, TIMED_OUT_ITEM
from harness.run.loopback import KeepAlive, loopback_base
from harness.run.ready import wait_ready
from harness.scenario.httpspec import DurableRead, key_only
from harness.scenario.models import DurabilityCheck
from harness.scenario.templates import parse_json_path, render

RESULT_FILE = "durability.json"
ID_LIST_CAP = 100  # ids listed per class in durability.json; the counts are exact
READ_TIMEOUT_S = 2.0  # per read; the overall budget is timeout_s
READY_TIMEOUT_S = 20.0  # a just-reverted fault may still be healing
_CLASSES = ("ok", "lost", "corrupt", "unknown")


@dataclass
class DurabilityResult:
    """Counts of one read-back; ``ok + lost + corrupt + unknown + unchecked == selected``."""

    run_id: str = ""
    acked: int = 0  # acknowledged writes found in the samples
    selected: int = 0  # of those, the ones chosen for reading (min(acked, max_reads))
    checked: int = 0  # reads that finished: ok + lost + corrupt + unknown
    ok: int = 0
    lost: int = 0
    corrupt: int = 0
    unknown: int = 0
    unchecked: int = 0  # selected but not read before the time budget ran out
    sampled: bool = False  # selected < acked
    elapsed_s: float = 0.0
    lost_ids: list[str] = field(default_factory=list)
    corrupt_ids: list[str] = field(default_factory=list)
    unknown_reasons: dict[str, int] = field(default_factory=dict)
    # writes that got no response (timed out): they may or may not have landed
    timed_out: int = 0
    timed_out_landed: int = 0
    timed_out_not_landed: int = 0
    timed_out_unknown: int = 0  # no lookup, or the lookup gave no definite answer
    error: str | None = None  # the check itself failed (not the system under test)
    notes: list[str] = field(default_factory=list)

    @property
    def conclusive(self) -> int:
        """Reads with a definite answer (ok, lost or corrupt)."""
        return self.ok + self.lost + self.corrupt

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def load_acked(samples_path: Path, *, encoded: bool = False) -> list[tuple[str, str]]:
    """``(id, key)`` of every acknowledged write in ``samples.parquet``, first seen first.

    Samples without the ``item`` column (older runs, or a locustfile that does
    not fill it) have none. ``encoded``: ids are percent-encoded (generic check).
    """
    if "item" not in pq.read_schema(samples_path).names:
        return []
    table = pq.read_table(samples_path, columns=["item", "status"])
    table = table.filter(
        pc.and_(
            pc.match_substring(table["item"], " "),
            pc.and_(pc.greater_equal(table["status"], 200), pc.less(table["status"], 300)),
        )
    )
    acked: dict[str, str] = {}
    for value in table["item"].to_pylist():
        item_id, _, key = value.partition(" ")
        if item_id and key and item_id != TIMED_OUT_ITEM:
            acked.setdefault(urllib.parse.unquote(item_id) if encoded else item_id, key)
    return list(acked.items())


def load_timed_out(samples_path: Path) -> list[str]:
    """Keys of the writes that timed out (``"? <key>"``, outcome ``timeout``), first seen first."""
    if "item" not in pq.read_schema(samples_path).names:
        return []
    table = pq.read_table(samples_path, columns=["item", "outcome"])
    table = table.filter(
        pc.and_(
            pc.starts_with(table["item"], TIMED_OUT_ITEM + " "),
            pc.equal(table["outcome"], "timeout"),
        )
    )
    keys = (v.partition(" ")[2] for v in table["item"].to_pylist())
    return list(dict.fromkeys(k for k in keys if k))


class Reader:
    """The built-in read-back: ``GET /items/<id>``, the payload's ``item.key`` must match."""

    def request(self, prefix: str, item_id: str, key: str) -> tuple[str, dict[str, str]]:
        """Path and headers of the read of one write."""
        return f"{prefix}/items/{urllib.parse.quote(item_id, safe='')}", {}

    def judge(self, status: int, body: bytes, item_id: str, key: str) -> tuple[str, str]:
        """(class, reason) of one answer."""
        if status == 404:
            return "lost", ""
        if status != 200:
            return "unknown", f"HTTP {status}"
        try:
            stored = json.loads(body)["item"]["key"]
        except (ValueError, KeyError, TypeError):
            return "corrupt", ""
        return ("ok", "") if stored == key else ("corrupt", "")


class TemplateReader(Reader):
    """The generic read-back of ``checks.durability.read`` and ``compare`` (module docstring)."""

    def __init__(self, read: DurableRead, compare: dict[str, str], run_id: str) -> None:
        self.read = read
        self.compare = [(parse_json_path(p), template) for p, template in compare.items()]
        self.run_id = run_id

    def _values(self, item_id: str, key: str) -> dict[str, str]:
        return {"id": item_id, "key": key, "run_id": self.run_id}

    def request(self, prefix: str, item_id: str, key: str) -> tuple[str, dict[str, str]]:
        values = self._values(item_id, key)
        path = prefix + render(self.read.path, values, quote=True)
        return path, {k: render(v, values) for k, v in self.read.headers.items()}

    def judge(self, status: int, body: bytes, item_id: str, key: str) -> tuple[str, str]:
        if status in self.read.missing:
            return "lost", ""
        if status not in self.read.expect:
            return "unknown", f"HTTP {status}"
        if not self.compare:
            return "ok", ""
        try:
            document = json.loads(body)
        except ValueError:
            return "corrupt", ""
        values = self._values(item_id, key)
        for path, template in self.compare:
            found, value = path.find(document)
            # ids often come back as numbers: compare their text, as the templates are text
            if (
                not found
                or isinstance(value, dict | list)
                or _text(value) != render(template, values)
            ):
                return "corrupt", ""
        return "ok", ""


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "null" if value is None else str(value)


def _classify(
    client: KeepAlive, reader: Reader, prefix: str, item_id: str, key: str, timeout: float
) -> tuple[str, str]:
    """(class, reason) of one read-back."""
    path, headers = reader.request(prefix, item_id, key)
    try:
        status, body = client.get(path, timeout, headers)
    except (OSError, http.client.HTTPException) as exc:
        return "unknown", type(exc).__name__
    return reader.judge(status, body, item_id, key)


class _ReadBack:
    """Reads chosen writes back on a few keep-alive connections until done or the deadline."""

    def __init__(
        self,
        base: urllib.parse.SplitResult,
        judge: Reader,
        chosen: list[tuple[str, str]],
        deadline: float,
    ) -> None:
        self.base, self.judge, self.deadline = base, judge, deadline
        self.prefix = base.path.rstrip("/")
        self._lock = threading.Lock()
        self._pending: Iterator[tuple[str, str]] = iter(chosen)
        self.reasons: Counter[str] = Counter()
        self.found: dict[str, list[str]] = {"lost": [], "corrupt": []}
        self.counts: Counter[str] = Counter()

    def run(self, readers: int) -> None:
        threads = [
            threading.Thread(target=self._reader, name=f"durability-{i}", daemon=True)
            for i in range(readers)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    def _reader(self) -> None:
        client = KeepAlive(self.base)
        try:
            self._read_all(client)
        finally:
            client.close()

    def _read_all(self, client: KeepAlive) -> None:
        while True:
            with self._lock:
                remaining = self.deadline - time.monotonic()
                nxt = next(self._pending, None) if remaining > 0 else None
            if nxt is None:
                return
            item_id, key = nxt
            kind, reason = _classify(
                client,
                self.judge,
                self.prefix,
                item_id,
                key,
                min(READ_TIMEOUT_S, max(remaining, 0.1)),
            )
            with self._lock:
                self.counts[kind] += 1
                if kind in self.found:
                    self.found[kind].append(item_id)
                if reason:
                    self.reasons[reason] += 1

    def fill(self, result: DurabilityResult) -> None:
        """Put what was read into ``result``."""
        for kind in _CLASSES:
            setattr(result, kind, self.counts[kind])
        result.checked = sum(self.counts[k] for k in _CLASSES)
        result.unchecked = result.selected - result.checked
        result.lost_ids = sorted(self.found["lost"])[:ID_LIST_CAP]
        result.corrupt_ids = sorted(self.found["corrupt"])[:ID_LIST_CAP]
        result.unknown_reasons = dict(self.reasons.most_common(10))


def check_durability(
    samples_path: Path,
    target_url: str,
    run_id: str,
    *,
    max_reads: int,
    timeout_s: float,
    concurrency: int = 8,
    seed: int = 0,
    spec: DurabilityCheck | None = None,
) -> DurabilityResult:
    """Read the acknowledged writes of ``samples_path`` back from ``target_url``.

    At most ``max_reads`` reads (a random sample seeded by ``seed`` when there
    are more writes), ``concurrency`` at a time, for at most about
    ``timeout_s`` (plus one read timeout). Raises ``ValueError`` for a target
    that is not on 127.0.0.1; everything the target does is a classification.
    A ``spec`` with a generic ``read`` reads with it, and looks up timed-out writes.
    """
    base = loopback_base(target_url)
    started = time.monotonic()
    generic = spec is not None and spec.read is not None
    judge: Reader = Reader()
    if spec is not None and spec.read is not None:
        judge = TemplateReader(spec.read, spec.compare, run_id)
    acked = load_acked(samples_path, encoded=generic)
    chosen = acked
    if len(acked) > max_reads:
        chosen = random.Random(seed).sample(acked, max_reads)
    result = DurabilityResult(
        run_id=run_id, acked=len(acked), selected=len(chosen), sampled=len(chosen) < len(acked)
    )
    deadline = started + timeout_s
    reads = _ReadBack(base, judge, chosen, deadline)
    reads.run(max(1, min(concurrency, len(chosen))))
    reads.fill(result)
    _look_up_timed_out(
        result, samples_path, base, spec if generic else None, run_id, deadline, max_reads
    )
    result.elapsed_s = round(time.monotonic() - started, 3)
    if result.unchecked:
        result.notes.append(f"time budget of {timeout_s:g} s ran out: {result.unchecked} unread")
    return result


def lookup_of(spec: DurabilityCheck) -> DurableRead | None:
    """How a timed-out write is found by its key: ``lookup``, else a key-only ``read``, or None."""
    if spec.lookup is not None:
        return spec.lookup
    if spec.read is not None and key_only(spec.read):
        return spec.read
    return None


def _look_up_timed_out(
    result: DurabilityResult,
    samples_path: Path,
    base: urllib.parse.SplitResult,
    spec: DurabilityCheck | None,
    run_id: str,
    deadline: float,
    max_reads: int,
) -> None:
    """Count the timed-out writes and, where a lookup exists, whether each one landed.

    ``spec`` None: the built-in workload, whose app has no read by key.
    """
    keys = load_timed_out(samples_path)
    result.timed_out = len(keys)
    lookup = lookup_of(spec) if spec is not None else None
    if lookup is None:
        result.timed_out_unknown = len(keys)
        if keys:
            how = (
                "give `lookup` (a read by {key}) to know whether they landed"
                if spec is not None
                else "the built-in app has no read by key, so whether they landed is unknown"
            )
            result.notes.append(f"{len(keys)} write(s) timed out; {how}")
        return
    reader = TemplateReader(lookup, {}, run_id)
    prefix = base.path.rstrip("/")
    client = KeepAlive(base)
    landed = missing = 0
    try:
        for key in keys[:max_reads]:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            kind, _ = _classify(client, reader, prefix, "", key, min(READ_TIMEOUT_S, remaining))
            landed += kind == "ok"
            missing += kind == "lost"
    finally:
        client.close()
    result.timed_out_landed = landed
    result.timed_out_not_landed = missing
    result.timed_out_unknown = len(keys) - landed - missing


def verify_run(
    run_dir: Path,
    target_url: str,
    run_id: str,
    spec: DurabilityCheck,
    *,
    ready_url: str,
    seed: int,
    events: EventLog | None = None,
) -> DurabilityResult:
    """Wait for readiness, read back, write ``durability.json`` and emit the event.

    Never raises: a failure of the check itself lands in the result's ``error``
    (and so in the report as "could not check"), not in the run's errors.
    """
    notes: list[str] = []
    try:
        waited = wait_ready(ready_url, timeout=min(READY_TIMEOUT_S, spec.timeout))
        notes.append(f"waited {waited:.1f} s for the target to be ready before reading back")
    except EngineError as exc:  # read anyway: unreachable reads become "unknown"
        notes.append(f"target not ready before reading back: {exc.message}")
    try:
        result = check_durability(
            run_dir / "samples.parquet",
            target_url,
            run_id,
            max_reads=spec.max_reads,
            timeout_s=spec.timeout,
            seed=seed,
            spec=spec,
        )
    except (OSError, ValueError, HarnessError) as exc:
        result = DurabilityResult(run_id=run_id, error=f"the durability check failed: {exc}")
    except Exception as exc:  # a bug here must not skip the teardown that follows
        result = DurabilityResult(run_id=run_id, error=f"internal error in the check: {exc!r}")
    result.notes[:0] = notes
    write_result(run_dir, result)
    if events is not None:
        events.emit(
            EV_DURABILITY,
            **{
                k: getattr(result, k)
                for k in (
                    "acked",
                    "selected",
                    "checked",
                    *_CLASSES,
                    "unchecked",
                    "timed_out",
                    "timed_out_landed",
                    "timed_out_not_landed",
                    "error",
                )
            },
        )
    return result


def write_result(run_dir: Path, result: DurabilityResult) -> Path:
    """Write ``durability.json`` atomically; returns its path."""
    path = run_dir / RESULT_FILE
    write_json_atomic(path, result.to_dict())
    return path
