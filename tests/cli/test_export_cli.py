"""``export`` through the in-process sandbox: exact CSV, atomic FILE, and a clean round trip."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import RunCli
from tests.scenes import WriteState, api_user, through_fifo


@pytest.fixture
def account(write_state: WriteState) -> Path:
    return write_state(
        [
            api_user(3, "200", email="cy@example.com", name="Cy"),
            api_user(1, "007", email="ann@example.com", name="=HYPERLINK(evil)"),
            api_user(2, None, email="bob@example.com", name="Smith, Bob"),
            api_user(4, "101", email="dee@example.com", name="Dee", outgoing_only=True),
        ]
    )


EXPECTED = (
    "user_id,email,name,extension\n"
    "1,ann@example.com,'=HYPERLINK(evil),007\n"
    "4,dee@example.com,Dee,101\n"
    "3,cy@example.com,Cy,200\n"
    '2,bob@example.com,"Smith, Bob",\n'
)


@pytest.mark.parametrize("args", [(), ("-",)])
def test_export_to_stdout(run_cli: RunCli, account: Path, args: tuple[str, ...]) -> None:
    result = run_cli("--sandbox", "export", *args)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == EXPECTED
    assert result.stderr == ""


def test_export_to_file_replaces_it_atomically(
    run_cli: RunCli, account: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    target = out / "team.csv"
    target.write_text("old content that is longer than the new one" * 100)
    result = run_cli("--sandbox", "export", str(target))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert target.read_bytes() == EXPECTED.encode()
    assert "exported 4 users" in result.stderr
    assert [p.name for p in out.iterdir()] == ["team.csv"]  # no temp file left behind


def test_export_into_a_missing_directory_is_a_usage_error(
    run_cli: RunCli, account: Path, tmp_path: Path
) -> None:
    result = run_cli("--sandbox", "export", str(tmp_path / "no" / "such" / "team.csv"))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "cannot write" in result.stderr and "No such file or directory" in result.stderr


def test_export_json_has_the_same_rows(run_cli: RunCli, account: Path) -> None:
    result = run_cli("--sandbox", "export", "-o", "json")
    assert result.exit_code == 0
    users = json.loads(result.stdout)["users"]
    assert [(u["user_id"], u["extension"]) for u in users] == [
        (1, "007"),
        (4, "101"),
        (3, "200"),
        (2, None),
    ]
    assert users[0]["name"] == "=HYPERLINK(evil)"  # JSON is not a spreadsheet


def test_round_trip_validates_clean_and_shows_no_drift(
    run_cli: RunCli, account: Path, tmp_path: Path
) -> None:
    path = tmp_path / "team.csv"
    assert run_cli("--sandbox", "export", str(path)).exit_code == 0

    validated = run_cli("--sandbox", "validate", str(path), "--strict", "-o", "json")
    assert validated.exit_code == 0, validated.stdout
    found = json.loads(validated.stdout)["findings"]
    assert sorted((f["code"], f["line"]) for f in found) == [
        ("blank-extension", 5),
        ("no-change", 2),
        ("no-change", 3),
        ("no-change", 4),
    ]
    diffed = run_cli("--sandbox", "diff", str(path))
    assert diffed.exit_code == 0
    assert "no drift" in diffed.stderr


def test_damaged_account_is_exported_as_it_is_with_a_warning(
    run_cli: RunCli, write_state: WriteState
) -> None:
    write_state([api_user(1, "101"), api_user(2, "101"), api_user(3, "42")])
    result = run_cli("--sandbox", "-q", "export")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[1:] == [
        "1,user1@example.com,User 1,101",
        "2,user2@example.com,User 2,101",
        "3,user3@example.com,User 3,42",
    ]
    assert "3 extension errors" in result.stderr
    assert "will not import" in result.stderr


def test_name_with_a_carriage_return_round_trips(
    run_cli: RunCli, write_state: WriteState, tmp_path: Path
) -> None:
    write_state([api_user(1, "101", name="Ann\rSmith")])
    path = tmp_path / "team.csv"
    assert run_cli("--sandbox", "export", str(path)).exit_code == 0
    assert run_cli("--sandbox", "validate", str(path)).exit_code == 0


def test_export_to_a_fifo_writes_it_directly(
    run_cli: RunCli, account: Path, tmp_path: Path
) -> None:
    """`export >(cmd)` and named pipes: a pipe cannot be replaced by a renamed temp file."""
    fifo = tmp_path / "pipe"
    result, received = through_fifo(fifo, lambda: run_cli("--sandbox", "export", str(fifo)))
    assert result.exit_code == 0, result.stderr
    assert received == EXPECTED.encode()
    assert fifo.is_fifo()  # still the pipe, not a file renamed over it
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_a_bad_export_path_fails_before_the_account_is_read(
    run_cli: RunCli, account: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aircall_ext.services import users

    def no_read(*_args: object) -> None:
        raise AssertionError("the account was read before the destination was checked")

    monkeypatch.setattr(users, "load_account", no_read)
    (tmp_path / "a-file").write_text("")
    for target in (tmp_path / "missing" / "team.csv", tmp_path / "a-file" / "team.csv"):
        result = run_cli("--sandbox", "export", str(target))
        assert result.exit_code == 2, result.stderr
        assert "cannot write export file" in result.stderr


def test_an_exported_file_follows_the_umask(run_cli: RunCli, account: Path, tmp_path: Path) -> None:
    """An export is meant to be shared and edited, like a shell redirection's file."""
    import os
    import stat

    previous = os.umask(0o022)
    try:
        result = run_cli("--sandbox", "export", str(tmp_path / "team.csv"))
    finally:
        os.umask(previous)
    assert result.exit_code == 0, result.stderr
    assert stat.S_IMODE((tmp_path / "team.csv").stat().st_mode) == 0o644
