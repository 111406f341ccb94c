"""``completion SHELL``: print the completion script for bash, zsh, fish or PowerShell.

The scripts are Click's: they re-run ``aircall-ext`` with ``_AIRCALL_EXT_COMPLETE=SHELL_complete``
and the words typed so far, and Click answers from the command tree and the ``shell_complete``
callbacks of :mod:`aircall_ext.cli.completers`. The same text is committed under
``completions/`` by ``python -m aircall_ext._generate``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from click.shell_completion import CompletionItem, ShellComplete

COMPLETE_VAR = "_AIRCALL_EXT_COMPLETE"
SHELLS = ("bash", "zsh", "fish", "powershell")


def completion_script(shell: str, *, check_shell: bool = False) -> str:
    """The script for ``shell``.

    ``check_shell`` lets Click warn on stderr about a bash older than 4.4; it runs bash, so
    the generator skips it (the script text is the same either way).
    """
    from click.shell_completion import ShellComplete, get_completion_class

    from aircall_ext.cli import PROG, cli
    from aircall_ext.errors import UsageError

    cls = get_completion_class(shell)
    if cls is None:  # PowerShell support arrived in click 8.5
        raise UsageError(f"this click version has no {shell} completion", hint="upgrade click")
    complete = cls(cli, {}, PROG, COMPLETE_VAR)
    return complete.source() if check_shell else ShellComplete.source(complete)


@click.command("completion")
@click.argument("shell", type=click.Choice(SHELLS), metavar="SHELL")
def completion(shell: str) -> None:
    """Print the completion script for SHELL (bash, zsh, fish or powershell).

    Commands, options and choices complete; so do profile names (from config.toml) and USER
    and NUMBER arguments (from the last listing of users and numbers, cached on this machine
    by any command that read them): completing never calls the API. Install it once:

    \b
      bash  aircall-ext completion bash > ~/.local/share/bash-completion/completions/aircall-ext
      zsh   aircall-ext completion zsh > ~/.zfunc/_aircall-ext   (with fpath+=(~/.zfunc))
      fish  aircall-ext completion fish > ~/.config/fish/completions/aircall-ext.fish
      pwsh  aircall-ext completion powershell >> $PROFILE
    """
    click.echo(completion_script(shell, check_shell=True), nl=False)


def _bash_class() -> type[ShellComplete]:
    """Click's bash completion, made to understand words that contain a colon.

    bash splits ``ext:101`` into ``ext``, ``:``, ``101`` (COMP_WORDBREAKS) and replaces only
    what follows the last colon: glue the words back for Click, and answer with what follows
    the last colon (what bash-completion's ``__ltrim_colon_completions`` does).
    """
    from click.shell_completion import BashComplete

    class ColonAwareBashComplete(BashComplete):
        kept = ""

        def get_completion_args(self) -> tuple[list[str], str]:
            args, incomplete = super().get_completion_args()
            words = glue_colons([*args, incomplete] if incomplete else args)
            if not incomplete:
                return words, ""
            whole = words.pop()
            if whole != incomplete:  # bash split the word: it keeps up to the last colon
                self.kept = whole[: whole.rfind(":") + 1]
            return words, whole

        def format_completion(self, item: CompletionItem) -> str:
            value = str(item.value)
            if self.kept and value.casefold().startswith(self.kept.casefold()):
                item.value = value[len(self.kept) :]
            return super().format_completion(item)

    return ColonAwareBashComplete


def glue_colons(words: list[str]) -> list[str]:
    """Undo bash's split at colons: ``["ext", ":", "101"]`` -> ``["ext:101"]``."""
    glued: list[str] = []
    pending = False
    for word in words:
        if word and set(word) == {":"}:
            if glued:
                glued[-1] += word
            else:
                glued.append(word)
            pending = True
        elif pending:
            glued[-1] += word
            pending = False
        else:
            glued.append(word)
    return glued


if COMPLETE_VAR in os.environ:  # only while a shell asks: importing this costs start-up time
    from click.shell_completion import add_completion_class

    add_completion_class(_bash_class(), "bash")


COMMANDS: list[click.Command] = [completion]
