"""Numbering plans on the command line, on the demo account and its sample plan (in-process).

The demo account breaks ``SAMPLE_PLAN`` once in every way (docs/sandbox.md): Kavya (007)
and Tariq (Sales, 501) are out of range, Omar holds the reserved 100, the plan's Billing
is not a team of the account, Reception's 500-501 is full, Elena shares 104, James holds
the damaged '42' and Grace has no extension.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from aircall_ext import output
from aircall_ext.config import config_path
from aircall_ext.sandbox.demo import SAMPLE_PLAN
from tests.conftest import MemoryKeyring, RunCli
from tests.scenes import api_user, read_state

TARIQ, GRACE, KAVYA, OMAR, MAYA, NOOR, RAFAEL = (
    481017,
    481007,
    481011,
    481015,
    481013,
    481014,
    481016,
)

DEMO_MOVES = (
    "user_id,email,name,extension\n"
    "481005,elena.rossi@example.com,Elena Rossi,105\n"
    "481007,grace.liu@example.com,Grace Liu,106\n"
    "481010,james.oconnor@example.com,James O'Connor,107\n"
    "481011,kavya.iyer@example.com,Kavya Iyer,108\n"
    "481015,omar.benali@example.com,Omar Benali,109\n"
    "481017,tariq.novak@example.com,Tariq Novak,200\n"
)

DEMO_MAP = """\
    0          10         20         30         40
000 .......!.. .......... .......... .......... ..!.......
050 .......... .......... .......... .......... ..........
100 !###x..... #......... ##........ #......... ..........  default 100-199
150 .......... .......... .......... .......... ..........  default
200 .#........ .......... .......... .......... ..........  Sales 200-299
250 .......... .......... .......... .......... ..........  Sales
300 .....#.... .......... .......... .......... ..........  Customer Support
350 .......... .......... .......... .......... ..........  Customer Support
400 .......... .......... .......... .......... ..........  Billing 400-449
450 .......... .......... .......... .......... ..........
500 #!........ .......... .......... .......... ..........  Reception 500-501
550 .......... .......... .......... .......... ..........
900 .......... .r........ .......... .......... ..........
950 .......... .......... .......... .......... ..........
. free  # held  ! held against the plan  x shared  r reserved
"""


@pytest.fixture
def plan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The sample plan as plan.toml in the working directory."""
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "plan.toml"
    path.write_text(SAMPLE_PLAN, encoding="utf-8")
    return path


def planned(run_cli: RunCli, *args: str, plan: str = "plan.toml") -> Any:
    return run_cli("--sandbox", "--numbering", plan, *args)


def codes(result: Any) -> list[tuple[str, int | None]]:
    return [(f["code"], f["user_id"]) for f in json.loads(result.stdout)["findings"]]


PLAN_CODES = {"out-of-range", "reserved-extension", "unknown-team", "range-full"}


def extensions() -> dict[int, str | None]:
    """What the in-process sandbox holds now (the demo's Grace has no extension key)."""
    state = read_state(Path(os.environ["AIRCALL_EXT_SANDBOX_STATE"]))
    return {u["id"]: u.get("extension") for u in state.document()["users"]}


def reset(run_cli: RunCli, tmp_path: Path, doc: dict[str, Any]) -> None:
    state = tmp_path / "state.json"
    state.write_text(json.dumps({"company": {"name": "T"}, **doc}), encoding="utf-8")
    assert run_cli("--sandbox", "sandbox", "reset", "--from", str(state)).exit_code == 0


# -- where the plan comes from ----------------------------------------------------------


def test_without_a_plan_validate_says_nothing_about_one(run_cli: RunCli, plan: Path) -> None:
    found = {code for code, _ in codes(run_cli("--sandbox", "-o", "json", "validate"))}
    assert found and not found & PLAN_CODES


def test_the_environment_names_the_plan_and_the_option_wins(
    run_cli: RunCli, plan: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRCALL_EXT_NUMBERING", str(plan))
    found = {code for code, _ in codes(run_cli("--sandbox", "-o", "json", "validate"))}
    assert found >= PLAN_CODES
    (plan.parent / "other.toml").write_text('reserved = ["201"]\n', encoding="utf-8")
    other = codes(run_cli("--sandbox", "--numbering", "other.toml", "-o", "json", "validate"))
    assert ("reserved-extension", MAYA) in other
    assert not {code for code, _ in other} & {"out-of-range", "unknown-team", "range-full"}
    none = codes(run_cli("--sandbox", "--numbering", "", "-o", "json", "validate"))
    assert not {code for code, _ in none} & PLAN_CODES  # '' : no plan, whatever env says


def test_the_option_is_taken_after_the_command_too(run_cli: RunCli, plan: Path) -> None:
    result = run_cli("--sandbox", "validate", "--numbering", "plan.toml", "-o", "json")
    assert {code for code, _ in codes(result)} >= PLAN_CODES


def test_the_profile_names_the_plan_relative_to_the_config_file(
    run_cli: RunCli, plan: Path, tmp_path: Path
) -> None:
    """No --sandbox: --offline needs no credentials, and the profile applies."""
    config = config_path()
    config.parent.mkdir(parents=True)
    (config.parent / "ours.toml").write_text('reserved = ["105"]\n', encoding="utf-8")
    config.write_text('[profiles.default]\nnumbering = "ours.toml"\n', encoding="utf-8")
    moves = tmp_path / "moves.csv"
    moves.write_text("user_id,extension\n1,105\n", encoding="utf-8")
    result = run_cli("-o", "json", "validate", "--offline", str(moves))
    assert codes(result) == [("reserved-extension", 1)]
    assert str(config.parent / "ours.toml") in json.loads(result.stdout)["findings"][0]["message"]


def test_a_broken_config_that_would_name_the_plan_is_said_once_offline(
    run_cli: RunCli, plan: Path, tmp_path: Path, no_requests: list[str]
) -> None:
    """--offline resolves no settings, so the plan's resolution says the file is ignored."""
    config = config_path()
    config.parent.mkdir(parents=True)
    config.write_text(f'[profiles.default\nnumbering = "{plan}"\n', encoding="utf-8")
    moves = tmp_path / "moves.csv"
    moves.write_text("user_id,extension\n1,911\n", encoding="utf-8")
    result = run_cli("validate", "--offline", str(moves))
    assert result.exit_code == 0
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1
    assert warnings[0].startswith(f"warning: ignoring {config}:1:")
    assert "invalid TOML" in warnings[0]
    assert warnings[0].endswith(": every setting comes from options and environment")


def test_the_profile_is_not_the_sandbox_s(run_cli: RunCli, plan: Path) -> None:
    config = config_path()
    config.parent.mkdir(parents=True)
    config.write_text(f'[profiles.default]\nnumbering = "{plan}"\n', encoding="utf-8")
    found = codes(run_cli("--sandbox", "-o", "json", "validate"))
    assert not {code for code, _ in found} & PLAN_CODES


def test_a_plan_that_cannot_be_right_is_exit_2_naming_file_line_and_key(
    run_cli: RunCli, plan: Path
) -> None:
    plan.write_text(SAMPLE_PLAN.replace('Billing = "400-449"', 'Billing = "250-449"'))
    result = planned(run_cli, "validate")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith(
        "aircall-ext: error: plan.toml:8:11: teams.Billing: range 250-449 overlaps 200-299 "
        "of team Sales (line 5) at 250-299"
    )


@pytest.mark.parametrize("command", [["validate"], ["renumber"], ["map"], ["next-free"]])
def test_an_unreadable_plan_is_exit_2_naming_it(
    run_cli: RunCli, plan: Path, command: list[str]
) -> None:
    result = planned(run_cli, *command, plan="missing.toml")
    assert result.exit_code == 2
    assert "cannot read the numbering plan missing.toml: No such file or directory" in (
        result.stderr
    )
    plan.write_bytes(b'reserved = ["100"]\n# caf\xe9\n')
    latin = planned(run_cli, *command)
    assert latin.exit_code == 2
    assert "plan.toml: the numbering plan is not UTF-8 text" in latin.stderr


def test_a_directory_is_not_a_plan(run_cli: RunCli, plan: Path) -> None:
    result = planned(run_cli, "validate", plan=str(plan.parent))
    assert result.exit_code == 2
    assert "is a directory" in result.stderr


def test_commands_that_need_a_plan_say_how_to_give_one(run_cli: RunCli, plan: Path) -> None:
    for command in (["renumber"], ["map"], ["next-free", "--team", "Sales"]):
        result = run_cli("--sandbox", *command)
        assert result.exit_code == 2
        assert "needs a numbering plan (give one with --numbering FILE, set " in result.stderr
        assert "AIRCALL_EXT_NUMBERING" in result.stderr


def test_auth_status_shows_the_plan_and_where_it_comes_from(
    run_cli: RunCli, plan: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = json.loads(planned(run_cli, "-o", "json", "auth", "status").stdout)
    assert (doc["numbering"], doc["sources"]["numbering"]) == ("plan.toml", "option --numbering")
    monkeypatch.setenv("AIRCALL_EXT_NUMBERING", "plan.toml")
    table = run_cli("--sandbox", "auth", "status").stdout
    assert "numbering plan  plan.toml" in table and "env AIRCALL_EXT_NUMBERING" in table
    monkeypatch.delenv("AIRCALL_EXT_NUMBERING")
    doc = json.loads(run_cli("--sandbox", "-o", "json", "auth", "status").stdout)
    assert (doc["numbering"], doc["sources"]["numbering"]) == (None, "not set")


def test_auth_login_keeps_a_checked_plan_in_the_profile(
    run_cli: RunCli, plan: Path, isolate: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    import httpx
    import respx

    with respx.mock:
        respx.get("https://api.aircall.io/v1/company").mock(
            return_value=httpx.Response(200, json={"company": {"name": "Acme"}})
        )
        broken = plan.parent / "broken.toml"
        broken.write_text("reserved = [911]\n", encoding="utf-8")
        login = ("auth", "login", "--api-id", "me", "--token-stdin")
        refused = run_cli(*login, "--numbering", "broken.toml", input="tok\n")
        assert refused.exit_code == 2
        assert "broken.toml:1:13: reserved[0]: 911 is a number" in refused.stderr
        assert not config_path().exists() and not isolate.secrets
        done = run_cli(*login, "--numbering", "plan.toml", input="tok\n")
        assert done.exit_code == 0, done.stderr
        again = run_cli(*login, input="tok\n")  # without --numbering: the plan is kept
        assert again.exit_code == 0, again.stderr
        assert f'numbering = "{plan}"' in config_path().read_text(encoding="utf-8")
        monkeypatch.chdir(plan.parent.parent)  # stored absolute: found from anywhere
        doc = json.loads(run_cli("-o", "json", "auth", "status").stdout)
    assert (doc["numbering"], doc["sources"]["numbering"]) == (str(plan), "profile 'default'")


# -- validate ----------------------------------------------------------------------------


def test_validate_adds_the_plan_findings(run_cli: RunCli, plan: Path) -> None:
    result = planned(run_cli, "-o", "json", "validate")
    assert result.exit_code == 1  # the demo's collision and damaged value are errors
    plan_found = [(c, u) for c, u in codes(result) if c in PLAN_CODES]
    assert plan_found == [
        ("range-full", None),
        ("unknown-team", None),
        ("out-of-range", KAVYA),
        ("reserved-extension", OMAR),
        ("out-of-range", TARIQ),
    ]
    messages = [f["message"] for f in json.loads(result.stdout)["findings"]]
    assert (
        "user 481017 (tariq.novak@example.com), in team Sales, holds 501, outside its range 200-299"
    ) in messages
    assert (
        "plan.toml:8: the plan names team 'Billing', which the account does not have "
        "(names must match exactly)"
    ) in messages
    assert (
        "no free extension left for team Reception in 500-501: all 2 are taken, reserved ones aside"
    ) in messages


def test_plan_findings_are_warnings_that_strict_makes_fail(
    run_cli: RunCli, plan: Path, tmp_path: Path
) -> None:
    """Only plan findings: a plan reserving Maya's 201, on an account of Maya alone."""
    (tmp_path / "only.toml").write_text('reserved = ["201"]\n', encoding="utf-8")
    reset(run_cli, tmp_path, {"users": [api_user(MAYA, "201")]})
    lenient = planned(run_cli, "validate", plan="only.toml")
    assert lenient.exit_code == 0
    assert "reserved-extension" in lenient.stdout
    assert planned(run_cli, "validate", "--strict", plan="only.toml").exit_code == 1


def test_validate_plan_findings_in_every_format(
    run_cli: RunCli, plan: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    github = planned(run_cli, "-o", "github", "validate").stdout.splitlines()
    assert (
        "::warning title=out-of-range::user 481017 (tariq.novak@example.com), in team Sales, "
        "holds 501, outside its range 200-299"
    ) in github
    assert any(line.startswith("::warning title=unknown-team::plan.toml:8: ") for line in github)
    assert any(line.startswith("::warning title=range-full::") for line in github)
    assert any(line.startswith("::warning title=reserved-extension::") for line in github)
    assert "reserved-extension" in summary.read_text(encoding="utf-8")
    csv_rows = planned(run_cli, "-o", "csv", "validate").stdout.splitlines()
    assert csv_rows[0] == "severity,code,user_id,email,extension,message,line,column"
    assert any(row.startswith('warning,range-full,,,,"no free extension') for row in csv_rows)
    table = planned(run_cli, "validate").stdout
    assert "out-of-range" in table and "unknown-team" in table


def test_validate_file_judges_each_target_by_the_plan(
    run_cli: RunCli, plan: Path, tmp_path: Path
) -> None:
    csv = tmp_path / "targets.csv"
    csv.write_text(
        "email,extension\n"
        "maya.fischer@example.com,250\n"  # Sales: in range
        "tariq.novak@example.com,300\n"  # Sales: out of range
        "grace.liu@example.com,911\n"  # reserved
        "kavya.iyer@example.com,150\n",  # no team: the default range
        encoding="utf-8",
    )
    result = planned(run_cli, "-o", "json", "validate", "targets.csv")
    assert result.exit_code == 0, result.stdout
    found = [
        (f["code"], f["line"], f["column"], f["message"])
        for f in json.loads(result.stdout)["findings"]
        if f["code"] in PLAN_CODES
    ]
    assert found == [
        (
            "out-of-range",
            3,
            2,
            "targets.csv:3:2: user 481017 (tariq.novak@example.com), in team Sales, would "
            "hold 300, outside its range 200-299",
        ),
        (
            "reserved-extension",
            4,
            2,
            "targets.csv:4:2: extension 911 is reserved by the plan: user 481007 "
            "(grace.liu@example.com) cannot be given it",
        ),
    ]
    github = planned(run_cli, "-o", "github", "validate", "targets.csv").stdout
    assert "::warning file=targets.csv,line=3,col=2,title=out-of-range::" in github


# -- validate --offline ------------------------------------------------------------------


@pytest.fixture
def no_requests(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Fail the test on any attempt to reach the API or build a client."""
    import httpx

    from aircall_ext.cli.context import AppContext

    attempts: list[str] = []

    def refuse(*_args: object, **_kwargs: object) -> Any:
        attempts.append("request")
        raise AssertionError("validate --offline tried to reach the API")

    monkeypatch.setattr(httpx.Client, "send", refuse)
    monkeypatch.setattr(AppContext, "client", refuse)
    monkeypatch.setattr(AppContext, "settings", refuse)
    return attempts


OFFLINE_CSV = (
    "user_id,email,extension\n"
    "1,a@example.com,101\n"
    "2,b@example.com,101\n"  # 3: 101 twice
    "3,A@example.com,102\n"  # 4: a@example.com twice
    "4,d@example.com,911\n"  # 5: reserved
    "5,e@example.com,700\n"  # 6: in no range of the plan, which has a default
    "6,f@example.com,7\n"  # 7: damaged
    "7,g@example.com,250\n"  # a team's range: might be right
)


def test_offline_needs_no_account_no_credentials_and_sends_nothing(
    run_cli: RunCli, plan: Path, tmp_path: Path, no_requests: list[str]
) -> None:
    (tmp_path / "x.csv").write_text(OFFLINE_CSV, encoding="utf-8")
    result = run_cli("--numbering", "plan.toml", "-o", "json", "validate", "--offline", "x.csv")
    assert result.exit_code == 1
    assert [(f["code"], f["line"], f["column"]) for f in json.loads(result.stdout)["findings"]] == [
        ("duplicate-extension-in-file", 3, 3),
        ("duplicate-user-in-file", 4, 2),
        ("invalid-extension", 7, 3),
        ("reserved-extension", 5, 3),
        ("out-of-range", 6, 3),
    ]
    without_plan = run_cli("-o", "json", "validate", "--offline", "x.csv")
    assert {f["code"] for f in json.loads(without_plan.stdout)["findings"]} == {
        "duplicate-extension-in-file",
        "duplicate-user-in-file",
        "invalid-extension",
    }
    assert no_requests == []


def test_offline_checks_several_files_and_annotates_each(
    run_cli: RunCli, plan: Path, tmp_path: Path, no_requests: list[str]
) -> None:
    (tmp_path / "good.csv").write_text("user_id,extension\n1,201\n", encoding="utf-8")
    (tmp_path / "bad.csv").write_text("user_id,extension\n1,911\n2,911\n", encoding="utf-8")
    result = run_cli(
        "-o", "github", "validate", "--offline", "--numbering", "plan.toml", "good.csv", "bad.csv"
    )
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "::error file=bad.csv,line=3,col=2,title=duplicate-extension-in-file::bad.csv:3:2: "
        "extension 911 is wanted on lines 2 and 3",
        "::warning file=bad.csv,line=2,col=2,title=reserved-extension::bad.csv:2:2: "
        "extension 911 is reserved by the plan plan.toml",
        "::warning file=bad.csv,line=3,col=2,title=reserved-extension::bad.csv:3:2: "
        "extension 911 is reserved by the plan plan.toml",
    ]
    good = run_cli("validate", "--offline", "good.csv")
    assert (good.exit_code, good.stdout) == (0, "")
    assert "no findings: good.csv is well-formed" in good.stderr


def test_offline_without_a_file_is_a_usage_error(run_cli: RunCli, no_requests: list[str]) -> None:
    result = run_cli("validate", "--offline")
    assert result.exit_code == 2
    assert "--offline checks a FILE" in result.stderr


def test_online_validate_takes_one_file(run_cli: RunCli, tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("user_id,extension\n1,101\n", encoding="utf-8")
    result = run_cli("--sandbox", "validate", str(tmp_path / "a.csv"), str(tmp_path / "a.csv"))
    assert result.exit_code == 2
    assert "validate checks one FILE against the account" in result.stderr


# -- next-free ----------------------------------------------------------------------------


def test_next_free_in_a_team_s_ranges(run_cli: RunCli, plan: Path) -> None:
    result = planned(run_cli, "-o", "json", "next-free", "--team", "Sales", "--count", "3")
    assert json.loads(result.stdout) == {"free": ["200", "202", "203"]}
    support = planned(run_cli, "-o", "json", "next-free", "--team", "Customer Support")
    assert json.loads(support.stdout) == {"free": ["300"]}


def test_next_free_with_a_plan_and_no_team_is_the_default_range(
    run_cli: RunCli, plan: Path
) -> None:
    result = planned(run_cli, "-o", "json", "next-free", "--count", "2")
    assert json.loads(result.stdout) == {"free": ["105", "106"]}


def test_next_free_never_offers_a_reserved_or_claimed_extension(
    run_cli: RunCli, plan: Path, tmp_path: Path
) -> None:
    """James's damaged '42' stands for 042; 040 is reserved."""
    (tmp_path / "low.toml").write_text(
        'reserved = ["040"]\ndefault = "040-049"\n[teams]\nSales = "200-299"\n',
        encoding="utf-8",
    )
    result = planned(run_cli, "-o", "json", "next-free", "--count", "3", plan="low.toml")
    assert json.loads(result.stdout) == {"free": ["041", "043", "044"]}
    ranged = planned(run_cli, "-o", "json", "next-free", "--range", "040-045", plan="low.toml")
    assert json.loads(ranged.stdout) == {"free": ["041"]}
    plain = run_cli("--sandbox", "-o", "json", "next-free", "--range", "040-045")
    assert json.loads(plain.stdout) == {"free": ["040"]}  # no plan: nothing is reserved


def test_next_free_in_a_full_team_is_exit_1(run_cli: RunCli, plan: Path) -> None:
    result = planned(run_cli, "next-free", "--team", "Reception")
    assert (result.exit_code, result.stdout) == (1, "")
    assert "no free extension for team Reception in 500-501" in result.stderr


def test_next_free_team_mistakes_are_usage_errors(run_cli: RunCli, plan: Path) -> None:
    unknown = planned(run_cli, "next-free", "--team", "sales")
    assert unknown.exit_code == 2
    assert (
        "no team 'sales' in the numbering plan plan.toml; did you mean 'Sales'? (its teams: "
        "Sales, Customer Support, Reception, Billing)"
    ) in unknown.stderr
    both = planned(run_cli, "next-free", "--team", "Sales", "--range", "200-209")
    assert both.exit_code == 2 and "give --team or --range, not both" in both.stderr


# -- assign --next -----------------------------------------------------------------------


def test_assign_next_gives_the_lowest_free_extension_of_the_user_s_team(
    run_cli: RunCli, plan: Path
) -> None:
    result = planned(run_cli, "-o", "json", "assign", "tariq.novak@example.com", "--next")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert (doc["from"], doc["to"], doc["user"]["extension"]) == ("501", "200", "200")
    assert extensions()[TARIQ] == "200"
    assert "assigned 200 to user 481017 (tariq.novak@example.com) (was 501)" in result.stderr


def test_assign_next_for_a_user_in_no_team_uses_the_default_range(
    run_cli: RunCli, plan: Path
) -> None:
    result = planned(run_cli, "assign", "grace.liu@example.com", "--next", "--dry-run")
    assert result.exit_code == 0
    assert "would assign 105 to user 481007 (grace.liu@example.com)" in result.stderr
    assert extensions()[GRACE] is None


def test_assign_next_keeps_a_user_already_on_their_lowest(run_cli: RunCli, plan: Path) -> None:
    result = planned(run_cli, "assign", str(RAFAEL), "--next")
    assert result.exit_code == 0
    assert "already has extension 500: nothing to do" in result.stderr


def test_assign_next_without_a_plan_is_next_free_s_first(run_cli: RunCli) -> None:
    result = run_cli("--sandbox", "assign", "grace.liu@example.com", "--next")
    assert result.exit_code == 0, result.stderr
    assert extensions()[GRACE] == "105"


def test_assign_next_with_nothing_free_is_exit_1_naming_the_team(
    run_cli: RunCli, plan: Path, tmp_path: Path
) -> None:
    (tmp_path / "tight.toml").write_text('[teams]\nSales = "201-201"\n', encoding="utf-8")
    result = planned(run_cli, "assign", str(TARIQ), "--next", plan="tight.toml")
    assert result.exit_code == 1
    assert (
        "no free extension for user 481017 (tariq.novak@example.com) (team Sales): none is free "
        "in 201-201 (see which ones are held with `aircall-ext --sandbox --numbering tight.toml "
        "map`)"
    ) in result.stderr
    assert extensions()[TARIQ] == "501"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["200", "--next"], "give EXT (200) or --next, not both"),
        (["--next", "--swap"], "--swap takes EXT from its holder"),
        ([], "give EXT, or --next for the lowest free extension USER may hold"),
    ],
)
def test_assign_ext_and_next_are_exclusive(
    run_cli: RunCli, plan: Path, args: list[str], message: str
) -> None:
    result = planned(run_cli, "assign", str(TARIQ), *args)
    assert result.exit_code == 2
    assert message in result.stderr


# -- list --team -------------------------------------------------------------------------


def test_list_team_lists_one_team_s_members_without_a_plan(run_cli: RunCli) -> None:
    result = run_cli("--sandbox", "-o", "json", "list", "--team", "Sales")
    assert [u["id"] for u in json.loads(result.stdout)["users"]] == [MAYA, NOOR, TARIQ]
    filtered = run_cli("--sandbox", "-o", "json", "list", "--team", "Sales", "--extension", "305")
    assert [u["id"] for u in json.loads(filtered.stdout)["users"]] == [NOOR]


def test_list_team_matches_names_after_unicode_nfc(run_cli: RunCli, tmp_path: Path) -> None:
    reset(
        run_cli,
        tmp_path,
        {
            "users": [api_user(1, "101"), api_user(2, "102")],
            "teams": [{"id": 9, "name": "Caf\u00e9", "users": [2]}],
        },
    )
    result = run_cli("--sandbox", "-o", "json", "list", "--team", "Cafe\u0301")
    assert [u["id"] for u in json.loads(result.stdout)["users"]] == [2]


def test_list_unknown_team_names_the_account_s_teams(run_cli: RunCli) -> None:
    result = run_cli("--sandbox", "list", "--team", "Billing")
    assert result.exit_code == 2
    assert (
        "no team 'Billing' in the account (its teams: Customer Support, Reception, Sales)"
    ) in result.stderr


# -- renumber ----------------------------------------------------------------------------


def test_renumber_prints_the_moves_as_an_importable_csv(run_cli: RunCli, plan: Path) -> None:
    result = planned(run_cli, "renumber")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == DEMO_MOVES
    assert (
        "6 users move to keep to the plan (1 invalid, 1 missing, 2 out-of-range, 1 reserved, "
        "1 shared)"
    ) in result.stderr
    assert planned(run_cli, "-o", "csv", "renumber").stdout == DEMO_MOVES


def test_renumber_json_names_each_move_and_why(run_cli: RunCli, plan: Path) -> None:
    doc = json.loads(planned(run_cli, "-o", "json", "renumber").stdout)
    assert doc["summary"] == {"moved": 6, "unplaced": 0}
    assert doc["moves"][-1] == {
        "user_id": TARIQ,
        "email": "tariq.novak@example.com",
        "name": "Tariq Novak",
        "from": "501",
        "to": "200",
        "reason": "out-of-range",
    }
    assert [m["reason"] for m in doc["moves"]] == [
        "shared",
        "missing",
        "invalid",
        "out-of-range",
        "reserved",
        "out-of-range",
    ]


def test_renumber_then_import_makes_the_demo_account_keep_to_its_plan(
    run_cli: RunCli, plan: Path
) -> None:
    moves = plan.parent / "moves.csv"
    moves.write_text(planned(run_cli, "renumber").stdout, encoding="utf-8")
    dry = planned(run_cli, "-o", "json", "import", "moves.csv", "--dry-run")
    assert json.loads(dry.stdout)["summary"]["writes"] == 6
    applied = planned(run_cli, "--no-progress", "import", "moves.csv", "--yes")
    assert applied.exit_code == 0, applied.stderr
    after = codes(planned(run_cli, "-o", "json", "validate"))
    # Billing is a team of the plan the account lacks: renumbering cannot make one. The
    # finding is the plan's to fix; once fixed, the account keeps to its plan entirely.
    assert [(c, u) for c, u in after if c in PLAN_CODES] == [("unknown-team", None)]
    text = plan.read_text(encoding="utf-8")
    plan.write_text(text.replace('Billing = "400-449"\n', ""), encoding="utf-8")
    fixed = codes(planned(run_cli, "-o", "json", "validate"))
    assert [(c, u) for c, u in fixed if c in PLAN_CODES] == []
    again = planned(run_cli, "renumber")
    assert (again.exit_code, again.stdout) == (0, "")
    assert "nothing to renumber: every user keeps to the plan plan.toml" in again.stderr
    assert json.loads(planned(run_cli, "-o", "json", "renumber").stdout) == {
        "moves": [],
        "unplaced": [],
        "summary": {"moved": 0, "unplaced": 0},
    }


def test_renumber_names_who_cannot_be_placed_and_exits_1(
    run_cli: RunCli, plan: Path, tmp_path: Path
) -> None:
    (tmp_path / "tight.toml").write_text(
        'default = "101-103"\n[teams]\nSales = "201-201"\n', encoding="utf-8"
    )
    result = planned(run_cli, "renumber", plan="tight.toml")
    assert (result.exit_code, result.stdout) == (1, "")
    lines = result.stderr.splitlines()
    assert lines == [
        *[line for line in lines if line.startswith("warning: cannot place user ")][:5],
        "warning: ... and 8 more who cannot be placed (-o json lists every one)",
        lines[-1],
    ]
    assert lines[0] == (
        "warning: cannot place user 481004 (daniel.okafor@example.com), in no team of the "
        "plan, holds 104, outside what they may use, and no extension of the default range "
        "101-103 is free"
    )
    assert lines[-1] == (
        "aircall-ext: error: 13 users cannot be placed: their ranges have no free extension "
        "(see them with `aircall-ext --sandbox --numbering tight.toml map`, then widen a range "
        "in the plan)"
    )
    doc = json.loads(planned(run_cli, "-o", "json", "renumber", plan="tight.toml").stdout)
    assert doc["summary"] == {"moved": 0, "unplaced": 13}
    assert doc["unplaced"][-1]["teams"] == ["Sales"]


# -- map ---------------------------------------------------------------------------------


def test_map_draws_the_demo_account(run_cli: RunCli, plan: Path) -> None:
    result = planned(run_cli, "map")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == DEMO_MAP
    assert "\x1b[" not in result.stdout


def test_map_is_coloured_on_a_terminal_only_without_no_color(
    run_cli: RunCli, plan: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(output, "_isatty", lambda stream: True)
    assert "\x1b[" not in planned(run_cli, "map").stdout  # NO_COLOR=1 (the test fixture)
    monkeypatch.delenv("NO_COLOR")
    coloured = planned(run_cli, "map").stdout
    assert "\x1b[31m\x1b[1m!\x1b[0m" in coloured  # breaking: bold red
    assert "\x1b[32m###\x1b[0m" in coloured  # held: green
    plain = "".join(part.split("m", 1)[-1] for part in coloured.split("\x1b["))
    assert plain == DEMO_MAP


def test_map_json_and_csv_give_each_range_in_figures(run_cli: RunCli, plan: Path) -> None:
    doc = json.loads(planned(run_cli, "-o", "json", "map").stdout)
    assert doc["ranges"][0] == {
        "team": None,
        "range": "100-199",
        "size": 100,
        "held": 9,
        "free": 91,
        "breaking": 2,
        "reserved": 1,
    }
    assert [(r["team"], r["range"]) for r in doc["ranges"]] == [
        (None, "100-199"),
        ("Sales", "200-299"),
        ("Customer Support", "300-349"),
        ("Customer Support", "360-399"),
        ("Billing", "400-449"),
        ("Reception", "500-501"),
    ]
    csv = planned(run_cli, "-o", "csv", "map").stdout.splitlines()
    assert csv[:2] == ["team,range,size,held,free,breaking,reserved", ",100-199,100,9,91,2,1"]
    assert csv[-1] == "Reception,500-501,2,2,0,1,0"


def test_map_of_one_team(run_cli: RunCli, plan: Path) -> None:
    result = planned(run_cli, "map", "--team", "Reception")
    assert result.stdout.splitlines()[1:] == [
        "500 #!                                                      Reception 500-501",
        "550",
        ". free  # held  ! held against the plan  x shared  r reserved  (blank) not the team's",
    ]
    unknown = planned(run_cli, "map", "--team", "Support")
    assert unknown.exit_code == 2
    assert "no team 'Support' in the numbering plan plan.toml" in unknown.stderr


# -- import with a plan ------------------------------------------------------------------


def test_import_with_a_plan_never_parks_on_a_reserved_extension(
    run_cli: RunCli, plan: Path, tmp_path: Path
) -> None:
    """Maya and Noor swap: 105 would park the swap, but this plan reserves it."""
    swap = tmp_path / "swap.csv"
    swap.write_text(f"user_id,extension\n{MAYA},305\n{NOOR},201\n", encoding="utf-8")
    plain = json.loads(run_cli("--sandbox", "-o", "json", "import", "swap.csv", "--dry-run").stdout)
    assert plain["parking"] == "105"
    (tmp_path / "r.toml").write_text('reserved = ["105", "106"]\n', encoding="utf-8")
    dry = planned(run_cli, "-o", "json", "import", "swap.csv", "--dry-run", plan="r.toml")
    assert json.loads(dry.stdout)["parking"] == "107"
    done = planned(run_cli, "--no-progress", "import", "swap.csv", "--yes", plan="r.toml")
    assert done.exit_code == 0, done.stderr
    assert (extensions()[MAYA], extensions()[NOOR]) == ("305", "201")


def test_assign_swap_with_a_plan_never_parks_on_a_reserved_extension(
    run_cli: RunCli, plan: Path, tmp_path: Path
) -> None:
    plain = json.loads(
        run_cli("--sandbox", "-o", "json", "assign", str(MAYA), "305", "--swap", "--dry-run").stdout
    )
    assert plain["steps"][0] == {
        "user_id": NOOR,
        "email": "noor.rahman@example.com",
        "from": "305",
        "to": "105",
    }
    (tmp_path / "r.toml").write_text('reserved = ["105", "106"]\n', encoding="utf-8")
    done = planned(run_cli, "-o", "json", "assign", str(MAYA), "305", "--swap", plan="r.toml")
    assert done.exit_code == 0, done.stderr
    assert json.loads(done.stdout)["steps"][0]["to"] == "107"
    assert (extensions()[MAYA], extensions()[NOOR]) == ("305", "201")


# -- completion --------------------------------------------------------------------------


def test_team_names_complete_from_the_last_listing_of_teams(run_cli: RunCli) -> None:
    from click.shell_completion import ShellComplete

    from aircall_ext.cli import PROG, cli
    from aircall_ext.names import COMPLETE_VAR

    def complete(*args: str, incomplete: str = "") -> list[str]:
        found = ShellComplete(cli, {}, PROG, COMPLETE_VAR).get_completions(list(args), incomplete)
        return [item.value for item in found]

    assert complete("list", "--team") == []  # nothing read yet: nothing offered
    assert run_cli("--sandbox", "list", "--team", "Sales").exit_code == 0
    assert complete("list", "--team") == ["Customer Support", "Reception", "Sales"]
    assert complete("map", "--team", incomplete="cu") == ["Customer Support"]
    assert complete("next-free", "--team", incomplete="R") == ["Reception"]
    numbering = ShellComplete(cli, {}, PROG, COMPLETE_VAR).get_completions(["--numbering"], "")
    assert [item.type for item in numbering] == ["file"]
    assert os.environ["NO_COLOR"] == "1"
