"""The account audit: what is wrong with the extensions the account holds right now.

Pure: it decides over an :class:`Account` snapshot and returns findings; fetching and
rendering are someone else's job.
"""

from __future__ import annotations

from collections.abc import Iterator

from aircall_ext.api.models import User
from aircall_ext.core.account import Account
from aircall_ext.core.dialterms import DEAD_EXTENSION
from aircall_ext.core.extensions import (
    ExtensionProblem,
    is_extension,
    is_missing,
    parse_extension,
    stored_form,
)
from aircall_ext.core.findings import Finding, listed, sort_findings, who

EXTENSION_SPACE = 1000  # 000-999


def audit_account(account: Account) -> list[Finding]:
    """Every finding about ``account``, errors first."""
    findings = [
        *_duplicates(account),
        *(f for user in account.users for f in _user_findings(user)),
        *_space(account),
        *_outgoing_only_unknown(account),
    ]
    return sort_findings(findings)


def _outgoing_only_unknown(account: Account) -> Iterator[Finding]:
    """Said once: an API that does not report outgoing-only access hides dead extensions."""
    silent = sum(1 for user in account.users if user.outgoing_only is None)
    if silent:
        yield Finding(
            "outgoing-only-unknown",
            f"the API does not report outgoing-only access for {silent:,} of "
            f"{len(account.users):,} users, so their dead extensions cannot be detected",
        )


def _duplicates(account: Account) -> Iterator[Finding]:
    """One finding per holder, so each row names a user to fix; each names every holder."""
    for extension, users in account.collisions().items():
        message = (
            f"extension {extension} is held by {len(users)} users: "
            f"{listed(who(u) for u in users)}; give all but one another extension"
        )
        for user in users:
            yield Finding.about("duplicate-extension", user, message)


def _user_findings(user: User) -> Iterator[Finding]:
    """Format, missing and dead extensions of one user.

    An outgoing-only user without an extension gets nothing: nobody could dial them even
    with one, so a missing-extension warning would only make ``--strict`` fail for nothing.
    """
    raw = user.extension
    if raw is None or is_missing(raw):
        if not user.outgoing_only:
            yield Finding.about(
                "missing-extension", user, "no extension: callers cannot dial this user"
            )
        return
    if not is_extension(raw):
        yield Finding.about("invalid-extension", user, _invalid_message(raw))
    if user.outgoing_only:
        yield Finding.about(
            "outgoing-only",
            user,
            f"outgoing-only user: extension {raw} is dead, callers who dial it hear "
            f'"{DEAD_EXTENSION}"',
        )


def _invalid_message(raw: str) -> str:
    """The parser's diagnosis; text that only parses after trimming is still bad data."""
    parsed = parse_extension(raw)
    if isinstance(parsed, ExtensionProblem):
        return parsed.reason
    return f"{stored_form(raw)} is not stored as plain 3 digits: did you mean {parsed}?"


def _space(account: Account) -> Iterator[Finding]:
    count = len(account.users)
    if count > EXTENSION_SPACE:
        yield Finding(
            "extension-space-exhausted",
            f"the account has {count:,} users but only {EXTENSION_SPACE:,} extensions exist "
            f"(000-999): at least {count - EXTENSION_SPACE:,} users cannot have one",
        )
