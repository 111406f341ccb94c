"""Whether a plan still holds on the account: the one rule every import job applies after
its confirmation, and a saved plan when it is applied later.

A plan rests on its *involved* users (each user it writes, parking moves included; each user
of a planned row; each holder of an extension it targets) holding what they held when it
was made, and on nobody else holding, or claiming by a damaged value, an extension it
targets. While that holds, its steps are as safe as when they were planned, so they are
applied exactly; anything else and the plan is stale, with one reason per fact.

Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from aircall_ext.core.account import Account
from aircall_ext.core.findings import who_is
from aircall_ext.core.freeext import claimant_text, damaged_claims
from aircall_ext.core.planner import Plan, PlanRow, Step


@dataclass(frozen=True)
class PlannedUser:
    """An involved user as the plan saw them."""

    id: int
    email: str | None
    extension: str | None

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "email": self.email, "extension": self.extension}


@dataclass(frozen=True)
class Basis:
    """What a plan rests on: the users it involves as it saw them, its rows and its steps."""

    users: tuple[PlannedUser, ...]
    rows: tuple[PlanRow, ...]
    steps: tuple[Step, ...]

    @classmethod
    def of(cls, plan: Plan, account: Account) -> Basis:
        """The basis of ``plan``, made on ``account``."""
        return cls(involved_users(plan, account), plan.rows, plan.steps)

    def stale_reasons(self, account: Account) -> list[str]:
        """What moved since, one item per fact; empty when the plan still holds."""
        reasons = []
        involved = {user.id for user in self.users}
        for planned in self.users:
            now = account.user_by_id(planned.id)
            if now is None:
                reasons.append(f"{who_is(planned.id, planned.email)} no longer exists")
            elif now.extension != planned.extension:
                reasons.append(
                    f"{who_is(planned.id, planned.email)} has {shown_ext(now.extension)}, "
                    f"the plan expected {shown_ext(planned.extension)}"
                )
        claims = damaged_claims(account)
        for extension in sorted(targets(self.rows, self.steps)):
            for holder in account.holders(extension):
                if holder.id not in involved:
                    reasons.append(
                        f"extension {extension} is now held by {who_is(holder.id, holder.email)}, "
                        "who is not in the plan"
                    )
            for claimant in claims.get(extension, ()):
                if claimant.id not in involved:
                    reasons.append(
                        f"extension {extension} is now claimed by "
                        f"{who_is(claimant.id, claimant.email)}, "
                        f"{claimant_text(claimant, extension)}, who is not in the plan"
                    )
        return reasons

    def moved_rows(self, resolved: Mapping[int, int]) -> list[str]:
        """Rows whose input now names another user (``resolved``: line → user id)."""
        moved = []
        for row in self.rows:
            now = resolved.get(row.line)
            if now is not None and now != row.user_id:
                moved.append(
                    f"line {row.line} now names user {now}, the plan has user {row.user_id}"
                )
        return moved


def involved_users(plan: Plan, account: Account) -> tuple[PlannedUser, ...]:
    """Whom the plan's safety rests on, by id: writers, planned rows, holders of targets."""
    ids = {step.user_id for step in plan.steps}
    ids |= {row.user_id for row in plan.rows if row.action != "skip"}
    for extension in targets(plan.rows, plan.steps):
        ids |= {holder.id for holder in account.holders(extension)}
    users = []
    for user_id in sorted(ids):
        user = account.user_by_id(user_id)
        if user is not None:
            users.append(PlannedUser(user.id, user.email, user.extension))
    return tuple(users)


def targets(rows: Iterable[PlanRow], steps: Iterable[Step]) -> set[str]:
    """Every extension the plan writes or a planned row asks for."""
    wanted = {row.to_ext for row in rows if row.action != "skip" and row.to_ext is not None}
    return wanted | {step.to_ext for step in steps}


def shown_ext(extension: str | None) -> str:
    return extension if extension is not None else "no extension"
