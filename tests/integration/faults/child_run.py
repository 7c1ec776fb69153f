"""A run that applies one fault and then waits to be killed (dead-man and cleanup tests).

usage: child_run.py PROJECT RUN_DIR RUN_ID TYPE SERVICE NUMBER WINDOW MARGIN [key=value...]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from faultkit import planned

from harness.evidence.events import EventLog
from harness.faults.runner import FaultRunner


def main() -> None:
    project, run_dir, run_id, fault_type, service, number, window, margin = sys.argv[1:9]
    spec = dict(a.split("=", 1) for a in sys.argv[9:])
    folder = Path(run_dir)
    folder.mkdir(parents=True, exist_ok=True)
    r = FaultRunner(
        project=project,
        run_id=run_id,
        run_dir=folder,
        events=EventLog(folder / "events.jsonl"),
        margin=float(margin),
    )
    step = planned(fault_type, service, (int(number),), window=float(window), **spec)
    r.preflight([step])
    r.apply(step, planned_wall=time.time())
    print("APPLIED", flush=True)
    time.sleep(600)


if __name__ == "__main__":
    main()
