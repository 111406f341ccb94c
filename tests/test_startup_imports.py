"""Start-up budget: `--help`, `--version` and `completion` import none of the heavy
libraries, and neither does answering a TAB press. Asserted on ``sys.modules`` of a fresh
interpreter, so the result does not depend on timing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from aircall_ext import completion_cache
from aircall_ext.api.models import Number, User
from aircall_ext.cli import PROG, cli
from aircall_ext.cli.completion import SHELLS
from aircall_ext.config import Profile, save_profile
from aircall_ext.names import COMPLETE_VAR
from tests.scenes import api_user
from tests.tools.tree import command_contexts

HEAVY = ["httpx", "pydantic", "keyring", "tabulate"]

# Runs each case in one fresh interpreter and records, after each, which heavy modules are
# loaded: the first case that loads one is the culprit.
PROBE = """
import contextlib, io, json, os, sys
heavy = json.loads(sys.argv[1])
loaded = lambda: sorted(m for m in heavy if m in sys.modules)
from aircall_ext.cli import run
report = [["import aircall_ext.cli", loaded(), ""]]
for label, argv, env in json.loads(sys.argv[2]):
    os.environ.update(env)
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        try:
            run(argv)
        except SystemExit:
            pass
    out.flush()
    for name in env:
        del os.environ[name]
    report.append([label, loaded(), out.buffer.getvalue().decode()])
print(json.dumps(report))
"""


def _tab(words: str) -> dict[str, str]:
    """The environment a completion script sets for ``aircall-ext WORDS<TAB>``."""
    cword = str(len(words.split()))  # the last word is the one being completed
    return {COMPLETE_VAR: "bash_complete", "COMP_WORDS": f"{PROG} {words}", "COMP_CWORD": cword}


def _cases() -> list[tuple[str, list[str], dict[str, str]]]:
    cases: list[tuple[str, list[str], dict[str, str]]] = [
        ("--help", ["--help"], {}),
        ("--version", ["--version"], {}),
    ]
    cases += [(f"completion {shell}", ["completion", shell], {}) for shell in SHELLS]
    for ctx in command_contexts(cli, PROG)[1:]:
        path = ctx.command_path.split()[1:]
        cases.append((f"{' '.join(path)} --help", [*path, "--help"], {}))
    cases += [
        ("TAB show", [], _tab("show a")),
        ("TAB dial", [], _tab("dial 1")),
        ("TAB --profile", [], _tab("--profile p")),
        ("TAB dial --stage", [], _tab("dial --stage w")),
    ]
    return cases


def _probe(cases: list[tuple[str, list[str], dict[str, str]]]) -> dict[str, tuple[list[str], str]]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(HEAVY), json.dumps(cases)],
        capture_output=True,
        text=True,
        check=True,
    )
    return {label: (modules, out) for label, modules, out in json.loads(done.stdout)}


def test_help_version_and_completion_stay_light(tmp_path: Path) -> None:
    completion_cache.remember(
        users=[User.model_validate(api_user(1, "101", email="ann@example.com"))],
        numbers=[Number(id=12, name="Paris", digits="+33 1")],
    )
    save_profile(Profile("prod", "id-1"))
    report = _probe(_cases())
    assert {label: modules for label, (modules, _) in report.items() if modules} == {}
    # The probe really ran each path (a silent failure would also import nothing).
    assert "Usage: aircall-ext" in report["--help"][1]
    assert report["--version"][1].startswith("aircall-ext ")
    assert "#compdef aircall-ext" in report["completion zsh"][1]
    assert "Usage: aircall-ext sandbox serve" in report["sandbox serve --help"][1]
    assert report["TAB show"][1].split() == ["plain,ann@example.com"]
    assert report["TAB dial"][1].split() == ["plain,12"]
    assert report["TAB --profile"][1].split() == ["plain,prod"]
    assert report["TAB dial --stage"][1].split() == ["plain,welcome", "plain,waiting"]
