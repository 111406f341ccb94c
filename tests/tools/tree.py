"""Walk the Click command tree: the one source every generated document is built from."""

from __future__ import annotations

import click


def command_contexts(root: click.Command, prog: str) -> list[click.Context]:
    """A context per visible command, root first, then depth first in name order.

    Contexts (not bare commands) because help records, usage pieces and the help option
    depend on the settings a command inherits from its parents.
    """
    top = click.Context(root, info_name=prog, **root.context_settings)
    return list(_walk(top))


def _walk(ctx: click.Context) -> list[click.Context]:
    found = [ctx]
    for sub in subcommands(ctx):
        found += _walk(sub)
    return found


def subcommands(ctx: click.Context) -> list[click.Context]:
    """A context per visible direct subcommand of a group; none for a plain command."""
    group = ctx.command
    if not isinstance(group, click.Group):
        return []
    found = []
    for name in group.list_commands(ctx):
        sub = group.get_command(ctx, name)
        if sub is not None and not sub.hidden:
            found.append(click.Context(sub, info_name=name, parent=ctx, **sub.context_settings))
    return found


def page_name(ctx: click.Context) -> str:
    """``aircall-ext auth login`` -> ``aircall-ext-auth-login`` (the man page's name)."""
    return ctx.command_path.replace(" ", "-")


def summary(command: click.Command) -> str:
    """The first sentence of the help, without its final period."""
    return command.get_short_help_str(limit=10_000).rstrip(".")


def help_text(command: click.Command) -> str:
    """The help as ``--help`` shows it: dedented, cut at a form feed."""
    import inspect

    return inspect.cleandoc(command.help or "").partition("\f")[0]
