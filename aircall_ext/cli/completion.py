"""``completion SHELL``: print the completion script for bash, zsh, fish or PowerShell.

The scripts are Click's (zsh's and fish's with one change, see ``SOURCES``): they re-run
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

# Click's zsh and fish scripts, except for a path after `--option=` (`--report=fi`): Click
# answers "a file", and the shell completes the word it has, which starts with the option.
# zsh moves the option out of the word first (compset); fish, which keeps only answers that
# start with the word, gets each path with the option in front.
ZSH_SOURCE = """\
#compdef %(prog_name)s

%(complete_func)s() {
    local -a completions
    local -a completions_with_descriptions
    local -a response
    (( ! $+commands[%(prog_name)s] )) && return 1

    response=("${(@f)$(env COMP_WORDS="${words[*]}" COMP_CWORD=$((CURRENT-1)) \
%(complete_var)s=zsh_complete %(prog_name)s)}")

    for type key descr in ${response}; do
        if [[ "$type" == "plain" ]]; then
            if [[ "$descr" == "_" ]]; then
                completions+=("$key")
            else
                completions_with_descriptions+=("$key":"$descr")
            fi
        elif [[ "$type" == "dir" ]]; then
            [[ $PREFIX == -* ]] && compset -P 1 '*\\='
            _path_files -/
        elif [[ "$type" == "file" ]]; then
            [[ $PREFIX == -* ]] && compset -P 1 '*\\='
            _path_files -f
        fi
    done

    if [ -n "$completions_with_descriptions" ]; then
        _describe -V unsorted completions_with_descriptions -U
    fi

    if [ -n "$completions" ]; then
        compadd -U -V unsorted -a completions
    fi
}

if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
    # autoload from fpath, call function directly
    %(complete_func)s "$@"
else
    # eval/source/. command, register function for later
    compdef %(complete_func)s %(prog_name)s
fi
"""
FISH_SOURCE = """\
function %(complete_func)s;
    set -l response (env %(complete_var)s=fish_complete COMP_WORDS=(commandline -cp) \
COMP_CWORD=(commandline -t) %(prog_name)s);
    set -l option (string match -r -- '^-[^=]*=' (commandline -t));

    for completion in $response;
        set -l metadata (string split "," $completion);

        if test $metadata[1] = "dir";
            for path in (__fish_complete_directories $metadata[2]);
                echo "$option$path";
            end;
        else if test $metadata[1] = "file";
            for path in (__fish_complete_path $metadata[2]);
                echo "$option$path";
            end;
        else if test $metadata[1] = "plain";
            echo $metadata[2];
        end;
    end;
end;

complete --no-files --command %(prog_name)s --arguments "(%(complete_func)s)";
"""
SOURCES = {"zsh": ZSH_SOURCE, "fish": FISH_SOURCE}


def completion_script(shell: str, *, check_shell: bool = False) -> str:
    """The script for ``shell``.

    ``check_shell`` lets Click warn on stderr about a bash older than 4.4; it runs bash, so
    the generator skips it (the script text is the same either way).
    """
    cls = get_completion_class(shell)
    if cls is None:  # PowerShell support arrived in click 8.5
        raise UsageError(f"this click version has no {shell} completion", hint="upgrade click")
    complete = cls(cli, {}, PROG, COMPLETE_VAR)
    if shell in SOURCES:
        return SOURCES[shell] % complete.source_vars()
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
