"""Removing a dead stack when the engine drops the connection: a typed error, no traceback.

Found by the self-chaos engine-restart case: the fallback sweep of teardown let a
raw ``requests`` ConnectionError escape, which the run reported as an internal error.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests

from harness.engine.compose import project as compose
from harness.errors import EngineError

LABELS = {compose.PROJECT_LABEL: "deadproj"}


class _Api:
    def containers(self, **_: Any) -> list[dict[str, Any]]:
        return [{"Id": "c1", "Names": ["/deadproj-app-1"], "Labels": LABELS}]

    def networks(self, **_: Any) -> list[dict[str, Any]]:
        return []

    def volumes(self, **_: Any) -> dict[str, Any]:
        return {"Volumes": []}

    def remove_container(self, *_: Any, **__: Any) -> None:
        raise requests.exceptions.ConnectionError("Connection aborted.")


class _Client:
    api = _Api()


def test_a_lost_engine_connection_becomes_an_engine_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(compose, "client", _Client)
    with pytest.raises(EngineError) as info:
        compose.remove_project_objects("deadproj")
    assert "compose project deadproj still has 1 container (deadproj-app-1)" in info.value.message
    assert "container deadproj-app-1: Connection aborted." in info.value.message
