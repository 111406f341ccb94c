"""Planning one extension assignment: pure, over an :class:`Account` snapshot.

The plan is ordered so that no two users ever hold the same extension, not even between
two writes of a swap: the holder is parked on the lowest free extension first. Anything
that cannot be done that way is a :class:`Refused` naming who is in the way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from aircall_ext.api.models import User
from aircall_ext.core.account import Account
from aircall_ext.core.dialterms import DEAD_EXTENSION
from aircall_ext.core.extensions import is_extension
from aircall_ext.core.findings import listed
from aircall_ext.core.freeext import (
    DEFAULT_ORDER,
    claimant_text,
    damaged_claims,
    free_extensions,
    occupied,
)
from aircall_ext.errors import Refused


@dataclass(frozen=True)
class Step:
    """One write: ``user`` goes from ``from_`` to ``to``."""

    user: User
    from_: str | None
    to: str


@dataclass(frozen=True)
class AssignPlan:
    user: User
    to: str
    steps: tuple[Step, ...] = ()
    holder: User | None = None  # the user swapped with, if any
    parking: str | None = None  # where the holder waits during a swap
    warnings: tuple[str, ...] = field(default=())

    @property
    def from_(self) -> str | None:
        return self.user.extension


def who(user: User) -> str:
    return f"{user.id} ({user.email})" if user.email else str(user.id)


def plan_assign(account: Account, user: User, extension: str, *, swap: bool) -> AssignPlan:
    """The writes that give ``user`` ``extension``: none, one, or a three-step swap."""
    others = [h for h in account.holders(extension) if h.id != user.id]
    warnings = _warnings(user, extension, others)
    if user.extension == extension:
        return AssignPlan(user, extension, warnings=warnings)
    _refuse_claimed(account, user, extension)
    if not others:
        return AssignPlan(
            user, extension, (Step(user, user.extension, extension),), warnings=warnings
        )
    if len(others) > 1:
        raise Refused(
            f"extension {extension} is held by {len(others)} users "
            f"({listed(who(h) for h in others)})",
            hint="fix that collision first (see `aircall-ext validate`)",
        )
    holder = others[0]
    if not swap:
        raise Refused(
            f"extension {extension} is held by {who(holder)}",
            hint="add --swap to exchange extensions, or see `aircall-ext next-free`",
        )
    return _swap(account, user, holder, extension, warnings)


def _refuse_claimed(account: Account, user: User, extension: str) -> None:
    """A damaged value (``42``) stands for ``extension`` (``042``): giving it to someone else
    would make the obvious repair impossible. Giving it to that very user IS the repair."""
    claimants = [c for c in damaged_claims(account).get(extension, []) if c.id != user.id]
    if not claimants:
        return
    first = claimants[0]
    also = f" (and {listed(who(c) for c in claimants[1:])})" if len(claimants) > 1 else ""
    raise Refused(
        f"extension {extension} is claimed by {who(first)}, "
        f"{claimant_text(first, extension)}{also}",
        hint=(
            f"repair it with `aircall-ext assign {first.id} {extension}`, or move {first.id} "
            "to a free extension first (see `aircall-ext next-free`)"
        ),
    )


def _swap(
    account: Account, user: User, holder: User, extension: str, warnings: tuple[str, ...]
) -> AssignPlan:
    """Holder to a free parking extension, user to ``extension``, holder to the user's old one."""
    old = _extension_to_give(account, user, holder)
    parked = free_extensions(occupied(account), 1, DEFAULT_ORDER)
    if not parked:
        raise Refused(
            f"cannot swap: no free extension to park {who(holder)} on during the exchange",
            hint="free one extension first; a swap never lets two users share one",
        )
    park = parked[0]
    steps = (
        Step(holder, extension, park),
        Step(user, old, extension),
        Step(holder, park, old),
    )
    return AssignPlan(user, extension, steps, holder, park, warnings)


def _extension_to_give(account: Account, user: User, holder: User) -> str:
    """The user's old extension, which the holder must be able to take: well-formed, unshared."""
    old = user.extension
    hint = (
        f"move {holder.id} to a free extension first (see `aircall-ext next-free`), "
        "then assign without --swap"
    )
    if old is None:
        raise Refused(
            f"cannot swap: {who(user)} has no extension to give {who(holder)}, and the API "
            "cannot take an extension away",
            hint=hint,
        )
    if not is_extension(old):
        raise Refused(
            f"cannot swap: the current extension of {who(user)}, {old!r}, is invalid",
            hint=hint,
        )
    sharing = [h for h in account.holders(old) if h.id != user.id]
    if sharing:
        raise Refused(
            f"cannot swap: extension {old} of {who(user)} is also held by "
            f"{listed(who(h) for h in sharing)}",
            hint="fix that collision first (see `aircall-ext validate`)",
        )
    return old


def _warnings(user: User, extension: str, others: Sequence[User]) -> tuple[str, ...]:
    warnings: list[str] = []
    if user.outgoing_only:
        warnings.append(
            f"{who(user)} is outgoing-only: extension {extension} will be dead, callers who "
            f'dial it hear "{DEAD_EXTENSION}"'
        )
    if user.extension == extension and others:
        warnings.append(f"extension {extension} is also held by {listed(who(h) for h in others)}")
    return tuple(warnings)
