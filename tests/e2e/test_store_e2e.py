"""Many real processes on one sandbox database: no lost write, no shared extension, nothing
acknowledged lost to a SIGKILL."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import httpx
import pytest

from aircall_ext.sandbox.demo import demo_account
from tests.e2e.conftest import (
    API_ID,
    API_TOKEN,
    CLI,
    Serve,
    holdings_db,
    read_state_db,
    sandbox_env,
    write_holdings,
)

N = 8
TIMEOUT = 120


def local(state: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``aircall-ext ARGS`` on the sandbox database ``state``, in a process of its own."""
    return subprocess.run(
        [CLI, *args], env=sandbox_env(state), capture_output=True, text=True, timeout=TIMEOUT
    )


def run_at_once(commands: list[list[str]], env: dict[str, str]) -> list[tuple[int, str]]:
    """Start every command before waiting for any; their (exit code, stderr) in order."""
    processes = [
        subprocess.Popen(
            [CLI, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for args in commands
    ]
    results = []
    for process in processes:
        _out, err = process.communicate(timeout=TIMEOUT)
        results.append((process.returncode, err))
    return results


@pytest.fixture
def state(tmp_path: Path) -> Path:
    path = tmp_path / "shared.db"
    write_holdings(path, {i: f"{100 + i}" for i in range(1, N + 1)}, company="Many")
    return path


def test_concurrent_assigns_of_different_users_all_persist(state: Path) -> None:
    commands = [["--sandbox", "assign", str(i), f"{500 + i}"] for i in range(1, N + 1)]
    results = run_at_once(commands, sandbox_env(state))
    assert [code for code, _err in results] == [0] * N, results
    assert holdings_db(state) == {i: f"{500 + i}" for i in range(1, N + 1)}


def test_concurrent_assigns_of_one_extension_let_exactly_one_win(state: Path) -> None:
    commands = [["--sandbox", "assign", str(i), "777"] for i in range(1, N + 1)]
    results = run_at_once(commands, sandbox_env(state))
    codes = [code for code, _err in results]
    assert sorted(codes) == [0] + [1] * (N - 1), results
    final = holdings_db(state)
    winner = codes.index(0) + 1
    assert [u for u, e in final.items() if e == "777"] == [winner]
    assert final == {i: "777" if i == winner else f"{100 + i}" for i in range(1, N + 1)}


def test_racing_first_runs_on_a_new_database_seed_the_demo_once(tmp_path: Path) -> None:
    state = tmp_path / "fresh" / "new.db"
    results = run_at_once([["--sandbox", "-o", "json", "list"]] * N, sandbox_env(state))
    assert [code for code, _err in results] == [0] * N, results
    assert read_state_db(state) == demo_account().document()


def test_a_killed_server_loses_no_acknowledged_write(serve: Serve, state: Path) -> None:
    server = serve("--rate-limit", "off", state=state)
    auth = (API_ID, API_TOKEN)
    with httpx.Client(base_url=server.base_url, auth=auth, timeout=30) as client:
        for i in range(1, N + 1):
            response = client.put(f"/v2/users/{i}", json={"extension": f"{600 + i}"})
            assert response.status_code == 200
    server.process.kill()  # SIGKILL: no shutdown, no flush
    server.process.wait(timeout=30)
    expected = {i: f"{600 + i}" for i in range(1, N + 1)}
    listed = local(state, "--sandbox", "-o", "json", "list")
    assert listed.returncode == 0, listed.stderr
    assert {u["id"]: u["extension"] for u in json.loads(listed.stdout)["users"]} == expected
    again = serve("--rate-limit", "off", state=state)
    shown = again.cli("-o", "json", "list")
    assert {u["id"]: u["extension"] for u in json.loads(shown.stdout)["users"]} == expected


def test_a_sandbox_command_and_a_server_share_one_database(serve: Serve, state: Path) -> None:
    server = serve("--rate-limit", "off", state=state)
    served = server.cli("assign", "1", "501")
    assert served.returncode == 0, served.stderr
    mine = local(state, "--sandbox", "assign", "2", "501")
    assert mine.returncode == 1 and "501" in mine.stderr  # it sees the served write
    mine = local(state, "--sandbox", "assign", "2", "502")
    assert mine.returncode == 0, mine.stderr
    shown = server.cli("-o", "json", "show", "2")  # the server sees the local write
    assert shown.returncode == 0, shown.stderr
    assert '"502"' in shown.stdout


def test_two_servers_on_one_database_share_every_write(serve: Serve, state: Path) -> None:
    one = serve("--rate-limit", "off", state=state)
    two = serve("--rate-limit", "off", state=state)
    auth = (API_ID, API_TOKEN)
    with (
        httpx.Client(base_url=one.base_url, auth=auth, timeout=30) as first,
        httpx.Client(base_url=two.base_url, auth=auth, timeout=30) as second,
    ):
        assert first.put("/v2/users/1", json={"extension": "701"}).status_code == 200
        assert second.get("/v2/users/1").json()["user"]["extension"] == "701"
        assert second.put("/v2/users/2", json={"extension": "701"}).status_code == 422
        assert second.put("/v2/users/2", json={"extension": "702"}).status_code == 200
        assert first.get("/v2/users/2").json()["user"]["extension"] == "702"
