"""The run's evidence: event log, fault journal, run-folder layout, crash-safe writes."""
