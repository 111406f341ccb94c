"""Planning one extension assignment: pure, over an :class:`Account` snapshot.

No two users ever hold the same extension, not even between two writes of a swap: a swap
is a two-row import plan, so the import planner orders its writes and chooses where the
holder waits (its parking extension). Anything that cannot be done safely is a
:class:`Refused` naming who is in the way, and what to run instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from aircall_ext.api.models import User
from aircall_ext.core.account import Account
from aircall_ext.core.desired import DesiredRow
from aircall_ext.core.dialterms import DEAD_EXTENSION
from aircall_ext.core.extensions import is_extension
from aircall_ext.core.findings import listed, who
from aircall_ext.core.freeext import claimant_text, damaged_claims
from aircall_ext.core.planner import Step, plan_import
from aircall_ext.errors import Refused, Remedy

SEE_VALIDATE = ("fix that collision first (see ", Remedy("validate"), ")")


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

    def user_of(self, step: Step) -> User:
        """The user ``step`` writes to: the holder of a swap, else the assigned user."""
        holder = self.holder
        return holder if holder is not None and step.user_id == holder.id else self.user


def plan_assign(
    account: Account,
    user: User,
    extension: str,
    *,
    swap: bool,
    never_park: frozenset[str] = frozenset(),
) -> AssignPlan:
    """The writes that give ``user`` ``extension``: none, one, or a three-step swap whose
    holder never waits on ``never_park`` (a numbering plan's reserved extensions)."""
    others = [h for h in account.holders(extension) if h.id != user.id]
    warnings = _warnings(user, extension, others)
    if user.extension == extension:
        return AssignPlan(user, extension, warnings=warnings)
    _refuse_claimed(account, user, extension)
    if not others:
        step = Step(user.id, user.extension, extension)
        return AssignPlan(user, extension, (step,), warnings=warnings)
    if len(others) > 1:
        raise Refused(
            f"extension {extension} is held by {len(others)} users: "
            f"{listed(who(h) for h in others)}",
            hint=SEE_VALIDATE,
        )
    holder = others[0]
    if not swap:
        raise Refused(
            f"extension {extension} is held by {who(holder)}",
            hint=("add --swap to exchange extensions, or see ", Remedy("next-free")),
        )
    return _swap(account, user, holder, extension, warnings, never_park)


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
            "repair it with ",
            Remedy("assign", str(first.id), extension),
            f", or move {first.id} to a free extension first (see ",
            Remedy("next-free"),
            ")",
        ),
    )


def _swap(
    account: Account,
    user: User,
    holder: User,
    extension: str,
    warnings: tuple[str, ...],
    never_park: frozenset[str],
) -> AssignPlan:
    """The planner's plan of two rows: the holder to the user's old extension, the user to
    ``extension``. The holder's row comes first, so the holder is the one parked: holder to
    the parking extension, user to ``extension``, holder to the user's old one."""
    old = _extension_to_give(account, user, holder)
    _refuse_claimed(account, holder, old)
    rows = (DesiredRow(1, holder, old), DesiredRow(2, user, extension))
    plan = plan_import(account, rows, never_park=never_park)
    if plan.blocked:  # the checks above leave one reason: nowhere to park
        raise Refused(
            f"cannot swap: no free extension to park {who(holder)} on during the exchange",
            hint="free one extension first; a swap never lets two users share one",
        )
    return AssignPlan(user, extension, plan.steps, holder, plan.parking, warnings)


def _extension_to_give(account: Account, user: User, holder: User) -> str:
    """The user's old extension, which the holder must be able to take: well-formed, unshared."""
    old = user.extension
    hint = (
        f"move {holder.id} to a free extension first (see ",
        Remedy("next-free"),
        "), then assign without --swap",
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
            hint=SEE_VALIDATE,
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
