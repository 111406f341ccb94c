"""Every example in README.md and in the commands' help runs on the demo account.

An example that names a number, user or file the demo account does not have teaches the
reader a command that fails; this test runs each one against the embedded sandbox.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest

from aircall_ext.cli import cli
from tests.conftest import RunCli

README = Path(__file__).parent.parent / "README.md"
SHELL_STOPS = {">", ">>", "|", "&&", "||", ";", "#"}
# Examples that cannot run against an in-process account: they talk to a real API, serve
# until stopped, or stand for values the reader fills in (upper-case placeholders).
NOT_RUNNABLE = re.compile(r"auth login|sandbox serve|\b[A-Z][A-Z_]{2,}\b|\.\.\.")


def _command_line(text: str) -> list[str] | None:
    """The aircall-ext words of one shell line; None or [] when it runs something else."""
    start = text.find("aircall-ext ")
    if start < 0 or NOT_RUNNABLE.search(text):
        return None
    words: list[str] = []
    for word in shlex.split(text[start:], comments=True)[1:]:
        if word in SHELL_STOPS or word.startswith(">"):
            break
        words.append(word)
    return words


def readme_examples() -> list[list[str]]:
    examples, fence = [], None
    for line in README.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            fence = None if fence is not None else line[3:].strip()
            continue
        if fence in {"sh", "yaml"} and (words := _command_line(line)):
            examples.append(words)
    return examples


def help_examples() -> list[list[str]]:
    examples = []

    def visit(command: click.Command) -> None:
        after = (command.help or "").partition("Examples:")[2]
        for line in after.splitlines():
            if line.strip().startswith("aircall-ext ") and (words := _command_line(line)):
                examples.append(words)
        for sub in getattr(command, "commands", {}).values():
            visit(sub)

    ctx = click.Context(cli)
    for name in cli.list_commands(ctx):
        found = cli.get_command(ctx, name)
        if found is not None:
            visit(found)
    return examples


def readme_heredoc(name: str) -> str:
    """The text the README writes to ``name`` with ``cat > NAME <<'EOF'`` (a shell heredoc,
    so the example runs from an installed wheel too)."""
    text = README.read_text(encoding="utf-8")
    match = re.search(r"^cat > " + re.escape(name) + r" <<'EOF'\n(.*?)^EOF$", text, re.M | re.S)
    assert match, f"README has no heredoc writing {name}"
    return match.group(1)


def readme_csv(header: str) -> str:
    """The README's CSV block that starts with ``header``."""
    text = README.read_text(encoding="utf-8")
    match = re.search(r"```csv\n(" + re.escape(header) + r".*?)```", text, re.DOTALL)
    assert match, f"README has no CSV block starting with {header}"
    return match.group(1)


EXAMPLES = readme_examples() + help_examples()


def test_there_are_examples_to_check() -> None:
    assert len(readme_examples()) >= 8 and len(help_examples()) >= 3


@pytest.mark.parametrize("words", EXAMPLES, ids=[" ".join(w) for w in EXAMPLES])
def test_example_runs_on_the_demo_account(
    words: list[str], run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AIRCALL_EXT_SANDBOX", "1")
    (tmp_path / "must-ring.csv").write_text(readme_csv("number,digits,stage"), encoding="utf-8")
    (tmp_path / "plan.toml").write_text(readme_heredoc("plan.toml"), encoding="utf-8")
    assert run_cli("export", "extensions.csv").exit_code == 0
    moves = run_cli("--numbering", "plan.toml", "renumber")
    (tmp_path / "moves.csv").write_text(moves.stdout, encoding="utf-8")
    result = run_cli(*words)
    expected = {0} if "--expect" in words or "must-ring.csv" in words else {0, 1}
    assert result.exit_code in expected, (words, result.stderr)
    assert "internal error" not in result.stderr


def test_the_readme_s_plan_is_the_one_the_demo_account_breaks() -> None:
    """The README tells what the demo account does against its plan: they must agree."""
    from aircall_ext.sandbox.demo import SAMPLE_PLAN

    assert readme_heredoc("plan.toml") == SAMPLE_PLAN


def test_the_readme_s_map_and_moves_are_what_the_demo_account_gives(
    run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "plan.toml").write_text(readme_heredoc("plan.toml"), encoding="utf-8")
    shown = run_cli("--sandbox", "--numbering", "plan.toml", "map").stdout
    assert f"```text\n{shown}```" in README.read_text(encoding="utf-8")
    moves = run_cli("--sandbox", "--numbering", "plan.toml", "renumber").stdout
    assert moves == readme_csv("user_id,email,name,extension")
