"""Assigning one extension safely, and finding free ones: the I/O around the pure plan.

Planning is pure (:func:`aircall_ext.core.assign.plan_assign` over an :class:`Account`);
only :func:`apply_plan` writes, in the plan's order, reads the result back, and says how
to finish a swap by hand when a write fails part-way.
"""

from __future__ import annotations

from collections.abc import Sequence

from aircall_ext.api.client import ApiClient
from aircall_ext.api.models import User
from aircall_ext.core.account import UserRef, find_user
from aircall_ext.core.assign import AssignPlan, plan_assign
from aircall_ext.core.findings import listed, who
from aircall_ext.core.freeext import DEFAULT_ORDER, free_extensions, occupied
from aircall_ext.errors import AircallExtError, ApiError, Refused, Remedy, Unprocessable
from aircall_ext.services.users import load_account


def prepare_assign(
    client: ApiClient,
    ref: UserRef,
    extension: str,
    *,
    swap: bool,
    never_park: frozenset[str] = frozenset(),
) -> AssignPlan:
    """Read the account once and plan; raises :class:`Refused` when it must not happen.
    ``never_park``: where a swap's holder may not wait (a numbering plan's reserved ones)."""
    account = load_account(client)
    user = find_user(account, ref)
    return plan_assign(account, user, extension, swap=swap, never_park=never_park)


def apply_plan(client: ApiClient, plan: AssignPlan) -> User:
    """Send the plan's writes in order, then read the user back (one GET): an answer is not
    taken at its word, neither a refusal nor a 200 echoing the new value. Returns the user
    as the API now has them."""
    for done, step in enumerate(plan.steps):
        user = plan.user_of(step)
        try:
            written = client.set_extension(step.user_id, step.to_ext)
            if written.extension != step.to_ext:
                raise _ignored(user, step.to_ext, written.extension, "answered the write")
        except Unprocessable as err:
            raise _stopped(plan, done, _refusal(client, user, step.to_ext, err)) from None
        except AircallExtError as err:
            raise _stopped(plan, done, err) from None
    return _read_back(client, plan) if plan.steps else plan.user


def _read_back(client: ApiClient, plan: AssignPlan) -> User:
    try:
        user = client.get_user(plan.user.id)
    except AircallExtError as err:
        raise ApiError(
            f"the API answered the write, but reading {who(plan.user)} back failed: {err.message}",
            hint=(f"see whether it holds {plan.to} with ", Remedy("show", str(plan.user.id))),
        ) from None
    if user.extension != plan.to:
        raise _ignored(plan.user, plan.to, user.extension, "answered the write, but reading back")
    return user


def _ignored(user: User, wanted: str, holds: str | None, how: str) -> ApiError:
    """A 200 that did not change the extension: the API ignored the field. Never a success."""
    return ApiError(
        f"the API {how} {who(user)} still has extension {holds or 'none'}, not {wanted}: "
        "the change did not happen",
        hint="this API may not accept extension changes; check the user in the Aircall dashboard",
    )


def _refusal(client: ApiClient, user: User, wanted: str, err: Unprocessable) -> AircallExtError:
    """Why a write was refused, from one read of the account: someone now holds the
    extension, or else the API's own sentence."""
    said = err.reason or err.message
    try:
        holders = [h for h in load_account(client).holders(wanted) if h.id != user.id]
    except AircallExtError as read_err:
        return Refused(f"{said} (and the account could not be read to see why: {read_err})")
    if holders:
        return Refused(
            f"extension {wanted} is now held by {listed(who(h) for h in holders)}",
            hint=("see ", Remedy("next-free"), ", or add --swap to exchange extensions"),
        )
    return Refused(said)


def _stopped(plan: AssignPlan, done: int, err: AircallExtError) -> AircallExtError:
    """Say what the account looks like now, so a half-done swap can be finished by hand."""
    step = plan.steps[done]
    verb = "was refused" if isinstance(err, Refused) else "failed"
    what = f"setting {step.to_ext} on {who(plan.user_of(step))} {verb}: {err.message}"
    if done and plan.holder is not None:
        # After write 1 the holder waits on the parking extension; after write 2 the user
        # already has the new extension and only the holder's last move is missing.
        back, action = (plan.to, "undo") if done == 1 else (plan.from_, "finish")
        assert back is not None  # a swap's user always had an extension to give
        hint = (
            f"{who(plan.holder)} is on parking extension {plan.parking}; to {action} the swap run ",
            Remedy("assign", str(plan.holder.id), back),
        )
        return type(err)(
            f"swap stopped after {done} of {len(plan.steps)} writes: {what}", hint=hint
        )
    if isinstance(err, Refused):
        return Refused(what, hint=err.hint_parts or "nothing was changed")
    return type(err)(what, hint=err.hint_parts)


def find_free(
    client: ApiClient, count: int, candidates: Sequence[str] = DEFAULT_ORDER
) -> list[str]:
    """The ``count`` lowest free extensions among ``candidates`` (fewer if they run out)."""
    return free_extensions(occupied(load_account(client)), count, candidates)
