"""The pre-commit hook the repository ships: its entry, as .pre-commit-hooks.yaml writes it,
run the way pre-commit runs it (entry, then args, then the staged files that match)."""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.conftest import RunCli

ROOT = Path(__file__).parent.parent
HOOKS = ROOT / ".pre-commit-hooks.yaml"


def hook() -> dict[str, Any]:
    (found,) = [h for h in yaml.safe_load(HOOKS.read_text(encoding="utf-8"))]
    assert isinstance(found, dict)
    return found


def run_hook(run_cli: RunCli, args: list[str], files: list[str]) -> Any:
    """What pre-commit runs: ``entry + args + files``; the entry's program is the console
    script ``pyproject.toml`` declares, run here in-process."""
    program, *words = shlex.split(hook()["entry"])
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["scripts"]
    assert scripts[program] == "aircall_ext.cli:main"
    pattern = re.compile(hook()["files"])
    return run_cli(*words, *args, *[f for f in files if pattern.search(f)])


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the hook tried to reach the API")

    monkeypatch.setattr(httpx.Client, "send", refuse)


def test_the_hook_is_what_the_readme_says() -> None:
    found = hook()
    assert found["id"] == "aircall-ext-validate"
    assert found["entry"] == "aircall-ext validate --offline"
    assert found["language"] == "python"
    assert found["files"] == r"\.csv$"
    assert found["args"] == []


def test_the_hook_passes_a_good_file_and_fails_a_bad_one(
    run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("good.csv").write_text("user_id,email,extension\n1,a@example.com,201\n", encoding="utf-8")
    Path("bad.csv").write_text(
        "user_id,email,extension\n1,a@example.com,201\n2,b@example.com,201\n3,c@example.com,7\n",
        encoding="utf-8",
    )
    Path("notes.txt").write_text("not a CSV\n", encoding="utf-8")
    good = run_hook(run_cli, [], ["good.csv", "notes.txt"])
    assert good.exit_code == 0, good.stderr
    bad = run_hook(run_cli, [], ["good.csv", "bad.csv"])
    assert bad.exit_code == 1
    assert "bad.csv:3:3: extension 201 is wanted on lines 2 and 3" in bad.stdout
    assert "bad.csv:4:3: extension: '7' has 1 digit" in bad.stdout


def test_the_hook_takes_a_plan_in_its_args(
    run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("plan.toml").write_text('reserved = ["911"]\ndefault = "100-199"\n', encoding="utf-8")
    Path("staff.csv").write_text("user_id,extension\n1,911\n2,150\n", encoding="utf-8")
    plain = run_hook(run_cli, [], ["staff.csv"])
    assert (plain.exit_code, plain.stdout) == (0, "")
    planned = run_hook(run_cli, ["--numbering", "plan.toml", "--strict"], ["staff.csv"])
    assert planned.exit_code == 1
    assert "staff.csv:2:2: extension 911 is reserved by the plan plan.toml" in planned.stdout
    monkeypatch.setenv("AIRCALL_EXT_NUMBERING", "plan.toml")
    from_env = run_hook(run_cli, ["--strict"], ["staff.csv"])
    assert from_env.exit_code == 1 and "reserved-extension" in from_env.stdout
