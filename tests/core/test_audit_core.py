"""The pure account audit: every collision, bad format, missing and dead extension."""

from __future__ import annotations

from collections import Counter
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from aircall_ext.api.models import User
from aircall_ext.core.account import Account
from aircall_ext.core.audit import audit_account
from aircall_ext.core.findings import Finding, summarize


def user(user_id: int, extension: str | None, **extra: Any) -> User:
    """A user of an API that reports outgoing-only access (unless ``extra`` says otherwise)."""
    fields = {"outgoing_only": False, **extra}
    return User(id=user_id, email=f"u{user_id}@example.com", extension=extension, **fields)


def audit(*users: User) -> list[Finding]:
    return audit_account(Account.of(users))


def codes(findings: list[Finding]) -> list[tuple[str, int | None]]:
    return [(f.code, f.user_id) for f in findings]


def test_a_collision_is_on_a_valid_extension_and_blank_text_is_no_extension() -> None:
    account = Account.of(
        [user(1, "7"), user(2, "7"), user(3, "101"), user(4, "101"), user(5, " \t"), user(6, None)]
    )
    assert {e: [u.id for u in us] for e, us in account.collisions().items()} == {"101": [3, 4]}
    assert [u.id for u in account.missing()] == [5, 6]
    assert [u.id for u in account.users_by_extension()][-2:] == [5, 6]  # no extension: last
    found = audit_account(account)
    assert sorted(u for c, u in codes(found) if c == "duplicate-extension") == [3, 4]
    assert sorted(u for c, u in codes(found) if c == "missing-extension") == [5, 6]


def test_clean_account_has_no_findings() -> None:
    assert audit(user(1, "101"), user(2, "102"), user(3, "007")) == []


def test_collision_gives_one_error_per_holder_naming_every_holder() -> None:
    findings = audit(user(1, "101"), user(2, "102"), user(3, "101"), user(4, "101"))
    assert codes(findings) == [("duplicate-extension", holder) for holder in (1, 3, 4)]
    for finding in findings:
        assert finding.severity == "error"
        assert finding.extension == "101"
        assert "3 users" in finding.message
        for holder in (1, 3, 4):
            assert f"user {holder} (u{holder}@example.com)" in finding.message
        assert "u2@" not in finding.message


def test_each_collision_is_reported_separately() -> None:
    findings = audit(user(1, "101"), user(2, "101"), user(3, "202"), user(4, "202"))
    assert Counter(f.extension for f in findings) == {"101": 2, "202": 2}


def test_invalid_extension_carries_the_parser_diagnosis() -> None:
    [finding] = audit(user(1, "7"))
    assert (finding.code, finding.severity, finding.extension) == (
        "invalid-extension",
        "error",
        "7",
    )
    assert "leading zeros lost" in finding.message
    assert "did you mean 007?" in finding.message


def test_padded_stored_extension_is_invalid_data() -> None:
    [finding] = audit(user(1, " 101"))
    assert finding.code == "invalid-extension"
    assert "did you mean 101?" in finding.message


def test_invalid_extensions_do_not_collide_with_valid_ones() -> None:
    assert codes(audit(user(1, "7"), user(2, "007"))) == [("invalid-extension", 1)]


def test_missing_extension_is_a_warning() -> None:
    findings = audit(user(1, None), user(2, ""), user(3, "101"))
    assert codes(findings) == [("missing-extension", 1), ("missing-extension", 2)]
    assert {f.severity for f in findings} == {"warning"}


def test_outgoing_only_with_extension_is_dead() -> None:
    [finding] = audit(user(1, "101", outgoing_only=True))
    assert (finding.code, finding.severity) == ("outgoing-only", "warning")
    assert "101" in finding.message
    assert "This extension does not exist" in finding.message


def test_outgoing_only_without_extension_is_fine() -> None:
    assert audit(user(1, None, outgoing_only=True)) == []


def test_outgoing_only_holder_of_a_collision_gets_both_findings() -> None:
    findings = audit(user(1, "101", outgoing_only=True), user(2, "101"))
    assert codes(findings) == [
        ("duplicate-extension", 1),
        ("duplicate-extension", 2),
        ("outgoing-only", 1),
    ]


def test_more_users_than_extensions_is_an_info_after_the_rest() -> None:
    users = [user(i, None) for i in range(1001)]
    findings = audit(*users)
    assert findings[-1].code == "extension-space-exhausted"
    assert findings[-1].severity == "info"
    assert findings[-1].user_id is None
    assert "1,001 users" in findings[-1].message
    assert summarize(findings) == {"errors": 0, "warnings": 1001, "infos": 1}


def test_exactly_a_thousand_users_fit() -> None:
    users = [user(i, f"{i:03d}") for i in range(1000)]
    assert audit(*users) == []


pool = st.sampled_from([None, "101", "102", "103", "7", "1 01", "abc"])


@given(st.lists(st.tuples(pool, st.booleans()), max_size=12))
def test_audit_finds_exactly_the_damage(rows: list[tuple[str | None, bool]]) -> None:
    users = [user(i, ext, outgoing_only=out) for i, (ext, out) in enumerate(rows, start=1)]
    findings = audit(*users)
    by_code: dict[str, set[int | None]] = {}
    for f in findings:
        by_code.setdefault(f.code, set()).add(f.user_id)
    counts = Counter(u.extension for u in users)
    shared = {
        u.id for u in users if u.extension in {"101", "102", "103"} and counts[u.extension] > 1
    }
    assert by_code.get("duplicate-extension", set()) == shared
    assert by_code.get("invalid-extension", set()) == {
        u.id for u in users if u.extension in {"7", "1 01", "abc"}
    }
    assert by_code.get("missing-extension", set()) == {
        u.id for u in users if u.extension is None and not u.outgoing_only
    }
    assert by_code.get("outgoing-only", set()) == {
        u.id for u in users if u.extension is not None and u.outgoing_only
    }
    for f in findings:
        if f.code == "duplicate-extension":
            for other in users:
                if other.extension == f.extension:
                    assert f"user {other.id} ({other.email})" in f.message
    order = {"error": 0, "warning": 1, "info": 2}
    assert [order[f.severity] for f in findings] == sorted(order[f.severity] for f in findings)


def test_an_api_silent_on_outgoing_only_is_said_once_never_a_silent_no() -> None:
    silent = [User(id=i, email=f"u{i}@example.com", extension=f"10{i}") for i in range(1, 4)]
    findings = audit(*silent, user(9, "109"))
    assert codes(findings) == [("outgoing-only-unknown", None)]
    assert findings[0].severity == "info"
    assert "3 of 4 users" in findings[0].message
    assert summarize(findings)["infos"] == 1


def test_a_crowded_extension_names_ten_holders_then_counts_the_rest() -> None:
    crowd = Account.of(User(id=n, email=f"u{n}@example.com", extension="150") for n in range(50))
    message = next(f for f in audit_account(crowd) if f.code == "duplicate-extension").message
    assert "held by 50 users" in message and "and 40 more" in message
    assert message.count("@example.com") == 10
