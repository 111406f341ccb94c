"""completions/, man/, the README's command reference and the summaries `--help` lists
(aircall_ext/cli/summaries.py) are exactly what the tree generates.

If one of these fails after you changed a command or a help text, run
``python -m tests.tools.generate`` and commit the result.
"""

from __future__ import annotations

import contextlib
import difflib
import io
import re
import shutil
import subprocess
from pathlib import Path

import click
import pytest

from aircall_ext import __version__, errors
from aircall_ext.cli import PROG, cli
from tests.tools.generate import FIX, GENERATED_DIRS, README, main
from tests.tools.manpages import MAN_DATES, man_date, man_pages

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTED_ENVIRONMENT = [  # the documented environment, plus NO_COLOR
    "AIRCALL_API_ID",
    "AIRCALL_API_TOKEN",
    "AIRCALL_BASE_URL",
    "AIRCALL_EXT_PROFILE",
    "AIRCALL_EXT_SANDBOX",
    "AIRCALL_EXT_SANDBOX_STATE",
    "AIRCALL_EXT_CONFIG_DIR",
    "NO_COLOR",
]


@pytest.fixture
def regenerated(tmp_path: Path) -> Path:
    """A scratch checkout holding freshly generated files (and the README they update)."""
    shutil.copy(ROOT / README, tmp_path / README)
    with contextlib.redirect_stdout(io.StringIO()):  # keep a failure report to the point
        assert main(["--root", str(tmp_path)]) == 0
    return tmp_path


def test_committed_files_are_what_the_commands_generate(regenerated: Path) -> None:
    problems = []
    for fresh in sorted(p for p in regenerated.rglob("*") if p.is_file()):
        name = fresh.relative_to(regenerated).as_posix()
        committed = ROOT / name
        if not committed.is_file():
            problems.append(f"{name}: missing")
        elif committed.read_text(encoding="utf-8") != fresh.read_text(encoding="utf-8"):
            problems.append(f"{name}: stale\n{_diff(committed, fresh)}")
    for folder in GENERATED_DIRS:
        for committed in sorted((ROOT / folder).iterdir()):
            name = committed.relative_to(ROOT).as_posix()
            if not (regenerated / name).exists():
                problems.append(f"{name}: no command generates it any more (delete it)")
    if problems:
        pytest.fail("\n".join(["generated files are out of date:", *problems, FIX]), pytrace=False)


def _diff(committed: Path, fresh: Path, limit: int = 20) -> str:
    lines = difflib.unified_diff(
        committed.read_text(encoding="utf-8").splitlines(),
        fresh.read_text(encoding="utf-8").splitlines(),
        "committed",
        "generated",
        lineterm="",
    )
    return "\n".join(list(lines)[:limit])


def test_check_names_the_page_a_changed_help_text_makes_stale(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    command = cli.get_command(click.Context(cli), "numbers")  # the root group loads lazily
    assert command is not None
    monkeypatch.setattr(command, "help", f"{command.help}\n\nA sentence nobody regenerated.")
    assert main(["--check"]) == 1
    out, err = capsys.readouterr()
    assert "stale: man/aircall-ext-numbers.1" in out.splitlines()
    assert "python -m tests.tools.generate" in err


def test_check_names_the_summaries_when_a_command_summary_changes(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--help`` lists the summaries without loading the commands: a docstring's first line
    edited without regenerating is caught."""
    command = cli.get_command(click.Context(cli), "numbers")
    assert command is not None and command.help is not None
    monkeypatch.setattr(command, "help", "List the numbers." + command.help.partition(".")[2])
    assert main(["--check"]) == 1
    assert "stale: aircall_ext/cli/summaries.py" in capsys.readouterr().out.splitlines()


def test_regenerating_deletes_the_page_of_a_removed_command(
    regenerated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    orphan = regenerated / "man" / "aircall-ext-gone.1"
    orphan.write_text(".TH GONE 1\n", encoding="utf-8")
    assert main(["--check", "--root", str(regenerated)]) == 1
    assert "stale: man/aircall-ext-gone.1 (no longer generated)" in capsys.readouterr().out
    assert main(["--root", str(regenerated)]) == 0
    assert not orphan.exists()
    assert main(["--check", "--root", str(regenerated)]) == 0


# -- man pages --------------------------------------------------------------------------------


def test_every_command_has_a_page() -> None:
    pages = set(man_pages(cli, PROG))
    assert {"aircall-ext.1", "aircall-ext-import.1", "aircall-ext-auth-login.1"} <= pages
    ctx = click.Context(cli)
    for name in cli.list_commands(ctx):
        assert f"aircall-ext-{name}.1" in pages
        for sub in getattr(cli.get_command(ctx, name), "commands", {}):
            assert f"aircall-ext-{name}-{sub}.1" in pages


def test_overview_page_sections() -> None:
    page = man_pages(cli, PROG)["aircall-ext.1"]
    sections = re.findall(r"^\.SH (.+)$", page, flags=re.MULTILINE)
    assert sections == [
        "NAME",
        "SYNOPSIS",
        "DESCRIPTION",
        "OPTIONS",
        "COMMANDS",
        "ENVIRONMENT",
        "FILES",
        "EXIT STATUS",
        "EXAMPLES",
        "SEE ALSO",
    ]
    exit_status = page.split(".SH EXIT STATUS")[1].split(".SH")[0]
    codes = {v for k, v in vars(errors).items() if k.startswith("EXIT_")}
    assert {int(c) for c in re.findall(r"\\fB(\d+)\\fR", exit_status)} >= codes
    environment = page.split(".SH ENVIRONMENT")[1].split(".SH")[0]
    for name in DOCUMENTED_ENVIRONMENT:
        assert f"\\fB{name}\\fR" in environment


def test_pages_carry_the_release_date_not_today() -> None:
    heads = {page.splitlines()[0] for page in man_pages(cli, PROG).values()}
    assert all(f" 1 {MAN_DATES[__version__]} " in head for head in heads)
    with pytest.raises(LookupError, match="MAN_DATES"):
        man_date("99.0.0")


def _groff(page: Path, *options: str) -> subprocess.CompletedProcess[str]:
    groff = shutil.which("groff")
    if groff is None:
        pytest.skip("groff is not installed (Debian: groff-base)")
    return subprocess.run([groff, "-man", *options, str(page)], capture_output=True, text=True)


def test_pages_render_without_groff_warnings(regenerated: Path) -> None:
    warned = {}
    for page in sorted((regenerated / "man").glob("*.1")):
        done = _groff(page, "-ww", "-z")
        if done.returncode or done.stderr:
            warned[page.name] = done.stderr
    assert not warned


def test_help_text_is_escaped_for_roff(tmp_path: Path) -> None:
    """Text that roff would read as requests or escapes comes out as written."""

    @click.group()
    def demo() -> None:
        """Demo group."""

    @demo.command("odd")
    @click.option("--path", metavar="P", help=r"A back\slash, a 'quote and café.")
    def odd(path: str) -> None:
        """Handle odd text.

        .TH this line starts with a dot
        'and this one with a quote

        \b
          kept  as   written --dry-run
        """

    page = tmp_path / "demo-odd.1"
    page.write_text(man_pages(demo, "demo")["demo-odd.1"], encoding="utf-8")
    assert page.read_text(encoding="utf-8").isascii()
    assert _groff(page, "-ww", "-z").stderr == ""
    shown = _groff(page, "-Tutf8", "-P-cbou").stdout
    assert ".TH this line starts with a dot" in shown
    assert "'and this one with a quote" in shown
    assert r"A back\slash, a 'quote and café." in shown
    assert "  kept  as   written --dry-run" in shown
