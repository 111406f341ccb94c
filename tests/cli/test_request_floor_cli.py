"""The request floor: every request a command sends, counted exactly in-process.

Each ``--sandbox`` run goes through a counting transport (the ``sandbox_requests`` fixture),
which sees what ``sandbox serve``'s access log would show: method, path and query, status.
tests/e2e/test_request_floor_e2e.py checks once that the installed script against a real
server sends exactly what is counted here.

Floors (U users, N numbers, 50 per page; a listing always takes at least one page):

- a listing of users: max(1, ⌈U/50⌉) GETs of /v2/users, nothing else;
- an import of C changes with K cycles: ⌈U/50⌉ GETs to plan, C + K PUTs, one GET of
  /v2/users/ID reading the first write back, ⌈U/50⌉ GETs to verify, nothing else; running
  it again: ⌈U/50⌉ GETs and no PUT; --dry-run: no PUT; a saved plan and an undo cost the
  same as an import, and a stale plan only its check;
- assign: ⌈U/50⌉ GETs (collisions are checked on the whole account), 1 PUT and one GET of
  /v2/users/ID reading the user back; a refused or dry-run assign: no PUT, no read-back;
- show by id: one GET of /v2/users/ID and one page of /v2/users/ID/numbers;
- numbers are listed (⌈N/50⌉ GETs of /v1/numbers) only by ``numbers`` and ``dial``; listing
  items carry no call distribution, so ``numbers`` reads each number's own record (N GETs
  of /v1/numbers/ID) and ``dial`` reads the dialed number's (1 GET);
- teams (T of them) are read only when a numbering plan is in effect and the command judges
  users by their teams (validate, validate FILE, renumber, map, assign --next), and by
  ``list --team``: one more listing, max(1, ⌈T/50⌉) GETs of /v1/teams; commands that need
  only the plan's ranges (next-free, import) read none, and ``validate --offline`` sends
  nothing at all.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest

from aircall_ext.sandbox.demo import generate_account
from aircall_ext.sandbox.state import SandboxAccount
from tests.conftest import RequestLog, RunCli
from tests.scenes import (
    UNDO_AFTER,
    UNDO_BEFORE,
    api_user,
    extensions,
    first_free,
    floor_import,
    only,
    replay_writes,
    save_state,
)

USERS = 120
NUMBERS = 60
PAGES_U = math.ceil(USERS / 50)  # 3
PAGES_N = math.ceil(NUMBERS / 50)  # 2


def install(users: int, numbers: int = 3) -> SandboxAccount:
    """A generated account of ``users`` users in the in-process sandbox."""
    account = generate_account(users, seed=8, numbers=numbers)
    save_state(Path(os.environ["AIRCALL_EXT_SANDBOX_STATE"]), account)
    return account


@pytest.fixture
def big() -> SandboxAccount:
    return install(USERS, numbers=NUMBERS)


# -- listings --------------------------------------------------------------------------


@pytest.mark.parametrize("users", [0, 1, 49, 50, 51, 100, 120, 151])
def test_listing_u_users_takes_ceil_u_over_50_gets(
    run_cli: RunCli, sandbox_requests: RequestLog, users: int
) -> None:
    install(users)
    result = run_cli("--sandbox", "-o", "json", "list")
    assert result.exit_code == 0, result.stderr
    listed = json.loads(result.stdout)["users"]
    assert len(listed) == len({u["id"] for u in listed}) == users
    pages = max(1, math.ceil(users / 50))
    only(sandbox_requests(), GET_users=pages)
    assert [r.target for r in sandbox_requests()] == [
        f"/v2/users?page={page}&per_page=50" for page in range(1, pages + 1)
    ]


def test_read_only_commands_list_users_once_and_never_numbers(
    run_cli: RunCli, sandbox_requests: RequestLog, big: SandboxAccount, tmp_path: Path
) -> None:
    exported = tmp_path / "export.csv"
    for args in (
        ["list", "--missing"],
        ["validate"],
        ["next-free", "--count", "3"],
        ["export", str(exported)],
        ["validate", str(exported)],
        ["diff", str(exported)],
        ["import", str(exported), "--dry-run"],
    ):
        result = run_cli("--sandbox", *args)
        assert result.exit_code == 0, (args, result.stderr)
        only(sandbox_requests.new(), GET_users=PAGES_U)
    user = big.users()[7]
    result = run_cli("--sandbox", "-o", "json", "show", str(user["id"]))
    assert json.loads(result.stdout)["user"]["extension"] == user["extension"]
    only(sandbox_requests.new(), GET_users_one=1, GET_users_one_numbers=1)
    result = run_cli("--sandbox", "-o", "json", "show", user["email"])
    assert json.loads(result.stdout)["user"]["id"] == user["id"]
    only(sandbox_requests.new(), GET_users_one=1, GET_users_one_numbers=1)


def test_a_file_without_a_usable_row_is_judged_without_reading_the_account(
    run_cli: RunCli, sandbox_requests: RequestLog, big: SandboxAccount, tmp_path: Path
) -> None:
    """Its verdict cannot depend on the account, and nothing can be planned from it."""
    path = tmp_path / "team.csv"
    path.write_text("name,team\nAnn,x\n")
    for args in (
        ["validate", str(path)],
        ["diff", str(path)],
        ["import", str(path), "--dry-run"],
        ["import", str(path), "--yes"],
    ):
        result = run_cli("--sandbox", *args)
        assert result.exit_code == 1, (args, result.stderr)
        assert "expected a header naming user_id" in result.stdout + result.stderr, args
        assert sandbox_requests.new() == [], args


def test_numbers_are_listed_only_by_the_commands_that_need_them(
    run_cli: RunCli, sandbox_requests: RequestLog, big: SandboxAccount
) -> None:
    result = run_cli("--sandbox", "-o", "json", "numbers")
    assert result.exit_code == 0, result.stderr
    assert len(json.loads(result.stdout)["numbers"]) == NUMBERS
    only(sandbox_requests.new(), GET_numbers=PAGES_N, GET_numbers_one=NUMBERS)
    number, user = big.numbers()[0], big.users()[0]
    result = run_cli("--sandbox", "dial", str(number["id"]), user["extension"], "--stage", "ivr")
    assert result.exit_code in {0, 1}, result.stderr  # reaching the user or not: both fine
    only(sandbox_requests.new(), GET_users=PAGES_U, GET_numbers=PAGES_N, GET_numbers_one=1)


# -- assign ----------------------------------------------------------------------------


def test_assign_is_one_put_and_a_refused_or_dry_run_assign_none(
    run_cli: RunCli, sandbox_requests: RequestLog, big: SandboxAccount
) -> None:
    first, second = big.users()[0], big.users()[1]
    taken, free = second["extension"], first_free(big)

    def assign(*args: str, code: int = 0) -> None:
        result = run_cli("--sandbox", "assign", str(first["id"]), *args)
        assert result.exit_code == code, result.stderr

    assign(taken, code=1)  # taken, no --swap: refused
    only(sandbox_requests.new(), GET_users=PAGES_U)
    assign(free, "--dry-run")
    only(sandbox_requests.new(), GET_users=PAGES_U)
    assign(free)
    only(sandbox_requests.new(), GET_users=PAGES_U, PUT_users_one=1, GET_users_one=1)
    assign(free)  # already so: nothing to write
    only(sandbox_requests.new(), GET_users=PAGES_U)
    assign(taken, "--swap")  # park, move, move
    only(sandbox_requests.new(), GET_users=PAGES_U, PUT_users_one=3, GET_users_one=1)


# -- import, a saved plan, an undo -----------------------------------------------------


def writes_between_two_readings(requests: RequestLog, pages: int, writes: int) -> None:
    """An applying run's requests: the plan's reading, the writes (the first read back),
    the verification's reading, nothing else."""
    sent = requests.new()
    only(sent, GET_users=2 * pages, PUT_users_one=writes, GET_users_one=1)
    puts = ["PUT", "GET", *["PUT"] * (writes - 1)]
    assert [r.method for r in sent] == ["GET"] * pages + puts + ["GET"] * pages
    assert sent[pages + 1].path == sent[pages].path  # the same user
    assert all(r.status == "200" for r in sent)


def test_import_is_c_plus_k_puts_and_one_read_back_between_a_plan_read_and_a_verification(
    run_cli: RunCli, sandbox_requests: RequestLog, big: SandboxAccount, tmp_path: Path
) -> None:
    text, changes, cycles, desired = floor_import(big)
    csv_file = tmp_path / "desired.csv"
    csv_file.write_text(text)

    result = run_cli("--sandbox", "-o", "json", "import", str(csv_file), "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert len(json.loads(result.stdout)["steps"]) == changes + cycles
    only(sandbox_requests.new(), GET_users=PAGES_U)

    result = run_cli("--sandbox", "import", str(csv_file), "--yes")
    assert result.exit_code == 0, result.stderr
    writes_between_two_readings(sandbox_requests, PAGES_U, changes + cycles)
    assert {w["user_id"] for w in sandbox_requests.writes} == set(desired)
    initial = {u["id"]: u["extension"] for u in big.users()}
    assert replay_writes(initial, sandbox_requests.writes) == extensions()

    result = run_cli("--sandbox", "-o", "json", "import", str(csv_file), "--yes")  # again
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["summary"]["applied"] == 0
    only(sandbox_requests.new(), GET_users=PAGES_U)

    result = run_cli("--sandbox", "diff", str(csv_file))
    assert result.exit_code == 0, result.stdout + result.stderr  # no drift
    only(sandbox_requests.new(), GET_users=PAGES_U)


@pytest.fixture
def saved_plan(
    run_cli: RunCli, sandbox_requests: RequestLog, big: SandboxAccount, tmp_path: Path
) -> tuple[Path, dict[int, str], int]:
    """A plan of the floor's import saved by a dry run (which only reads): its path, what
    it asks and how many writes it holds."""
    text, changes, cycles, desired = floor_import(big)
    csv_file = tmp_path / "desired.csv"
    csv_file.write_text(text)
    plan = tmp_path / "plan.json"
    result = run_cli("--sandbox", "import", str(csv_file), "--dry-run", "--save-plan", str(plan))
    assert result.exit_code == 0, result.stderr
    only(sandbox_requests.new(), GET_users=PAGES_U)
    return plan, desired, changes + cycles


def test_an_untouched_plan_applies_exactly_its_steps_at_the_cost_of_an_import(
    run_cli: RunCli,
    sandbox_requests: RequestLog,
    big: SandboxAccount,
    saved_plan: tuple[Path, dict[int, str], int],
) -> None:
    plan, desired, count = saved_plan
    steps = json.loads(plan.read_text())["steps"]
    assert len(steps) == count
    result = run_cli("--sandbox", "-o", "json", "import", "--plan", str(plan), "--yes")
    assert result.exit_code == 0, result.stderr
    writes_between_two_readings(sandbox_requests, PAGES_U, count)
    assert sandbox_requests.writes == [{"user_id": s["user_id"], "to": s["to"]} for s in steps]
    final = replay_writes({u["id"]: u["extension"] for u in big.users()}, sandbox_requests.writes)
    assert {u: final[u] for u in desired} == desired
    assert json.loads(result.stdout)["summary"]["applied"] == len(desired)


def test_a_plan_made_stale_by_another_client_costs_its_check_only(
    run_cli: RunCli,
    sandbox_requests: RequestLog,
    big: SandboxAccount,
    saved_plan: tuple[Path, dict[int, str], int],
) -> None:
    plan, desired, _count = saved_plan
    mover = big.users()[0]
    parking = json.loads(plan.read_text())["parking"]
    free = first_free(big, but={*desired.values(), parking})
    assert run_cli("--sandbox", "assign", str(mover["id"]), free).exit_code == 0  # someone else
    sandbox_requests.new()
    before = extensions()

    result = run_cli("--sandbox", "import", "--plan", str(plan), "--yes")
    assert result.exit_code == 1, result.stderr
    assert (
        f"plan is stale: user {mover['id']} ({mover['email']}) has {free}, "
        f"the plan expected {mover['extension']}"
    ) in result.stderr
    only(sandbox_requests.new(), GET_users=PAGES_U)  # read to check, nothing written
    assert extensions() == before


def test_an_undo_costs_an_import_and_never_makes_two_users_share(
    run_cli: RunCli, sandbox_requests: RequestLog, undo_scene: Path, tmp_path: Path
) -> None:
    """The undo scene: a 3-cycle, a swap and a chain move (C = 6, K = 2); undone, then the
    undo undone, each at an import's cost; the writes of all three, replayed, never let two
    users share an extension."""
    csv_file = undo_scene
    journal, undo = tmp_path / "import.jsonl", tmp_path / "undo.jsonl"
    changes, writes = 6, 6 + 2
    imported = run_cli("--sandbox", "import", str(csv_file), "--yes", "--journal", str(journal))
    assert imported.exit_code == 0, imported.stderr
    writes_between_two_readings(sandbox_requests, 1, writes)

    result = run_cli(
        "--sandbox", "-o", "json", "import", "--undo", str(journal), "--yes",
        "--journal", str(undo),
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    writes_between_two_readings(sandbox_requests, 1, writes)
    assert json.loads(result.stdout)["summary"]["applied"] == changes
    assert extensions() == UNDO_BEFORE

    redo = run_cli("--sandbox", "import", "--undo", str(undo), "--yes")  # undoing the undo
    assert redo.exit_code == 0, redo.stderr
    writes_between_two_readings(sandbox_requests, 1, writes)
    assert extensions() == UNDO_AFTER
    assert len(sandbox_requests.writes) == 3 * writes
    assert replay_writes(UNDO_BEFORE, sandbox_requests.writes) == UNDO_AFTER
    assert replay_writes(UNDO_BEFORE, sandbox_requests.writes[: 2 * writes]) == UNDO_BEFORE


# -- numbering plans: teams ------------------------------------------------------------------

PLAN = 'reserved = ["911"]\ndefault = "100-199"\n[teams]\n"Team 001" = "200-299"\n'


def teams_account(teams: int) -> None:
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
    run_cli: RunCli, sandbox_requests: RequestLog, plan: None, teams: int, command: list[str]
) -> None:
    teams_account(teams)
    result = run_cli("--sandbox", "--numbering", "plan.toml", *command)
    assert result.exit_code in (0, 1), result.stderr
    only(sandbox_requests(), GET_users=PAGES_U, GET_teams=max(1, math.ceil(teams / 50)))


@pytest.mark.parametrize("command", [["validate"], ["validate", "moves.csv"], ["list"]])
def test_without_a_plan_no_team_is_read(
    run_cli: RunCli, sandbox_requests: RequestLog, plan: None, command: list[str]
) -> None:
    teams_account(120)
    assert run_cli("--sandbox", *command).exit_code in (0, 1)
    only(sandbox_requests(), GET_users=PAGES_U)


def test_list_team_reads_the_teams_without_a_plan(
    run_cli: RunCli, sandbox_requests: RequestLog
) -> None:
    teams_account(120)
    assert run_cli("--sandbox", "list", "--team", "Team 007").exit_code == 0
    only(sandbox_requests(), GET_users=PAGES_U, GET_teams=3)


@pytest.mark.parametrize(
    "command",
    [["next-free", "--team", "Team 001"], ["next-free"], ["import", "moves.csv", "--dry-run"]],
    ids=" ".join,
)
def test_commands_that_need_only_the_ranges_read_no_team(
    run_cli: RunCli, sandbox_requests: RequestLog, plan: None, command: list[str]
) -> None:
    teams_account(120)
    result = run_cli("--sandbox", "--numbering", "plan.toml", *command)
    assert result.exit_code == 0, result.stderr
    only(sandbox_requests(), GET_users=PAGES_U)


def test_assign_next_writes_once_and_reads_the_user_back(
    run_cli: RunCli, sandbox_requests: RequestLog, plan: None
) -> None:
    teams_account(120)
    assert run_cli("--sandbox", "--numbering", "plan.toml", "assign", "1", "--next").exit_code == 0
    only(sandbox_requests(), GET_users=PAGES_U, GET_teams=3, PUT_users_one=1, GET_users_one=1)


def test_a_team_listed_without_its_members_is_read_on_its_own(
    run_cli: RunCli, sandbox_requests: RequestLog, plan: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Live listings carry the members; one that does not costs one GET of that team, and
    only for a team the plan names."""
    from aircall_ext.api.client import ApiClient, Listing
    from aircall_ext.api.models import Team

    teams_account(120)
    listing = ApiClient.list_teams

    def without_members(self: ApiClient) -> Listing[Team]:
        read = listing(self)
        teams = tuple(t.model_copy(update={"users": None}) for t in read)
        return Listing(teams, read.incomplete, read.capped)

    monkeypatch.setattr(ApiClient, "list_teams", without_members)
    result = run_cli("--sandbox", "--numbering", "plan.toml", "-o", "json", "validate")
    assert result.exit_code in (0, 1)
    only(sandbox_requests(), GET_users=PAGES_U, GET_teams=3, GET_teams_one=1)


def test_offline_validate_sends_nothing(
    run_cli: RunCli, sandbox_requests: RequestLog, plan: None
) -> None:
    teams_account(120)
    result = run_cli("--numbering", "plan.toml", "validate", "--offline", "moves.csv")
    assert result.exit_code == 0, result.stderr
    assert sandbox_requests() == []
