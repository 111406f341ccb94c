"""``assign`` and ``next-free`` through the in-process sandbox: refusals, swaps, dry-runs."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import RunCli
from tests.scenes import WriteState, extensions, team


@pytest.fixture
def account(write_state: WriteState) -> dict[int, str | None]:
    holdings = {1: "101", 2: "102", 3: None, 4: "104", 5: "7", 6: "106", 7: "106"}
    write_state(team(holdings, outgoing_only={4}))
    return extensions()


def test_plain_assign_writes_and_reports(run_cli: RunCli, account: dict[int, Any]) -> None:
    result = run_cli("--sandbox", "assign", "ann@example.com", "150")
    assert result.exit_code == 0, result.stderr
    assert extensions() == {**account, 1: "150"}
    assert "assigned 150 to user 1 (ann@example.com) (was 101)" in result.stderr
    assert result.stdout.splitlines()[2].split() == ["1", "1", "ann@example.com", "101", "150"]


def test_json_document(run_cli: RunCli, account: dict[int, Any]) -> None:
    result = run_cli("--sandbox", "-o", "json", "assign", "3", "008")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["user"]["id"] == 3
    assert doc["user"]["extension"] == "008"
    assert (doc["from"], doc["to"], doc["changed"], doc["dry_run"]) == (None, "008", True, False)
    assert doc["steps"] == [{"user_id": 3, "email": "cy@example.com", "from": None, "to": "008"}]
    assert doc["swapped_with"] is None


@pytest.mark.parametrize("options", [[], ["--swap"], ["--dry-run"]])
def test_an_extension_a_damaged_value_stands_for_is_refused(
    run_cli: RunCli, account: dict[int, Any], options: list[str]
) -> None:
    """User 5 holds "7" (a 007 that lost its zeros): `next-free` never offers 007, and
    `assign` must not give it away either, or the repair becomes impossible."""
    result = run_cli("--sandbox", "assign", "3", "007", *options)
    assert result.exit_code == 1
    line = result.stderr.strip()
    assert len(line.splitlines()) == 1
    assert "extension 007 is claimed by user 5 (eve@example.com)" in line
    assert "'7' is a damaged 007" in line
    assert "`aircall-ext --sandbox assign 5 007`" in line  # how to repair it, on this account
    assert extensions() == account
    free = run_cli("--sandbox", "-o", "json", "next-free", "--range", "000-009", "--count", "10")
    assert "007" not in json.loads(free.stdout)["free"]


def test_repairing_a_damaged_value_is_allowed(run_cli: RunCli, account: dict[int, Any]) -> None:
    result = run_cli("--sandbox", "assign", "eve@example.com", "007")
    assert result.exit_code == 0, result.stderr
    assert extensions() == {**account, 5: "007"}


@pytest.mark.parametrize("ref", ["1", "ANN@example.com", "ext:101"])
def test_current_value_is_a_no_op(run_cli: RunCli, account: dict[int, Any], ref: str) -> None:
    result = run_cli("--sandbox", "-o", "json", "assign", ref, "101")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert (doc["changed"], doc["steps"]) == (False, [])
    assert extensions() == account
    table = run_cli("--sandbox", "assign", ref, " 101 ")
    assert table.stdout == ""
    assert "already has extension 101: nothing to do" in table.stderr


def test_taken_extension_is_refused_naming_the_holder(
    run_cli: RunCli, account: dict[int, Any]
) -> None:
    result = run_cli("--sandbox", "assign", "1", "102")
    assert result.exit_code == 1
    assert "extension 102 is held by user 2 (bob@example.com)" in result.stderr
    assert "--swap" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert extensions() == account


@pytest.mark.parametrize(
    ("options", "written"),
    [
        (["--sandbox"], "aircall-ext --sandbox next-free"),
        (["--profile", "work", "--sandbox"], "aircall-ext --sandbox --profile work next-free"),
        (
            ["--rate-limit", "30/60", "--base-url", "http://localhost:1", "--sandbox"],
            "aircall-ext --sandbox --base-url http://localhost:1 --rate-limit 30/60 next-free",
        ),
    ],
)
def test_a_hint_names_its_command_with_the_runs_account_options(
    run_cli: RunCli, options: list[str], written: str
) -> None:
    """The demo account: 481002 holds 102. The command a hint suggests acts on the same
    account when pasted: it keeps --sandbox, --profile and --base-url, and the pace it was
    run at (--rate-limit)."""
    result = run_cli(*options, "assign", "481001", "102")
    assert result.exit_code == 1
    assert result.stderr == (
        "aircall-ext: error: extension 102 is held by user 481002 (bruno.keller@example.com) "
        f"(add --swap to exchange extensions, or see `{written}`)\n"
    )


def test_a_note_names_its_command_with_the_runs_account_options(run_cli: RunCli) -> None:
    """The demo's 481010 holds "42": `show ext:42` finds them and says how to repair it."""
    result = run_cli("--profile", "work", "--sandbox", "show", "ext:42")
    assert result.exit_code == 0, result.stderr
    assert "`aircall-ext --sandbox --profile work assign 481010 042` repairs it" in result.stderr


def test_swap_exchanges_without_collision(run_cli: RunCli, account: dict[int, Any]) -> None:
    result = run_cli("--sandbox", "-o", "json", "assign", "1", "102", "--swap")
    assert result.exit_code == 0, result.stderr
    # The sandbox answers 422 to a write that would make two users share an extension,
    # so success means no intermediate collision (the respx test checks each write too).
    assert extensions() == {**account, 1: "102", 2: "101"}
    doc = json.loads(result.stdout)
    # Parking on the lowest free extension: 100 (007 stands for the damaged "7").
    assert [(s["user_id"], s["from"], s["to"]) for s in doc["steps"]] == [
        (2, "102", "100"),
        (1, "101", "102"),
        (2, "100", "101"),
    ]
    assert doc["swapped_with"] == {"id": 2, "email": "bob@example.com", "from": "102", "to": "101"}
    assert doc["user"]["extension"] == "102"


def test_dry_run_writes_nothing_and_says_what_would_happen(
    run_cli: RunCli, account: dict[int, Any]
) -> None:
    result = run_cli("--sandbox", "-o", "json", "assign", "1", "102", "--swap", "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert extensions() == account
    doc = json.loads(result.stdout)
    assert doc["dry_run"] is True
    assert len(doc["steps"]) == 3
    assert doc["user"]["extension"] == "102"
    plain = run_cli("--sandbox", "assign", "1", "150", "--dry-run")
    assert "would assign 150 to user 1 (ann@example.com)" in plain.stderr
    assert extensions() == account


def test_dry_run_of_a_refused_assign_is_refused_too(
    run_cli: RunCli, account: dict[int, Any]
) -> None:
    assert run_cli("--sandbox", "assign", "1", "102", "--dry-run").exit_code == 1


@pytest.mark.parametrize(
    ("words", "code", "says"),
    [
        # swaps that cannot be safe: refused
        (["assign", "3", "101", "--swap"], 1, "has no extension to give user 1 (ann@example.com)"),
        (["assign", "5", "101", "--swap"], 1, "'7', is invalid"),
        (["assign", "1", "106", "--swap"], 1, "held by 2 users"),
        (["assign", "1", "106"], 1, "held by 2 users"),
        (["assign", "6", "101", "--swap"], 1, "also held by user 7 (gus@example.com)"),
        # bad next-free options: usage errors
        (["next-free", "--range", "300-200"], 2, "did you mean 200-300?"),
        (["next-free", "--range", "1-2000"], 2, "leading zeros lost"),
        (["next-free", "--range", "abc"], 2, "expected A-B"),
        (["next-free", "--count", "0"], 2, "--count"),
    ],
)
def test_unsafe_swaps_and_bad_next_free_options_are_refused_writing_nothing(
    run_cli: RunCli, account: dict[int, Any], words: list[str], code: int, says: str
) -> None:
    result = run_cli("--sandbox", *words)
    assert result.exit_code == code
    assert says in result.stderr
    assert extensions() == account


def test_outgoing_only_user_gets_a_warning(run_cli: RunCli, account: dict[int, Any]) -> None:
    result = run_cli("--sandbox", "-o", "json", "assign", "4", "140")
    assert result.exit_code == 0
    assert "warning: user 4 (dee@example.com) is outgoing-only" in result.stderr
    assert "This extension does not exist" in result.stderr
    assert extensions()[4] == "140"
    assert json.loads(result.stdout)["to"] == "140"


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["1", "7"], 2, "invalid EXT '7': '7' has 1 digit: leading zeros lost? did you mean 007?"),
        (["1", "1.01E+02"], 2, "scientific notation"),
        (["1", "1234"], 2, "4 digits"),
        (["1", "abc"], 2, "invalid EXT 'abc'"),
        (["bob", "101"], 2, "invalid USER 'bob'"),
        (["ext:8", "101"], 2, "did you mean 008"),  # nobody holds a damaged "8"
        (["99", "101"], 2, "no user with id 99"),
        (["ext:106", "150"], 2, "held by 2 users"),
    ],
)
def test_bad_user_or_ext_is_one_line(
    run_cli: RunCli, account: dict[int, Any], args: list[str], code: int, says: str
) -> None:
    result = run_cli("--sandbox", "assign", *args)
    assert result.exit_code == code
    assert says in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr
    assert extensions() == account


def free(run_cli: RunCli, *options: str) -> tuple[int, list[str], str]:
    result = run_cli("--sandbox", "-o", "json", "next-free", *options)
    return result.exit_code, json.loads(result.stdout)["free"], result.stderr


def test_next_free_default_is_lowest_from_100(run_cli: RunCli, account: dict[int, Any]) -> None:
    assert free(run_cli)[:2] == (0, ["100"])
    assert free(run_cli, "--count", "4")[1] == ["100", "103", "105", "107"]


def test_next_free_in_a_range_keeps_zeros(run_cli: RunCli, account: dict[int, Any]) -> None:
    assert free(run_cli, "--range", "005-009", "--count", "3")[1] == ["005", "006", "008"]


def test_next_free_fewer_than_requested(run_cli: RunCli, account: dict[int, Any]) -> None:
    code, found, stderr = free(run_cli, "--range", "100-104", "--count", "5")
    assert (code, found) == (1, ["100", "103"])
    assert "only 2 of the 5 requested are free in 100-104" in stderr
    assert free(run_cli, "--range", "101-102")[:2] == (1, [])


def test_next_free_table_and_csv(run_cli: RunCli, account: dict[int, Any]) -> None:
    table = run_cli("--sandbox", "next-free", "--count", "2")
    assert table.stdout.split() == ["extension", "-----------", "100", "103"]
    assert run_cli("--sandbox", "-o", "csv", "next-free").stdout == "extension\n100\n"
