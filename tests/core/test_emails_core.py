"""Emails as people paste them: one normaliser for USER arguments and CSV email cells."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from aircall_ext.api.models import User
from aircall_ext.core.account import Account
from aircall_ext.core.emails import normalize_email
from tests.conftest import RunCli
from tests.scenes import api_user


@pytest.mark.parametrize(
    ("pasted", "address"),
    [
        ("ann@example.com", "ann@example.com"),
        ("  Ann@Example.com\t", "Ann@Example.com"),  # case is matching's business
        ("mailto:ann@example.com", "ann@example.com"),
        ("MailTo: ann@example.com", "ann@example.com"),
        ("<ann@example.com>", "ann@example.com"),
        ("<mailto:ann@example.com>", "ann@example.com"),
        ("mailto:<ann@example.com>", "ann@example.com"),
        ("ann@example.com\u200b", "ann@example.com"),  # zero-width space
        ("\ufeffann\u200d@exa\u200cmple.com\u2060", "ann@example.com"),  # BOM, joiners
        ("\u200eann@example.com\u200f", "ann@example.com"),  # direction marks
        ("ann@example.com\u00a0", "ann@example.com"),  # no-break space padding
        ("a@b", "a@b"),
    ],
)
def test_normalize_email(pasted: str, address: str) -> None:
    assert normalize_email(pasted) == address


def test_lookup_by_email_uses_the_normaliser() -> None:
    ann = User.model_validate(api_user(1, "101", email="Ann@example.com"))
    account = Account.of([ann])
    assert account.user_by_email("mailto:ann@EXAMPLE.com\u200b") == ann
    assert account.user_by_email("bob@example.com") is None


def test_csv_email_cells_pasted_from_a_mail_client_match(
    run_cli: RunCli, write_state: Callable[..., Path], tmp_path: Path
) -> None:
    write_state([api_user(1, "101", email="ann@example.com"), api_user(2, "102")])
    path = tmp_path / "team.csv"
    path.write_text(
        "email,extension\nmailto:ann@example.com,150\n<user2@example.com\u200b>,151\n",
        encoding="utf-8",
    )
    result = run_cli("--sandbox", "-o", "json", "import", str(path), "--dry-run")
    assert result.exit_code == 0, result.stderr
    plan = json.loads(result.stdout)["plan"]
    assert [(row["user_id"], row["to"], row["action"]) for row in plan] == [
        (1, "150", "change"),
        (2, "151", "change"),
    ]
