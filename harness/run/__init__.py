"""Orchestration of one run: deploy, load, faults, teardown, evidence."""
