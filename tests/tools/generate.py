"""Regenerate what is derived from the command tree: ``completions/``, ``man/``, the
README's command reference and the summaries ``--help`` lists
(``aircall_ext/cli/summaries.py``). Run it from the checkout's root after changing a command, and
commit the result::

    python -m tests.tools.generate            # rewrite the files
    python -m tests.tools.generate --check    # write nothing; exit 1 naming stale files

``completions/`` and ``man/`` hold generated files only: a file there that the tree no longer
produces (a removed command's page) is stale too, and is deleted when regenerating.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

COMPLETION_FILES = {
    "bash": "aircall-ext.bash",
    "zsh": "_aircall-ext",
    "fish": "aircall-ext.fish",
    "powershell": "aircall-ext.ps1",
}
GENERATED_DIRS = ("completions", "man")
README = "README.md"
COMMAND = "python -m tests.tools.generate"
FIX = f"run `{COMMAND}` and commit the result"


def expected_files(readme: str) -> dict[str, str]:
    """Relative path -> content of every generated file, given the current README text."""
    from aircall_ext.cli import PROG, cli
    from aircall_ext.cli.completion import completion_script
    from tests.tools.manpages import man_pages
    from tests.tools.readme import command_table, with_command_table
    from tests.tools.summaries import PATH, summaries_module

    files = {f"completions/{name}": completion_script(sh) for sh, name in COMPLETION_FILES.items()}
    files |= {f"man/{name}": page for name, page in man_pages(cli, PROG).items()}
    files[README] = with_command_table(readme, command_table(cli, PROG))
    files[PATH] = summaries_module(cli)
    return files


def stale_files(root: Path) -> dict[str, str | None]:
    """Relative path -> what it should contain (``None``: delete it), for each stale file."""
    expected = expected_files((root / README).read_text(encoding="utf-8"))
    stale: dict[str, str | None] = {
        path: text for path, text in expected.items() if _read(root / path) != text
    }
    for folder in GENERATED_DIRS:
        for path in sorted((root / folder).glob("*")):
            name = path.relative_to(root).as_posix()
            if path.is_file() and name not in expected:
                stale[name] = None
    return stale


def regenerate(root: Path) -> dict[str, str | None]:
    """Bring every generated file up to date; return what changed (``None``: deleted)."""
    stale = stale_files(root)
    for name, text in stale.items():
        path = root / name
        if text is None:
            path.unlink()
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8", newline="\n")
    return stale


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (FileNotFoundError, UnicodeDecodeError):
        return None


def _source_root() -> Path:
    root = Path(__file__).resolve().parents[2]
    if not (root / "pyproject.toml").is_file():
        raise SystemExit(f"{root} is not a source checkout of aircall-ext: pass --root")
    return root


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=COMMAND, description=__doc__)
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if stale")
    parser.add_argument("--root", type=Path, help="checkout to update (default: this one)")
    args = parser.parse_args(argv)
    root = args.root or _source_root()
    if args.check:
        stale = stale_files(root)
        for name, text in stale.items():
            print(f"stale: {name}" + (" (no longer generated)" if text is None else ""))
        if stale:
            print(FIX, file=sys.stderr)
        return 1 if stale else 0
    for name, text in regenerate(root).items():
        print(f"{'deleted' if text is None else 'wrote'}: {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
