"""Taking an import back: which users it moved, and which of them can be moved back now.

An undo is an import of a synthetic desired state: each user the journal shows as moved
goes back to the extension they held before the import's first write to them. The writes
themselves are ordered by the import planner (cycle-safe through a parking extension).

What the import left is read from the journal's ``start``/``done`` records: a user's last
write counts when its ``done`` record exists, or, unconfirmed (a kill, a lost answer), when
the account holds its target now. A parking write the import never moved on from counts
too: that user is stranded on the parking extension and goes back like any other.

Pure: no I/O. The journal arrives as its records, the account as a snapshot.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from aircall_ext.api.models import User
from aircall_ext.core.account import Account
from aircall_ext.core.extensions import is_extension
from aircall_ext.core.findings import Finding
from aircall_ext.core.freeext import claimant_text, damaged_claims
from aircall_ext.core.planner import Plan, PlanRow, Step

SKIPPED_CODE = "undo-skipped"
CSV_HEADER = "user_id,extension"


@dataclass(frozen=True)
class Move:
    """What the import did to one user: ``before`` its first write, ``after`` its last."""

    user_id: int
    before: str | None
    after: str


@dataclass(frozen=True)
class UndoRow:
    """One row of the undo: ``line`` is its physical line in the undo's CSV (header = 1)."""

    line: int
    move: Move
    current: str | None  # the user's extension now (None: none, or the user is gone)
    email: str | None
    skipped: str | None = None  # why the row is left alone; None: it is moved back

    @property
    def user_id(self) -> int:
        return self.move.user_id


def journal_moves(records: Iterable[Mapping[str, object]], account: Account) -> list[Move]:
    """The users the journal's writes left somewhere else than where they started, in the
    order the import first wrote to them."""
    started: dict[int, Step] = {}  # step number → step
    done: set[int] = set()
    for record in records:
        kind, number = record.get("type"), record.get("step")
        if not isinstance(number, int):
            continue
        if kind == "start":
            started[number] = Step.from_json(record)
        elif kind == "done":
            done.add(number)
    per_user: dict[int, list[tuple[int, Step]]] = {}
    for number in sorted(started):
        step = started[number]
        per_user.setdefault(step.user_id, []).append((number, step))
    moves = []
    for user_id, steps in per_user.items():  # dicts keep the order of first writes
        number, last = steps[-1]
        user = account.user_by_id(user_id)
        landed = number in done or (user is not None and user.extension == last.to_ext)
        after = last.to_ext if landed else last.from_ext
        before = steps[0][1].from_ext
        if after is not None and after != before:
            moves.append(Move(user_id, before, after))
    return moves


def reverse_rows(moves: Sequence[Move], account: Account) -> list[UndoRow]:
    """Each move checked against the account now: moved back, or skipped with the reason.

    A user already back is an ``unchanged`` row (undoing twice writes nothing). A user who
    is gone, who holds something else than what the import left (someone changed them
    since), who had no extension before (the API cannot remove one) or a damaged one (the
    import repaired it: an undo writes valid extensions only) is skipped. So is a user whose
    old extension is held by someone the undo leaves in place, claimed by the damaged value
    of such a user, or wanted by an earlier row: skipping one row can leave its extension
    held, so this runs until no more rows drop out. Every reason the undo's own CSV check
    could refuse is a skipped row here, so that CSV, which nobody wrote, never has an error.
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
        who = ", ".join(f"{u.id} ({u.email or 'no email'})" for u in keepers)
        return f"extension {before} is now held by user {who}, whom the undo does not move"
    user = account.user_by_id(move.user_id)
    claimants = [u for u in claims.get(before, ()) if u.id not in movers and u.id != move.user_id]
    if claimants and user is not None and user.extension != before:
        first = claimants[0]
        return (
            f"extension {before} is claimed by user {first.id} ({first.email or 'no email'}), "
            f"{claimant_text(first, before)}, whom the undo does not move"
        )
    return None


def undo_csv(rows: Sequence[UndoRow]) -> bytes:
    """The undo's desired state as an importable CSV: one line per row, a skipped row left
    blank (a blank line is no row), so plan lines and CSV lines are the same numbers."""
    lines = [CSV_HEADER]
    for row in rows:
        lines.append("" if row.skipped else f"{row.user_id},{row.move.before}")
    return ("\n".join(lines) + "\n").encode()


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
    return Plan(merged, plan.steps, (*plan.findings, *findings), plan.parking, plan.cycles)
