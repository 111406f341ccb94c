"""What runs while a shell asks for completions: ``shell_complete=`` callbacks for values
Click cannot know (profiles, users, numbers, files), and bash's handling of colons.

Attach a callback with ``shell_complete=complete_users``. They read local files only
(config.toml and the completion cache of the last listing of users, numbers or teams),
never the API, and swallow every
error: a TAB press must never print a traceback into the user's shell. Imports are lazy so
that attaching them costs nothing at start-up.

The root module imports this one (for ``--profile``), which is what guarantees that the bash
class below is registered before Click answers: command modules load lazily.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from aircall_ext.names import COMPLETE_VAR

if TYPE_CHECKING:
    import click
    from click.shell_completion import CompletionItem, ShellComplete

# Values offered: words of these characters, with single spaces inside (a number called
# "Lyon Support"); each shell's class below quotes the spaces. Nothing a shell would read as
# syntax (quotes, $, ;), and no comma: Click's fish script splits its answers at commas.
_SHELL_SAFE = re.compile(r"[\w.@:+/=%-]+(?: [\w.@:+/=%-]+)*")
_EXTENSION = re.compile(r"[0-9]{3}")  # ext:7 would be refused as USER: offer valid ones only

Candidate = tuple[Any, str | None]  # (value, help shown by zsh/fish/PowerShell)


def complete_profiles(
    _ctx: click.Context, _param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """Profile names from config.toml."""

    def candidates() -> list[Candidate]:
        from aircall_ext.config import load_config

        profiles = load_config().profiles
        return [(name, f"API ID {profiles[name].api_id}") for name in sorted(profiles)]

    return _items(candidates, incomplete)


def complete_users(
    _ctx: click.Context, _param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """USER as an email, ``ext:NNN`` or id, from the last listing of users."""

    def candidates() -> list[Candidate]:
        from aircall_ext.completion_cache import cached_users

        users = cached_users()
        emails = [(u.get("email"), _label(u.get("name"), _ext(u))) for u in users]
        exts = [
            (f"ext:{u['extension']}", _label(u.get("email"), u.get("name")))
            for u in users
            if isinstance(u.get("extension"), str) and _EXTENSION.fullmatch(u["extension"])
        ]
        ids = [(str(u["id"]), _label(u.get("email"), _ext(u))) for u in users]
        return sorted(emails, key=_key) + sorted(exts, key=_key) + ids

    return _items(candidates, incomplete)


def complete_numbers(
    _ctx: click.Context, _param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """NUMBER as an id, digits (E.164, no spaces) or name, from the last listing of numbers."""

    def candidates() -> list[Candidate]:
        from aircall_ext.completion_cache import cached_numbers

        numbers = cached_numbers()
        ids = [(str(n["id"]), _label(n.get("name"), n.get("digits"))) for n in numbers]
        digits = [(n.get("digits"), n.get("name")) for n in numbers]
        names = [(n.get("name"), n.get("digits")) for n in numbers]
        return ids + digits + names

    return _items(candidates, incomplete)


def complete_teams(
    _ctx: click.Context, _param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """Team names, from the last listing of teams (any command that read them)."""

    def candidates() -> list[Candidate]:
        from aircall_ext.completion_cache import cached_teams

        names = sorted({t["name"] for t in cached_teams() if isinstance(t.get("name"), str)})
        return [(name, None) for name in names]

    return _items(candidates, incomplete)


def complete_files(
    _ctx: click.Context, _param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """Let the shell complete a path, for FILE parameters that are plain strings (to allow -)."""
    from click.shell_completion import CompletionItem

    return [CompletionItem(incomplete, type="file")]


def _items(candidates: Callable[[], Iterable[Candidate]], incomplete: str) -> list[CompletionItem]:
    """The shell-safe candidates that start with ``incomplete`` (case-insensitive), once each."""
    from click.shell_completion import CompletionItem

    try:
        pairs = list(candidates())
    except Exception:  # a broken config or cache means no suggestions, never a traceback
        return []
    prefix = incomplete.casefold()
    seen: set[str] = set()
    items: list[CompletionItem] = []
    for value, help_ in pairs:
        if not isinstance(value, str) or value in seen or not _SHELL_SAFE.fullmatch(value):
            continue
        if value.casefold().startswith(prefix):
            seen.add(value)
            items.append(CompletionItem(value, help=help_.replace(",", ";") if help_ else None))
    return items


def _ext(user: dict[str, Any]) -> str | None:
    extension = user.get("extension")
    return f"ext {extension}" if extension else "no extension"


def _label(main: Any, extra: Any) -> str | None:
    """``main (extra)``, or whichever is set; no comma (see _SHELL_SAFE)."""
    if main and extra:
        return f"{main} ({extra})"
    return str(main or extra) if main or extra else None


def _key(candidate: Candidate) -> str:
    return str(candidate[0]).casefold()


def _bash_class() -> type[ShellComplete]:
    """Click's bash completion, made to understand words that contain a colon or an ``=``,
    and to quote the spaces of the values it offers.

    bash splits ``ext:101`` into ``ext``, ``:``, ``101`` and ``--stage=w`` into ``--stage``,
    ``=``, ``w`` (COMP_WORDBREAKS) and replaces only what follows the last break: glue the
    words back for Click, and answer with what follows the last colon (what
    bash-completion's ``__ltrim_colon_completions`` does; after ``=`` Click already answers
    the value alone).
    """
    from click.shell_completion import BashComplete

    class WordbreakAwareBashComplete(BashComplete):
        kept = ""

        def get_completion_args(self) -> tuple[list[str], str]:
            args, incomplete = super().get_completion_args()
            words = glue_wordbreaks([*args, incomplete] if incomplete else args)
            if not incomplete:
                return words, ""
            whole = words.pop()
            if whole != incomplete and ":" in whole:  # bash keeps up to the last colon
                self.kept = whole[: whole.rfind(":") + 1]
            return words, whole

        def format_completion(self, item: CompletionItem) -> str:
            value = str(item.value)
            if self.kept and value.casefold().startswith(self.kept.casefold()):
                value = value[len(self.kept) :]
            if item.type == "plain":
                # One word for bash: Lyon\ Support. Click's script reads the answer with a
                # `read` that eats one level of backslashes, hence two.
                value = value.replace(" ", "\\\\ ")
            item.value = value
            return super().format_completion(item)

    return WordbreakAwareBashComplete


def option_value_prefix(incomplete: str) -> str:
    """``--stage=`` of ``--stage=w``: Click completes the value after ``=`` alone."""
    if incomplete.startswith("-") and "=" in incomplete:
        return incomplete[: incomplete.index("=") + 1]
    return ""


def _whole_word_classes() -> dict[str, type[ShellComplete]]:
    """zsh, fish and PowerShell replace the whole word being completed with the answer.

    Click answers ``--stage=w`` with ``welcome``: zsh then erased the ``--stage=`` already
    typed, and fish (which filters answers by the word) offered nothing. They are answered
    ``--stage=welcome`` instead. PowerShell inserts an answer verbatim: a value with a
    space is single-quoted so that it stays one word.
    """
    from click.shell_completion import FishComplete, PowerShellComplete, ZshComplete

    def prefixed(base: type[ShellComplete]) -> type[ShellComplete]:
        class WholeWordComplete(base):  # type: ignore[valid-type,misc]
            def get_completions(self, args: list[str], incomplete: str) -> list[CompletionItem]:
                items: list[CompletionItem] = super().get_completions(args, incomplete)
                prefix = option_value_prefix(incomplete)
                for item in items:
                    if item.type == "plain":
                        value = str(item.value)
                        if self.name == "powershell" and " " in value:
                            value = f"'{value}'"
                        item.value = prefix + value
                return items

        return WholeWordComplete

    return {
        "zsh": prefixed(ZshComplete),
        "fish": prefixed(FishComplete),
        "powershell": prefixed(PowerShellComplete),
    }


def glue_wordbreaks(words: list[str]) -> list[str]:
    """Undo bash's split at colons and ``=``: ``["ext", ":", "101"]`` -> ``["ext:101"]``."""
    glued: list[str] = []
    pending = False
    for word in words:
        if word and set(word) <= {":", "="}:
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
    for _shell, _cls in _whole_word_classes().items():
        add_completion_class(_cls, _shell)
