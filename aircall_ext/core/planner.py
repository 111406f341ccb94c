"""The import planner: desired extensions + account snapshot → per-row actions and ordered writes.

The API rejects a write into a taken extension, and two users must never share one, so
the order of writes matters. Moves form a graph in which a user can move into its target
only once every current holder of that target has moved out. Users who wait on nobody go
first (chains resolve from their free end); what is left is a set of disjoint cycles
(swaps, rotations), each broken by parking ONE of its users on a free extension: one
extra write per cycle.

A chain that ends by giving an extension to a user who held none (or shared one) spends a
free extension for good. When those would spend the last one a cycle could park on, they
wait until every cycle is done. No write ever adds a free extension, so this order finds a
safe plan whenever one exists.

Parking extension, chosen deterministically (never one the caller forbids, such as a
numbering plan's reserved extensions): the lowest extension that nobody holds now and the
file does not want ("cold": no caller expects anyone there), else the lowest one
freed by the chains (the account is nearly full), else the lowest free one that a chain
waiting for the cycles will take afterwards. 100-999 are tried before 000-099, which are
often reserved (operator, services). It is chosen once and reused: each cycle frees it
again before the next one is broken, and nothing else takes it before the last cycle is
done. None free → the plan is blocked (``plan-blocked``, an error) and has no steps.

Pure: no I/O. The input rows only need ``line``, ``user`` and ``extension`` (see
:class:`~aircall_ext.core.rowrules.TargetRow`), so the planner does not depend on how the
CSV was read; it re-checks them with the file's own rules (``core/rowrules.py``).
"""

from __future__ import annotations

import heapq
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence, Set
from dataclasses import dataclass
from typing import Any, Literal

from aircall_ext.api.models import User
from aircall_ext.core.account import Account
from aircall_ext.core.extensions import is_extension
from aircall_ext.core.findings import Finding, failing, listed, plural, sort_findings, who_is
from aircall_ext.core.freeext import DEFAULT_ORDER, damaged_claims, stands_for
from aircall_ext.core.rowrules import (
    DUPLICATE_EXTENSION,
    DUPLICATE_USER,
    TAKEN,
    TargetRow,
    repeated,
    repeated_extension,
    repeated_user,
    taken,
)

Action = Literal["unchanged", "assign", "change", "skip"]
ACTIONS: tuple[Action, ...] = ("unchanged", "assign", "change", "skip")

BLOCKED = "plan-blocked"  # what only the planner sees: no safe order, a user gone


@dataclass(frozen=True)
class RowChange:
    """One row of the file as every per-row document shows it (plan, report, drift): its
    physical line, the user it names, the extension they hold (``from_ext``) and the one
    the row asks for (``to_ext``; None for a blank cell)."""

    line: int
    user_id: int | None  # None only for a row that names no user of the account
    email: str | None
    from_ext: str | None
    to_ext: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "user_id": self.user_id,
            "email": self.email,
            "from": self.from_ext,
            "to": self.to_ext,
        }


@dataclass(frozen=True)
class PlanRow(RowChange):
    user_id: int  # a planned row always names a user of the account
    action: Action

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), "action": self.action}


@dataclass(frozen=True)
class Step:
    """One write: ``PUT /users/{user_id}`` with ``to_ext``. ``parking`` breaks a cycle."""

    user_id: int
    from_ext: str | None
    to_ext: str
    parking: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "user_id": self.user_id,
            "from": self.from_ext,
            "to": self.to_ext,
            "parking": self.parking,
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Step:
        return cls(int(doc["user_id"]), doc.get("from"), str(doc["to"]), bool(doc.get("parking")))


@dataclass(frozen=True)
class Plan:
    rows: tuple[PlanRow, ...]
    steps: tuple[Step, ...]
    findings: tuple[Finding, ...]

    @property
    def blocked(self) -> bool:
        return bool(failing(self.findings))

    @property
    def parking(self) -> str | None:
        """The one extension every cycle parks on (None: no cycle)."""
        return next((step.to_ext for step in self.steps if step.parking), None)

    @property
    def cycles(self) -> int:
        """Cycles broken: each parks one of its users, once."""
        return sum(1 for step in self.steps if step.parking)

    def summary(self) -> dict[str, int]:
        counts = Counter(row.action for row in self.rows)
        doc: dict[str, int] = {action: counts.get(action, 0) for action in ACTIONS}
        return {**doc, "writes": len(self.steps), "cycles": self.cycles}

    def counts_line(self) -> str:
        """``4 unchanged, 1 assign, 3 change, 0 skip; 5 writes (1 cycle via parking 100)``:
        the plan in one line, wherever people read it (a terminal, a CI notice)."""
        summary = self.summary()
        counts = ", ".join(f"{summary[action]} {action}" for action in ACTIONS)
        writes = plural(len(self.steps), "write")
        if self.cycles:
            writes += f" ({plural(self.cycles, 'cycle')} via parking {self.parking})"
        return f"{counts}; {writes}"

    def desired(self) -> dict[int, str]:
        """user id → the extension the file wants (blank rows excluded)."""
        return {row.user_id: row.to_ext for row in self.rows if row.to_ext is not None}

    def to_json(self, extra_findings: Iterable[Finding] = ()) -> dict[str, Any]:
        """The plan document (rows, ordered writes, counts, findings); ``extra_findings``
        are the file check's."""
        findings = sort_findings([*extra_findings, *self.findings])
        return {
            "plan": [row.to_json() for row in self.rows],
            "steps": [step.to_json() for step in self.steps],
            "summary": self.summary(),
            "parking": self.parking,
            "findings": [f.to_json() for f in findings],
        }


def plan_import(
    account: Account, rows: Sequence[TargetRow], *, never_park: Set[str] = frozenset()
) -> Plan:
    """Plan the writes that take ``account`` to the state ``rows`` describe.

    The current extension is always read from ``account`` (not from ``row.user``), so
    re-planning after a fresh read plans from the real state: a user already moved is
    ``unchanged``, a parked user is simply moved on. ``never_park``: extensions no user may
    wait on, even for a moment (a numbering plan's reserved ones: callers dial 911).
    """
    plan_rows = tuple(_plan_row(account, row) for row in rows)
    problems = _check(account, plan_rows)
    if problems:
        return Plan(plan_rows, (), tuple(problems))
    movers = [r for r in plan_rows if r.action in ("assign", "change")]
    holding = {user.id: user.extension for user in account.users}
    held, never = _warm(account, {r.user_id for r in movers})
    schedule = _schedule(holding, movers, (held, never | never_park))
    if schedule.blocked:
        return Plan(plan_rows, (), tuple(schedule.blocked))
    return Plan(plan_rows, tuple(schedule.steps), ())


def _plan_row(account: Account, row: TargetRow) -> PlanRow:
    user = account.user_by_id(row.user.id) or row.user
    current = user.extension
    target = row.extension
    if target is None:
        action: Action = "skip"
    elif target == current:
        action = "unchanged"
    elif current is None:
        action = "assign"
    else:
        action = "change"
    return PlanRow(row.line, user.id, user.email, current, target, action)


def _check(account: Account, plan_rows: Sequence[PlanRow]) -> list[Finding]:
    """The file's rules (``core/rowrules.py``) once more: the file check reports them first,
    but the planner also runs on a fresh read, when the account may have changed. What only
    it can see, a user gone from the account or a target that is no extension, is
    ``plan-blocked``."""
    problems: list[Finding] = []
    present: list[tuple[PlanRow, User]] = []
    for row in plan_rows:
        user = account.user_by_id(row.user_id)
        if user is None:
            why = f"{who_is(row.user_id, row.email)} is not in the account (any more)"
            problems.append(_row_finding(BLOCKED, row, why))
        else:
            present.append((row, user))
    users = {id(row): user for row, user in present}
    again = list(repeated((row for row, _ in present), lambda row: row.user_id))
    for row, first_line in again:
        problems.append(
            _row_finding(DUPLICATE_USER, row, repeated_user(users[id(row)], first_line))
        )
    repeats = {id(row) for row, _ in again}
    kept = [(row, user) for row, user in present if id(row) not in repeats]
    for row, first_line in repeated((row for row, _ in kept), lambda row: row.to_ext):
        assert row.to_ext is not None
        why = repeated_extension(row.to_ext, first_line, row.line)
        problems.append(_row_finding(DUPLICATE_EXTENSION, row, why))
    desired = {row.user_id: row.to_ext for row, _ in kept if row.to_ext is not None}
    claims = damaged_claims(account)
    for row, user in kept:
        if row.to_ext is None:
            continue
        if not is_extension(row.to_ext):
            why = f"{row.to_ext!r} is not a three-digit extension"
            problems.append(_row_finding(BLOCKED, row, why))
        elif reason := taken(account, claims, user, row.to_ext, desired):
            problems.append(_row_finding(TAKEN, row, reason))
    return problems


def _row_finding(code: str, row: PlanRow, why: str) -> Finding:
    """A finding at ``row``'s line (the planner knows neither the file nor its columns),
    about its user and the extension it wants."""
    return Finding(code, f"line {row.line}: {why}", row.user_id, row.email, row.to_ext, row.line)


def _warm(account: Account, movers: set[int]) -> tuple[set[str], set[str]]:
    """(held now, never to park on). Held now: what callers may still dial. Never: what a
    damaged value a user keeps stands for (``" 101"`` may well block ``101`` on the server;
    ``42`` is a ``042`` waiting for repair). Exact holders are tracked by the simulation as
    they move."""
    held: set[str] = set()
    never: set[str] = set()
    for user in account.users:
        if user.extension is None:
            continue
        meant = stands_for(user.extension)
        held.add(user.extension)
        if meant is not None:
            held.add(meant)
            if meant != user.extension and user.id not in movers:
                never.add(meant)
    return held, never


@dataclass
class _Schedule:
    steps: list[Step]
    blocked: list[Finding]


def _schedule(
    holding: Mapping[int, str | None],
    movers: Sequence[PlanRow],
    warm: tuple[set[str], set[str]],
) -> _Schedule:
    """Chains first, the order people expect. A chain that ends by giving an extension to
    a user who held none (or shared one) spends a free extension for good; when those
    spend the last one a cycle could park on, the same writes are ordered again with those
    chains held back until every cycle is done. No write can add a free extension, so
    holding them back is never worse: a plan is blocked only when no safe order exists."""
    chains_first = _Scheduler(holding, movers, warm, hold_back=False).run()
    if not chains_first.blocked:
        return chains_first
    return _Scheduler(holding, movers, warm, hold_back=True).run()


class _Scheduler:
    """Simulates the writes, so every emitted step is safe in the state it runs in.

    With ``hold_back``, a ready write that spends a free extension for good waits until no
    cycle is left, unless a cycle waits for it: its user shares the extension a cycle
    member wants, and must leave it before the cycle can turn."""

    def __init__(
        self,
        holding: Mapping[int, str | None],
        movers: Sequence[PlanRow],
        warm: tuple[set[str], set[str]],
        *,
        hold_back: bool,
    ) -> None:
        self.where = dict(holding)
        self.holders: dict[str, set[int]] = defaultdict(set)
        for user_id, ext in holding.items():
            if ext is not None:
                self.holders[ext].add(user_id)
        self.pending = {row.user_id: row for row in movers}
        self.wanting = {row.to_ext: row for row in movers if row.to_ext is not None}
        self.held_before, self.never = warm
        self.ready = [(r.line, r.user_id) for r in movers if not self._held(r.to_ext)]
        heapq.heapify(self.ready)
        self.hold_back = hold_back
        self.held_back: set[tuple[int, int]] = set()
        self.steps: list[Step] = []
        self.parking: str | None = None

    def run(self) -> _Schedule:
        while self.pending:
            self._drain_ready()
            if not self.pending:
                break
            cycle = self._next_cycle()
            if not cycle and self.held_back:
                self._release_held_back()
                continue
            if self.parking is None:
                self.parking = self._free_extension()
            if self.parking is None or not cycle:
                return _Schedule([], self._blocked_cycles())
            self._move(cycle[0], self.parking, parking=True)
        return _Schedule(self.steps, [])

    def _held(self, ext: str | None) -> bool:
        return ext is not None and bool(self.holders.get(ext))

    def _drain_ready(self) -> None:
        while self.ready:
            entry = heapq.heappop(self.ready)
            row = self.pending.get(entry[1])
            if row is None or row.to_ext is None or self._held(row.to_ext):
                continue  # moved already, or taken again: its holder's move re-queues it
            if self.hold_back and self._spends(row.user_id) and not self._awaited(row.user_id):
                self.held_back.add(entry)
                continue
            del self.pending[row.user_id]
            self._move(row.user_id, row.to_ext)

    def _release_held_back(self) -> None:
        """No cycle is left: the chains held back can spend their extensions now."""
        self.hold_back = False
        for entry in self.held_back:
            heapq.heappush(self.ready, entry)
        self.held_back.clear()

    def _spends(self, user_id: int) -> bool:
        """Whether moving this user leaves one free extension fewer to park on: it holds
        none (or a value nobody can park on), or still shares it with someone."""
        old = self.where[user_id]
        return (
            old is None
            or not is_extension(old)
            or old in self.never
            or self.holders[old] != {user_id}
        )

    def _awaited(self, user_id: int) -> bool:
        """Whether a cycle waits for this user to move out: following who waits for whom
        from it comes back round."""
        seen: set[int] = set()
        waiter = self._successor(user_id)
        while waiter is not None and waiter not in seen:
            seen.add(waiter)
            waiter = self._successor(waiter)
        return waiter is not None

    def _move(self, user_id: int, to_ext: str, *, parking: bool = False) -> None:
        old = self.where[user_id]
        self.steps.append(Step(user_id, old, to_ext, parking))
        self.where[user_id] = to_ext
        self.holders[to_ext].add(user_id)
        if old is None:
            return
        self.holders[old].discard(user_id)
        waiter = self.wanting.get(old)
        if not self.holders[old] and waiter is not None and waiter.user_id in self.pending:
            heapq.heappush(self.ready, (waiter.line, waiter.user_id))

    def _successor(self, user_id: int) -> int | None:
        """The pending user waiting for ``user_id`` to move out."""
        ext = self.where[user_id]
        waiter = self.wanting.get(ext) if ext is not None else None
        return waiter.user_id if waiter is not None and waiter.user_id in self.pending else None

    def _cycle_from(self, start: int) -> list[int]:
        path = [start]
        current = self._successor(start)
        while current is not None and current != start and len(path) <= len(self.pending):
            path.append(current)
            current = self._successor(current)
        return path if current == start else []

    def _cycles(self) -> list[list[int]]:
        """The cycles among pending users, each from its lowest line, lowest line first.
        Walks each user once: a walk that ends, or joins an earlier walk, found no new
        cycle."""
        on_cycle: list[int] = []
        walked: set[int] = set()
        for start in self.pending:
            path: dict[int, None] = {}
            node: int | None = start
            while node is not None and node not in walked and node not in path:
                path[node] = None
                node = self._successor(node)
            if node is not None and node in path:
                members = list(path)
                on_cycle.extend(members[members.index(node) :])
            walked.update(path)
        cycles: list[list[int]] = []
        placed: set[int] = set()
        for user_id in sorted(on_cycle, key=lambda u: (self.pending[u].line, u)):
            if user_id not in placed:
                cycles.append(self._cycle_from(user_id))
                placed.update(cycles[-1])
        return cycles

    def _next_cycle(self) -> list[int]:
        """The cycle of the lowest-line pending user on one, that user first; [] when no
        pending user is on a cycle."""
        return next(iter(self._cycles()), [])

    def _free_extension(self) -> str | None:
        """Cold first; then one the chains freed; then one a held-back chain will take
        once the cycles are done (nothing else can be free then)."""
        free = [e for e in DEFAULT_ORDER if not self._held(e) and e not in self.never]
        cold = (e for e in free if e not in self.held_before and e not in self.wanting)
        freed = (e for e in free if not self._wanted_by_pending(e))
        return next(cold, None) or next(freed, None) or next(iter(free), None)

    def _wanted_by_pending(self, ext: str) -> bool:
        row = self.wanting.get(ext)
        return row is not None and row.user_id in self.pending

    def _blocked_cycles(self) -> list[Finding]:
        # A user on no cycle waits for one (or for a chain held back): not named.
        cycles = self._cycles() or [[user_id] for user_id in self.pending]
        # Listed as "wants what the next one holds", the way people read a rotation.
        return [
            self._cycle_finding([self.pending[u] for u in [members[0], *reversed(members[1:])]])
            for members in cycles
        ]

    def _cycle_finding(self, members: Sequence[PlanRow]) -> Finding:
        first = members[0]
        moves = listed(f"{r.user_id} {r.from_ext}→{r.to_ext}" for r in members)
        return _row_finding(
            BLOCKED,
            first,
            f"users {moves} form a cycle; breaking it needs one free extension to park a "
            "user, and none is free (free one extension first)",
        )
