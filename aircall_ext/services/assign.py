"""Assigning one extension safely, and finding free ones: the I/O around the pure plan.

Planning is pure (:func:`aircall_ext.core.assign.plan_assign` over an :class:`Account`);
only :func:`apply_plan` writes, in the plan's order, and says how to finish a swap by hand
when a write fails part-way.
"""

from __future__ import annotations

from collections.abc import Sequence

from aircall_ext.api.client import ApiClient
from aircall_ext.api.models import User
from aircall_ext.core.account import UserRef, find_user
from aircall_ext.core.assign import AssignPlan, plan_assign, who
from aircall_ext.core.freeext import DEFAULT_ORDER, free_extensions, occupied
from aircall_ext.errors import AircallExtError, ApiError, Refused, Unprocessable
from aircall_ext.services.users import load_account


def prepare_assign(client: ApiClient, ref: UserRef, extension: str, *, swap: bool) -> AssignPlan:
    """Read the account once and plan; raises :class:`Refused` when it must not happen."""
    account = load_account(client)
    return plan_assign(account, find_user(account, ref), extension, swap=swap)


def apply_plan(client: ApiClient, plan: AssignPlan) -> User:
    """Send the plan's writes in order; the user as the API now has them."""
    result = plan.user
    for done, step in enumerate(plan.steps):
        try:
            written = client.set_extension(step.user.id, step.to)
            if written.extension != step.to:
                raise _ignored(step.user, step.to, written)
        except AircallExtError as err:
            raise _stopped(plan, done, err) from None
        if written.id == plan.user.id:
            result = written
    return result


def _ignored(user: User, wanted: str, written: User) -> ApiError:
    """A 200 that did not change the extension: the API ignored the field. Never a success."""
    return ApiError(
        f"the API answered the write but {who(user)} still has extension "
        f"{written.extension or 'none'}, not {wanted}: the change did not happen",
        hint="this API may not accept extension changes; check the user in the Aircall dashboard",
    )


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
