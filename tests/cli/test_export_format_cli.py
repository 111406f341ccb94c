"""``export`` is CSV by definition: ``-o table`` is refused instead of silently ignored."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import RunCli
from tests.scenes import api_user


@pytest.fixture(autouse=True)
def account(write_state: Callable[..., Path]) -> Path:
    return write_state([api_user(1, "007", email="ann@example.com", name="Ann")])


@pytest.mark.parametrize(
    "args",
    [("-o", "table", "export"), ("export", "-o", "table"), ("export", "--output=table", "-")],
)
def test_table_output_is_a_usage_error(
    run_cli: RunCli, args: tuple[str, ...], tmp_path: Path
) -> None:
    result = run_cli("--sandbox", *args)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        "aircall-ext: error: export writes CSV (or JSON with -o json), not a table "
        "(drop -o table, or see the table with `aircall-ext --sandbox list`)\n"
    )


def test_nothing_is_written_to_file_when_refused(run_cli: RunCli, tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    assert run_cli("--sandbox", "-o", "table", "export", str(target)).exit_code == 2
    assert not target.exists()


@pytest.mark.parametrize(
    "args",
    [
        ("export",),  # table is only the default: an export is CSV
        ("-o", "csv", "export"),
        ("-o", "table", "export", "-o", "csv"),  # the command's own -o wins
    ],
)
def test_csv_is_what_export_writes(run_cli: RunCli, args: tuple[str, ...]) -> None:
    result = run_cli("--sandbox", *args)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "user_id,email,name,extension\n1,ann@example.com,Ann,007\n"


def test_json_still_works(run_cli: RunCli) -> None:
    result = run_cli("--sandbox", "-o", "json", "export")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith('{\n  "users": [')
