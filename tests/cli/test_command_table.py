"""The root group loads each command lazily from ``COMMANDS``, its one registry.

Every entry must load a command of its name, whose docstring is its whole help; ``--help``
must list exactly the registry with the summaries generated from those docstrings
(``cli/summaries.py``), reading as Click would with every command loaded; and a bare
``--help``/``--version``/``completion`` must import no command module.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import subprocess
import sys

import click
import pytest

import aircall_ext.cli
from aircall_ext.cli import COMMANDS, PROG, LazyGroup, cli
from aircall_ext.cli.summaries import SUMMARIES

UNLIMITED = 10**6


def listed(name: str, summary: str) -> str:
    """What --help lists for a command: its summary's first sentence."""
    return click.Command(name, help=summary).get_short_help_str(UNLIMITED)


def test_every_entry_loads_its_command_whose_docstring_starts_with_its_summary() -> None:
    ctx = click.Context(cli, info_name=PROG)
    assert set(SUMMARIES) == set(COMMANDS)
    for name in COMMANDS:
        summary = SUMMARIES[name]
        command = cli.get_command(ctx, name)
        assert command is not None and command.name == name
        assert not command.hidden and not command.deprecated and command.short_help is None
        assert command.help is not None and command.help.startswith(summary), name
        assert command.help.partition("\n\n")[0] == summary, name  # the whole first paragraph
        assert command.get_short_help_str(UNLIMITED) == listed(name, summary), name


def test_the_registry_names_every_command_of_every_module_and_nothing_else() -> None:
    """A command defined in a module but missing from COMMANDS would never be reachable."""
    defined: dict[int, click.Command] = {}
    for info in pkgutil.iter_modules(aircall_ext.cli.__path__):
        module = importlib.import_module(f"aircall_ext.cli.{info.name}")
        for value in vars(module).values():
            if isinstance(value, click.Command) and value is not cli:
                defined[id(value)] = value
    subcommands = {
        id(sub)
        for command in defined.values()
        if isinstance(command, click.Group)
        for sub in command.commands.values()
    }
    top_level = {command.name for key, command in defined.items() if key not in subcommands}
    assert top_level == set(COMMANDS)


def render_commands(group: click.Group, width: int, *, stock: bool) -> str:
    formatter = click.HelpFormatter(width=width)
    ctx = click.Context(group, info_name=PROG)
    if stock:
        click.Group.format_commands(group, ctx, formatter)
    else:
        group.format_commands(ctx, formatter)
    return formatter.getvalue()


@pytest.mark.parametrize("width", [50, 80, 100, 200])
def test_help_lists_the_registry_exactly_as_click_would(width: int) -> None:
    lazy = LazyGroup(PROG)
    loaded = LazyGroup(PROG)
    ctx = click.Context(loaded, info_name=PROG)
    for name in loaded.list_commands(ctx):
        loaded.get_command(ctx, name)
    assert lazy.commands == {}  # the lazy one rendered from the registry alone
    rendered = render_commands(lazy, width, stock=False)
    assert rendered == render_commands(loaded, width, stock=True)
    assert rendered.count("\n") >= len(COMMANDS)
    assert lazy.commands == {}
    if width == 200:  # one line per command: its name and its summary's first sentence
        lines = [line.split(None, 1) for line in rendered.splitlines()[1:]]
        assert lines == [[name, listed(name, SUMMARIES[name])] for name in sorted(COMMANDS)]


def test_the_root_group_lists_and_finds_commands() -> None:
    ctx = click.Context(cli, info_name=PROG)
    assert cli.list_commands(ctx) == sorted(COMMANDS)
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
