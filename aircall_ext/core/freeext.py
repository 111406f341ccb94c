"""Free-extension search: which extensions nobody holds, lowest first, deterministically.

Extensions stay strings: 3-digit strings sort like the numbers they look like, so a range
is a pair of strings and no extension is ever turned into an ``int``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from aircall_ext.core.account import Account
from aircall_ext.core.extensions import ExtensionProblem, parse_extension

ALL_EXTENSIONS: tuple[str, ...] = tuple(f"{n:03d}" for n in range(1000))
# 0xx last: a leading 0 is commonly kept for the operator or an outside line.
DEFAULT_ORDER: tuple[str, ...] = ALL_EXTENSIONS[100:] + ALL_EXTENSIONS[:100]


@dataclass(frozen=True)
class ExtensionRange:
    """An inclusive range of extensions, e.g. ``200-299``."""

    first: str
    last: str

    def candidates(self) -> tuple[str, ...]:
        return tuple(ext for ext in ALL_EXTENSIONS if self.first <= ext <= self.last)

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


def occupied(account: Account) -> set[str]:
    """Extensions not to hand out: held ones, and what a damaged one (``7``) stands for.

    ``007`` is technically free while someone holds ``7``, but the admin fixing ``7`` will
    want it back, so it is not offered.
    """
    taken: set[str] = set()
    for user in account.users:
        if user.extension is None:
            continue
        taken.add(user.extension)
        parsed = parse_extension(user.extension)
        if isinstance(parsed, str):
            taken.add(parsed)
        elif parsed.suggestion is not None:
            taken.add(parsed.suggestion)
    return taken


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
