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
from tests.scenes import env_credentials

BASE = "https://api.test"
TOKEN = "tok-very-secret-0123456789"
COMPANY = {"company": {"name": "Acme Telecom", "users_count": 2, "numbers_count": 1}}


def company_route(expected_token: str = TOKEN) -> respx.Route:
    def respond(request: httpx.Request) -> httpx.Response:
        auth = httpx.BasicAuth("my-id", expected_token)
        wanted = next(auth.auth_flow(httpx.Request("GET", BASE))).headers["Authorization"]
        if request.headers.get("Authorization") != wanted:  # a wrong pair, as live
            return httpx.Response(403, json={"message": "Forbidden"})
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
    assert "the API ID and token do not match (HTTP 403)" in result.stderr
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
    env_credentials(monkeypatch, "env-id", "env-token", base_url="https://env.test/v1")
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
    env_credentials(monkeypatch, "id", "secret-token-value")
    result = run_cli("--base-url", "http://api.example.com/v1", "list")
    assert result.exit_code == 3
    assert "refusing plain http://" in result.stderr


def test_config_dir_override(tmp_path: Path) -> None:
    assert config_path() == tmp_path / "config" / "config.toml"


# -- profiles other than the default ---------------------------------------------------


@respx.mock
@pytest.mark.parametrize("how", ["option", "env"])
def test_login_creates_the_named_profile(
    run_cli: RunCli, isolate: MemoryKeyring, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    from aircall_ext.config import Profile, load_config, save_profile

    save_profile(Profile("default", "other-id"))
    company_route()
    args = ["--base-url", BASE, "auth", "login", "--api-id", "my-id", "--token-stdin"]
    if how == "option":
        args = ["--profile", "work", *args]
    else:
        monkeypatch.setenv("AIRCALL_EXT_PROFILE", "work")
    result = run_cli(*args, input=TOKEN + "\n")
    assert result.exit_code == 0, result.stderr
    assert "as profile 'work'" in result.stderr
    assert isolate.secrets == {("aircall-ext", "work"): TOKEN}
    config = load_config()
    assert config.profiles["work"] == Profile("work", "my-id", BASE)
    assert config.default_profile == "default"  # another profile stays the default
    status = run_cli(
        "-o", "json", *(["--profile", "work"] if how == "option" else []), "auth", "status"
    )
    assert status.exit_code == 0, status.stderr
    assert json.loads(status.stdout)["api_id"] == "my-id"


def test_an_unknown_profile_hints_at_creating_it(run_cli: RunCli) -> None:
    result = run_cli("--profile", "work", "list")
    assert result.exit_code == 3
    assert "no profile 'work'" in result.stderr
    assert "`aircall-ext --profile work auth login`" in result.stderr


# -- hints fit the command --------------------------------------------------------------


@respx.mock
def test_a_refused_login_says_to_check_what_was_typed_not_to_log_in(run_cli: RunCli) -> None:
    company_route()
    result = run_cli(
        "--profile", "work", "--base-url", BASE, "auth", "login", "--api-id", "my-id",
        "--token-stdin", input="wrong\n",
    )  # fmt: skip
    assert result.exit_code == 3
    assert "check the API ID and token you gave" in result.stderr
    assert "auth login" not in result.stderr


def list_with_a_refused_token(
    run_cli: RunCli, monkeypatch: pytest.MonkeyPatch, status: int, *options: str
) -> str:
    """``list`` with environment credentials the API refuses (401 or 403): its stderr."""
    respx.get(f"{BASE}/v2/users").mock(return_value=httpx.Response(status, json={"error": "no"}))
    env_credentials(monkeypatch, "my-id", "stale-token-value")
    result = run_cli(*options, "--base-url", BASE, "list")
    assert result.exit_code == 3
    return result.stderr


@respx.mock
def test_a_refused_token_elsewhere_suggests_login_or_the_environment(
    run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    stderr = list_with_a_refused_token(run_cli, monkeypatch, 401)
    assert "auth login" in stderr and "AIRCALL_API_TOKEN" in stderr


@respx.mock
def test_a_refused_token_suggests_logging_in_to_the_same_profile_and_url(
    run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    stderr = list_with_a_refused_token(run_cli, monkeypatch, 403, "--profile", "work")
    assert f"`aircall-ext --profile work --base-url {BASE} auth login`" in stderr


# -- an empty variable is named, not the keyring ----------------------------------------


@pytest.mark.parametrize("keyring_works", [True, False])
def test_an_empty_token_variable_is_named(
    run_cli: RunCli, monkeypatch: pytest.MonkeyPatch, keyring_works: bool
) -> None:
    env_credentials(monkeypatch, "my-id", "")
    if not keyring_works:
        keyring.set_keyring(fail.Keyring())
    result = run_cli("list")
    assert result.exit_code == 3
    assert result.stderr.startswith("aircall-ext: error: AIRCALL_API_TOKEN is set but empty")
    assert "CI secret" in result.stderr
    assert ("no keyring" in result.stderr) is not keyring_works


def test_empty_id_and_token_variables_are_both_named(
    run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_credentials(monkeypatch, " ", "")
    keyring.set_keyring(fail.Keyring())
    result = run_cli("list")
    assert result.exit_code == 3
    assert "AIRCALL_API_ID and AIRCALL_API_TOKEN are set but empty" in result.stderr


def test_an_empty_variable_does_not_hide_stored_credentials(
    run_cli: RunCli, monkeypatch: pytest.MonkeyPatch, isolate: MemoryKeyring
) -> None:
    from aircall_ext.config import Profile, save_profile

    save_profile(Profile("default", "profile-id"))
    isolate.secrets[("aircall-ext", "default")] = "keyring-token-0123456789"
    monkeypatch.setenv("AIRCALL_API_TOKEN", "")
    settings = resolve_settings()
    assert (settings.api_id, settings.api_token) == ("profile-id", "keyring-token-0123456789")


# -- logout -------------------------------------------------------------------------------


def test_logout_without_a_keyring_still_forgets_the_profile(
    run_cli: RunCli, isolate: MemoryKeyring
) -> None:
    from aircall_ext.config import Profile, load_config, save_profile

    save_profile(Profile("default", "my-id"))
    save_profile(Profile("work", "work-id"))
    keyring.set_keyring(fail.Keyring())
    result = run_cli("--profile", "work", "auth", "logout")
    assert result.exit_code == 3
    assert "work" not in load_config().profiles
    assert f"its entry in {config_path()} removed" in result.stderr
    assert "the OS keyring could not be cleared" in result.stderr
    assert "`keyring del aircall-ext work`" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_logout_of_a_profile_that_does_not_exist_says_so(
    run_cli: RunCli, isolate: MemoryKeyring
) -> None:
    from aircall_ext.config import Profile, save_profile

    save_profile(Profile("default", "my-id"))
    result = run_cli("--profile", "wrok", "auth", "logout")
    assert result.exit_code == 0
    assert "nothing to forget: no profile 'wrok'" in result.stderr
    assert "(profiles: default)" in result.stderr
    keyring.set_keyring(fail.Keyring())
    result = run_cli("--profile", "wrok", "auth", "logout")
    assert result.exit_code == 3
    assert f"profile 'wrok': no entry in {config_path()} (profiles: default)" in result.stderr


def test_logging_out_of_the_default_profile_resets_the_default(run_cli: RunCli) -> None:
    from aircall_ext.config import Profile, load_config, save_profile

    save_profile(Profile("work", "work-id"))  # the first profile becomes the default
    assert load_config().default_profile == "work"
    assert run_cli("auth", "logout").exit_code == 0
    assert load_config().default_profile == "default"


# -- status without a keyring --------------------------------------------------------------


def test_status_without_a_keyring_shows_where_everything_comes_from(run_cli: RunCli) -> None:
    from aircall_ext.config import Profile, save_profile

    save_profile(Profile("default", "profile-id", "https://profile.test"))
    keyring.set_keyring(fail.Keyring())
    result = run_cli("auth", "status")
    assert result.exit_code == 3
    rows = {line.split()[0]: line for line in result.stdout.splitlines()[2:]}
    assert "profile-id" in rows["API"] and "profile 'default'" in rows["API"]
    assert "https://profile.test" in rows["base"]
    assert rows["token"].split(None, 2)[2].strip() == "unavailable (no keyring)"
    assert "no OS keyring" in result.stderr
    doc = json.loads(run_cli("-o", "json", "auth", "status").stdout)
    assert doc["sources"]["api_token"] == "unavailable (no keyring)"
    assert doc["api_id"] == "profile-id"


# -- a broken config file -------------------------------------------------------------------


def broken_config() -> Path:
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('default_profile = "default"\n[profiles.default\napi_id = "x"\n')
    return path


@respx.mock
def test_a_broken_config_is_ignored_when_nothing_is_needed_from_it(
    run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    respx.get(f"{BASE}/v2/users").mock(
        return_value=httpx.Response(
            200, json={"users": [], "meta": {"count": 0, "total": 0, "current_page": 1}}
        )
    )
    path = broken_config()
    env_credentials(monkeypatch, "my-id", "env-token-0123456789", base_url=BASE)
    result = run_cli("-o", "json", "list")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {"users": []}
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1
    assert f"ignoring {path}:2:" in warnings[0] and "invalid TOML" in warnings[0]


@respx.mock
def test_a_broken_config_is_said_once_when_both_settings_and_plan_are_resolved(
    run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    company_route("env-token-0123456789")
    path = broken_config()
    env_credentials(monkeypatch, "my-id", "env-token-0123456789", base_url=BASE)
    result = run_cli("-o", "json", "auth", "status")  # the settings, then the plan file
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["sources"]["numbering"] == "not set"
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1
    assert f"ignoring {path}:2:" in warnings[0]


def test_a_broken_config_fails_when_a_value_is_needed_from_it(
    run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = broken_config()
    env_credentials(monkeypatch, "my-id", "env-token-0123456789")
    result = run_cli("list")
    assert result.exit_code == 3
    assert f"{path}:2:" in result.stderr
    assert "the base URL would come from it" in result.stderr
    assert "AIRCALL_BASE_URL" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_login_with_a_broken_config_fails_before_asking_for_the_token(run_cli: RunCli) -> None:
    path = broken_config()
    result = run_cli("auth", "login", "--api-id", "my-id", "--token-stdin", input=TOKEN)
    assert result.exit_code == 3
    assert f"{path}:2:" in result.stderr


# -- the request budget ---------------------------------------------------------------------


def login(run_cli: RunCli, *options: str) -> None:
    result = run_cli(
        "--base-url", BASE, "auth", "login", "--api-id", "my-id", *options, "--token-stdin",
        input=TOKEN,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr


@respx.mock
def test_login_keeps_the_budget_in_the_profile_and_status_shows_where_it_comes_from(
    run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    company_route()
    login(run_cli, "--rate-limit", "30/60")
    assert 'rate_limit = "30/60"' in config_path().read_text()
    login(run_cli)  # logging in again without --rate-limit keeps it
    doc = json.loads(run_cli("-o", "json", "auth", "status").stdout)
    assert (doc["rate_limit"], doc["sources"]["rate_limit"]) == ("30/60", "profile 'default'")
    monkeypatch.setenv("AIRCALL_RATE_LIMIT", "20/60")
    table = run_cli("auth", "status").stdout
    assert any(
        line.split()[:4] == ["rate", "limit", "20/60", "env"] for line in table.splitlines()
    ), table
    doc = json.loads(run_cli("--rate-limit", "10/1", "-o", "json", "auth", "status").stdout)
    assert (doc["rate_limit"], doc["sources"]["rate_limit"]) == ("10/1", "option --rate-limit")


@respx.mock
def test_status_shows_a_limit_the_api_imposed_on_the_account(run_cli: RunCli) -> None:
    from aircall_ext.services.ratelimits import AccountRateLimit

    company_route()
    login(run_cli)
    AccountRateLimit.of(BASE, "my-id", [].append).remember(25, 0.0)
    doc = json.loads(run_cli("-o", "json", "auth", "status").stdout)
    assert doc["rate_limit"] == "25/60"
    assert doc["sources"]["rate_limit"] == (
        "the API's limit (HTTP 429), remembered for this account; configured 60/60 from default"
    )


@pytest.mark.parametrize(
    "args",
    [
        ["--rate-limit", "sixty", "auth", "status"],
        ["auth", "login", "--api-id", "x", "--rate-limit", "0/60", "--token-stdin"],
    ],
)
def test_a_bad_budget_option_is_a_usage_error_naming_it(run_cli: RunCli, args: list[str]) -> None:
    result = run_cli(*args, input=TOKEN)
    assert result.exit_code == 2
    assert "'--rate-limit'" in result.stderr and "is not N/SECONDS" in result.stderr
    assert not config_path().exists()


def test_a_bad_budget_in_the_environment_is_a_usage_error_naming_it(
    run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRCALL_RATE_LIMIT", "1/0")
    env_credentials(monkeypatch, "id", "token")
    result = run_cli("list")
    assert result.exit_code == 2
    assert "AIRCALL_RATE_LIMIT: '1/0' is not N/SECONDS" in result.stderr


@respx.mock
def test_a_429_during_a_run_is_said_once_remembered_and_shown_by_status(
    run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_credentials(monkeypatch, "my-id", TOKEN, base_url=BASE)
    refused = httpx.Response(
        429,
        json={"error": "Too Many Requests"},
        headers={"Retry-After": "0", "X-AircallApi-Limit": "20"},
    )
    respx.get(f"{BASE}/v1/company").mock(side_effect=[refused, httpx.Response(200, json=COMPANY)])
    result = run_cli("-o", "json", "auth", "status")
    assert result.exit_code == 0, result.stderr
    assert result.stderr.count("the API limited us to 20 requests") == 1
    assert "remembered for this account" in result.stderr
    assert json.loads(result.stdout)["rate_limit"] == "20/60"  # this run paces at it already
    respx.get(f"{BASE}/v1/company").mock(return_value=httpx.Response(200, json=COMPANY))
    doc = json.loads(run_cli("-o", "json", "auth", "status").stdout)  # the next run
    assert doc["rate_limit"] == "20/60"
    assert doc["sources"]["rate_limit"].startswith("the API's limit (HTTP 429), remembered")
