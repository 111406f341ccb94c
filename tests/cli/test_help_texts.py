"""Every command, group and option explains itself: `--help`, man pages and completion
descriptions are built from these texts."""

from __future__ import annotations

import click
import pytest

from aircall_ext.cli import PROG, cli
from tests.tools.tree import command_contexts, help_text

CONTEXTS = command_contexts(cli, PROG)
IDS = [ctx.command_path for ctx in CONTEXTS]


def _click_provided(param: click.Parameter) -> bool:
    return "--help" in param.opts or "--version" in param.opts


@pytest.mark.parametrize("ctx", CONTEXTS, ids=IDS)
def test_command_has_help(ctx: click.Context) -> None:
    assert help_text(ctx.command).strip(), f"`{ctx.command_path}` needs a docstring"


@pytest.mark.parametrize("ctx", CONTEXTS, ids=IDS)
def test_every_option_has_help(ctx: click.Context) -> None:
    silent = [
        "/".join(param.opts)
        for param in ctx.command.get_params(ctx)
        if isinstance(param, click.Option)
        and not _click_provided(param)
        and not (param.help or "").strip()
    ]
    assert not silent, f"`{ctx.command_path}` options without help=: {silent}"


@pytest.mark.parametrize("ctx", CONTEXTS, ids=IDS)
def test_every_argument_is_explained_in_the_help(ctx: click.Context) -> None:
    """Click arguments carry no help=; the command's text must name each one."""
    text = help_text(ctx.command)
    names = [
        param.metavar or (param.name or "").upper()
        for param in ctx.command.params
        if isinstance(param, click.Argument)
    ]
    unexplained = [name for name in names if name not in text]
    assert not unexplained, f"`{ctx.command_path}` help never mentions {unexplained}"


def test_the_tree_is_walked_whole() -> None:
    """Groups are descended into, so subcommands get their help checked (and a man page)."""
    paths = set(IDS)
    assert {"aircall-ext", "aircall-ext auth", "aircall-ext auth login"} <= paths
    assert len(paths) == len(IDS)
