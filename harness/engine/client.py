"""The Docker SDK client, with third-party errors translated into ours."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

import docker
import docker.errors
import requests.exceptions

from harness.errors import EngineError, TargetNotFound

_HINT = "start the engine (`make engine` runs scripts/ensure-docker) or check DOCKER_HOST"


@lru_cache(maxsize=1)
def client() -> docker.DockerClient:
    """A process-wide Docker client from the environment (DOCKER_HOST etc.)."""
    try:
        c = docker.from_env(timeout=60)
        c.ping()
    except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
        raise EngineError(f"cannot reach the Docker engine: {exc}", hint=_HINT) from exc
    return c


@contextmanager
def translated(action: str) -> Iterator[None]:
    """Map Docker SDK errors raised inside the block to EngineError/TargetNotFound."""
    try:
        yield
    except docker.errors.NotFound as exc:
        raise TargetNotFound(f"{action}: {exc.explanation or exc}") from exc
    except docker.errors.APIError as exc:
        raise EngineError(f"{action}: {exc.explanation or exc}") from exc
    except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
        raise EngineError(f"{action}: {exc}", hint=_HINT) from exc


@lru_cache(maxsize=1)
def stream_client() -> docker.APIClient:
    """A second client for long-lived streams (container stats): its own connection pool,
    so streams never take the connections that faults and the engine port use."""
    try:
        return docker.APIClient(**docker.utils.kwargs_from_env(), max_pool_size=256, timeout=60)
    except docker.errors.DockerException as exc:
        raise EngineError(f"cannot reach the Docker engine: {exc}", hint=_HINT) from exc
