"""Every per-user directory comes from aircall_ext.names, under one app dir on every platform."""

from __future__ import annotations

from pathlib import Path

import platformdirs
import platformdirs.windows
import pytest

from aircall_ext.completion_cache import cache_path
from aircall_ext.names import APP_NAME, ENV_SANDBOX_STATE, cache_dir, state_dir
from aircall_ext.sandbox.store import default_state_path
from aircall_ext.services.journal import journals_dir


def test_journals_the_sandbox_and_the_cache_share_one_app_dir_on_windows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Windows is where a missing ``appauthor=False`` shows (``aircall-ext/aircall-ext``)."""
    monkeypatch.setattr(platformdirs, "PlatformDirs", platformdirs.windows.Windows)
    monkeypatch.setattr(platformdirs.windows, "get_win_folder", lambda csidl: str(tmp_path / csidl))
    monkeypatch.delenv(ENV_SANDBOX_STATE, raising=False)
    local = tmp_path / "CSIDL_LOCAL_APPDATA"
    assert state_dir() == local / APP_NAME
    assert journals_dir() == local / APP_NAME / "journals"
    assert default_state_path() == local / APP_NAME / "sandbox.db"
    assert cache_dir() == local / APP_NAME / "Cache"
    assert cache_path().parent == cache_dir()
