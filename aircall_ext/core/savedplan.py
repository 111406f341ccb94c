"""A saved import plan: the reviewed steps, and everything they depend on.

``import FILE --dry-run --save-plan PLAN`` writes one; ``import --plan PLAN`` applies exactly
its steps, but only while what the plan was computed from still holds, like a stale
Terraform plan being refused. The plan depends on:

- the account it was made for (host, API ID fingerprint, sandbox or not; never the token);
- every *involved* user's extension at planning time (``core/staleness.py``: the rule every
  import job applies after its confirmation, too): while it holds, the steps are as safe
  as they were when reviewed;
- the CSV's bytes (kept in the plan, so a moved or deleted CSV does not stop the apply;
  a CSV still at its path must be the one planned from; standard input or a pipe is
  recorded as such and never reopened).

A plan is exactly what its CSV plans to against the users it records: the file is checked
for that when read (:func:`replan_difference`), so a hand-edited step, row or user is
refused as damage rather than applied.

Pure: building, (de)serialising and comparing; reading and writing files is the service's.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import PydanticCustomError

from aircall_ext.api.models import User
from aircall_ext.core.account import Account
from aircall_ext.core.csvfile import read_extension_csv
from aircall_ext.core.desired import check_desired
from aircall_ext.core.extensions import is_extension
from aircall_ext.core.findings import failing
from aircall_ext.core.freeext import ALL_EXTENSIONS
from aircall_ext.core.identity import AccountIdentity
from aircall_ext.core.paths import is_path
from aircall_ext.core.planner import Plan, PlanRow, Step, plan_import
from aircall_ext.core.staleness import Basis, PlannedUser, involved_users, shown_ext
from aircall_ext.errors import Remedy, UsageError
from aircall_ext.names import APP_NAME, TOOL

FORMAT = f"{APP_NAME} plan"
VERSION = 1
STALE_LIMIT = 10  # what moved, listed in the refusal before "and N more"

# Where the CSV came from: a regular file (compared again at apply when still there),
# standard input or a pipe (``<(cmd)``, a FIFO, a device: read once, never reopened).
FileSource = Literal["file", "stdin", "pipe"]


@dataclass(frozen=True)
class SavedPlan:
    tool: str
    created: str
    account: AccountIdentity
    file_path: str  # absolute path of the CSV, "-" for standard input
    file_sha256: str
    data: bytes
    users: tuple[PlannedUser, ...]
    rows: tuple[PlanRow, ...]
    steps: tuple[Step, ...]
    parking: str | None
    file_source: FileSource = "file"

    @property
    def basis(self) -> Basis:
        """What the plan rests on, as it was when made."""
        return Basis(self.users, self.rows, self.steps)

    def plan(self) -> Plan:
        """The plan to apply: exactly the saved rows and steps (its findings are re-checked
        against the account of the apply, not carried over)."""
        return Plan(self.rows, self.steps, ())

    def to_json(self) -> dict[str, Any]:
        plan = self.plan()
        return {
            "format": FORMAT,
            "version": VERSION,
            "tool": self.tool,
            "created": self.created,
            "account": self.account.to_json(),
            "file": {
                "path": self.file_path,
                "source": self.file_source,
                "sha256": self.file_sha256,
                "content_base64": base64.b64encode(self.data).decode("ascii"),
            },
            "users": [user.to_json() for user in self.users],
            "plan": [row.to_json() for row in self.rows],
            "steps": [step.to_json() for step in self.steps],
            "summary": plan.summary(),
            "parking": self.parking,
        }


def save_plan_remedy(csv: str, plan: str) -> Remedy:
    """The command that makes a plan again: a dry run of its CSV that saves it."""
    return Remedy("import", csv, "--dry-run", "--save-plan", plan)


def save(
    plan: Plan,
    account: Account,
    *,
    tool: str,
    created: str,
    identity: AccountIdentity,
    file_path: str,
    data: bytes,
    file_source: FileSource | None = None,
) -> SavedPlan:
    return SavedPlan(
        tool=tool,
        created=created,
        account=identity,
        file_path=file_path,
        file_sha256=hashlib.sha256(data).hexdigest(),
        data=data,
        users=involved_users(plan, account),
        rows=plan.rows,
        steps=plan.steps,
        parking=plan.parking,
        file_source=file_source or _inferred_source(file_path),
    )


def _inferred_source(file_path: str) -> FileSource:
    """What a plan that does not say (an older one) read: "-" is standard input."""
    return "stdin" if file_path == "-" else "file"


# -- what the CSV plans ----------------------------------------------------------------


def replan_difference(saved: SavedPlan) -> str | None:
    """The first way the saved rows, steps or users differ from what the carried CSV plans
    against the recorded users (the account as the plan saw it), or None.

    The recorded users are everyone the plan's safety rests on; the rows add each blank
    row's user. One choice also rests on users outside the plan: the parking extension
    (the lowest free one, and free depends on who else holds what). The plan records it,
    and the check plans as if every other extension the CSV does not want were claimed,
    so the planner must choose it again; that it is really free is the stale check's
    business when the plan is applied.
    """
    account = _recorded_account(saved)
    desired = check_desired(read_extension_csv(saved.data, source=saved.file_path), account)
    errors = failing(desired.findings)
    if errors:
        return f"its CSV does not plan against its users: {errors[0].message}"
    plan = plan_import(account, desired.rows)
    if plan.blocked:
        return f"its CSV does not plan against its users: {plan.findings[0].message}"
    if saved.parking is not None and plan.parking is not None:
        if not is_extension(saved.parking):
            return f"field parking: {saved.parking!r} is not a three-digit extension"
        wanted = {row.extension for row in desired.rows if row.extension is not None}
        plan = plan_import(_parking_only(account, saved.parking, wanted), desired.rows)
        if plan.blocked or plan.parking != saved.parking:
            return f"field parking: its CSV's cycles cannot park on {saved.parking}"
    return _first_difference(saved, plan, account)


def _recorded_account(saved: SavedPlan) -> Account:
    """The account as the plan saw it: its users, and each blank row's user."""
    users = {u.id: User(id=u.id, email=u.email, extension=u.extension) for u in saved.users}
    for row in saved.rows:
        users.setdefault(row.user_id, User(id=row.user_id, email=row.email, extension=row.from_ext))
    return Account.of(users.values())


def _parking_only(account: Account, parking: str, wanted: set[str]) -> Account:
    """``account`` plus, on every extension but ``parking`` and those the CSV wants, a
    stand-in user whose damaged value (`` 101``) claims it: the planner never parks on a
    claimed extension, and the stand-ins neither hold a target nor move."""
    stand_ins = [
        User(id=-(index + 1), extension=f" {extension}")
        for index, extension in enumerate(ALL_EXTENSIONS)
        if extension not in wanted and extension != parking
    ]
    return Account.of([*account.users, *stand_ins])


def _first_difference(saved: SavedPlan, plan: Plan, account: Account) -> str | None:
    difference = _rows_difference(saved.rows, plan.rows) or _steps_difference(
        saved.steps, plan.steps
    )
    if difference is not None:
        return difference
    if saved.parking != plan.parking:
        return f"field parking is {_shown(saved.parking)}, but its CSV plans {_shown(plan.parking)}"
    involved = {user.id for user in involved_users(plan, account)}
    for user in saved.users:
        if user.id not in involved:
            return f"field users: user {user.id} is not involved in what its CSV plans"
    return None


def _rows_difference(saved: Sequence[PlanRow], planned: Sequence[PlanRow]) -> str | None:
    for index, (mine, theirs) in enumerate(zip(saved, planned, strict=False)):
        wanted = theirs.to_json()
        for key, value in mine.to_json().items():
            if value != wanted[key]:
                return (
                    f"field plan[{index}].{key} is {_shown(value)}, but its CSV plans "
                    f"{_shown(wanted[key])} for line {theirs.line}"
                )
    if len(saved) != len(planned):
        return f"field plan: {len(saved)} rows, but its CSV has {len(planned)}"
    return None


def _steps_difference(saved: Sequence[Step], planned: Sequence[Step]) -> str | None:
    for index, (mine, theirs) in enumerate(zip(saved, planned, strict=False)):
        if mine != theirs:
            return f"field steps[{index}] is {_step(mine)}, but its CSV plans {_step(theirs)} there"
    if len(saved) > len(planned):
        extra = saved[len(planned)]
        return f"field steps[{len(planned)}] is {_step(extra)}, a write its CSV does not plan"
    if len(saved) < len(planned):
        return f"field steps: {len(saved)} writes, but its CSV plans {len(planned)}"
    return None


def _shown(value: Any) -> str:
    return "null" if value is None else repr(value) if isinstance(value, str) else str(value)


def _step(step: Step) -> str:
    parking = " (parking)" if step.parking else ""
    return f"user {step.user_id} {shown_ext(step.from_ext)} → {step.to_ext}{parking}"


def applied_already(saved: SavedPlan, account: Account) -> bool:
    """Whether the account holds exactly what the plan writes towards: every row's user on
    its target, alone (a CI job applying the same plan again)."""
    targets = [(row.user_id, row.to_ext) for row in saved.rows if row.to_ext is not None]
    if not saved.steps or not targets:
        return False
    return all([u.id for u in account.holders(ext)] == [user] for user, ext in targets)


# -- reading -----------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True, frozen=True, populate_by_name=True)


class _Account(_Strict):
    host: str | None
    api_id_sha256: str | None
    sandbox: bool


def _file_path(value: str) -> str:
    if not is_path(value):
        raise PydanticCustomError("file_path", "Input should be a file path")
    return value


class _File(_Strict):
    path: Annotated[str, AfterValidator(_file_path)]
    source: FileSource | None = None  # absent in older plans
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
    hint = ("make it again with ", save_plan_remedy("FILE", name))
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise UsageError(f"{name} is not an {APP_NAME} plan (field format)", hint=hint)
    if doc.get("version") != VERSION:
        raise UsageError(
            f"{name} is a plan of version {doc.get('version')!r} (field version); "
            f"this {APP_NAME} reads version {VERSION}",
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
    saved = SavedPlan(
        tool=model.tool,
        created=model.created,
        account=AccountIdentity.from_json(model.account.model_dump()),
        file_path=model.file.path,
        file_sha256=model.file.sha256,
        data=data,
        users=users,
        rows=rows,
        steps=steps,
        parking=model.parking,
        file_source=model.file.source or _inferred_source(model.file.path),
    )
    difference = replan_difference(saved)
    if difference is not None:
        if saved.tool != TOOL:  # a planner of another version may order writes otherwise
            difference += f" (the plan was made by {saved.tool}, this is {TOOL})"
        raise UsageError(f"{name} is damaged: {difference}", hint=hint)
    return saved
