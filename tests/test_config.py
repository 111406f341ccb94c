"""config.toml is written through files.write_atomic: private, never half-written, and no
temp file shared between writers or left behind; flushed to disk, unlike the completion cache.
The request budget is resolved option > environment > profile, and a bad one named."""

from __future__ import annotations

import os
import stat
from typing import Any

import pytest

from aircall_ext import completion_cache, files
from aircall_ext.api.models import User
from aircall_ext.api.ratelimit import Budget
from aircall_ext.config import Profile, config_path, load_config, resolve_settings, save_profile
from aircall_ext.errors import ConfigError, UsageError
from tests.scenes import api_user


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temp_file(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = save_profile(Profile("prod", "id-1"))
    before = path.read_bytes()

    def no_rename(src: Any, dst: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files.os, "replace", no_rename)
    with pytest.raises(ConfigError, match=r"cannot write .*config\.toml.*No space left"):
        save_profile(Profile("staging", "id-2"))
    assert path.read_bytes() == before
    assert sorted(os.listdir(path.parent)) == ["config.toml"]


def test_two_writers_at_once_use_their_own_temp_files(monkeypatch: pytest.MonkeyPatch) -> None:
    """The second `auth login` writes while the first is about to rename: each renames its
    own temp file, and neither fails nor leaves one behind."""
    real_replace = os.replace
    temps: list[str] = []

    def replace_after_another_writer(src: Any, dst: Any) -> None:
        temps.append(os.fspath(src))
        if len(temps) == 1:
            save_profile(Profile("second", "id-2"))  # runs its whole write in between
        real_replace(src, dst)

    monkeypatch.setattr(files.os, "replace", replace_after_another_writer)
    path = save_profile(Profile("first", "id-1"))
    assert len(temps) == 2 and temps[0] != temps[1]
    assert sorted(os.listdir(path.parent)) == ["config.toml"]
    assert "first" in load_config().profiles  # the last rename wins, whole


def test_the_config_file_is_private_whatever_the_umask() -> None:
    old = os.umask(0)
    try:
        path = save_profile(Profile("prod", "id-1"))
    finally:
        os.umask(old)
    assert path == config_path()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_config_is_flushed_to_disk_before_it_replaces_the_old_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    synced: list[int] = []
    monkeypatch.setattr(files.os, "fsync", synced.append)
    save_profile(Profile("prod", "id-1"))
    assert len(synced) == 1


def test_the_completion_cache_is_not_flushed_to_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every account read refreshes the cache, and a lost cache only costs suggestions."""

    synced: list[int] = []
    monkeypatch.setattr(files.os, "fsync", synced.append)
    completion_cache.remember(users=[User.model_validate(api_user(1, "101"))])
    assert completion_cache.cache_path().exists() and synced == []


# -- the request budget ------------------------------------------------------------------------


def test_the_budget_defaults_to_60_per_minute() -> None:
    settings = resolve_settings(need_token=False)
    assert settings.rate_limit == Budget(60, 60.0)
    assert settings.sources["rate_limit"] == "default"


def test_the_budget_is_option_then_environment_then_profile(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    save_profile(Profile("default", "id", None, "40/60"))
    settings = resolve_settings(need_token=False)
    assert (settings.rate_limit, settings.sources["rate_limit"]) == (
        Budget(40, 60.0),
        "profile 'default'",
    )
    monkeypatch.setenv("AIRCALL_RATE_LIMIT", "30/60")
    settings = resolve_settings(need_token=False)
    assert (settings.rate_limit, settings.sources["rate_limit"]) == (
        Budget(30, 60.0),
        "env AIRCALL_RATE_LIMIT",
    )
    settings = resolve_settings(rate_limit="20/10", need_token=False)
    assert (settings.rate_limit, settings.sources["rate_limit"]) == (
        Budget(20, 10.0),
        "option --rate-limit",
    )


def test_the_sandbox_has_no_budget() -> None:
    assert resolve_settings(rate_limit="5/60", sandbox=True).rate_limit is None


def test_a_budget_in_the_profile_survives_a_rewrite_of_the_file() -> None:
    save_profile(Profile("default", "id", None, "30/60"))
    save_profile(Profile("other", "id2"))
    assert load_config().profiles["default"].rate_limit == "30/60"
    assert 'rate_limit = "30/60"' in config_path().read_text()


def test_a_bad_budget_from_the_environment_is_a_usage_error_naming_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AIRCALL_RATE_LIMIT", "sixty")
    with pytest.raises(UsageError, match=r"^AIRCALL_RATE_LIMIT: 'sixty' is not N/SECONDS"):
        resolve_settings(need_token=False)


def test_a_bad_budget_in_config_toml_names_the_file_and_line() -> None:
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        'default_profile = "work"\n'
        "\n"
        "[profiles.default]\n"
        'rate_limit = "10/60"\n'
        "\n"
        '[profiles."work"]\n'
        'api_id = "id"\n'
        "rate_limit = 60\n"
    )
    with pytest.raises(UsageError) as caught:
        resolve_settings(need_token=False)
    assert caught.value.exit_code == 2
    assert caught.value.message == (
        f"{path}:8: profiles.work.rate_limit: '60' is not N/SECONDS (e.g. 60/60)"
    )


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ('default_profile = "work"\n[profiles]\nwork.rate_limit = "0/60"\n', 3),
        ('default_profile = "work"\n\nprofiles.work.rate_limit = "0/60"\n', 3),
        ('default_profile = "work"\n\n[profiles]\nwork = { rate_limit = "0/60" }\n', 4),
    ],
)
def test_a_bad_budget_written_as_a_dotted_key_or_inline_names_its_line(
    text: str, line: int
) -> None:
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    with pytest.raises(UsageError) as caught:
        resolve_settings(need_token=False)
    assert caught.value.message.startswith(f"{path}:{line}: profiles.work.rate_limit: '0/60' ")


def test_a_bad_budget_in_an_unused_profile_is_no_error(monkeypatch: pytest.MonkeyPatch) -> None:
    save_profile(Profile("default", "id", None, "soon"))
    monkeypatch.setenv("AIRCALL_RATE_LIMIT", "30/60")
    assert resolve_settings(need_token=False).rate_limit == Budget(30, 60.0)
