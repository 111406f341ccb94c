"""README's exit-code table, the man page and the behaviour agree: one case per code at least."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
import respx

from aircall_ext.cli import run
from aircall_ext.errors import ApiError
from tests.conftest import CliResult, RunCli
from tests.scenes import WriteState, env_credentials, team
from tests.tools.manpages import EXIT_STATUS

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_exit_codes() -> dict[int, str]:
    section = README.read_text(encoding="utf-8").split("## Exit codes", 1)[1].split("\n## ")[0]
    return {
        int(code): meaning for code, meaning in re.findall(r"^\| (\d+) \| (.+) \|$", section, re.M)
    }


@pytest.fixture
def account(write_state: WriteState, tmp_path: Path) -> Path:
    write_state(team({1: "101", 2: "102", 3: "103", 4: "103"}))  # 103 twice: a finding
    swap = tmp_path / "swap.csv"
    swap.write_text("user_id,extension\n1,102\n2,101\n")
    return swap


def on_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("aircall_ext.cli.context.stdin_is_terminal", lambda: True)


def stop_at_first_write(monkeypatch: pytest.MonkeyPatch) -> None:
    from aircall_ext.api.client import ApiClient

    def fail(*_args: object) -> None:
        raise ApiError("PUT /v2/users/1 failed: HTTP 503: down", status=503)

    monkeypatch.setattr(ApiClient, "set_extension", fail)


def with_env_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    env_credentials(monkeypatch, "my-id", "env-token-0123456789")


def plan_file(beside: Path, text: str) -> str:
    path = beside.parent / "plan.toml"
    path.write_text(text + "\n", encoding="utf-8")
    return str(path)


Case = Callable[[RunCli, Path, pytest.MonkeyPatch], CliResult]


def api_answers_html(run_cli: RunCli, swap: Path, monkeypatch: pytest.MonkeyPatch) -> CliResult:
    with_env_credentials(monkeypatch)
    with respx.mock:
        respx.get("https://api.test/v2/users").mock(return_value=httpx.Response(200, text="<html>"))
        return run_cli("--base-url", "https://api.test", "list")


CASES: dict[int, dict[str, Case]] = {
    0: {
        "list": lambda run, swap, mp: run("--sandbox", "list"),
        "assign the current value": lambda run, swap, mp: run("--sandbox", "assign", "1", "101"),
    },
    1: {
        "validate finds a collision": lambda run, swap, mp: run("--sandbox", "validate"),
        "assign refused: taken": lambda run, swap, mp: run("--sandbox", "assign", "1", "102"),
        "import declined at the prompt": lambda run, swap, mp: (
            on_terminal(mp),
            run("--sandbox", "import", str(swap), input="n\n"),
        )[1],
        "renumber cannot place a user": lambda run, swap, mp: run(
            "--sandbox", "--numbering", plan_file(swap, 'default = "101-102"'), "renumber"
        ),
    },
    2: {
        "bad option": lambda run, swap, mp: run("list", "--bogus"),
        "unknown USER id": lambda run, swap, mp: run("--sandbox", "show", "99"),
        "unknown USER email": lambda run, swap, mp: run("--sandbox", "assign", "x@y.z", "150"),
        "ambiguous USER": lambda run, swap, mp: run("--sandbox", "show", "ext:103"),
        "bad EXT": lambda run, swap, mp: run("--sandbox", "assign", "1", "7"),
        "unreadable file": lambda run, swap, mp: run("--sandbox", "validate", "nope.csv"),
        "a plan that cannot be right": lambda run, swap, mp: run(
            "--sandbox", "--numbering", plan_file(swap, 'default = "102-101"'), "validate"
        ),
    },
    3: {
        "no credentials": lambda run, swap, mp: run("list"),
    },
    4: {
        "unexpected response": api_answers_html,
    },
    5: {
        "import stopped part-way": lambda run, swap, mp: (
            stop_at_first_write(mp),
            run("--sandbox", "import", str(swap), "--yes", "--journal", str(swap) + ".jsonl"),
        )[1],
    },
    130: {
        "end of input at the confirmation prompt": lambda run, swap, mp: (
            on_terminal(mp),
            run("--sandbox", "import", str(swap), input=""),
        )[1],
    },
}


def test_readme_and_man_page_document_the_same_codes() -> None:
    assert set(readme_exit_codes()) == {code for code, _ in EXIT_STATUS}


def test_every_documented_code_has_a_case() -> None:
    assert set(CASES) == set(readme_exit_codes())


@pytest.mark.parametrize(
    ("code", "name"), [(code, name) for code, cases in CASES.items() for name in cases]
)
def test_behaviour_matches_the_table(
    run_cli: RunCli,
    account: Path,
    monkeypatch: pytest.MonkeyPatch,
    code: int,
    name: str,
) -> None:
    result = CASES[code][name](run_cli, account, monkeypatch)
    assert result.exit_code == code, result.stderr
    assert "Traceback" not in result.stderr


def test_a_reader_that_leaves_early_ends_the_run_quietly(
    account: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`aircall-ext --sandbox list | true`: stdout is a pipe nobody reads. The run ends with
    exit 0 and says nothing, and what stdout still holds no longer fails the flush Python
    makes at exit (which would print "Exception ignored" and exit 120)."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    errors = tmp_path / "stderr"
    with (
        open(write_end, "w", encoding="utf-8") as stdout,
        errors.open("w") as stderr,
        monkeypatch.context() as streams,
    ):
        streams.setattr(sys, "stdout", stdout)
        streams.setattr(sys, "stderr", stderr)
        code = run(["--sandbox", "list"])
        stdout.flush()  # as Python does at exit
    assert (code, errors.read_text()) == (0, "")


def test_assign_help_states_the_same_codes(run_cli: RunCli) -> None:
    text = " ".join(run_cli("assign", "-h").stdout.split())
    assert "2 for a bad EXT or a USER that names nobody (or several users)" in text
