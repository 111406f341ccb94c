"""``sandbox serve|reset|show`` in-process through the CLI (a real server process:
tests/e2e/test_sandbox_serve_e2e.py)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from aircall_ext.loopback import is_loopback
from aircall_ext.sandbox import store as store_module
from aircall_ext.sandbox.demo import demo_account, generate_account
from aircall_ext.sandbox.store import Store, default_state_path
from tests.conftest import RunCli
from tests.scenes import NOT_SANDBOX_DATABASES, read_state, save_state, scribble

# -- show ---------------------------------------------------------------------------------


def test_show_json_is_the_state_document_seeded_with_the_demo(run_cli: RunCli) -> None:
    result = run_cli("sandbox", "show", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == demo_account().document()
    assert default_state_path().exists()


def test_show_table_lists_users_numbers_and_teams(run_cli: RunCli) -> None:
    result = run_cli("sandbox", "show")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"{demo_account().company['name']}: 17 users, 3 numbers, 3 teams"
    kavya = next(line for line in lines if "Kavya Iyer" in line)
    assert " 007 " in kavya  # leading zeros survive the table
    assert any("legacy-classic" in line for line in lines)
    assert any("Isabel Nunes" in line and "unavailable" in line for line in lines)
    noor = next(line for line in lines if "Noor Rahman" in line)
    assert noor.rstrip().endswith("Sales, Customer Support")
    assert lines[-5].split() == ["id", "team", "members"]
    assert [line.split()[1:] for line in lines[-3:]] == [
        ["Sales", "3"],
        ["Customer", "Support", "1"],
        ["Reception", "1"],
    ]


def test_show_csv_lists_users(run_cli: RunCli) -> None:
    result = run_cli("-o", "csv", "sandbox", "show")
    rows = result.stdout.splitlines()
    assert rows[0] == "id,name,email,extension,availability,outgoing_only,numbers,teams"
    assert len(rows) == 1 + len(demo_account().users())


def test_show_states_the_routing_numbers_states(
    run_cli: RunCli, write_state: Callable[..., Path]
) -> None:
    # Flags absent: the tool assumes Smartflows (and a classic legacy number), and says so.
    user = {"id": 1, "name": "A", "email": "a@example.com", "created_at": "2024-01-01T00:00:00Z"}
    number = {"name": "N", "digits": "+33 1", "created_at": "2024-01-01T00:00:00Z"}
    write_state(
        [user],
        [
            {**number, "id": 1, "users": [{"id": 1}]},
            {**number, "id": 2, "flow_editor_enabled": False},
        ],
    )
    listed = run_cli("--sandbox", "numbers").stdout.splitlines()
    shown = run_cli("sandbox", "show").stdout.splitlines()
    assert shown[-len(listed) :] == listed  # no teams: no teams table
    assert "smartflows (assumed)" in listed[2] and "legacy-classic (assumed)" in listed[3]


@pytest.mark.parametrize(
    "command", [["sandbox", "show"], ["sandbox", "reset"], ["--sandbox", "list"]]
)
def test_a_json_file_at_the_state_path_is_refused_in_one_line_and_kept(
    run_cli: RunCli, command: list[str]
) -> None:
    path = default_state_path()
    path.write_text("{oops", encoding="utf-8")
    result = run_cli(*command)
    assert result.exit_code == 3
    assert result.stderr.count("\n") == 1
    assert str(path) in result.stderr and "not a sandbox database" in result.stderr
    assert f"aircall-ext sandbox reset --from {path} --state NEW.db" in result.stderr
    assert path.read_text(encoding="utf-8") == "{oops"


@pytest.mark.parametrize(
    ("make", "says"),
    [NOT_SANDBOX_DATABASES[kind] for kind in ("json", "binary", "newer")],
    ids=["json", "binary", "newer"],
)
def test_no_command_touches_a_file_that_is_not_a_sandbox_database(
    run_cli: RunCli,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    make: Callable[[Path], object],
    says: str,
) -> None:
    from aircall_ext.sandbox import server

    def serve(_server: object) -> int:
        raise AssertionError("sandbox serve served a file that is not a sandbox database")

    monkeypatch.setattr(server, "serve_until_signalled", serve)
    path = tmp_path / "state" / "sandbox.db"
    path.parent.mkdir()
    monkeypatch.setenv("AIRCALL_EXT_SANDBOX_STATE", str(path))
    make(path)
    before = path.read_bytes()
    for args in (
        ["--sandbox", "list"],
        ["sandbox", "show"],
        ["sandbox", "reset", "--users", "3"],
        ["sandbox", "serve", "--port", "0"],
    ):
        done = run_cli(*args)
        assert done.exit_code == 3, (args, done.stderr)
        assert says in done.stderr and str(path) in done.stderr
        assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert path.read_bytes() == before
    assert os.listdir(path.parent) == [path.name]


def test_a_directory_at_the_state_path_is_exit_3(
    run_cli: RunCli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("AIRCALL_EXT_SANDBOX_STATE", str(tmp_path))
    done = run_cli("--sandbox", "list")
    assert done.exit_code == 3
    assert "cannot read sandbox state" in done.stderr


# -- reset --------------------------------------------------------------------------------


def test_reset_generates_a_reproducible_account(run_cli: RunCli) -> None:
    assert run_cli("sandbox", "reset", "--users", "30", "--seed", "2").exit_code == 0
    first = run_cli("sandbox", "show", "-o", "json").stdout
    assert len(json.loads(first)["users"]) == 30
    run_cli("sandbox", "reset")
    assert json.loads(run_cli("sandbox", "show", "-o", "json").stdout) == demo_account().document()
    run_cli("sandbox", "reset", "--users", "30", "--seed", "2")
    assert run_cli("sandbox", "show", "-o", "json").stdout == first


def test_reset_from_a_file_validates_it(run_cli: RunCli, tmp_path: Path) -> None:
    source = tmp_path / "mine.json"
    source.write_text(json.dumps(generate_account(7, seed=9).document()), encoding="utf-8")
    result = run_cli("sandbox", "reset", "--from", str(source), "--state", str(tmp_path / "s.db"))
    assert result.exit_code == 0, result.stderr
    assert "7 users" in result.stderr
    shown = run_cli("sandbox", "show", "--state", str(tmp_path / "s.db"), "-o", "json")
    assert json.loads(shown.stdout) == generate_account(7, seed=9).document()


def test_an_old_json_state_file_is_imported_by_reset_from(run_cli: RunCli, tmp_path: Path) -> None:
    """The documented way from a JSON state file to a database; the old file stays as it was."""
    old = tmp_path / "sandbox.json"
    doc = demo_account().document()
    for user in doc["users"]:  # an older document: v1-shaped users, counts in the company
        user.pop("direct_link", None)
    old.write_text(json.dumps(doc), encoding="utf-8")
    before = old.read_bytes()
    new = tmp_path / "sandbox.db"
    result = run_cli("sandbox", "reset", "--from", str(old), "--state", str(new))
    assert result.exit_code == 0, result.stderr
    assert read_state(new).document() == demo_account().document()
    assert old.read_bytes() == before


def test_reset_from_an_invalid_file_is_a_usage_error_naming_it(
    run_cli: RunCli, tmp_path: Path
) -> None:
    source = tmp_path / "bad.json"
    source.write_text('{"users": [{"id": 1, "name": "x", "email": "e", "extension": 7}]}')
    result = run_cli("sandbox", "reset", "--from", str(source))
    assert result.exit_code == 2
    assert str(source) in result.stderr and "users[0].extension" in result.stderr
    assert not default_state_path().exists()


@pytest.mark.parametrize(
    "args",
    [
        ["--from", "x.json", "--users", "3"],
        ["--seed", "3"],
        ["--users", "-1"],
        ["--from", "does-not-exist.json"],
    ],
)
def test_reset_rejects_bad_combinations(
    run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    (tmp_path / "x.json").write_text(json.dumps(demo_account().document()))
    monkeypatch.chdir(tmp_path)
    assert run_cli("sandbox", "reset", *args).exit_code == 2


# -- serve: refusals (in-process: they fail before listening) -----------------------------


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "example.com", "::"])
def test_serve_refuses_a_non_loopback_host(run_cli: RunCli, host: str) -> None:
    result = run_cli("sandbox", "serve", "--host", host, "--port", "0")
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert "non-loopback" in result.stderr and "--allow-remote" in result.stderr


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True),
        ("LOCALHOST.", True),
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("[::1]", True),
        ("0.0.0.0", False),
        ("10.0.0.1", False),
        ("localhost.example.com", False),
    ],
)
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


@pytest.mark.parametrize(
    ("option", "value", "named"),
    [
        ("--faults", "500:0.1,boom:0.2", "'boom:0.2'"),
        ("--faults", "500:2", "'500:2'"),
        ("--rate-limit", "sixty", "'sixty'"),
    ],
)
def test_serve_rejects_malformed_specs(
    run_cli: RunCli, option: str, value: str, named: str
) -> None:
    result = run_cli("sandbox", "serve", "--port", "0", option, value)
    assert result.exit_code == 2
    assert option in result.stderr and named in result.stderr


def test_help_does_not_import_the_sandbox() -> None:
    code = (
        "import sys\n"
        "from aircall_ext.cli import run\n"
        "run(['sandbox', 'serve', '--help'])\n"
        "print(sorted(m for m in sys.modules if m.startswith('aircall_ext.sandbox')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip().splitlines()[-1] == "[]"


# -- a damaged database ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ["sandbox", "show"],
        ["--sandbox", "list"],
        ["--profile", "work", "--rate-limit", "30/60", "--sandbox", "list"],
    ],
)
def test_a_damaged_database_is_named_with_the_command_that_makes_it_again(
    run_cli: RunCli, command: list[str]
) -> None:
    path = default_state_path()
    save_state(path, generate_account(300, seed=1))
    scribble(path, -8192)
    result = run_cli(*command)
    assert result.exit_code == 3, result.stderr
    assert result.stderr == (
        f"aircall-ext: error: sandbox database {path} is damaged: database disk image is "
        "malformed (run `aircall-ext sandbox reset` to make it again (what it held is lost))\n"
    )


def test_reset_makes_a_damaged_database_again_and_says_so(run_cli: RunCli) -> None:
    path = default_state_path()
    save_state(path, generate_account(300, seed=1))
    scribble(path, -8192)
    result = run_cli("sandbox", "reset")
    assert result.exit_code == 0, result.stderr
    assert f"sandbox database {path} is damaged" in result.stderr
    assert "made it again" in result.stderr
    assert json.loads(run_cli("sandbox", "show", "-o", "json").stdout) == demo_account().document()


def test_reset_names_the_state_file_when_it_is_not_the_default(
    run_cli: RunCli, tmp_path: Path
) -> None:
    path = tmp_path / "elsewhere.db"
    save_state(path, generate_account(300, seed=1))
    scribble(path, -8192)
    result = run_cli("sandbox", "show", "--state", str(path))
    assert f"`aircall-ext sandbox reset --state {path}`" in result.stderr


def test_a_damaged_file_without_the_sandboxs_mark_is_not_reset(run_cli: RunCli) -> None:
    path = default_state_path()
    save_state(path, demo_account())
    scribble(path, 16, 100)
    before = path.read_bytes()
    result = run_cli("sandbox", "reset")
    assert result.exit_code == 3
    assert "does not carry the sandbox's mark" in result.stderr and f"rm {path}" in result.stderr
    assert path.read_bytes() == before


# -- a database that fails while it is used ------------------------------------------------


def failed(path: Path, reason: str) -> str:
    return (
        f"aircall-ext: error: sandbox database {path} failed: {reason} "
        "(retrying is safe: is another process writing to it, or the disk full?)\n"
    )


def test_reset_while_another_process_writes_is_exit_3_naming_the_file(
    run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = default_state_path()
    save_state(path, demo_account())
    monkeypatch.setattr(store_module, "BUSY_TIMEOUT", 0.0)  # give up at once, not after 30 s
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    try:
        result = run_cli("sandbox", "reset", "--users", "5")
    finally:
        writer.close()
    assert result.exit_code == 3
    assert result.stderr == failed(path, "database is locked")
    assert read_state(path).document() == demo_account().document()


def test_show_of_a_database_that_fails_once_opened_is_exit_3_naming_the_file(
    run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = default_state_path()
    save_state(path, demo_account())
    opened = store_module.open_store

    def open_then_fail(at: Path | None = None) -> Store:
        store = opened(at)
        for conn in store._connections:  # SQLite interrupts every statement from now on
            conn.set_progress_handler(lambda: 1, 1)
        return store

    monkeypatch.setattr(store_module, "open_store", open_then_fail)
    result = run_cli("sandbox", "show")
    assert result.exit_code == 3
    assert result.stderr == failed(path, "interrupted")


# -- the document under abuse ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("where", "named"),
    [
        ("users", 'users[0]: "id"'),
        ("numbers", 'numbers[0]: "id"'),
        ("teams", 'teams[0]: "id"'),
    ],
)
@pytest.mark.parametrize("record_id", [2**63, 2**64 + 5, -(2**63) - 1])
def test_ids_beyond_sqlites_integers_are_refused_naming_the_field(
    run_cli: RunCli, tmp_path: Path, where: str, named: str, record_id: int
) -> None:
    doc = demo_account().document()
    doc[where][0]["id"] = record_id
    source = tmp_path / "big.json"
    source.write_text(json.dumps(doc), encoding="utf-8")
    result = run_cli("sandbox", "reset", "--from", str(source))
    assert result.exit_code == 2, result.stderr
    assert (
        f"{source}: {named} must be a positive integer up to 9223372036854775807" in result.stderr
    )
    assert result.stderr.count("\n") == 1


def test_the_largest_sqlite_id_is_accepted(run_cli: RunCli, tmp_path: Path) -> None:
    doc = generate_account(2).document()
    doc["users"][0]["id"] = 2**63 - 1
    doc["teams"] = []
    source = tmp_path / "max.json"
    source.write_text(json.dumps(doc), encoding="utf-8")
    assert run_cli("sandbox", "reset", "--from", str(source)).exit_code == 0
    shown = json.loads(run_cli("sandbox", "show", "-o", "json").stdout)
    assert shown["users"][-1]["id"] == 2**63 - 1


# -- teams ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("teams", "problem"),
    [
        (
            [{"id": 1, "name": "Sales", "users": [481001, 999]}],
            'teams[0] "Sales".users[1]: no user has id 999',
        ),
        (
            [{"id": 1, "name": "Sales", "users": [481001, 481001]}],
            'teams[0] "Sales".users[1]: user 481001 is listed twice',
        ),
        ([{"id": 1, "name": "A"}, {"id": 1, "name": "B"}], "teams[1]: duplicate id 1"),
        (
            [{"id": 1, "name": "Caf\u00e9"}, {"id": 2, "name": "Cafe\u0301"}],  # the same after NFC
            'teams[1] "Cafe\u0301": the name is already used by teams[0]',
        ),
        ([{"id": 1, "name": "Sales", "user": [481001]}], 'teams[0]: unknown key "user"'),
        ([{"id": 1, "name": ""}], "teams[0].name: must be a non-empty string"),
        (
            [{"id": 1, "name": "Sales", "users": ["481001"]}],
            'teams[0] "Sales".users[0]: expected a user id',
        ),
        ({"Sales": [481001]}, '"teams" must be a list'),
    ],
)
def test_a_document_with_bad_teams_is_refused_naming_the_team(
    run_cli: RunCli, tmp_path: Path, teams: object, problem: str
) -> None:
    doc = demo_account().document()
    doc["teams"] = teams
    source = tmp_path / "teams.json"
    source.write_text(json.dumps(doc), encoding="utf-8")
    result = run_cli("sandbox", "reset", "--from", str(source))
    assert result.exit_code == 2, result.stderr
    assert f"{source}: {problem}" in result.stderr


def test_teams_round_trip_through_reset_and_show(run_cli: RunCli, tmp_path: Path) -> None:
    doc = demo_account().document()
    doc["teams"] = [
        # pasted from the API: direct_link is dropped, member objects become ids
        {
            "id": 5,
            "name": "Night",
            "direct_link": "https://x/v1/teams/5",
            "users": [{"id": 481002}],
        },
        {"id": 4, "name": "Day", "users": [481003, 481001]},
    ]
    source = tmp_path / "teams.json"
    source.write_text(json.dumps(doc), encoding="utf-8")
    assert run_cli("sandbox", "reset", "--from", str(source)).exit_code == 0
    shown = json.loads(run_cli("sandbox", "show", "-o", "json").stdout)["teams"]
    assert [(t["id"], t["name"], t["users"]) for t in shown] == [
        (4, "Day", [481003, 481001]),
        (5, "Night", [481002]),
    ]
    assert list(shown[0]) == ["id", "name", "created_at", "users"]


def test_a_document_without_teams_still_loads(run_cli: RunCli, tmp_path: Path) -> None:
    doc = demo_account().document()
    del doc["teams"]
    source = tmp_path / "old.json"
    source.write_text(json.dumps(doc), encoding="utf-8")
    result = run_cli("sandbox", "reset", "--from", str(source))
    assert result.exit_code == 0, result.stderr
    assert "17 users, 3 numbers, 0 teams" in result.stderr
    assert json.loads(run_cli("sandbox", "show", "-o", "json").stdout)["teams"] == []


def test_reset_users_makes_a_team_per_50_users(run_cli: RunCli) -> None:
    result = run_cli("sandbox", "reset", "--users", "120", "--seed", "4")
    assert "120 users, 3 numbers, 3 teams" in result.stderr
    teams = json.loads(run_cli("sandbox", "show", "-o", "json").stdout)["teams"]
    assert [t["name"] for t in teams] == ["Sales", "Support", "Billing"]
    assert teams == generate_account(120, seed=4).document()["teams"]
