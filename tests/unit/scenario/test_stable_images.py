"""Stable image names for build-only services: a hash of what the build reads, not of where.

Pure but for reading the build contexts, which the tests lay out in tmp folders.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from harness.engine.compose.build_hash import build_digest
from harness.engine.compose.images import BuildImage, stale_builds
from harness.engine.compose.project import stable_image_names


def _doc(**services: dict[str, object]) -> dict[str, object]:
    return {"name": "ignored", "services": services}


@pytest.fixture
def context(tmp_path: Path) -> Path:
    """A build context as a checkout holds it."""
    root = tmp_path / "checkout-1" / "web"
    root.mkdir(parents=True)
    (root / "Dockerfile").write_text("FROM debian:bookworm-slim\nCOPY . /app\n")
    (root / "app.py").write_text("print('hello')\n")
    (root / "run.sh").write_text("#!/bin/sh\n")
    (root / "run.sh").chmod(0o755)
    (root / ".dockerignore").write_text("# build junk\n*.log\n")
    (root / "build.log").write_text("noise\n")
    return root


def _build(root: Path, **extra: Any) -> dict[str, Any]:
    return {"context": str(root), "dockerfile": "Dockerfile", **extra}


def test_only_services_that_build_without_an_image_get_a_name(context: Path) -> None:
    names = stable_image_names(
        _doc(
            web={"build": _build(context)},
            app={"build": _build(context), "image": "me/app:dev"},
            db={"image": "debian:bookworm-slim"},
        )
    )
    assert list(names) == ["web"]
    assert re.fullmatch(r"hachaos-build/web:[0-9a-f]{12}", names["web"])


def test_the_same_stack_from_two_checkout_folders_gets_one_name(
    context: Path, tmp_path: Path
) -> None:
    other = tmp_path / "checkout-2" / "web"
    shutil.copytree(context, other)
    (other / "build.log").write_text("other noise\n")  # ignored by .dockerignore
    first = stable_image_names(_doc(web={"build": _build(context)}))
    assert stable_image_names(_doc(web={"build": _build(other)})) == first
    assert stable_image_names({**_doc(web={"build": _build(other)}), "name": "run-2"}) == first


@pytest.mark.parametrize(
    "change",
    ["content", "new file", "executable bit", "dockerfile", "args", "target", "ignore file"],
)
def test_what_the_build_reads_changes_the_name(context: Path, change: str) -> None:
    before = build_digest(_build(context))
    build = _build(context)
    if change == "content":
        (context / "app.py").write_text("print('changed')\n")
    elif change == "new file":
        (context / "data.json").write_text("{}\n")
    elif change == "executable bit":
        (context / "app.py").chmod(0o755)
    elif change == "dockerfile":
        (context / "Dockerfile").write_text("FROM debian:bookworm-slim\nCOPY app.py /\n")
    elif change == "args":
        build = _build(context, args={"MODE": "fast"})
    elif change == "target":
        build = _build(context, target="prod")
    else:  # the log is no longer ignored, so it is sent
        (context / ".dockerignore").write_text("*.tmp\n")
    assert build_digest(build) != before


def test_a_dockerfile_outside_the_context_is_hashed_by_content(context: Path) -> None:
    outside = context.parent / "web.Dockerfile"
    outside.write_text("FROM debian:bookworm-slim\n")
    build = _build(context, dockerfile=str(outside))
    before = build_digest(build)
    outside.write_text("FROM debian:bookworm-slim\nRUN true\n")
    assert build_digest(build) != before
    # its own ignore file (BuildKit) replaces the context's .dockerignore
    Path(str(outside) + ".dockerignore").write_text("app.py\n")
    ignoring_app = build_digest(build)
    (context / "app.py").write_text("print('not sent')\n")
    assert build_digest(build) == ignoring_app


def test_remote_and_missing_contexts(tmp_path: Path) -> None:
    url = "https://github.com/example/app.git#main"
    assert build_digest({"context": url}) == build_digest({"context": url})
    assert build_digest({"context": url}) != build_digest({"context": url + "2"})
    gone = build_digest({"context": str(tmp_path / "a" / "nothing")})
    assert gone == build_digest({"context": str(tmp_path / "b" / "nothing")})


def test_twin_services_and_valid_repository_names(context: Path) -> None:
    twins = stable_image_names(_doc(a={"build": _build(context)}, b={"build": _build(context)}))
    assert twins["a"] != twins["b"]  # compose labels each with its service: distinct images
    assert twins["a"].split(":")[1] == twins["b"].split(":")[1]  # one content, one hash
    names = stable_image_names(
        _doc(**{"My_Svc.2": {"build": _build(context)}, "_": {"build": _build(context)}})
    )
    assert names["My_Svc.2"].startswith("hachaos-build/my-svc-2:")
    assert names["_"].startswith("hachaos-build/service:")


# ------------------------------------------------------------------ pruning older tags
def _img(tag: str, image_id: str, last_built: float) -> BuildImage:
    return BuildImage(f"hachaos-build/{tag}", image_id, last_built)


def test_stale_builds_keep_the_newest_per_service() -> None:
    now = 100_000.0
    images = [
        _img("web:a1", "sha256:1", now - 9000),
        _img("web:b2", "sha256:2", now - 8000),
        _img("web:c3", "sha256:3", now - 7000),
        _img("web:d4", "sha256:4", now - 6000),
        _img("api:e5", "sha256:5", now - 9000),
    ]
    stale = stale_builds(images, set(), now=now, keep=2, grace_s=3600)
    assert [i.tag for i in stale] == ["hachaos-build/web:b2", "hachaos-build/web:a1"]
    # a container uses a1 (running or not): it stays
    assert [i.tag for i in stale_builds(images, {"sha256:1"}, now=now)] == ["hachaos-build/web:b2"]
    # keep 0 removes every unused one, but nothing built within the grace
    recent = [*images, _img("web:f6", "sha256:6", now - 60)]
    stale = stale_builds(recent, set(), now=now, keep=0, grace_s=3600)
    assert {i.tag.split("/")[1] for i in stale} == {
        "web:a1",
        "web:b2",
        "web:c3",
        "web:d4",
        "api:e5",
    }
    # after a build only the services it built are pruned
    only_api = stale_builds(images, set(), now=now, keep=0, repositories={"hachaos-build/api"})
    assert [i.tag for i in only_api] == ["hachaos-build/api:e5"]
