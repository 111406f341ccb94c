"""The suite is hermetic and reproducible: nothing of the real home is read or written, and
CI runs of the hypothesis tests are derandomized."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
import keyring
import platformdirs
import pytest
from hypothesis import settings
from keyring.util import platform_

from aircall_ext.completion_cache import cache_path
from aircall_ext.config import config_path
from tests.conftest import MemoryKeyring, Unprivileged, hypothesis_profile

ROOT = Path(__file__).resolve().parents[1]


def test_every_per_user_path_is_inside_the_test_dir(tmp_path: Path, isolate: MemoryKeyring) -> None:
    paths = {
        "~": Path(os.path.expanduser("~")),
        "click app dir": Path(click.get_app_dir("aircall-ext")),
        "config.toml": config_path(),
        "completion cache": cache_path(),
        "keyring config": Path(platform_.config_root()),
        "keyring data": Path(platform_.data_root()),
    }
    for kind in ("state", "config", "cache", "data", "runtime", "log"):
        paths[f"platformdirs {kind}"] = getattr(platformdirs, f"user_{kind}_path")("aircall-ext")
    outside = {name: path for name, path in paths.items() if not path.is_relative_to(tmp_path)}
    assert outside == {}
    assert keyring.get_keyring() is isolate


def test_a_test_that_undoes_its_own_patches_stays_isolated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "120")
    monkeypatch.undo()
    assert cache_path().is_relative_to(tmp_path) and config_path().is_relative_to(tmp_path)
    assert os.environ["COLUMNS"] == "80"


def test_no_setting_of_the_machine_running_the_suite_leaks_in() -> None:
    leaked = [n for n in os.environ if n.startswith(("AIRCALL", "GITHUB_")) or n == "CI"]
    assert leaked == [k for k in ("AIRCALL_EXT_CONFIG_DIR", "AIRCALL_EXT_SANDBOX_STATE")]


def test_ci_gets_the_derandomized_profile_without_a_database() -> None:
    assert hypothesis_profile({"CI": "true"}) == "ci"
    assert hypothesis_profile({"CI": "1"}) == "ci"
    assert hypothesis_profile({"CI": "false"}) == "dev"
    assert hypothesis_profile({}) == "dev"
    assert hypothesis_profile({"CI": "true", "HYPOTHESIS_PROFILE": "dev"}) == "dev"
    ci = settings.get_profile("ci")
    assert (ci.derandomize, ci.database) == (True, None)
    assert settings.get_profile("dev").derandomize is False


def test_no_profile_times_examples_out() -> None:
    """A loaded machine makes an example slow, not wrong: no deadline in either profile."""
    assert [settings.get_profile(p).deadline for p in ("ci", "dev")] == [None, None]


def test_a_ci_run_with_an_empty_home_says_its_profile_and_leaves_home_empty(
    tmp_path: Path,
) -> None:
    home = tmp_path / "empty-home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRCALL", "XDG_"))}
    env.update(CI="true", HOME=str(home))
    env.pop("HYPOTHESIS_PROFILE", None)
    tests = [
        "tests/test_isolation.py::test_every_per_user_path_is_inside_the_test_dir",
        "tests/cli/test_completion_cli.py::test_glue_wordbreaks_leaves_words_without_breaks_alone",
        "tests/cli/test_completion_cli.py::test_listing_commands_fill_the_cache",
    ]
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-o", "addopts=", *tests],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    header = "hypothesis: profile 'ci', seed derived from each test's name (derandomized)"
    assert f"{header}, database none\n" in done.stdout
    assert list(home.iterdir()) == []


def test_the_unprivileged_check_really_lacks_privileges(unprivileged: Unprivileged) -> None:
    """What the unreadable-file tests rest on: their check cannot read a mode-000 file nor
    write into a read-only directory, whoever runs the suite (root included)."""
    secret = unprivileged.directory / "secret"
    secret.write_text("x")
    secret.chmod(0)
    locked = unprivileged.directory / "locked"
    locked.mkdir(mode=0o500)

    def check() -> None:
        with pytest.raises(PermissionError):
            secret.read_text()
        with pytest.raises(PermissionError):
            (locked / "new").write_text("x")

    try:
        unprivileged.run(check)
    finally:
        locked.chmod(0o700)


def test_a_failed_unprivileged_check_fails_the_test(unprivileged: Unprivileged) -> None:
    def check() -> None:
        raise AssertionError("the check's own failure")

    with pytest.raises(pytest.fail.Exception if unprivileged.uid else AssertionError) as caught:
        unprivileged.run(check)
    assert "the check's own failure" in str(caught.value)
