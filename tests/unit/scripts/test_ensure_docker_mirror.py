"""scripts/ensure-docker finds the Debian mirror in the system's apt sources, or stops.

The script is sourced (its ``main`` runs only when executed) and its mirror
detection is run against fixture apt folders: one-line and deb822 sources,
security, source-only, disabled and third-party entries.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = ROOT / "scripts" / "ensure-docker"
APT = ROOT / "tests" / "fixtures" / "apt"


def mirror(apt_dir: Path, codename: str = "bookworm") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", 'source "$1"; debian_mirror "$2" "$3"', "test", SCRIPT, apt_dir, codename],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


@pytest.mark.parametrize(
    ("folder", "codename", "want"),
    [
        # deb822: the security stanza and a deb-src stanza come first; trailing / dropped;
        # the first of a folded URIs list
        ("deb822", "bookworm", "http://mirror.test/debian"),
        # one-line: commented, deb-src and security lines skipped; [ options ] skipped;
        # *.list.disabled is not read
        ("oneline", "bookworm", "https://one.mirror.test/debian"),
        # Enabled: no is skipped; a suite named by archive (stable) matches any release
        ("disabled", "bookworm", "http://stable.mirror.test/debian"),
    ],
)
def test_the_mirror_comes_from_the_systems_sources(folder: str, codename: str, want: str) -> None:
    out = mirror(APT / folder, codename)
    assert (out.returncode, out.stdout, out.stderr) == (0, want, "")


def test_the_release_must_match(tmp_path: Path) -> None:
    # a trixie machine does not take a bookworm-only entry for its own archive
    out = mirror(APT / "deb822", "trixie")
    assert out.returncode == 1 and out.stdout == ""


@pytest.mark.parametrize("folder", ["thirdparty", "empty"])
def test_without_a_debian_mirror_it_stops_and_says_what_to_configure(
    folder: str, tmp_path: Path
) -> None:
    apt = APT / folder if folder != "empty" else tmp_path
    out = mirror(apt)
    assert out.returncode == 1 and out.stdout == ""
    assert f"no Debian mirror in {apt}/sources.list or {apt}/sources.list.d/" in out.stderr
    assert "'deb <mirror URL> bookworm main'" in out.stderr
    assert "Suites: bookworm" in out.stderr
    # no host is offered in its place
    assert "http" not in out.stderr and "vendor.test" not in out.stderr


def test_the_script_names_no_package_host() -> None:
    hosts = set(re.findall(r"[a-z+]+://([^/\s\"')]+)", SCRIPT.read_text()))
    assert hosts <= {"docs.docker.com"}  # install guides in error messages, never a mirror
