"""The rules a desired state's rows must pass against the account, written once.

The CSV check (``core/desired.py``) applies them to a file before anything is planned,
naming the file, line and column; the planner applies them again to the rows it is given
(``core/planner.py``), because it also runs on a fresh read of an account that may have
changed since. Both report the same codes with the same words.

- A user named on two rows: the first row counts, the later one is ``duplicate-user-in-file``.
- An extension wanted on two rows: the later one is ``duplicate-extension-in-file``.
- An extension is ``extension-taken`` when, once the file is applied, someone the file does
  not move would still hold it (a row keeping an extension another user holds too leaves
  that collision in place), or when a damaged value the file leaves alone stands for it
  (``42`` claims ``042``) and the row would give it to someone else.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from typing import Protocol, TypeVar

from aircall_ext.api.models import User
from aircall_ext.core.account import Account
from aircall_ext.core.findings import listed, who
from aircall_ext.core.freeext import claimant_text

DUPLICATE_USER = "duplicate-user-in-file"
DUPLICATE_EXTENSION = "duplicate-extension-in-file"
TAKEN = "extension-taken"


class TargetRow(Protocol):
    """A checked row: its physical line, the user it names, the extension it wants (None:
    a blank cell, no change)."""

    @property
    def line(self) -> int: ...

    @property
    def user(self) -> User: ...

    @property
    def extension(self) -> str | None: ...


class _Lined(Protocol):
    @property
    def line(self) -> int: ...


R = TypeVar("R", bound=_Lined)


def repeated(rows: Iterable[R], key: Callable[[R], Hashable | None]) -> Iterator[tuple[R, int]]:
    """Each row whose ``key`` an earlier row has, with that earlier row's line; a None key
    is no key (a blank cell repeats nothing)."""
    first: dict[Hashable, int] = {}
    for row in rows:
        value = key(row)
        if value is None:
            continue
        if value in first:
            yield row, first[value]
        else:
            first[value] = row.line


def repeated_user(user: User, first_line: int) -> str:
    return f"{who(user)} is already on line {first_line}"


def repeated_extension(extension: str, first_line: int, line: int) -> str:
    return f"extension {extension} is wanted on lines {first_line} and {line}"


def taken(
    account: Account,
    claims: Mapping[str, Sequence[User]],
    user: User,
    extension: str,
    desired: Mapping[int, str],
) -> str | None:
    """Why ``user`` cannot hold ``extension`` once the file is applied, or None.

    ``desired``: user id → the extension the file gives them (blank rows left out), so a
    holder the file moves elsewhere frees it; ``claims``: the account's
    ``damaged_claims``. ``user.extension`` is what they hold now."""
    stays = [h for h in account.holders(extension) if h.id != user.id and h.id not in desired]
    if stays:
        collision = " (a collision in the account)" if user.extension == extension else ""
        return (
            f"extension {extension} is held by {listed(who(h) for h in stays)}, whom the file "
            f"does not move away{collision}"
        )
    claimants = [c for c in claims.get(extension, ()) if c.id != user.id and c.id not in desired]
    if not claimants or user.extension == extension:
        return None
    first = claimants[0]
    also = f" (also {listed(who(c) for c in claimants[1:])})" if claimants[1:] else ""
    return (
        f"extension {extension} is claimed by {who(first)}, {claimant_text(first, extension)}"
        f"{also}; the file does not move them: give {extension} to {first.id} in the file, "
        f"or move {first.id} elsewhere"
    )
