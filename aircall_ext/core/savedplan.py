"""A saved import plan: the reviewed steps, and everything they depend on.

``import FILE --dry-run --save-plan PLAN`` writes one; ``import --plan PLAN`` applies exactly
its steps, but only while what the plan was computed from still holds, like a stale
Terraform plan being refused. The plan depends on:

- the account it was made for (host, API ID fingerprint, sandbox or not; never the token);
- every *involved* user's extension at planning time: each user the plan writes (parking
  moves included), each user of a planned row, and each holder of an extension the plan
  targets. When they all still hold what they held, and no one outside them holds a target,
  the steps are as safe as they were when reviewed;
- the CSV's bytes (kept in the plan, so a moved or deleted CSV does not stop the apply;
  a CSV still at its path must be the one planned from).

Pure: building, (de)serialising and comparing; reading and writing files is the service's.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from aircall_ext.core.account import Account
from aircall_ext.core.planner import Plan, PlanRow, Step
from aircall_ext.errors import UsageError
from aircall_ext.names import APP_NAME

FORMAT = f"{APP_NAME} plan"
VERSION = 1
STALE_LIMIT = 10  # what moved, listed in the refusal before "and N more"


@dataclass(frozen=True)
class PlannedUser:
    """An involved user as the plan saw them."""

    id: int
    email: str | None
    extension: str | None

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "email": self.email, "extension": self.extension}


@dataclass(frozen=True)
class SavedPlan:
    tool: str
    created: str
    account: Mapping[str, Any]
    file_path: str  # absolute path of the CSV, "-" for standard input
    file_sha256: str
    data: bytes
    users: tuple[PlannedUser, ...]
    rows: tuple[PlanRow, ...]
    steps: tuple[Step, ...]
    parking: str | None
    cycles: int

    def plan(self) -> Plan:
        """The plan to apply: exactly the saved rows and steps (its findings are re-checked
        against the account of the apply, not carried over)."""
        return Plan(self.rows, self.steps, (), self.parking, self.cycles)

    def to_json(self) -> dict[str, Any]:
        plan = self.plan()
        return {
            "format": FORMAT,
            "version": VERSION,
            "tool": self.tool,
            "created": self.created,
            "account": dict(self.account),
            "file": {
                "path": self.file_path,
                "sha256": self.file_sha256,
                "content_base64": base64.b64encode(self.data).decode("ascii"),
            },
            "users": [user.to_json() for user in self.users],
            "plan": [row.to_json() for row in self.rows],
            "steps": [step.to_json() for step in self.steps],
            "summary": plan.summary(),
            "parking": self.parking,
        }


def involved_users(plan: Plan, account: Account) -> tuple[PlannedUser, ...]:
    """Whom the plan's safety rests on, by id: writers, planned rows, holders of targets."""
    ids = {step.user_id for step in plan.steps}
    ids |= {row.user_id for row in plan.rows if row.action != "skip"}
    for extension in _targets(plan.rows, plan.steps):
        ids |= {holder.id for holder in account.holders(extension)}
    users = []
    for user_id in sorted(ids):
        user = account.user_by_id(user_id)
        if user is not None:
            users.append(PlannedUser(user.id, user.email, user.extension))
    return tuple(users)


def _targets(rows: Iterable[PlanRow], steps: Iterable[Step]) -> set[str]:
    wanted = {row.to_ext for row in rows if row.action != "skip" and row.to_ext is not None}
    return wanted | {step.to_ext for step in steps}


def save(
    plan: Plan,
    account: Account,
    *,
    tool: str,
    created: str,
    identity: Mapping[str, Any],
    file_path: str,
    data: bytes,
) -> SavedPlan:
    return SavedPlan(
        tool=tool,
        created=created,
        account=dict(identity),
        file_path=file_path,
        file_sha256=hashlib.sha256(data).hexdigest(),
        data=data,
        users=involved_users(plan, account),
        rows=plan.rows,
        steps=plan.steps,
        parking=plan.parking,
        cycles=plan.cycles,
    )


# -- staleness ---------------------------------------------------------------------------


def _who(user_id: int, email: str | None) -> str:
    return f"user {user_id} ({email})" if email else f"user {user_id}"


def _ext(extension: str | None) -> str:
    return extension if extension is not None else "no extension"


def stale_reasons(saved: SavedPlan, account: Account) -> list[str]:
    """What moved since the plan was made, one item per fact; empty when it still holds."""
    reasons = []
    involved = {user.id for user in saved.users}
    for planned in saved.users:
        now = account.user_by_id(planned.id)
        if now is None:
            reasons.append(f"{_who(planned.id, planned.email)} no longer exists")
        elif now.extension != planned.extension:
            reasons.append(
                f"{_who(planned.id, planned.email)} has {_ext(now.extension)}, "
                f"the plan expected {_ext(planned.extension)}"
            )
    for extension in sorted(_targets(saved.rows, saved.steps)):
        for holder in account.holders(extension):
            if holder.id not in involved:
                reasons.append(
                    f"extension {extension} is now held by {_who(holder.id, holder.email)}, "
                    "who is not in the plan"
                )
    return reasons


def moved_rows(saved: SavedPlan, resolved: Mapping[int, int]) -> list[str]:
    """Rows whose CSV identity now resolves to another user (``resolved``: line → user id)."""
    moved = []
    for row in saved.rows:
        now = resolved.get(row.line)
        if now is not None and now != row.user_id:
            moved.append(f"line {row.line} now names user {now}, the plan has user {row.user_id}")
    return moved


def same_account(mine: Mapping[str, Any], theirs: Mapping[str, Any]) -> bool:
    def key(identity: Mapping[str, Any]) -> tuple[Any, ...]:
        return identity.get("host"), identity.get("api_id_sha256"), bool(identity.get("sandbox"))

    return key(mine) == key(theirs)


# -- reading -----------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True, frozen=True, populate_by_name=True)


class _Account(_Strict):
    host: str | None
    api_id_sha256: str | None
    sandbox: bool


class _File(_Strict):
    path: str
    sha256: str
    content_base64: str


class _User(_Strict):
    id: int
    email: str | None
    extension: str | None


class _Row(_Strict):
    line: int
    user_id: int
    email: str | None
    from_: str | None = Field(alias="from")
    to: str | None
    action: Literal["unchanged", "assign", "change", "skip"]


class _Step(_Strict):
    user_id: int
    from_: str | None = Field(alias="from")
    to: str
    parking: bool


class _Document(_Strict):
    format: str
    version: int
    tool: str
    created: str
    account: _Account
    file: _File
    users: list[_User]
    plan: list[_Row]
    steps: list[_Step]
    parking: str | None


def _field(loc: Sequence[int | str]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text.replace("from_", "from")


def parse(doc: Any, name: str) -> SavedPlan:
    """A saved plan from its JSON document; anything else is a usage error naming the field."""
    hint = f"make it again with `aircall-ext import FILE --dry-run --save-plan {name}`"
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise UsageError(f"{name} is not an aircall-ext plan (field format)", hint=hint)
    if doc.get("version") != VERSION:
        raise UsageError(
            f"{name} is a plan of version {doc.get('version')!r} (field version); "
            f"this aircall-ext reads version {VERSION}",
            hint=hint,
        )
    try:
        model = _Document.model_validate(doc)
    except ValidationError as err:
        first = err.errors()[0]
        raise UsageError(
            f"{name} is damaged: field {_field(first['loc'])}: {first['msg']}", hint=hint
        ) from None
    try:
        data = base64.b64decode(model.file.content_base64, validate=True)
    except (binascii.Error, ValueError):
        raise UsageError(f"{name} is damaged: field file.content_base64", hint=hint) from None
    if hashlib.sha256(data).hexdigest() != model.file.sha256:
        raise UsageError(
            f"{name} is damaged: field file.content_base64 does not match file.sha256", hint=hint
        )
    users = tuple(PlannedUser(u.id, u.email, u.extension) for u in model.users)
    known = {user.id for user in users}
    rows = tuple(PlanRow(r.line, r.user_id, r.email, r.from_, r.to, r.action) for r in model.plan)
    steps = tuple(Step(s.user_id, s.from_, s.to, s.parking) for s in model.steps)
    for index, step in enumerate(steps):
        if step.user_id not in known:
            raise UsageError(
                f"{name} is damaged: field steps[{index}].user_id: user {step.user_id} is not "
                "among the plan's users",
                hint=hint,
            )
    cycles = sum(1 for step in steps if step.parking)
    return SavedPlan(
        tool=model.tool,
        created=model.created,
        account=model.account.model_dump(),
        file_path=model.file.path,
        file_sha256=model.file.sha256,
        data=data,
        users=users,
        rows=rows,
        steps=steps,
        parking=model.parking,
        cycles=cycles,
    )
