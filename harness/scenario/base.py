"""What every scenario model shares: the strict base class and the input caps.

Its own module (importing nothing of the scenario layer) so that the model
modules that ``models.py`` imports can use it too.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

# Sane caps: far above any real scenario, low enough that a typo or a hostile
# file cannot make the harness spawn, allocate or schedule without bound.
MAX_NAME = 100  # names, labels, service names
MAX_TEXT = 4096  # free text and paths
MAX_LIST = 100  # tags, peers, stages, latency checks
MAX_RPS = 100_000.0


class Strict(BaseModel):
    """Base for every scenario model: unknown keys are errors, floats are finite."""

    model_config = ConfigDict(
        extra="forbid", populate_by_name=True, frozen=True, allow_inf_nan=False
    )
