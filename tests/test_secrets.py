"""Secrets: the API token never leaves the keyring/environment it came from.

Covered elsewhere, not repeated here: the client's ``-vv`` header redaction
(tests/api/test_api_client.py::test_verbose_logs_never_contain_the_token), config.toml
created 0600 by ``auth login`` (tests/cli/test_auth_cli.py::test_login_verifies_then_stores_
token_in_keyring_and_profile_in_config), ``http://`` to a remote host refused
(tests/api/test_api_client.py::test_plain_http_is_refused_except_for_loopback,
tests/cli/test_auth_cli.py::test_plain_http_to_a_remote_host_is_refused), the journal
created 0600 in a 0700 directory (tests/services/test_journal_service.py::test_created_
private_in_a_private_directory), ``sandbox serve`` refusing a non-loopback bind without
``--allow-remote`` (tests/sandbox/test_sandbox_cli.py::test_serve_refuses_a_non_loopback_host),
and a real ``-v -v`` import against ``sandbox serve`` (tests/e2e/test_secrets_e2e.py).
"""

from __future__ import annotations

import base64
import os
import stat
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path

import click
import httpx
import pytest
import respx

from aircall_ext.api.client import ApiClient
from aircall_ext.cli import cli
from aircall_ext.config import config_path, resolve_settings
from aircall_ext.errors import AircallExtError
from tests.conftest import MemoryKeyring, RunCli
from tests.scenes import env_credentials

BASE = "https://api.test"
TOKEN = "tok-SECRET-secrets-0123456789"


def secret_forms(api_id: str, token: str) -> list[str]:
    """The token, and the Authorization header's Basic credentials that carry it."""
    pair = base64.b64encode(f"{api_id}:{token}".encode()).decode()
    return [token, pair, f"Basic {pair}"]


def assert_no_secret(text: str, forms: list[str], where: str) -> None:
    for form in forms:
        assert form not in text, f"{where} holds {form[:6]}..."


# -- argv -------------------------------------------------------------------------------


def walk(command: click.Command, path: tuple[str, ...] = ()) -> Iterator[tuple[str, click.Command]]:
    """Every command of the tree (through Click's API: the root group loads them lazily)."""
    yield " ".join(path), command
    if isinstance(command, click.Group):
        ctx = click.Context(command)
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            assert sub is not None
            yield from walk(sub, (*path, name))


def command(*path: str) -> click.Command:
    return dict(walk(cli))[" ".join(path)]


SECRETISH = ("token", "password", "secret", "passwd")
# `sandbox serve --api-token`: the credentials a local test server will accept (default
# "sandbox"), not an account's secret; it also reads AIRCALL_EXT_SANDBOX_TOKEN.
ALLOWED = {("sandbox serve", "--api-token")}


def test_no_command_takes_a_secret_value_in_argv() -> None:
    found = []
    for path, each in walk(cli):
        assert path == "" or each.name == path.split()[-1]
        for param in each.params:
            if not isinstance(param, click.Option):
                continue
            for opt in param.opts + param.secondary_opts:
                if any(word in opt.lower() for word in SECRETISH) and not param.is_flag:
                    found.append((path, opt))
    assert set(found) == ALLOWED
    (api_token,) = [p for p in command("sandbox", "serve").params if p.name == "api_token"]
    assert api_token.envvar == "AIRCALL_EXT_SANDBOX_TOKEN"


def test_auth_login_only_reads_the_token_from_stdin_or_a_hidden_prompt() -> None:
    options = {opt: p for p in command("auth", "login").params for opt in p.opts}
    assert set(options) == {"--api-id", "--rate-limit", "--numbering", "--token-stdin"}
    assert options["--token-stdin"].is_flag


@respx.mock
def test_a_token_given_in_argv_is_refused_and_never_stored(
    run_cli: RunCli, isolate: MemoryKeyring
) -> None:
    route = respx.get(f"{BASE}/v1/company").mock(return_value=httpx.Response(200, json={}))
    result = run_cli("--base-url", BASE, "auth", "login", "--api-id", "me", "--token", TOKEN)
    assert result.exit_code == 2
    assert "--token" in result.stderr
    assert not route.called
    assert isolate.secrets == {}
    assert not config_path().exists()


# -- files ------------------------------------------------------------------------------


@pytest.fixture
def no_umask() -> Iterator[None]:
    """Permissions must come from the code, not from a friendly umask."""
    previous = os.umask(0)
    yield
    os.umask(previous)


@respx.mock
def test_config_is_0600_in_a_0700_dir_even_with_umask_0_and_a_loose_old_file(
    run_cli: RunCli, no_umask: None
) -> None:
    respx.get(f"{BASE}/v1/company").mock(
        return_value=httpx.Response(200, json={"company": {"name": "Acme"}})
    )
    path = config_path()
    path.parent.mkdir(mode=0o700)
    path.write_text('default_profile = "default"\n')
    path.chmod(0o644)  # left behind by an older version, or an editor
    result = run_cli("--base-url", BASE, "auth", "login", "--api-id", "me", "--token-stdin",
                     input=TOKEN + "\n")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert TOKEN not in path.read_text()
    assert not list(path.parent.glob("*.tmp"))


def test_the_journal_of_a_real_import_is_0600_even_with_umask_0(
    run_cli: RunCli, write_state: Callable[..., Path], tmp_path: Path, no_umask: None
) -> None:
    from tests.scenes import api_user

    write_state([api_user(1, "101"), api_user(2, "102")])
    csv_file = tmp_path / "swap.csv"
    csv_file.write_text("user_id,extension\n1,102\n2,101\n")
    journal = tmp_path / "journals" / "swap.jsonl"
    result = run_cli("--sandbox", "import", str(csv_file), "--yes", "--journal", str(journal))
    assert result.exit_code == 0, result.stderr
    assert stat.S_IMODE(journal.stat().st_mode) == 0o600
    assert stat.S_IMODE(journal.parent.stat().st_mode) == 0o700


# -- exceptions and logs (in-process) ---------------------------------------------------


Mock = Callable[[respx.MockRouter], object]


def status(code: int, body: object = None) -> Mock:
    return lambda r: r.route().mock(return_value=httpx.Response(code, json=body or {"error": "x"}))


def raises(error: Exception) -> Mock:
    return lambda r: r.route().mock(side_effect=error)


FAILURES: list[tuple[str, Mock]] = [
    ("401", status(401)),
    ("403", status(403)),
    ("404", status(404)),
    ("422", status(422)),
    ("500", status(500)),
    ("429", status(429)),
    ("wrong shape", status(200, {"users": "nope"})),
    ("html", lambda r: r.route().mock(return_value=httpx.Response(200, content=b"<html>"))),
    ("connect", raises(httpx.ConnectError("connection refused"))),
    ("timeout", raises(httpx.ReadTimeout("timed out"))),
    ("protocol", raises(httpx.RemoteProtocolError("closed"))),
]


@pytest.mark.parametrize(("name", "mock"), FAILURES, ids=[n for n, _ in FAILURES])
def test_errors_and_their_tracebacks_never_carry_the_credentials(name: str, mock: Mock) -> None:
    forms = secret_forms("api-id", TOKEN)
    lines: list[str] = []
    with respx.mock(base_url=BASE) as router:
        mock(router)
        client = ApiClient(
            BASE, "api-id", TOKEN, sleep=lambda _s: None, log=lines.append, log_headers=True
        )
        with pytest.raises(AircallExtError) as caught:
            client.list_users()
            client.set_extension(1, "101")
    err = caught.value
    text = "\n".join(
        [str(err), repr(err), err.hint or "", *traceback.format_exception(err), *lines]
    )
    assert_no_secret(text, forms, name)
    assert_no_secret(repr(client) + repr(vars(client)), [TOKEN], "the client's repr")


def test_settings_repr_hides_the_token(monkeypatch: pytest.MonkeyPatch) -> None:
    env_credentials(monkeypatch, "me", TOKEN)
    settings = resolve_settings()
    assert settings.api_token == TOKEN
    assert TOKEN not in repr(settings) and TOKEN not in str(settings)


@respx.mock
def test_a_redirect_never_carries_the_credentials_elsewhere(
    run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_credentials(monkeypatch, "me", TOKEN, base_url=BASE)
    respx.get(f"{BASE}/v2/users").mock(
        return_value=httpx.Response(301, headers={"Location": "https://evil.test/v2/users"})
    )
    elsewhere = respx.route(host="evil.test").mock(return_value=httpx.Response(200, json={}))
    result = run_cli("-v", "-v", "list")
    assert result.exit_code == 4
    assert not elsewhere.called
    assert_no_secret(result.stdout + result.stderr, secret_forms("me", TOKEN), "output")
