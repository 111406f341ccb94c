"""list / show / numbers through the in-process sandbox."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import RunCli
from tests.scenes import WriteState, api_user


@pytest.fixture
def account(write_state: WriteState) -> Path:
    return write_state(
        [
            api_user(1, "101", email="ann@example.com", name="Ann"),
            api_user(2, "007", email="bob@example.com", name="Bob", available=False),
            api_user(3, None, email="cy@example.com", name="Cy"),
            api_user(4, "101", email="dee@example.com", name="Dee"),
            api_user(5, "300", email="eve@example.com", name="Eve", outgoing_only=True),
            api_user(6, "250", email="fay@example.com", name="Fay", status="unavailable"),
        ],
        [
            {
                "id": 10,
                "name": "Paris",
                "digits": "+33 1 76 36 06 95",
                "flow_editor_enabled": True,
                "is_ivr": False,
                "users": [{"id": 1, "name": "Ann", "email": "ann@example.com"}],
            },
            {
                "id": 11,
                "name": "Lyon",
                "digits": "+33 4 00 00 00 00",
                "flow_editor_enabled": False,
                "is_ivr": True,
                "users": [],
            },
        ],
    )


def test_json_list_is_sorted_by_extension_text(run_cli: RunCli, account: Path) -> None:
    result = run_cli("--sandbox", "-o", "json", "list")
    assert result.exit_code == 0, result.stderr
    users = json.loads(result.stdout)["users"]
    assert [u["extension"] for u in users] == ["007", "101", "101", "250", "300", None]
    keys = "id name email extension available availability_status outgoing_only"
    assert list(users[0]) == keys.split()  # in this order: scripts rely on it


def test_filters(run_cli: RunCli, account: Path) -> None:
    def ids(*options: str) -> list[int]:
        result = run_cli("--sandbox", "list", "-o", "json", *options)
        assert result.exit_code == 0, result.stderr
        return [u["id"] for u in json.loads(result.stdout)["users"]]

    assert ids("--missing") == [3]
    assert ids("--outgoing-only") == [5]
    assert ids("--duplicates") == [1, 4]
    assert ids("--extension", "007") == [2]
    assert ids("--extension", "101", "--duplicates") == [1, 4]


@pytest.fixture
def twins(write_state: WriteState) -> Path:
    """Two users on the damaged "7", two on 101, one on blank text, one on none."""
    return write_state(
        [
            api_user(1, "7"),
            api_user(2, "7"),
            api_user(3, "101"),
            api_user(4, "101"),
            api_user(5, "  "),
            api_user(6, None),
            api_user(7, "102"),
        ]
    )


def test_duplicates_and_missing_list_whom_validate_names(run_cli: RunCli, twins: Path) -> None:
    """A collision is two users on one valid extension (two "7"s are two invalid
    extensions, not a collision); blank text is no extension. `list` and `validate` use
    the same two rules."""

    def listed(option: str) -> list[int]:
        result = run_cli("--sandbox", "-o", "json", "list", option)
        assert result.exit_code == 0, result.stderr
        return [u["id"] for u in json.loads(result.stdout)["users"]]

    found = json.loads(run_cli("--sandbox", "-o", "json", "validate").stdout)["findings"]

    def named(code: str) -> list[int]:
        return sorted(f["user_id"] for f in found if f["code"] == code)

    assert listed("--duplicates") == named("duplicate-extension") == [3, 4]
    assert listed("--missing") == named("missing-extension") == [5, 6]
    assert named("invalid-extension") == [1, 2]


def test_bad_extension_filter_is_a_usage_error(run_cli: RunCli, account: Path) -> None:
    result = run_cli("--sandbox", "list", "--extension", "7")
    assert result.exit_code == 2
    assert "did you mean 007" in result.stderr
    assert "column" not in result.stderr  # an argument, not a spreadsheet cell


# The listing as people read it: sorted by extension text, leading zeros kept, no extension last.
LIST_TABLE = """\
ext    id    name    email            availability    outgoing-only
-----  ----  ------  ---------------  --------------  ---------------
007    2     Bob     bob@example.com  unavailable     no
101    1     Ann     ann@example.com  available       no
101    4     Dee     dee@example.com  available       no
250    6     Fay     fay@example.com  unavailable     no
300    5     Eve     eve@example.com  available       yes
       3     Cy      cy@example.com   available       no
"""


def test_table_keeps_leading_zeros_and_shows_availability(run_cli: RunCli, account: Path) -> None:
    result = run_cli("--sandbox", "list")
    assert result.exit_code == 0
    assert result.stdout == LIST_TABLE
    lines = result.stdout.splitlines()
    assert lines[0].split()[:2] == ["ext", "id"]
    bob = next(line for line in lines if "Bob" in line)
    assert bob.split()[0] == "007" and "unavailable" in bob
    fay = next(line for line in lines if "Fay" in line)
    assert "unavailable" in fay


def test_csv_output(run_cli: RunCli, account: Path) -> None:
    result = run_cli("--sandbox", "-o", "csv", "list", "--missing")
    assert result.stdout.splitlines() == [
        "extension,id,name,email,availability,outgoing_only",
        ",3,Cy,cy@example.com,available,false",
    ]


@pytest.mark.parametrize("ref", ["2", "bob@example.com", "BOB@Example.com", "ext:007"])
def test_show_by_id_email_or_extension(run_cli: RunCli, account: Path, ref: str) -> None:
    result = run_cli("--sandbox", "-o", "json", "show", ref)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["user"]["name"] == "Bob"


def test_show_lists_the_numbers_the_user_is_assigned_to(run_cli: RunCli, account: Path) -> None:
    ann = json.loads(run_cli("--sandbox", "-o", "json", "show", "ann@example.com").stdout)
    assert ann["user"]["numbers"] == [{"id": 10, "name": "Paris", "digits": "+33 1 76 36 06 95"}]
    bob = json.loads(run_cli("--sandbox", "-o", "json", "show", "2").stdout)
    assert bob["user"]["numbers"] == []
    ann_table = run_cli("--sandbox", "show", "1").stdout.splitlines()
    assert ann_table[-1].split(None, 1) == ["numbers", "Paris (+33 1 76 36 06 95)"]
    assert run_cli("--sandbox", "show", "2").stdout.splitlines()[-1].split() == ["numbers", "none"]


@pytest.mark.parametrize(
    ("ref", "code", "message"),
    [
        ("99", 2, "no user with id 99"),
        ("nobody@example.com", 2, "no user matches"),
        ("ext:101", 2, "held by 2 users"),
        ("ext:7", 2, "did you mean 007"),
        ("ext:", 2, "extension is empty"),
        ("bob", 2, "expected a user id"),
    ],
)
def test_show_errors_are_one_line(
    run_cli: RunCli, account: Path, ref: str, code: int, message: str
) -> None:
    result = run_cli("--sandbox", "show", ref)
    assert result.exit_code == code
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_user_argument_is_never_given_spreadsheet_advice(run_cli: RunCli, account: Path) -> None:
    result = run_cli("--sandbox", "show", "ext:7")
    assert "did you mean 007" in result.stderr
    assert "column" not in result.stderr and "spreadsheet" not in result.stderr
    assert run_cli("--sandbox", "show", "ext:007").exit_code == 0  # the advice leads somewhere


@pytest.fixture
def damaged(write_state: WriteState) -> Path:
    """The account itself holds a damaged extension: "42", which stands for 042."""
    return write_state(
        [
            api_user(1, "101", email="ann@example.com", name="Ann"),
            api_user(10, "42", email="james@example.com", name="James"),
        ]
    )


def test_tables_quote_a_damaged_extension_and_json_keeps_it_raw(
    run_cli: RunCli, write_state: WriteState
) -> None:
    write_state(
        [
            api_user(1, " 101", email="ann@example.com", name="Ann"),
            api_user(2, "101", email="bob@example.com", name="Bob"),
            api_user(3, "7", email="cy@example.com", name="Cy"),
        ]
    )
    table = run_cli("--sandbox", "list")
    assert table.exit_code == 0, table.stderr
    first = [line.split("  ")[0].strip() for line in table.stdout.splitlines()[2:]]
    assert first == ["' 101'", "101", "'7'"]
    assert "extension            ' 101'" in run_cli("--sandbox", "show", "1").stdout
    assert "extension            101\n" in run_cli("--sandbox", "show", "2").stdout
    assert run_cli("--sandbox", "-o", "csv", "list").stdout.splitlines()[1].startswith("' 101',1,")
    users = json.loads(run_cli("--sandbox", "-o", "json", "list").stdout)["users"]
    assert [u["extension"] for u in users] == [" 101", "101", "7"]


def test_ext_finds_the_holder_of_a_damaged_extension_and_says_so(
    run_cli: RunCli, damaged: Path
) -> None:
    result = run_cli("--sandbox", "-o", "json", "show", "ext:42")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["user"]["id"] == 10
    assert "'ext:42' is not a valid extension" in result.stderr
    assert "holds '42' in the account" in result.stderr
    assert "`aircall-ext --sandbox assign 10 042` repairs it" in result.stderr
    assert "column" not in result.stderr


def test_the_extension_a_damaged_one_stands_for_points_at_its_holder(
    run_cli: RunCli, damaged: Path
) -> None:
    result = run_cli("--sandbox", "show", "ext:042")
    assert result.exit_code == 2
    assert "nobody holds 042, but user 10 (james@example.com) holds '42'" in result.stderr
    assert "name that user by id (10) or email" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    # ... and the repair it names works: afterwards ext:042 is James.
    assert run_cli("--sandbox", "assign", "10", "042").exit_code == 0
    assert '"id": 10' in run_cli("--sandbox", "-o", "json", "show", "ext:042").stdout


def test_assigning_through_a_damaged_ext_does_not_suggest_itself(
    run_cli: RunCli, damaged: Path
) -> None:
    result = run_cli("--sandbox", "assign", "ext:42", "042")
    assert result.exit_code == 0, result.stderr
    assert "holds '42' in the account" in result.stderr
    assert "repairs it" not in result.stderr


@pytest.mark.parametrize(
    "ref",
    [
        "mailto:bob@example.com",
        "MAILTO:Bob@Example.com",
        "<bob@example.com>",
        "<mailto:bob@example.com>",
        "bob@example.com\u200b",
        "\ufeff\u200bbob@exam\u200dple.com\u00a0",
        " bob@example.com\u2060 ",
    ],
)
def test_pasted_emails_are_normalised(run_cli: RunCli, account: Path, ref: str) -> None:
    result = run_cli("--sandbox", "-o", "json", "show", ref)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["user"]["name"] == "Bob"


def test_no_user_messages_show_invisible_characters(run_cli: RunCli, account: Path) -> None:
    result = run_cli("--sandbox", "show", "nobody\u00a0@example.com\u200b")
    assert result.exit_code == 2
    assert "'nobody\\xa0@example.com\\u200b'" in result.stderr  # what was typed, made visible
    assert "looked up as 'nobody\\xa0@example.com'" in result.stderr


NUMBERS_TABLE = """\
id    name    digits             routing     distribution
----  ------  -----------------  ----------  --------------
10    Paris   +33 1 76 36 06 95  smartflows  1
11    Lyon    +33 4 00 00 00 00  legacy-ivr  0
"""


def test_numbers_routing_and_distribution(run_cli: RunCli, account: Path) -> None:
    table = run_cli("--sandbox", "numbers")
    assert (table.exit_code, table.stdout) == (0, NUMBERS_TABLE)
    result = run_cli("--sandbox", "-o", "json", "numbers")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["numbers"] == [
        {
            "id": 10,
            "name": "Paris",
            "digits": "+33 1 76 36 06 95",
            "routing": "smartflows",
            "routing_assumed": False,
            "distribution_size": 1,
        },
        {
            "id": 11,
            "name": "Lyon",
            "digits": "+33 4 00 00 00 00",
            "routing": "legacy-ivr",
            "routing_assumed": False,
            "distribution_size": 0,
        },
    ]


def test_output_option_after_the_command_overrides_the_global_one(
    run_cli: RunCli, account: Path
) -> None:
    result = run_cli("--sandbox", "-o", "table", "numbers", "-o", "json")
    assert json.loads(result.stdout)["numbers"][0]["id"] == 10


def test_empty_listing_says_so_on_stderr(run_cli: RunCli, write_state: WriteState) -> None:
    write_state([api_user(1, "101")])
    result = run_cli("--sandbox", "list", "--missing")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "no users match" in result.stderr


def test_usage_errors_exit_2(run_cli: RunCli) -> None:
    assert run_cli("--output", "xml", "list").exit_code == 2
    assert run_cli("no-such-command").exit_code == 2
    assert run_cli("list", "--bogus").exit_code == 2


def test_version_and_help(run_cli: RunCli) -> None:
    from aircall_ext import __version__

    assert run_cli("--version").stdout.strip() == f"aircall-ext {__version__}"
    result = run_cli("-h")
    assert result.exit_code == 0 and "Usage: aircall-ext" in result.stdout


def test_an_empty_account_is_not_called_a_filter_miss(
    run_cli: RunCli, write_state: WriteState
) -> None:
    write_state([])
    result = run_cli("--sandbox", "list")
    assert result.exit_code == 0
    assert result.stderr.strip() == "the account has no users"
    write_state([api_user(1, "101")])
    assert run_cli("--sandbox", "list", "--missing").stderr.strip() == "no users match"
