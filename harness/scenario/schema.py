"""The JSON Schema of the scenario format, as editors consume it."""

from __future__ import annotations

from typing import Any

from harness.scenario.models import Scenario

SCHEMA_ID = "https://hachaos.invalid/scenario-v1.schema.json"


def scenario_schema(model: type[Scenario]) -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of a scenario file: keys by alias (``for``, not ``for_``).

    ``model`` is the concrete Scenario model (harness.faults.catalog.Scenario).
    """
    schema = model.model_json_schema(by_alias=True, mode="validation")
    # `source` is set by the loader, never written in a file.
    schema.get("properties", {}).pop("source", None)
    # An experiment fills `timing` in by itself (models.Scenario's before-validator).
    required = schema.get("required", [])
    if "timing" in required:
        required.remove("timing")
        schema["anyOf"] = [{"required": ["timing"]}, {"required": ["experiment"]}]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **schema,
        "title": "hachaos scenario (version 1)",
    }
