"""A run as outside monitoring sees it: the live endpoint, its last push, fault annotations.

The endpoint itself (OpenMetrics on 127.0.0.1, ``--metrics-port``) is
:class:`~harness.run.exporter.LiveExporter`; these are the moments of a run at
which it is started, given the exact counts, and closed.
"""

from __future__ import annotations

from harness.analysis.annotations import window_annotations
from harness.analysis.phases import fault_windows
from harness.evidence.events import read_events
from harness.records import EV_ANNOTATION
from harness.run.context import RunContext
from harness.run.exporter import LiveExporter


def exporter_for(ctx: RunContext) -> LiveExporter | None:
    """The live exporter when --metrics-port or --pushgateway asks for one."""
    options = ctx.options
    if options.metrics_port is None and not options.pushgateway:
        return None
    info = {"run_id": ctx.run_id, "scenario": ctx.scenario.name, "project": ctx.project}
    return LiveExporter(options.metrics_port or 0, ctx.run_dir / "samples", info)


def start_export(ctx: RunContext) -> None:
    """Start the live endpoint before anything is deployed (a taken port stops the run)."""
    if ctx.exporter is not None and ctx.options.metrics_port is not None:
        ctx.exporter.start()
        ctx.notice(f"live metrics: http://127.0.0.1:{ctx.exporter.port}/metrics")


def export_final(ctx: RunContext) -> None:
    """The load stopped and its samples are merged: the endpoint counts them exactly."""
    samples = ctx.run_dir / "samples.parquet"
    if ctx.exporter is not None and samples.exists():
        ctx.exporter.final(samples)


def end_export(ctx: RunContext) -> None:
    """The run is over: a last push if asked for, then the endpoint closes."""
    if ctx.exporter is None:
        return
    ctx.exporter.done()
    if ctx.options.pushgateway:
        try:
            ctx.exporter.push(ctx.options.pushgateway, ctx.run_id)
        except Exception as exc:  # a gateway that is down never fails the run
            ctx.notice(f"pushing the metrics to {ctx.options.pushgateway} failed: {exc}")
    ctx.exporter.close()


def annotate(ctx: RunContext) -> None:
    """One event-log line per fault window (Grafana annotation shaped)."""
    meta = ctx.record.meta
    t0 = meta.get("t0_wall")
    if t0 is None:
        return
    ended = float(meta.get("ended_wall") or ctx.clock.wall())
    windows = fault_windows(read_events(ctx.events.path), float(t0))
    for note in window_annotations(
        windows, float(t0), ended - float(t0), ctx.run_id, ctx.scenario.name
    ):
        ctx.events.emit(EV_ANNOTATION, **note)
