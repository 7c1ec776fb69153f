"""Parsing of the human units used in scenario files: durations and fractions."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BeforeValidator, WithJsonSchema

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_SCALE = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


def parse_duration(value: Any) -> float:
    """Turn ``500ms``, ``10s``, ``2m``, ``1h`` or a number of seconds into seconds."""
    if isinstance(value, bool):
        raise ValueError(f"expected a duration such as 500ms, 10s or 2m, found {value!r}")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError(f"a duration cannot be negative, found {value!r}")
        return float(value)
    if isinstance(value, str):
        m = _DURATION.match(value)
        if m:
            return float(m.group(1)) * _SCALE[m.group(2)]
    raise ValueError(f"expected a duration such as 500ms, 10s or 2m, found {value!r}")


def parse_fraction(value: Any) -> float:
    """Turn ``99.5%`` or ``0.995`` into the fraction 0.995."""
    if isinstance(value, bool):
        raise ValueError(f"expected a percentage such as 99.5% or 0.995, found {value!r}")
    if isinstance(value, str):
        text = value.strip()
        try:
            number = float(text[:-1]) / 100.0 if text.endswith("%") else float(text)
        except ValueError:
            raise ValueError(
                f"expected a percentage such as 99.5% or 0.995, found {value!r}"
            ) from None
    elif isinstance(value, int | float):
        number = float(value)
    else:
        raise ValueError(f"expected a percentage such as 99.5% or 0.995, found {value!r}")
    if not 0.0 <= number <= 1.0:
        raise ValueError(f"a percentage must lie between 0% and 100%, found {value!r}")
    return number


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(b|k|kb|kib|m|mb|mib|g|gb|gib)?\s*$", re.IGNORECASE)
_SIZE_SCALE = {
    None: 1,
    "b": 1,
    "k": 1024,
    "kb": 1000,
    "kib": 1024,
    "m": 1024**2,
    "mb": 1000**2,
    "mib": 1024**2,
    "g": 1024**3,
    "gb": 1000**3,
    "gib": 1024**3,
}


def parse_size(value: Any) -> int:
    """Turn ``256MiB``, ``1g`` or a number of bytes into bytes."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str):
        m = _SIZE.match(value)
        if m:
            unit = m.group(2).lower() if m.group(2) else None
            return int(float(m.group(1)) * _SIZE_SCALE[unit])
    raise ValueError(f"expected a size such as 256MiB or 1GiB, found {value!r}")


_DURATION_SCHEMA = {
    "anyOf": [
        {"type": "number", "minimum": 0},
        {"type": "string", "pattern": r"^\s*\d+(\.\d+)?\s*(ms|s|m|h)?\s*$"},
    ],
    "description": "a duration: 500ms, 10s, 2m, 1h, or a number of seconds",
}
_FRACTION_SCHEMA = {
    "anyOf": [
        {"type": "number", "minimum": 0, "maximum": 1},
        {"type": "string", "pattern": r"^\s*\d+(\.\d+)?\s*%?\s*$"},
    ],
    "description": "a percentage: 99.5% or 0.995",
}
_SIZE_SCHEMA = {
    "anyOf": [{"type": "integer", "minimum": 0}, {"type": "string"}],
    "description": "a size: 256MiB, 1GiB, or a number of bytes",
}

Duration = Annotated[float, BeforeValidator(parse_duration), WithJsonSchema(_DURATION_SCHEMA)]
Fraction = Annotated[float, BeforeValidator(parse_fraction), WithJsonSchema(_FRACTION_SCHEMA)]
Size = Annotated[int, BeforeValidator(parse_size), WithJsonSchema(_SIZE_SCHEMA)]
