"""A version bump comes with its changelog entry, and `--version` prints that version."""

from __future__ import annotations

import re
from pathlib import Path

from aircall_ext import __version__
from tests.conftest import RunCli

CHANGELOG = Path(__file__).resolve().parents[1] / "CHANGELOG.md"
HEADING = re.compile(r"^## \[(?P<version>[^\]]+)\] - (?P<date>.+)$", re.MULTILINE)


def test_the_newest_changelog_entry_is_the_package_version() -> None:
    versions = [m["version"] for m in HEADING.finditer(CHANGELOG.read_text(encoding="utf-8"))]
    assert versions, "CHANGELOG.md has no '## [VERSION] - DATE' heading"
    assert versions[0] == __version__, (
        f"aircall_ext.__version__ is {__version__} but CHANGELOG.md starts with {versions[0]}"
    )
    assert len(set(versions)) == len(versions)


def test_every_changelog_entry_is_dated_or_unreleased() -> None:
    for m in HEADING.finditer(CHANGELOG.read_text(encoding="utf-8")):
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}|Unreleased", m["date"]), m[0]


def test_version_option_prints_the_package_version(run_cli: RunCli) -> None:
    result = run_cli("--version")
    assert (result.exit_code, result.stdout) == (0, f"aircall-ext {__version__}\n")
