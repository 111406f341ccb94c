"""``completion SHELL``: print the completion script for bash, zsh, fish or PowerShell.

The scripts are Click's (zsh's and fish's with one change, see ``EDITS``): they re-run
``aircall-ext`` with ``_AIRCALL_EXT_COMPLETE=SHELL_complete`` and the words typed so far,
and Click answers from the command tree and the ``shell_complete`` callbacks of
:mod:`aircall_ext.cli.completers` (which also teaches bash about colons). The same text is
committed under ``completions/`` by ``python -m tests.tools.generate``.
"""

from __future__ import annotations

import click
from click.shell_completion import ShellComplete, get_completion_class

from aircall_ext.cli import PROG, cli
from aircall_ext.cli.context import AppContext, with_app
from aircall_ext.errors import UsageError
from aircall_ext.names import COMPLETE_VAR

SHELLS = ("bash", "zsh", "fish", "powershell")

# Click's zsh and fish scripts are edited for a path after `--option=` (`--report=fi`):
# Click answers "a file", and the shell completes the word it has, which starts with the
# option. zsh moves the option out of the word first (compset); fish, which keeps only
# answers that start with the word, gets each path with the option in front. Each edit is
# (Click's text, ours); a Click whose script lacks one serves its own script unedited.
ZSH_COMPSET = "            [[ $PREFIX == -* ]] && compset -P 1 '*\\='\n"
FISH_OPTION = "    set -l option (string match -r -- '^-[^=]*=' (commandline -t));\n"


def _fish_paths_with_option(complete: str) -> tuple[str, str]:
    """fish: each path ``complete`` finds, with the option the word starts with in front."""
    return (
        f"            {complete} $metadata[2];\n",
        f"            for path in ({complete} $metadata[2]);\n"
        '                echo "$option$path";\n'
        "            end;\n",
    )


EDITS = {
    "zsh": (
        ("            _path_files -/\n", ZSH_COMPSET + "            _path_files -/\n"),
        ("            _path_files -f\n", ZSH_COMPSET + "            _path_files -f\n"),
    ),
    "fish": (
        ("%(prog_name)s);\n\n", "%(prog_name)s);\n" + FISH_OPTION + "\n"),
        _fish_paths_with_option("__fish_complete_directories"),
        _fish_paths_with_option("__fish_complete_path"),
    ),
}


def edited(template: str, edits: tuple[tuple[str, str], ...]) -> str:
    """``template`` with every edit made, or as it is when one of them does not apply."""
    result = template
    for old, new in edits:
        if result.count(old) != 1:
            return template
        result = result.replace(old, new)
    return result


def completion_script(shell: str, *, check_shell: bool = False) -> str:
    """The script for ``shell``.

    ``check_shell`` lets Click warn on stderr about a bash older than 4.4; it runs bash, so
    the generator skips it (the script text is the same either way).
    """
    cls = get_completion_class(shell)
    if cls is None:  # PowerShell support arrived in click 8.5
        raise UsageError(f"this click version has no {shell} completion", hint="upgrade click")
    complete = cls(cli, {}, PROG, COMPLETE_VAR)
    if shell in EDITS:
        return edited(complete.source_template, EDITS[shell]) % complete.source_vars()
    return complete.source() if check_shell else ShellComplete.source(complete)


@click.command("completion")
@click.argument("shell", type=click.Choice(SHELLS), metavar="SHELL")
@with_app
def completion(app: AppContext, shell: str) -> None:
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
    app.out(completion_script(shell, check_shell=True), nl=False)
