"""Parsing of the human units used in scenario files: durations, fractions and sizes.

Every parser refuses non-finite numbers (YAML's ``.nan``/``.inf``, or digits
that overflow a float) and values beyond a sane cap, so nothing downstream ever
sees ``inf`` seconds or a terabyte allocation.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, WithJsonSchema

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_SCALE = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}

MAX_DURATION_S = 24 * 3600.0
"""Longest duration any field accepts (and the longest a whole run may last)."""
MAX_SIZE_BYTES = 1024**4
"""Largest size any field accepts (1 TiB); fields may cap lower."""


def shown(value: Any, limit: int = 40) -> str:
    """``repr(value)`` cut to ``limit`` characters: a 4000-digit number is no message."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 5]}…({len(text)} chars)"


def _finite(value: Any, what: str) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{what} must be a finite number, found {value!r}")


def parse_duration(value: Any) -> float:
    """Turn ``500ms``, ``10s``, ``2m``, ``1h`` or a number of seconds into seconds (≤ 24h)."""
    if isinstance(value, bool):
        raise ValueError(f"expected a duration such as 500ms, 10s or 2m, found {shown(value)}")
    seconds: float | None = None
    if isinstance(value, int | float):
        _finite(value, "a duration")
        if value < 0:
            raise ValueError(f"a duration cannot be negative, found {shown(value)}")
        # Compared before float(): a 400-digit int would overflow the conversion.
        seconds = float(value) if value <= MAX_DURATION_S else math.inf
    elif isinstance(value, str):
        m = _DURATION.match(value)
        if m:
            seconds = float(m.group(1)) * _SCALE[m.group(2)]
    if seconds is None:
        raise ValueError(f"expected a duration such as 500ms, 10s or 2m, found {shown(value)}")
    # Overflowing digits ("1" * 400 + "s") parse to inf: the cap refuses them too.
    if not seconds <= MAX_DURATION_S:
        raise ValueError(
            f"a duration must be at most 24h ({MAX_DURATION_S:g}s), found {shown(value)}"
        )
    return seconds


def parse_fraction(value: Any) -> float:
    """Turn ``99.5%`` or ``0.995`` into the fraction 0.995."""
    if isinstance(value, bool):
        raise ValueError(f"expected a percentage such as 99.5% or 0.995, found {shown(value)}")
    if isinstance(value, str):
        text = value.strip()
        try:
            number = float(text[:-1]) / 100.0 if text.endswith("%") else float(text)
        except ValueError:
            raise ValueError(
                f"expected a percentage such as 99.5% or 0.995, found {shown(value)}"
            ) from None
    elif isinstance(value, int | float):
        _finite(value, "a percentage")
        number = float(value) if -1 <= value <= 2 else math.inf  # no overflow on huge ints
    else:
        raise ValueError(f"expected a percentage such as 99.5% or 0.995, found {shown(value)}")
    _finite(number, "a percentage")
    if not 0.0 <= number <= 1.0:
        raise ValueError(f"a percentage must lie between 0% and 100%, found {shown(value)}")
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
    """Turn ``256MiB``, ``1g`` or a number of bytes into bytes (≤ 1 TiB)."""
    _finite(value, "a size")
    size: float | None = None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        size = value
    elif isinstance(value, str):
        m = _SIZE.match(value)
        if m:
            unit = m.group(2).lower() if m.group(2) else None
            size = float(m.group(1)) * _SIZE_SCALE[unit]
    if size is None:
        raise ValueError(f"expected a size such as 256MiB or 1GiB, found {shown(value)}")
    if not size <= MAX_SIZE_BYTES:
        raise ValueError(
            f"a size must be at most 1TiB ({MAX_SIZE_BYTES} bytes), found {shown(value)}"
        )
    return int(size)


def size_at_most(limit: int, shown: str) -> Callable[[int], int]:
    """An after-validator capping a parsed size at ``limit`` bytes (``shown``: e.g. 64GiB)."""

    def check(size: int) -> int:
        if size > limit:
            raise ValueError(
                f"this size must be at most {shown} ({limit} bytes), found {size} bytes"
            )
        return size

    return check


_RATE = re.compile(r"^(\d+(?:\.\d+)?)(bit|kbit|mbit|gbit)$")
_RATE_SCALE = {"bit": 1.0, "kbit": 1e3, "mbit": 1e6, "gbit": 1e9}
MAX_RATE_BITS = 100e9


def check_rate(rate: str) -> str:
    """A tc rate (``500kbit``, ``1mbit``) above 0 and at most 100gbit; returned unchanged."""
    m = _RATE.match(rate)
    if m:  # the field's pattern reports any other text
        bits = float(m.group(1)) * _RATE_SCALE[m.group(2)]
        if not 0 < bits <= MAX_RATE_BITS:
            raise ValueError(f"a rate must be above 0bit and at most 100gbit, found {rate!r}")
    return rate


_DURATION_SCHEMA = {
    "anyOf": [
        {"type": "number", "minimum": 0, "maximum": MAX_DURATION_S},
        {"type": "string", "pattern": r"^\s*\d+(\.\d+)?\s*(ms|s|m|h)?\s*$"},
    ],
    "description": "a duration: 500ms, 10s, 2m, 1h, or a number of seconds (at most 24h)",
}
_FRACTION_SCHEMA = {
    "anyOf": [
        {"type": "number", "minimum": 0, "maximum": 1},
        {"type": "string", "pattern": r"^\s*\d+(\.\d+)?\s*%?\s*$"},
    ],
    "description": "a percentage: 99.5% or 0.995",
}
_SIZE_SCHEMA = {
    "anyOf": [
        {"type": "integer", "minimum": 0, "maximum": MAX_SIZE_BYTES},
        {"type": "string", "maxLength": 32},
    ],
    "description": "a size: 256MiB, 1GiB, or a number of bytes (at most 1TiB)",
}

Duration = Annotated[float, BeforeValidator(parse_duration), WithJsonSchema(_DURATION_SCHEMA)]
Fraction = Annotated[float, BeforeValidator(parse_fraction), WithJsonSchema(_FRACTION_SCHEMA)]
Size = Annotated[int, BeforeValidator(parse_size), WithJsonSchema(_SIZE_SCHEMA)]
Rate = Annotated[str, AfterValidator(check_rate)]
MemorySize = Annotated[Size, AfterValidator(size_at_most(64 * 1024**3, "64GiB"))]
