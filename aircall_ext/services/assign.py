"""Assigning one extension safely, and finding free ones.

Planning is pure (:func:`plan_assign` over an :class:`Account`); only :func:`apply_plan`
writes. The plan is ordered so that no two users ever hold the same extension, not even
between two writes of a swap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from aircall_ext.api.client import ApiClient
from aircall_ext.api.models import User
from aircall_ext.core.account import Account, UserRef, find_user
from aircall_ext.core.audit import DEAD_EXTENSION
from aircall_ext.core.extensions import is_extension
from aircall_ext.core.freeext import DEFAULT_ORDER, free_extensions, occupied
from aircall_ext.errors import AircallExtError, Refused, Unprocessable
from aircall_ext.services.users import load_account


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


def prepare_assign(client: ApiClient, ref: UserRef, extension: str, *, swap: bool) -> AssignPlan:
    """Read the account once and plan; raises :class:`Refused` when it must not happen."""
    account = load_account(client)
    return plan_assign(account, find_user(account, ref), extension, swap=swap)


def plan_assign(account: Account, user: User, extension: str, *, swap: bool) -> AssignPlan:
    """The writes that give ``user`` ``extension``: none, one, or a three-step swap."""
    others = [h for h in account.holders(extension) if h.id != user.id]
    warnings = _warnings(user, extension, others)
    if user.extension == extension:
        return AssignPlan(user, extension, warnings=warnings)
    if not others:
        return AssignPlan(
            user, extension, (Step(user, user.extension, extension),), warnings=warnings
        )
    if len(others) > 1:
        raise Refused(
            f"extension {extension} is held by {len(others)} users "
            f"({', '.join(who(h) for h in others)})",
            hint="fix that collision first (see `aircall-ext validate`)",
        )
    holder = others[0]
    if not swap:
        raise Refused(
            f"extension {extension} is held by {who(holder)}",
            hint="add --swap to exchange extensions, or see `aircall-ext next-free`",
        )
    return _swap(account, user, holder, extension, warnings)


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
            f"{', '.join(who(h) for h in sharing)}",
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
        warnings.append(
            f"extension {extension} is also held by {', '.join(who(h) for h in others)}"
        )
    return tuple(warnings)


def apply_plan(client: ApiClient, plan: AssignPlan) -> User:
    """Send the plan's writes in order; the user as the API now has them."""
    result = plan.user
    for done, step in enumerate(plan.steps):
        try:
            written = client.set_extension(step.user.id, step.to)
        except AircallExtError as err:
            raise _stopped(plan, done, err) from None
        if written.id == plan.user.id:
            result = written
    return result


def _stopped(plan: AssignPlan, done: int, err: AircallExtError) -> AircallExtError:
    """Say what the account looks like now, so a half-done swap can be finished by hand."""
    step = plan.steps[done]
    what = f"setting {step.to} on {who(step.user)} failed: {err.message}"
    if isinstance(err, Unprocessable):
        what += " (did someone take it meanwhile?)"
    if done and plan.holder is not None:
        # After write 1 the holder waits on the parking extension; after write 2 the user
        # already has the new extension and only the holder's last move is missing.
        back, verb = (plan.to, "undo") if done == 1 else (plan.from_, "finish")
        hint = (
            f"{who(plan.holder)} is on parking extension {plan.parking}; to {verb} the swap run "
            f"`aircall-ext assign {plan.holder.id} {back}`"
        )
        return type(err)(
            f"swap stopped after {done} of {len(plan.steps)} writes: {what}", hint=hint
        )
    if isinstance(err, Unprocessable):
        return Refused(what, hint="nothing was changed; run `aircall-ext list` and try again")
    return type(err)(what, hint=err.hint)


def find_free(
    client: ApiClient, count: int, candidates: Sequence[str] = DEFAULT_ORDER
) -> list[str]:
    """The ``count`` lowest free extensions among ``candidates`` (fewer if they run out)."""
    return free_extensions(occupied(load_account(client)), count, candidates)
