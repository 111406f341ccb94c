"""The installed console script against a real `sandbox serve` process over loopback."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.e2e.conftest import API_TOKEN, CLI, Serve, read_state_db

pytestmark = pytest.mark.e2e


def seed(state: Path, users: int) -> None:
    """A generated account of ``users`` users, written by the CLI itself."""
    result = subprocess.run(
        [CLI, "sandbox", "reset", "--users", str(users)],
        env={"AIRCALL_EXT_SANDBOX_STATE": str(state), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def test_listing_120_users_takes_exactly_three_gets(serve: Serve, tmp_path: Path) -> None:
    state = tmp_path / "big.db"
    seed(state, 120)
    server = serve(state=state)
    result = server.cli("-o", "json", "list")
    assert result.returncode == 0, result.stderr
    users = json.loads(result.stdout)["users"]
    assert len(users) == 120
    assert len({u["id"] for u in users}) == 120
    gets = server.requests("GET", "/v2/users")
    assert len(gets) == 3
    assert all("per_page=50" in r.target for r in gets)
    assert server.requests("GET", "/v1/numbers") == []  # list never needs numbers


def test_json_list_matches_the_server_state(serve: Serve) -> None:
    server = serve()
    result = server.cli("-o", "json", "list")
    assert result.returncode == 0, result.stderr
    listed = {u["id"]: u["extension"] for u in json.loads(result.stdout)["users"]}
    assert server.stop() == 0
    saved = read_state_db(server.state)
    assert listed == {u["id"]: u.get("extension") for u in saved["users"]}


def test_wrong_token_is_exit_3_and_the_token_is_not_echoed(serve: Serve) -> None:
    server = serve()
    wrong = "wrong-token-NOT-TO-BE-SHOWN"
    result = server.cli("list", env=server.env(AIRCALL_API_TOKEN=wrong))
    assert result.returncode == 3
    assert "403" in result.stderr  # a wrong ID/token pair is 403, as live
    assert wrong not in result.stdout + result.stderr
    assert API_TOKEN not in result.stdout + result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_plain_http_to_a_remote_host_is_refused(serve: Serve) -> None:
    server = serve()
    env = server.env(AIRCALL_BASE_URL="http://api.example.com/v1")
    result = server.cli("list", env=env)
    assert result.returncode == 3
    assert "refusing plain http://" in result.stderr
    assert server.requests() == []


def test_numbers_shows_each_routing_mode(serve: Serve) -> None:
    server = serve()
    result = server.cli("-o", "json", "numbers")
    assert result.returncode == 0, result.stderr
    routings = {n["routing"] for n in json.loads(result.stdout)["numbers"]}
    assert routings == {"smartflows", "legacy-classic", "legacy-ivr"}
