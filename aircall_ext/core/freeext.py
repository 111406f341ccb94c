"""Free-extension search: which extensions nobody holds, lowest first, deterministically.

Extensions stay strings: 3-digit strings sort like the numbers they look like, so a range
is a pair of strings and no extension is ever turned into an ``int``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from aircall_ext.api.models import User
from aircall_ext.core.account import Account
from aircall_ext.core.extensions import ExtensionProblem, parse_extension

ALL_EXTENSIONS: tuple[str, ...] = tuple(f"{n:03d}" for n in range(1000))
# 0xx last: a leading 0 is commonly kept for the operator or an outside line.
DEFAULT_ORDER: tuple[str, ...] = ALL_EXTENSIONS[100:] + ALL_EXTENSIONS[:100]
# Each extension's place in ALL_EXTENSIONS: a range's extensions are a slice of it, and an
# account's teams make hundreds of allowances from ranges.
_PLACE = {extension: place for place, extension in enumerate(ALL_EXTENSIONS)}


@dataclass(frozen=True)
class ExtensionRange:
    """An inclusive range of extensions, e.g. ``200-299`` (made by :func:`parse_range`)."""

    first: str
    last: str

    def candidates(self) -> tuple[str, ...]:
        """The extensions of the range, lowest first."""
        return ALL_EXTENSIONS[_PLACE[self.first] : _PLACE[self.last] + 1]

    def __str__(self) -> str:
        return f"{self.first}-{self.last}"


def parse_range(text: str) -> ExtensionRange:
    """``A-B`` with two 3-digit extensions, A <= B; ``ValueError`` says what is wrong."""
    parts = text.split("-")
    if len(parts) != 2:
        raise ValueError(f"{text!r} is not a range: expected A-B, e.g. 200-299")
    first, last = (_bound(part) for part in parts)
    if first > last:
        raise ValueError(f"{text!r} is backwards: did you mean {last}-{first}?")
    return ExtensionRange(first, last)


def _bound(text: str) -> str:
    parsed = parse_extension(text)
    if isinstance(parsed, ExtensionProblem):
        raise ValueError(f"range bound {parsed.reason}")
    return parsed


def stands_for(held: str) -> str | None:
    """The extension a held value is, or most likely means when damaged (``7`` → ``007``,
    ``" 101"`` → ``101``); None when it has no reading."""
    parsed = parse_extension(held)
    return parsed if isinstance(parsed, str) else parsed.suggestion


def damaged_claims(account: Account) -> dict[str, list[User]]:
    """extension → users whose DAMAGED value stands for it (``42`` claims ``042``).

    Such an extension is technically free, but the admin repairing ``42`` will want ``042``
    back: it is not offered (``next-free``), not given to anyone else (``assign``), and not
    planned for anyone else (``import``). Built once per account: callers look it up."""
    claims: dict[str, list[User]] = {}
    for user in account.users:
        if user.extension is None:
            continue
        meant = stands_for(user.extension)
        if meant is not None and meant != user.extension:
            claims.setdefault(meant, []).append(user)
    return claims


def claimant_text(user: User, extension: str) -> str:
    """How a message says why ``user`` blocks ``extension``: its damaged value."""
    return f"whose extension {user.extension!r} is a damaged {extension}"


def occupied(account: Account) -> set[str]:
    """Extensions not to hand out: held ones, and what a damaged one stands for."""
    return {u.extension for u in account.users if u.extension is not None} | set(
        damaged_claims(account)
    )


def free_extensions(
    taken: set[str], count: int, candidates: Iterable[str] = DEFAULT_ORDER
) -> list[str]:
    """The first ``count`` candidates nobody holds (fewer when the candidates run out)."""
    free: list[str] = []
    for ext in candidates:
        if len(free) >= count:
            break
        if ext not in taken:
            free.append(ext)
    return free
