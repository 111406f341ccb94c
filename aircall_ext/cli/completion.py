"""``completion SHELL``: print the completion script for bash, zsh, fish or PowerShell.

The scripts are Click's: they re-run ``aircall-ext`` with ``_AIRCALL_EXT_COMPLETE=SHELL_complete``
and the words typed so far, and Click answers from the command tree and the ``shell_complete``
callbacks of :mod:`aircall_ext.cli.completers` (which also teaches bash about colons). The
same text is committed under ``completions/`` by ``python -m tests.tools.generate``.
"""

from __future__ import annotations

import click
from click.shell_completion import ShellComplete, get_completion_class

from aircall_ext.cli import PROG, cli
from aircall_ext.errors import UsageError
from aircall_ext.names import COMPLETE_VAR

SHELLS = ("bash", "zsh", "fish", "powershell")


def completion_script(shell: str, *, check_shell: bool = False) -> str:
    """The script for ``shell``.

    ``check_shell`` lets Click warn on stderr about a bash older than 4.4; it runs bash, so
    the generator skips it (the script text is the same either way).
    """
    cls = get_completion_class(shell)
    if cls is None:  # PowerShell support arrived in click 8.5
        raise UsageError(f"this click version has no {shell} completion", hint="upgrade click")
    complete = cls(cli, {}, PROG, COMPLETE_VAR)
    return complete.source() if check_shell else ShellComplete.source(complete)


@click.command("completion")
@click.argument("shell", type=click.Choice(SHELLS), metavar="SHELL")
def completion(shell: str) -> None:
    """Commands, options and choices complete; so do profile names (from config.toml) and USER
    and NUMBER arguments (from the last listing of users and numbers, cached on this machine
    by any command that read them): completing never calls the API. Install it once:

    \b
      bash  aircall-ext completion bash > ~/.local/share/bash-completion/completions/aircall-ext
      zsh   aircall-ext completion zsh > ~/.zfunc/_aircall-ext   (with fpath+=(~/.zfunc))
      fish  aircall-ext completion fish > ~/.config/fish/completions/aircall-ext.fish
      pwsh  aircall-ext completion powershell >> $PROFILE
    """
    click.echo(completion_script(shell, check_shell=True), nl=False)
