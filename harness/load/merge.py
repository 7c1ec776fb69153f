"""Merge the sample chunks of a run folder by hand: ``python -m harness.load.merge RUN_DIR``.

Useful after a crash, when the driver never reached its own merge.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from harness.load.samples import merge_chunks


def main(argv: list[str] | None = None) -> int:
    """Merge ``RUN_DIR/samples/*.parquet`` into ``RUN_DIR/samples.parquet``."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--keep", action="store_true", help="keep the chunk files")
    args = parser.parse_args(argv)
    stats = merge_chunks(
        args.run_dir / "samples", args.run_dir / "samples.parquet", remove=not args.keep
    )
    print(f"requests={stats.requests} dropped={stats.dropped} late={stats.late}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
