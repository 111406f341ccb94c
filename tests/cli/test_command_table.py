"""The root group loads command modules lazily from ``COMMAND_TABLE`` (issue 8, start-up).

The table duplicates two facts the command modules own (which commands they define, and
each one's summary), so these tests fail as soon as it drifts; and they check that a bare
``--help``/``--version``/``completion`` really leaves the command modules unimported.
"""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys

import click
import pytest

import aircall_ext.cli
from aircall_ext.cli import COMMAND_TABLE, PROG, LazyGroup, cli

UNLIMITED = 10**6


def command_modules() -> dict[str, list[click.Command]]:
    """Every module under aircall_ext.cli that defines commands, with its COMMANDS."""
    found: dict[str, list[click.Command]] = {}
    for info in pkgutil.iter_modules(aircall_ext.cli.__path__):
        module = __import__(f"aircall_ext.cli.{info.name}", fromlist=["_"])
        if hasattr(module, "COMMANDS"):
            found[info.name] = list(module.COMMANDS)
    return found


def test_the_table_names_every_command_of_every_module_and_nothing_else() -> None:
    defined = {cmd.name: module for module, cmds in command_modules().items() for cmd in cmds}
    assert {name: module for name, (module, _summary) in COMMAND_TABLE.items()} == defined


def test_summaries_are_the_commands_own_first_sentences() -> None:
    ctx = click.Context(cli, info_name=PROG)
    for name, (_module, summary) in COMMAND_TABLE.items():
        command = cli.get_command(ctx, name)
        assert command is not None and command.name == name
        assert not command.hidden and not command.deprecated and command.short_help is None
        assert command.get_short_help_str(UNLIMITED) == summary, name


def render_commands(group: click.Group, width: int, *, stock: bool) -> str:
    formatter = click.HelpFormatter(width=width)
    ctx = click.Context(group, info_name=PROG)
    if stock:
        click.Group.format_commands(group, ctx, formatter)
    else:
        group.format_commands(ctx, formatter)
    return formatter.getvalue()


@pytest.mark.parametrize("width", [50, 80, 100, 200])
def test_the_lazy_command_list_reads_exactly_like_clicks(width: int) -> None:
    lazy = LazyGroup(PROG)
    loaded = LazyGroup(PROG)
    ctx = click.Context(loaded, info_name=PROG)
    for name in loaded.list_commands(ctx):
        loaded.get_command(ctx, name)
    assert lazy.commands == {}  # the lazy one rendered from the table alone
    rendered = render_commands(lazy, width, stock=False)
    assert rendered == render_commands(loaded, width, stock=True)
    assert rendered.count("\n") >= len(COMMAND_TABLE)
    assert lazy.commands == {}


def test_the_root_group_lists_and_finds_commands() -> None:
    ctx = click.Context(cli, info_name=PROG)
    assert cli.list_commands(ctx) == sorted(COMMAND_TABLE)
    assert cli.get_command(ctx, "no-such-command") is None
    sandbox = cli.get_command(ctx, "sandbox")
    assert isinstance(sandbox, click.Group) and "serve" in sandbox.commands


# In a fresh interpreter: which of aircall_ext.cli's own modules each path loads.
PROBE = """
import contextlib, io, json, sys
from aircall_ext.cli import run
result = {}
for argv in json.loads(sys.argv[1]):
    before = set(sys.modules)
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        code = run(argv)
    new = sorted(m for m in set(sys.modules) - before if m.startswith("aircall_ext"))
    result[" ".join(argv)] = [code, new]
print(json.dumps(result))
"""


def test_help_and_version_load_no_command_module_and_completion_only_its_own() -> None:
    cases = [["--help"], ["--version"], ["completion", "bash"], ["list", "--help"]]
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(cases)],
        capture_output=True,
        text=True,
        check=True,
    )
    loaded = json.loads(done.stdout)
    assert loaded["--help"] == [0, []]
    assert loaded["--version"] == [0, []]
    code, modules = loaded["completion bash"]
    assert code == 0 and [m for m in modules if m.startswith("aircall_ext.cli.")] == [
        "aircall_ext.cli.completion"
    ]
    code, modules = loaded["list --help"]
    assert code == 0 and "aircall_ext.cli.users" in modules  # the probe does load on demand
