"""Shell completion: the scripts, every dynamic value, the cache behind them, and no network."""

from __future__ import annotations

import os
import shlex
import shutil
import socket
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.shell_completion import CompletionItem, ShellComplete, get_completion_class
from hypothesis import given
from hypothesis import strategies as st

from aircall_ext import completion_cache
from aircall_ext.api.models import Number, User
from aircall_ext.cli import PROG, cli
from aircall_ext.cli.completers import (
    COMPLETE_VAR,
    _bash_class,
    _whole_word_classes,
    glue_wordbreaks,
)
from aircall_ext.cli.completion import EDITS, SHELLS, edited
from aircall_ext.config import Profile, config_path, save_profile
from aircall_ext.core.dialterms import OUTCOMES
from tests.conftest import RunCli
from tests.scenes import api_user, env_credentials
from tests.tools.generate import COMPLETION_FILES
from tests.tools.tree import command_contexts

ROOT = Path(__file__).resolve().parents[2]
STAGES = ["welcome", "ivr", "audio", "waiting", "ringing"]


def items(*args: str, incomplete: str = "") -> list[CompletionItem]:
    """What Click answers a shell that has typed ``aircall-ext ARGS INCOMPLETE``."""
    return ShellComplete(cli, {}, PROG, COMPLETE_VAR).get_completions(list(args), incomplete)


def complete(*args: str, incomplete: str = "") -> list[str]:
    return [item.value for item in items(*args, incomplete=incomplete)]


def user(user_id: int, extension: str | None, email: str, name: str | None = None) -> User:
    return User.model_validate(api_user(user_id, extension, email=email, name=name))


@pytest.fixture
def cached() -> None:
    completion_cache.remember(
        users=[
            user(1, "101", "ann@example.com", "Ann"),
            user(2, "007", "Bob.Smith@example.com", "Bob"),
            user(3, None, "cy@example.com", "Cy, Jr"),
            user(4, "7", "dee@example.com"),  # damaged: ext:7 would be refused as USER
            user(5, None, "o'hara@example.com"),  # would break an unquoted command line
        ],
        numbers=[
            Number(id=10, name="Paris", digits="+33 1 76 36 06 95"),
            Number(id=11, name="Lyon Support", digits="+33 4 00", e164_digits="+33400"),
        ],
    )


# -- the scripts --------------------------------------------------------------------------


@pytest.mark.parametrize("shell", SHELLS)
def test_completion_prints_the_committed_script(run_cli: RunCli, shell: str) -> None:
    result = run_cli("completion", shell)
    assert result.exit_code == 0, result.stderr
    committed = ROOT / "completions" / COMPLETION_FILES[shell]
    assert result.stdout == committed.read_text(encoding="utf-8"), (
        f"{committed.name} is stale: run `python -m tests.tools.generate`"
    )
    assert COMPLETE_VAR in result.stdout


@pytest.mark.parametrize("shell", sorted(EDITS))
def test_every_edit_of_clicks_script_applies_to_the_installed_click(shell: str) -> None:
    cls = get_completion_class(shell)
    assert cls is not None
    template = cls.source_template
    script = edited(template, EDITS[shell])
    assert script != template
    assert all(new in script for _old, new in EDITS[shell])


def test_a_script_is_edited_whole_or_not_at_all() -> None:
    """A Click whose script changed serves its own script, never half of our edits."""
    edits = (("a\n", "A\n"), ("c\n", "C\n"))
    assert edited("a\nb\n", edits) == "a\nb\n"
    assert edited("a\nb\nc\n", edits) == "A\nb\nC\n"


def test_zsh_script_is_an_autoloadable_compdef(run_cli: RunCli) -> None:
    assert run_cli("completion", "zsh").stdout.splitlines()[0] == "#compdef aircall-ext"


def test_unknown_shell_is_a_usage_error(run_cli: RunCli) -> None:
    result = run_cli("completion", "tcsh")
    assert result.exit_code == 2
    assert "tcsh" in result.stderr


def test_shell_names_complete() -> None:
    assert complete("completion") == list(SHELLS)


# -- static choices (click.Choice) --------------------------------------------------------


def test_stage_values() -> None:
    assert complete("dial", "--stage") == ["welcome", "ivr", "audio", "waiting", "ringing"]
    assert complete("dial", "--stage", incomplete="w") == ["welcome", "waiting"]


def test_output_values_before_and_after_the_command() -> None:
    assert complete("-o") == ["table", "json", "csv", "github"]
    assert complete("list", "--output") == ["table", "json", "csv"]
    assert complete("validate", "-o", incomplete="c") == ["csv"]


def test_github_is_offered_only_where_it_works() -> None:
    for command in ("validate", "import", "diff", "dial"):
        assert complete(command, "-o", incomplete="g") == ["github"]
    for command in ("list", "show", "numbers", "next-free", "assign", "export"):
        assert complete(command, "-o", incomplete="g") == []


def test_expect_outcomes() -> None:
    assert set(complete("dial", "--expect")) == set(OUTCOMES)  # what the simulator can answer
    assert complete("dial", "--expect", incomplete="not-") == ["not-in-distribution"]


# -- profiles (config.toml) -----------------------------------------------------------------


def test_profile_names_from_config() -> None:
    save_profile(Profile("staging", "id-2"))
    save_profile(Profile("prod", "id-1"))
    assert complete("--profile") == ["prod", "staging"]
    assert complete("--profile", incomplete="st") == ["staging"]
    assert [i.help for i in items("--profile", incomplete="p")] == ["API ID id-1"]


def test_broken_config_completes_nothing_and_says_nothing() -> None:
    config_path().parent.mkdir(parents=True, exist_ok=True)
    config_path().write_text("profiles = [not toml", encoding="utf-8")
    assert complete("--profile") == []


# -- users and numbers (the cache of the last listing) --------------------------------------


@pytest.mark.usefixtures("cached")
def test_user_argument_of_show_and_assign() -> None:
    emails = ["ann@example.com", "Bob.Smith@example.com", "cy@example.com", "dee@example.com"]
    expected = [*emails, "ext:007", "ext:101", "1", "2", "3", "4", "5"]
    assert complete("show") == expected
    assert complete("assign") == expected
    assert complete("show", incomplete="ext:") == ["ext:007", "ext:101"]
    assert complete("assign", incomplete="bob") == ["Bob.Smith@example.com"]
    assert complete("show", incomplete="2") == ["2"]


@pytest.mark.usefixtures("cached")
def test_user_values_carry_a_description_for_zsh_and_fish() -> None:
    """Without a comma: Click's fish script cuts an answer at its first comma."""
    described = {i.value: i.help for i in items("show", incomplete="a")}
    assert described == {"ann@example.com": "Ann (ext 101)"}
    assert [i.help for i in items("show", incomplete="ext:007")] == ["Bob.Smith@example.com (Bob)"]
    assert [i.help for i in items("show", incomplete="3")] == ["cy@example.com (no extension)"]
    assert [i.help for i in items("show", incomplete="cy")] == ["Cy; Jr (no extension)"]


@pytest.mark.usefixtures("cached")
def test_only_the_user_argument_completes_users() -> None:
    assert complete("assign", "ann@example.com") == []  # EXT: no suggestion
    assert complete("show", incomplete="-") == ["-o", "--output", "-h", "--help"]


@pytest.mark.usefixtures("cached")
def test_number_argument_of_dial() -> None:
    # A name with a space is offered too: each shell's class quotes it (tested below).
    assert complete("dial") == ["10", "11", "+33176360695", "+33400", "Paris", "Lyon Support"]
    assert complete("dial", incomplete="+334") == ["+33400"]
    assert complete("dial", incomplete="lyon s") == ["Lyon Support"]
    assert complete("dial", "10") == []  # DIGITS


def test_nothing_cached_completes_nothing() -> None:
    assert complete("show") == []
    assert complete("dial") == []


@pytest.mark.parametrize(
    "content", ["{not json", '{"users": "x", "numbers": {}}', "[1, 2]", '{"users": [{"id": "1"}]}']
)
def test_a_damaged_cache_completes_nothing(content: str) -> None:
    completion_cache.cache_path().parent.mkdir(parents=True)
    completion_cache.cache_path().write_text(content, encoding="utf-8")
    assert complete("show") == []
    assert complete("dial") == []


def test_listing_commands_fill_the_cache(run_cli: RunCli, write_state: Callable[..., Path]) -> None:
    number = {"id": 7, "name": "Nice", "digits": "+33 4 93", "is_ivr": False, "users": []}
    write_state([api_user(1, "101", email="ann@example.com")], [number])
    assert run_cli("--sandbox", "list").exit_code == 0
    assert complete("show", incomplete="a") == ["ann@example.com"]
    assert run_cli("--sandbox", "numbers").exit_code == 0
    assert complete("dial") == ["7", "+33493", "Nice"]
    assert complete("show", incomplete="a") == ["ann@example.com"]  # numbers kept users


# -- the cache file -------------------------------------------------------------------------


@pytest.mark.usefixtures("cached")
def test_cache_is_private_and_holds_no_more_than_completion_needs() -> None:
    path = completion_cache.cache_path()
    assert path.parent == Path(os.environ["XDG_CACHE_HOME"]) / "aircall-ext"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    users = completion_cache.cached_users()
    assert {key for entry in users for key in entry} == {"id", "email", "name", "extension"}
    assert list(path.parent.iterdir()) == [path]  # no temp file left behind


@pytest.mark.usefixtures("cached")
def test_remember_replaces_only_what_it_is_given() -> None:
    completion_cache.remember(users=[user(9, "900", "zed@example.com")])
    assert [u["id"] for u in completion_cache.cached_users()] == [9]
    assert [n["id"] for n in completion_cache.cached_numbers()] == [10, 11]


def test_an_unwritable_cache_never_fails_a_command(
    run_cli: RunCli, write_state: Callable[..., Path]
) -> None:
    blocker = Path(os.environ["XDG_CACHE_HOME"])
    blocker.parent.mkdir(parents=True, exist_ok=True)
    blocker.write_text("a file where the cache dir should be", encoding="utf-8")
    write_state([api_user(1, "101")])
    result = run_cli("--sandbox", "list")
    assert (result.exit_code, result.stderr) == (0, "")
    assert complete("show") == []


# -- never the network ----------------------------------------------------------------------


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record (and refuse) any HTTP request or socket connection, the sandbox's included."""
    attempts: list[str] = []

    def refuse(*args: Any, **_kwargs: Any) -> None:
        attempts.append(repr(args[1:]))
        raise AssertionError("completion tried to reach the network")

    monkeypatch.setattr(httpx.Client, "send", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    env_credentials(monkeypatch, "id", "token", base_url="https://api.invalid/v1")
    return attempts


@pytest.mark.usefixtures("cached")
def test_completing_anything_never_calls_the_api(no_network: list[str]) -> None:
    answered = 0
    for ctx in command_contexts(cli, PROG):
        path = ctx.command_path.split()[1:]
        for prefix in ([], ["--sandbox"]):
            answered += len(complete(*prefix, *path))
            answered += len(complete(*prefix, *path, incomplete="-"))
            for param in ctx.command.params:
                if not getattr(param, "is_flag", True) and param.opts:
                    answered += len(complete(*prefix, *path, param.opts[-1]))
    assert answered > 0
    assert no_network == []


# -- bash: words with a colon ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("words", "glued"),
    [
        (["show", "ext", ":", "101"], ["show", "ext:101"]),
        (["--base-url", "http", ":", "//h", "list"], ["--base-url", "http://h", "list"]),
        (["ext", ":"], ["ext:"]),
        ([":", "1"], [":1"]),
        (["a", "::", "b", ":", "c"], ["a::b:c"]),
        (["dial", "--stage", "=", "w"], ["dial", "--stage=w"]),
        (["list", "--output", "="], ["list", "--output="]),
    ],
)
def test_glue_wordbreaks(words: list[str], glued: list[str]) -> None:
    assert glue_wordbreaks(words) == glued


@given(st.lists(st.text(st.characters(blacklist_characters=":="), min_size=1)))
def test_glue_wordbreaks_leaves_words_without_breaks_alone(words: list[str]) -> None:
    assert glue_wordbreaks(words) == words


@pytest.mark.usefixtures("cached")
@pytest.mark.parametrize(
    ("comp_words", "cword", "answer"),
    [
        ("aircall-ext show ext : 1", 4, "plain,101"),  # bash keeps "ext:" and replaces "1"
        ("aircall-ext show ext :", 3, "plain,007\nplain,101"),
        ("aircall-ext show an", 2, "plain,ann@example.com"),
        ("aircall-ext dial --stage = w", 4, "plain,welcome\nplain,waiting"),  # --stage=w
        ("aircall-ext dial --stage =", 3, "plain," + "\nplain,".join(STAGES)),
        ("aircall-ext dial Ly", 2, "plain,Lyon\\\\ Support"),  # bash's read eats one \\
    ],
)
def test_bash_answers_after_the_last_colon(
    monkeypatch: pytest.MonkeyPatch, comp_words: str, cword: int, answer: str
) -> None:
    monkeypatch.setenv("COMP_WORDS", comp_words)
    monkeypatch.setenv("COMP_CWORD", str(cword))
    assert _bash_class()(cli, {}, PROG, COMPLETE_VAR).complete() == answer


SCRIPT = Path(sys.executable).parent / PROG  # the installed console script


def real_shell(name: str) -> str:
    """The path of the shell ``name``; skip when it or the installed console script is missing."""
    path = shutil.which(name)
    if path is None or not SCRIPT.exists():
        pytest.skip(f"needs {name} and the installed aircall-ext console script")
    return path


@pytest.mark.usefixtures("cached")
def test_committed_bash_script_completes_in_a_real_bash() -> None:
    """The whole path: bash function -> console script -> Click -> cache -> COMPREPLY."""
    bash = real_shell("bash")
    cases = [
        ("aircall-ext show ext : 1", 4),
        ("aircall-ext show ext :", 3),
        ("aircall-ext dial --stage w", 3),
        ("aircall-ext dial --stage = w", 4),  # --stage=w: bash keeps --stage=
        ("aircall-ext dial Ly", 2),
        ("aircall-ext dial 'Lyon\\ S'", 2),
    ]
    program = [f"source {ROOT / 'completions' / COMPLETION_FILES['bash']}"]
    for words, cword in cases:
        program += [
            f"COMP_WORDS=({words}); COMP_CWORD={cword}; COMPREPLY=()",
            f"_aircall_ext_completion {PROG}",
            'echo "${COMPREPLY[*]}"',
        ]
    env = {**os.environ, "PATH": f"{SCRIPT.parent}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(
        [bash, "--norc", "-c", "\n".join(program)], env=env, capture_output=True, text=True
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.splitlines() == [
        "101",
        "007 101",
        "welcome waiting",
        "welcome waiting",
        "Lyon\\ Support",
        "Lyon\\ Support",
    ]


# -- zsh, fish, PowerShell: the whole word is replaced by the answer ---------------------------


def whole_word(shell: str, *args: str, incomplete: str = "") -> list[str]:
    cls = _whole_word_classes()[shell]
    return [
        i.value for i in cls(cli, {}, PROG, COMPLETE_VAR).get_completions(list(args), incomplete)
    ]


@pytest.mark.parametrize("shell", ["zsh", "fish", "powershell"])
def test_option_values_after_an_equals_keep_the_option(shell: str) -> None:
    assert whole_word(shell, "dial", incomplete="--stage=w") == [
        "--stage=welcome",
        "--stage=waiting",
    ]
    assert whole_word(shell, "list", incomplete="--output=") == [
        "--output=table",
        "--output=json",
        "--output=csv",
    ]
    assert whole_word(shell, "dial", "--stage", incomplete="w") == ["welcome", "waiting"]
    assert whole_word(shell, "dial", incomplete="--st") == ["--stage"]


@pytest.mark.usefixtures("cached")
def test_powershell_quotes_a_value_with_a_space() -> None:
    assert whole_word("powershell", "dial", incomplete="Ly") == ["'Lyon Support'"]
    assert whole_word("zsh", "dial", incomplete="Ly") == ["Lyon Support"]  # zsh quotes it


def shell_env(script_dir: Path) -> dict[str, str]:
    return {**os.environ, "PATH": f"{script_dir}{os.pathsep}{os.environ['PATH']}"}


ZPTY_DRIVER = r"""
zmodload zsh/zpty
zpty z "zsh -f -i"
zpty -w z "fpath=($FNDIR \$fpath); autoload -U compinit; compinit -u -D"
zpty -w z "dump() { print -r -- \"\$BUFFER\" > $OUT }; zle -N dump; bindkey '^X' dump"
zpty -w -n z "$TYPED"$'\t'
zpty -w -n z $'\x18'
for i in {1..100}; do [[ -s $OUT ]] && break; sleep 0.1; done
zpty -d z
"""


@pytest.mark.usefixtures("cached")
@pytest.mark.parametrize(
    ("typed", "line"),
    [
        ("aircall-ext dial --stage=we", "aircall-ext dial --stage=welcome "),
        ("aircall-ext list --output=j", "aircall-ext list --output=json "),
        ("aircall-ext dial Lyo", "aircall-ext dial Lyon\\ Support "),
        ("aircall-ext import x.csv --report=fi", "aircall-ext import x.csv --report=fixtures.csv "),
        ("aircall-ext import x.csv --report fi", "aircall-ext import x.csv --report fixtures.csv "),
        ("aircall-ext dial --batch=fi", "aircall-ext dial --batch=fixtures.csv "),
    ],
)
def test_committed_zsh_script_completes_in_a_real_zsh(
    tmp_path: Path, typed: str, line: str
) -> None:
    """TAB in an interactive zsh (driven through a pseudo-terminal), then the line is read;
    in a directory holding one file that starts with "fi"."""
    zsh = real_shell("zsh")
    fndir = tmp_path / "fn"
    fndir.mkdir()
    shutil.copy(ROOT / "completions" / COMPLETION_FILES["zsh"], fndir)
    (tmp_path / "fixtures.csv").touch()
    out = tmp_path / "buffer"
    env = {**shell_env(SCRIPT.parent), "FNDIR": str(fndir), "OUT": str(out), "TYPED": typed}
    done = subprocess.run(
        [zsh, "-f", "-c", ZPTY_DRIVER],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert out.read_text(encoding="utf-8") == line + "\n"


@pytest.mark.usefixtures("cached")
def test_committed_fish_script_completes_in_a_real_fish(tmp_path: Path) -> None:
    fish = real_shell("fish")
    (tmp_path / "fixtures.csv").touch()
    (tmp_path / "findings").mkdir()
    typed = [
        "aircall-ext dial --stage=w",
        "aircall-ext list --output=",
        "aircall-ext dial --stage w",
        "aircall-ext dial Ly",
        "aircall-ext import x.csv --report=fix",
        "aircall-ext import x.csv --report fix",
        "aircall-ext jobs --dir=fin",
    ]
    program = [f"source {ROOT / 'completions' / COMPLETION_FILES['fish']}"]
    for line in typed:
        program += [f"complete -C {shlex.quote(line)}", "echo ---"]
    done = subprocess.run(
        [fish, "--no-config", "-c", "\n".join(program)],
        env=shell_env(SCRIPT.parent),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert (done.returncode, done.stderr) == (0, "")
    answers = [block.strip().splitlines() for block in done.stdout.split("---")][:-1]
    assert [[answer.split("\t")[0] for answer in block] for block in answers[4:]] == [
        ["--report=fixtures.csv"],
        ["fixtures.csv"],
        ["--dir=findings/"],
    ]
    assert answers[:4] == [
        ["--stage=waiting", "--stage=welcome"],  # fish sorts
        ["--output=csv", "--output=json", "--output=table"],
        ["waiting", "welcome"],
        ["Lyon Support\t+33400"],
    ]
