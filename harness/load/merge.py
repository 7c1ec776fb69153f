"""Merge the sample chunks of a run folder whose driver never reached its own merge.

``hachaos report`` does it by itself (:func:`merge_leftovers`); by hand:
``python -m harness.load.merge RUN_DIR``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from harness.errors import ReportError
from harness.load.chunks import MergeStats, chunk_files, merge_chunks

SAMPLES_FILE = "samples.parquet"
CHUNKS_DIR = "samples"


def merge_leftovers(run_dir: Path) -> MergeStats | None:
    """Merge the chunks a killed run left behind into ``samples.parquet``; None if not needed.

    Only when ``samples.parquet`` is missing: the driver writes it before it
    removes any chunk, so an existing file already holds them all. The chunks
    are kept, so this never destroys evidence.
    """
    dest = run_dir / SAMPLES_FILE
    if dest.exists() or not chunk_files(run_dir / CHUNKS_DIR):
        return None
    try:
        return merge_chunks(run_dir / CHUNKS_DIR, dest, remove=False)
    except OSError as exc:
        raise ReportError(
            f"could not merge the sample chunks of {run_dir}: {exc.strerror or exc}",
            hint="check free disk space and permissions of the run folder",
        ) from exc


def main(argv: list[str] | None = None) -> int:
    """Merge ``RUN_DIR/samples/*.parquet`` into ``RUN_DIR/samples.parquet``."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--keep", action="store_true", help="keep the chunk files")
    args = parser.parse_args(argv)
    stats = merge_chunks(
        args.run_dir / CHUNKS_DIR, args.run_dir / SAMPLES_FILE, remove=not args.keep
    )
    print(f"requests={stats.requests} dropped={stats.dropped} late={stats.late}")
    for path in stats.damaged:
        print(f"damaged chunk skipped: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
