"""Shared fixtures: every test runs isolated from the real machine and the real network."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import keyring
import pytest
from click.testing import CliRunner
from keyring.backend import KeyringBackend

from aircall_ext.cli import run


class MemoryKeyring(KeyringBackend):
    """An in-memory OS keyring, so tests never touch (or need) a real one."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.secrets: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.secrets.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.secrets[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        from keyring.errors import PasswordDeleteError

        if self.secrets.pop((service, username), None) is None:
            raise PasswordDeleteError(username)


@pytest.fixture(autouse=True)
def isolate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[MemoryKeyring]:
    """Temp config and state dirs, an in-memory keyring, no colour, no AIRCALL_* leaking in."""
    import os

    for name in list(os.environ):
        if name.startswith("AIRCALL"):
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / ".local" / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("AIRCALL_EXT_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("AIRCALL_EXT_SANDBOX_STATE", str(tmp_path / "sandbox.db"))
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "80")
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


RunCli = Callable[..., CliResult]


@pytest.fixture
def run_cli() -> RunCli:
    """Run the CLI in-process through the real entry point (exit-code mapping included)."""

    def invoke(*args: str, input: str | bytes | None = None) -> CliResult:
        runner = CliRunner()
        with runner.isolation(input=input) as (out, err, _mixed):
            code = run(list(args))
        return CliResult(code, out.getvalue().decode(), err.getvalue().decode())

    return invoke


def api_user(
    user_id: int,
    extension: str | None,
    *,
    email: str | None = None,
    name: str | None = None,
    available: bool = True,
    status: str = "available",
    outgoing_only: bool = False,
) -> dict[str, object]:
    """A user in the API's shape, for sandbox state files and respx bodies."""
    return {
        "id": user_id,
        "name": name or f"User {user_id}",
        "email": email or f"user{user_id}@example.com",
        "available": available,
        "availability_status": status,
        "extension": extension,
        "outgoing_only": outgoing_only,
        "numbers": [],
    }


@pytest.fixture
def write_state(tmp_path: Path) -> Callable[..., Path]:
    """Fill the in-process sandbox's database (the path the isolation fixture set)."""
    import os

    from aircall_ext.sandbox.state import SandboxAccount, save_state

    def write(
        users: list[dict[str, object]], numbers: list[dict[str, object]] | None = None
    ) -> Path:
        path = Path(os.environ["AIRCALL_EXT_SANDBOX_STATE"])
        state = {
            "company": {"name": "Test Co", "users_count": len(users), "numbers_count": 0},
            "users": users,
            "numbers": numbers or [],
        }
        save_state(path, SandboxAccount.from_document(state))
        return path

    return write
