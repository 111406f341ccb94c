"""What numbering plans cost in requests, counted exactly in-process.

Teams are read only when a plan is in effect and the command judges users by their teams:
one more listing, ⌈T/50⌉ GETs of /v1/teams (at least one), beside the ⌈U/50⌉ of users.
Commands that need only the plan's ranges (next-free, import) read no team, and
``validate --offline`` sends nothing at all.
"""

from __future__ import annotations

import math
import os
from collections import Counter
from pathlib import Path

import httpx
import pytest

from aircall_ext.sandbox import build_inprocess_app
from aircall_ext.sandbox.state import SandboxAccount
from aircall_ext.services import session
from tests.conftest import RunCli
from tests.scenes import api_user, save_state

USERS = 120
PAGES_U = math.ceil(USERS / 50)  # 3
PLAN = 'reserved = ["911"]\ndefault = "100-199"\n[teams]\n"Team 001" = "200-299"\n'


class CountingTransport(httpx.BaseTransport):
    """The in-process sandbox, recording each request as ``METHOD /path``."""

    def __init__(self) -> None:
        self.inner = httpx.WSGITransport(app=build_inprocess_app())
        self.seen: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(f"{request.method} {request.url.path}")
        return self.inner.handle_request(request)


@pytest.fixture
def transport(monkeypatch: pytest.MonkeyPatch) -> CountingTransport:
    counting = CountingTransport()
    monkeypatch.setattr(session, "_sandbox_transport", lambda: counting)
    return counting


def account(teams: int) -> None:
    """USERS users on 300-419, ``teams`` teams of five members each (round the users)."""
    users = [api_user(n, f"{299 + n:03d}") for n in range(1, USERS + 1)]
    doc = {
        "company": {"name": "T"},
        "users": users,
        "teams": [
            {
                "id": 7000 + t,
                "name": f"Team {t:03d}",
                "users": [(t * 5 + k) % USERS + 1 for k in range(5)],
            }
            for t in range(1, teams + 1)
        ],
    }
    save_state(Path(os.environ["AIRCALL_EXT_SANDBOX_STATE"]), SandboxAccount.from_document(doc))


def requests(transport: CountingTransport) -> Counter[str]:
    """The requests since the last call, by kind: users, teams, user (one), PUT."""
    kinds: Counter[str] = Counter()
    for seen in transport.seen:
        method, path = seen.split(" ", 1)
        parts = path.strip("/").split("/")
        kind = parts[1] if len(parts) == 2 else parts[1].rstrip("s") + "_one"
        kinds[f"{method} {kind}"] += 1
    transport.seen.clear()
    return kinds


@pytest.fixture
def plan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "plan.toml").write_text(PLAN, encoding="utf-8")
    (tmp_path / "moves.csv").write_text("user_id,extension\n1,250\n", encoding="utf-8")


@pytest.mark.parametrize("teams", [0, 1, 50, 51, 120])
@pytest.mark.parametrize(
    "command",
    [
        ["validate"],
        ["validate", "moves.csv"],
        ["renumber"],
        ["map"],
        ["assign", "1", "--next", "--dry-run"],
    ],
    ids=" ".join,
)
def test_a_plan_reads_the_teams_once_ceil_t_over_50(
    run_cli: RunCli, transport: CountingTransport, plan: None, teams: int, command: list[str]
) -> None:
    account(teams)
    result = run_cli("--sandbox", "--numbering", "plan.toml", *command)
    assert result.exit_code in (0, 1), result.stderr
    pages_t = max(1, math.ceil(teams / 50))
    assert requests(transport) == {"GET users": PAGES_U, "GET teams": pages_t}


@pytest.mark.parametrize("command", [["validate"], ["validate", "moves.csv"], ["list"]])
def test_without_a_plan_no_team_is_read(
    run_cli: RunCli, transport: CountingTransport, plan: None, command: list[str]
) -> None:
    account(120)
    assert run_cli("--sandbox", *command).exit_code in (0, 1)
    assert requests(transport) == {"GET users": PAGES_U}


def test_list_team_reads_the_teams_without_a_plan(
    run_cli: RunCli, transport: CountingTransport
) -> None:
    account(120)
    assert run_cli("--sandbox", "list", "--team", "Team 007").exit_code == 0
    assert requests(transport) == {"GET users": PAGES_U, "GET teams": 3}


@pytest.mark.parametrize(
    "command",
    [["next-free", "--team", "Team 001"], ["next-free"], ["import", "moves.csv", "--dry-run"]],
    ids=" ".join,
)
def test_commands_that_need_only_the_ranges_read_no_team(
    run_cli: RunCli, transport: CountingTransport, plan: None, command: list[str]
) -> None:
    account(120)
    result = run_cli("--sandbox", "--numbering", "plan.toml", *command)
    assert result.exit_code == 0, result.stderr
    assert requests(transport) == {"GET users": PAGES_U}


def test_assign_next_writes_once_and_reads_the_user_back(
    run_cli: RunCli, transport: CountingTransport, plan: None
) -> None:
    account(120)
    assert run_cli("--sandbox", "--numbering", "plan.toml", "assign", "1", "--next").exit_code == 0
    assert requests(transport) == {
        "GET users": PAGES_U,
        "GET teams": 3,
        "PUT user_one": 1,
        "GET user_one": 1,
    }


def test_a_team_listed_without_its_members_is_read_on_its_own(
    run_cli: RunCli, transport: CountingTransport, plan: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Live listings carry the members; one that does not costs one GET of that team, and
    only for a team the plan names."""
    from aircall_ext.api.client import ApiClient, Listing
    from aircall_ext.api.models import Team

    account(120)
    listing = ApiClient.list_teams

    def without_members(self: ApiClient) -> Listing[Team]:
        read = listing(self)
        teams = tuple(t.model_copy(update={"users": None}) for t in read)
        return Listing(teams, read.incomplete, read.capped)

    monkeypatch.setattr(ApiClient, "list_teams", without_members)
    result = run_cli("--sandbox", "--numbering", "plan.toml", "-o", "json", "validate")
    assert result.exit_code in (0, 1)
    assert requests(transport) == {"GET users": PAGES_U, "GET teams": 3, "GET team_one": 1}


def test_offline_validate_sends_nothing(
    run_cli: RunCli, transport: CountingTransport, plan: None
) -> None:
    account(120)
    result = run_cli("--numbering", "plan.toml", "validate", "--offline", "moves.csv")
    assert result.exit_code == 0, result.stderr
    assert transport.seen == []
