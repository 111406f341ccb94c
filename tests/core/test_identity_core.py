"""The account a journal, a plan or the rate-limit memory belongs to: one rule to compare."""

from __future__ import annotations

import hashlib

import pytest

from aircall_ext.core.identity import AccountIdentity, fingerprint

MINE = AccountIdentity("api.aircall.io", fingerprint("my-id"))


@pytest.mark.parametrize(
    "other",
    [
        AccountIdentity("127.0.0.1:8080", fingerprint("my-id")),
        AccountIdentity("api.aircall.io", fingerprint("other-id")),
        AccountIdentity("api.aircall.io", None),
        AccountIdentity("api.aircall.io", fingerprint("my-id"), sandbox=True),
    ],
)
def test_another_host_api_id_or_sandbox_is_another_account(other: AccountIdentity) -> None:
    assert not MINE.same_as(other) and not other.same_as(MINE)


def test_the_same_account_read_back_from_a_document_is_the_same() -> None:
    assert MINE.same_as(AccountIdentity.from_json(MINE.to_json()))
    older = {"host": "api.aircall.io", "api_id_sha256": fingerprint("my-id")}  # no "sandbox"
    assert MINE.same_as(AccountIdentity.from_json(older))


def test_the_fingerprint_is_the_start_of_the_api_ids_sha256_and_never_the_id() -> None:
    assert fingerprint("my-id") == hashlib.sha256(b"my-id").hexdigest()[:16]
    assert "my-id" not in str(MINE.to_json())


def test_labels_name_a_known_id_else_the_fingerprint() -> None:
    assert MINE.label({}) == f"sha256:{fingerprint('my-id')}@api.aircall.io"
    assert MINE.label({fingerprint("my-id"): "my-id"}) == "my-id@api.aircall.io"
    assert AccountIdentity("x", None, sandbox=True).label({}) == "sandbox"
    assert AccountIdentity("x", None).label({}) == "(no API ID)@x"
