"""Read a compose file the way Compose itself reads it, without touching an engine.

``docker compose config`` resolves extends, env interpolation, profiles and
short syntax into one canonical document, and it works offline: it never
contacts the Docker daemon. Going through it (instead of parsing YAML
ourselves) means hachaos sees exactly the services Compose will deploy.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from pathlib import Path

from harness.errors import EngineError, ScenarioError
from harness.scenario.compose import ComposeConfig, parse_compose_config

_TIMEOUT_S = 60.0


def read_compose_config(
    compose_file: Path, project: str | None = None, overrides: Sequence[Path] = ()
) -> ComposeConfig:
    """Run ``docker compose -f FILE [-f OVERRIDE...] config --format json`` and parse it.

    Talks to no engine. A broken or missing compose file raises ScenarioError
    with Compose's own message; a missing ``docker`` CLI raises EngineError.
    """
    for file in (compose_file, *overrides):
        if not file.is_file():
            raise ScenarioError(
                f"compose file {file} does not exist",
                hint="stack.compose and override files are relative to the scenario file",
            )
    cmd = [
        "docker",
        "compose",
        *(arg for f in (compose_file, *overrides) for arg in ("-f", str(f))),
    ]
    if project:
        cmd += ["-p", project]
    cmd += ["config", "--format", "json"]
    try:
        proc = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            timeout=_TIMEOUT_S,
            check=False,
            start_new_session=True,  # terminal signals go to hachaos alone
        )
    except FileNotFoundError as exc:
        raise EngineError(
            "the `docker` command is not installed, so the compose file cannot be read",
            hint="install the Docker CLI with the Compose v2 plugin",
        ) from exc
    except subprocess.TimeoutExpired as exc:
        raise EngineError(f"`docker compose config` took over {_TIMEOUT_S:.0f}s") from exc
    if proc.returncode != 0:
        text = (proc.stderr or proc.stdout).strip() or f"exit code {proc.returncode}"
        raise ScenarioError(
            f"compose file {compose_file} is invalid: {text}",
            hint="run `docker compose -f FILE config` to see what Compose makes of it",
        )
    try:
        raw = json.loads(proc.stdout)
    except json.JSONDecodeError as exc:
        raise EngineError(f"`docker compose config` printed no JSON: {exc}") from exc
    return parse_compose_config(compose_file, raw)
