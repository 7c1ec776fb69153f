"""Stable image names for build-only services (pure: a `compose config` document in, names out)."""

from __future__ import annotations

import re

from harness.engine.compose.project import stable_image_names


def _doc(**services: dict[str, object]) -> dict[str, object]:
    return {"name": "ignored", "services": services}


def test_only_services_that_build_without_an_image_get_a_name() -> None:
    names = stable_image_names(
        _doc(
            web={"build": {"context": "/src/web"}},
            app={"build": {"context": "/src/app"}, "image": "me/app:dev"},
            db={"image": "debian:bookworm-slim"},
        )
    )
    assert list(names) == ["web"]
    assert re.fullmatch(r"hachaos-build/web:[0-9a-f]{12}", names["web"])


def test_the_name_depends_on_the_build_definition_and_service_not_on_the_project() -> None:
    web = {"build": {"context": "/src/web", "dockerfile": "Dockerfile"}}
    first = stable_image_names(_doc(web=web))
    assert stable_image_names({**_doc(web=web), "name": "another-run"}) == first
    moved = stable_image_names(_doc(web={"build": {"context": "/src/other"}}))
    with_args = stable_image_names(_doc(web={**web, "build": {**web["build"], "args": {"A": "1"}}}))
    assert len({first["web"], moved["web"], with_args["web"]}) == 3
    twins = stable_image_names(_doc(a=web, b=web))
    assert twins["a"] != twins["b"]  # compose labels each with its service: distinct images


def test_service_names_become_valid_repository_names() -> None:
    names = stable_image_names(
        _doc(**{"My_Svc.2": {"build": {"context": "/x"}}, "_": {"build": {"context": "/y"}}})
    )
    assert names["My_Svc.2"].startswith("hachaos-build/my-svc-2:")
    assert names["_"].startswith("hachaos-build/service:")
