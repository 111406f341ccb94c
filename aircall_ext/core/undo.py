"""Taking an import back: which users it moved, and which of them can be moved back now.

An undo is an import of a desired state built from the journal's moves (each user the
import moved goes back to the extension they held before its first write to them), planned
by the import planner (cycle-safe through a parking extension). A user stranded on the
parking extension goes back like any other.

Pure: no I/O. The journal's moves arrive as :class:`Move` values, the account as a snapshot.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aircall_ext.api.models import User
from aircall_ext.core.account import Account
from aircall_ext.core.desired import DesiredRow
from aircall_ext.core.extensions import is_extension
from aircall_ext.core.findings import Finding, listed, who
from aircall_ext.core.freeext import claimant_text, damaged_claims
from aircall_ext.core.planner import Plan, PlanRow

SKIPPED_CODE = "undo-skipped"


@dataclass(frozen=True)
class Move:
    """What the import did to one user: ``before`` its first write, ``after`` its last."""

    user_id: int
    before: str | None
    after: str


@dataclass(frozen=True)
class Wanted:
    """One row of an undo's desired state: ``user_id`` back on ``extension``."""

    line: int
    user_id: int
    extension: str


@dataclass(frozen=True)
class UndoRow:
    """One row of the undo: ``line`` numbers it as a CSV line would (the first row is 2),
    so the plan, the report and the messages name every row alike."""

    line: int
    move: Move
    current: str | None  # the user's extension now (None: none, or the user is gone)
    email: str | None
    skipped: str | None = None  # why the row is left alone; None: it is moved back

    @property
    def user_id(self) -> int:
        return self.move.user_id


def reverse_rows(moves: Sequence[Move], account: Account) -> list[UndoRow]:
    """Each move checked against the account now: moved back, or skipped with the reason.

    A user already back is an ``unchanged`` row (undoing twice writes nothing). A user who
    is gone, who holds something else than what the import left (someone changed them
    since), who had no extension before (the API cannot remove one) or a damaged one (the
    import repaired it: an undo writes valid extensions only) is skipped. So is a user whose
    old extension is held by someone the undo leaves in place, claimed by the damaged value
    of such a user, or wanted by an earlier row: skipping one row can leave its extension
    held, so this runs until no more rows drop out. Every reason the planner could refuse
    a row for is a skipped row here, with words about the undo.
    """
    reasons: dict[int, str] = {}
    for move in moves:
        reason = _own_reason(move, account)
        if reason is not None:
            reasons[move.user_id] = reason
    claims = damaged_claims(account)
    while True:
        added = False
        wanted: dict[str, int] = {}
        movers = {m.user_id for m in moves if m.user_id not in reasons}
        for move in moves:
            if move.user_id in reasons or move.before is None:
                continue
            reason = _blocked_reason(move, account, movers, wanted, claims)
            if reason is not None:
                reasons[move.user_id] = reason
                added = True
                break
            wanted[move.before] = move.user_id
        if not added:
            break
    rows = []
    for line, move in enumerate(moves, start=2):
        user = account.user_by_id(move.user_id)
        rows.append(
            UndoRow(
                line,
                move,
                user.extension if user else None,
                user.email if user else None,
                reasons.get(move.user_id),
            )
        )
    return rows


def _own_reason(move: Move, account: Account) -> str | None:
    user = account.user_by_id(move.user_id)
    if user is None:
        return f"user {move.user_id} is no longer in the account"
    if user.extension not in (move.after, move.before):  # already back: unchanged
        now = user.extension or "no extension"
        return f"user {move.user_id} has {now} now, not {move.after} as the import left it"
    if move.before is None:
        return (
            f"user {move.user_id} had no extension before the import, and an extension "
            "cannot be removed through the API"
        )
    if not is_extension(move.before):
        return (
            f"user {move.user_id} had the damaged value {move.before!r} before the import, "
            "which repaired it: a damaged value is not restored"
        )
    return None


def _blocked_reason(
    move: Move,
    account: Account,
    movers: set[int],
    wanted: Mapping[str, int],
    claims: Mapping[str, Sequence[User]],
) -> str | None:
    before = move.before
    assert before is not None
    if before in wanted:
        return f"extension {before} also goes back to user {wanted[before]}"
    keepers = [u for u in account.holders(before) if u.id not in movers]
    if keepers:
        holders = listed(who(u) for u in keepers)
        return f"extension {before} is now held by {holders}, whom the undo does not move"
    user = account.user_by_id(move.user_id)
    claimants = [u for u in claims.get(before, ()) if u.id not in movers and u.id != move.user_id]
    if claimants and user is not None and user.extension != before:
        first = claimants[0]
        return (
            f"extension {before} is claimed by {who(first)}, "
            f"{claimant_text(first, before)}, whom the undo does not move"
        )
    return None


def wanted(rows: Sequence[UndoRow]) -> tuple[Wanted, ...]:
    """The undo's desired state: each row moved back, in order (skipped rows left out)."""
    return tuple(
        Wanted(row.line, row.user_id, row.move.before)
        for row in rows
        if row.skipped is None and row.move.before is not None
    )


def desired_rows(rows: Sequence[Wanted], account: Account) -> tuple[DesiredRow, ...]:
    """``rows`` as the planner takes them; a user gone is left for its checks to name."""
    return tuple(
        DesiredRow(row.line, account.user_by_id(row.user_id) or User(id=row.user_id), row.extension)
        for row in rows
    )


def with_skipped(plan: Plan, rows: Sequence[UndoRow]) -> Plan:
    """The planner's plan of the rows moved back, plus the skipped rows (action ``skip``,
    nothing wanted) with a warning naming each and why."""
    skipped = [row for row in rows if row.skipped]
    extra = tuple(
        PlanRow(row.line, row.user_id, row.email, row.current, None, "skip") for row in skipped
    )
    findings = tuple(
        Finding(
            SKIPPED_CODE,
            f"line {row.line}: skipped: {row.skipped}",
            user_id=row.user_id,
            email=row.email,
            extension=row.move.before,
            line=row.line,
        )
        for row in skipped
    )
    merged = tuple(sorted((*plan.rows, *extra), key=lambda r: r.line))
    return Plan(merged, plan.steps, (*plan.findings, *findings))
