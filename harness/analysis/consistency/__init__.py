"""Consistency checkers over a history of operations (checks.consistency, docs/consistency.md)."""
