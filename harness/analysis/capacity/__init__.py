"""Capacity experiments, pure: step verdicts, the search, the curve, scaling and N+1.

Nothing here runs load or talks to an engine: ``harness.run`` drives the steps and
hands each one's samples and generator figures in (docs/capacity.md).
"""
