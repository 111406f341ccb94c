"""auth login/status/logout and credential resolution (option > env > profile)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import httpx
import keyring
import pytest
import respx
from keyring.backends import fail

from aircall_ext.config import config_path, resolve_settings
from tests.conftest import MemoryKeyring, RunCli

BASE = "https://api.test"
TOKEN = "tok-very-secret-0123456789"
COMPANY = {"company": {"name": "Acme Telecom", "users_count": 2, "numbers_count": 1}}


def company_route(expected_token: str = TOKEN) -> respx.Route:
    def respond(request: httpx.Request) -> httpx.Response:
        auth = httpx.BasicAuth("my-id", expected_token)
        wanted = next(auth.auth_flow(httpx.Request("GET", BASE))).headers["Authorization"]
        if request.headers.get("Authorization") != wanted:
            return httpx.Response(401, json={"error": "Unauthorized", "troubleshoot": "Check"})
        return httpx.Response(200, json=COMPANY)

    return respx.get(f"{BASE}/v1/company").mock(side_effect=respond)


@respx.mock
def test_login_verifies_then_stores_token_in_keyring_and_profile_in_config(
    run_cli: RunCli, isolate: MemoryKeyring
) -> None:
    company_route()
    result = run_cli(
        "--base-url",
        BASE,
        "auth",
        "login",
        "--api-id",
        "my-id",
        "--token-stdin",
        input=TOKEN + "\n",
    )
    assert result.exit_code == 0, result.stderr
    assert "Acme Telecom" in result.stderr
    assert isolate.secrets == {("aircall-ext", "default"): TOKEN}
    text = config_path().read_text()
    assert "my-id" in text and BASE in text
    assert TOKEN not in text
    assert stat.S_IMODE(os.stat(config_path()).st_mode) == 0o600
    assert TOKEN not in result.stdout + result.stderr


@respx.mock
def test_login_with_a_wrong_token_stores_nothing_and_exits_3(
    run_cli: RunCli, isolate: MemoryKeyring
) -> None:
    company_route()
    result = run_cli(
        "--base-url", BASE, "auth", "login", "--api-id", "my-id", "--token-stdin", input="nope\n"
    )
    assert result.exit_code == 3
    assert "refused the credentials (HTTP 401)" in result.stderr
    assert "nope" not in result.stderr
    assert isolate.secrets == {}
    assert not config_path().exists()


def test_login_without_a_terminal_or_token_stdin_refuses(run_cli: RunCli) -> None:
    result = run_cli("auth", "login", "--api-id", "my-id")
    assert result.exit_code == 2
    assert "--token-stdin" in result.stderr


@respx.mock
def test_status_shows_sources_and_a_masked_token(run_cli: RunCli) -> None:
    company_route()
    login = run_cli(
        "--base-url", BASE, "auth", "login", "--api-id", "my-id", "--token-stdin", input=TOKEN
    )
    assert login.exit_code == 0
    result = run_cli("-o", "json", "auth", "status")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["company"] == "Acme Telecom"
    assert doc["token"] == "****6789"
    assert doc["sources"]["api_token"].startswith("keyring")
    assert doc["sources"]["base_url"] == "profile 'default'"
    assert TOKEN not in result.stdout + result.stderr


def test_status_without_credentials_exits_3_naming_the_env_vars(run_cli: RunCli) -> None:
    result = run_cli("auth", "status")
    assert result.exit_code == 3
    assert "AIRCALL_API_ID" in result.stderr and "AIRCALL_API_TOKEN" in result.stderr


@respx.mock
def test_logout_forgets_token_and_profile(run_cli: RunCli, isolate: MemoryKeyring) -> None:
    company_route()
    run_cli("--base-url", BASE, "auth", "login", "--api-id", "my-id", "--token-stdin", input=TOKEN)
    result = run_cli("auth", "logout")
    assert result.exit_code == 0
    assert isolate.secrets == {}
    assert "my-id" not in config_path().read_text()
    assert run_cli("auth", "status").exit_code == 3


def test_env_beats_profile_and_option_beats_env(
    run_cli: RunCli, monkeypatch: pytest.MonkeyPatch, isolate: MemoryKeyring
) -> None:
    from aircall_ext.config import Profile, save_profile

    save_profile(Profile("default", "profile-id", "https://profile.test/v1"))
    isolate.secrets[("aircall-ext", "default")] = "keyring-token"
    settings = resolve_settings()
    assert (settings.api_id, settings.api_token) == ("profile-id", "keyring-token")
    assert settings.base_url == "https://profile.test/v1"
    monkeypatch.setenv("AIRCALL_API_ID", "env-id")
    monkeypatch.setenv("AIRCALL_API_TOKEN", "env-token")
    monkeypatch.setenv("AIRCALL_BASE_URL", "https://env.test/v1")
    settings = resolve_settings()
    assert (settings.api_id, settings.api_token) == ("env-id", "env-token")
    assert settings.base_url == "https://env.test/v1"
    assert resolve_settings(base_url="https://option.test/v1").base_url == "https://option.test/v1"


def test_unusable_keyring_is_exit_3_naming_the_env_vars(run_cli: RunCli) -> None:
    from aircall_ext.config import Profile, save_profile

    save_profile(Profile("default", "profile-id"))
    keyring.set_keyring(fail.Keyring())
    result = run_cli("list")
    assert result.exit_code == 3
    assert "no OS keyring" in result.stderr
    assert "AIRCALL_API_ID and AIRCALL_API_TOKEN" in result.stderr
    assert "Traceback" not in result.stderr


def test_broken_config_file_is_a_one_line_error(run_cli: RunCli) -> None:
    path = config_path()
    path.parent.mkdir(parents=True)
    path.write_text("default_profile = [broken\n")
    result = run_cli("list")
    assert result.exit_code == 3
    assert str(path) in result.stderr and "invalid TOML" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_unknown_profile_is_named(run_cli: RunCli) -> None:
    result = run_cli("--profile", "prod", "list")
    assert result.exit_code == 3
    assert "no profile 'prod'" in result.stderr


def test_plain_http_to_a_remote_host_is_refused(
    run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRCALL_API_ID", "id")
    monkeypatch.setenv("AIRCALL_API_TOKEN", "secret-token-value")
    result = run_cli("--base-url", "http://api.example.com/v1", "list")
    assert result.exit_code == 3
    assert "refusing plain http://" in result.stderr


def test_config_dir_override(tmp_path: Path) -> None:
    assert config_path() == tmp_path / "config" / "config.toml"
