"""Renumbering: the desired state that makes an account keep to its numbering plan.

Every user who breaks the plan (see :func:`~aircall_ext.core.numbering.breaches`) is put
on the lowest free extension they may hold; everyone else stays where they are. It runs
in rounds, simulating the writes:

1. A user whose damaged value stands for an extension they may hold (``42`` for ``042``)
   gets that extension back when nobody holds it and no other damaged value stands for it
   (two claimants are placed like everyone else until one is left).
2. The others are placed one by one, fewest allowed extensions first (then by user id, so
   a member of one team is not crowded out by a member of two), each on the lowest
   extension of their allowance that nobody holds, is reserved or claimed by a damaged
   value at that moment.
3. The round's moves are made; what they vacate is offered in the next round to the users
   still waiting. Rounds stop when one places nobody: those users are unplaceable.

So a user only ever moves onto an extension that is free when they move: the moves form
chains and never cycles, and the import that applies them needs no parking. The result
is a fixed point (renumbering it again moves nobody), deterministic, and never gives one
extension to two users.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from aircall_ext.api.models import User
from aircall_ext.core.account import Account
from aircall_ext.core.csvfile import EXPORT_COLUMNS
from aircall_ext.core.desired import describe
from aircall_ext.core.extensions import is_extension
from aircall_ext.core.freeext import stands_for
from aircall_ext.core.numbering import Allowance, AppliedPlan, Breach, breaches

ROW_COLUMNS = EXPORT_COLUMNS  # the import format, as ``export`` writes it


@dataclass(frozen=True)
class Move:
    user: User
    to_ext: str
    breach: Breach  # why the user had to move

    @property
    def from_ext(self) -> str | None:
        return self.user.extension

    def row(self) -> dict[str, object]:
        return {
            "user_id": self.user.id,
            "email": self.user.email,
            "name": self.user.name,
            "extension": self.to_ext,
        }


@dataclass(frozen=True)
class Unplaced:
    user: User
    breach: Breach
    teams: tuple[str, ...]  # the plan teams the user is in; () for none
    message: str  # who, why they break the plan, and which ranges are full


@dataclass(frozen=True)
class Renumbering:
    moves: tuple[Move, ...]  # by target extension
    unplaced: tuple[Unplaced, ...]  # by user id
    rounds: int

    def rows(self) -> list[dict[str, object]]:
        """The desired state in the import format (:data:`ROW_COLUMNS`): moved users only,
        so importing it touches nobody else."""
        return [move.row() for move in self.moves]

    def desired(self) -> dict[int, str]:
        return {move.user.id: move.to_ext for move in self.moves}


def renumber(applied: AppliedPlan, account: Account) -> Renumbering:
    """Move every user who breaks the plan to the lowest free extension they may hold."""
    return _Renumberer(applied, account).run()


def breach_text(user: User, breach: Breach, account: Account) -> str:
    """How a message says what is wrong: ``holds 150, outside what they may use``."""
    extension = user.extension
    if breach == "missing" or extension is None:
        return "has no extension"
    if breach == "invalid":
        return f"holds the malformed value {extension!r}"
    if breach == "reserved":
        return f"holds {extension}, which the plan reserves"
    if breach == "out-of-range":
        return f"holds {extension}, outside what they may use"
    keeper = min(u.id for u in account.holders(extension) if u.id != user.id)
    return f"shares {extension} with user {keeper}, who keeps it"


class _Renumberer:
    def __init__(self, applied: AppliedPlan, account: Account) -> None:
        self.applied = applied
        self.account = account
        self.reserved = applied.plan.reserved
        self.where: dict[int, str | None] = {u.id: u.extension for u in account.users}
        self.holders: dict[str, set[int]] = defaultdict(set)
        self.claimants: dict[str, set[int]] = defaultdict(set)
        for user in account.users:
            self._occupy(user.id, user.extension)
        self.breaches = breaches(applied, account)
        self.pending = dict(self.breaches)
        self.allowances = {uid: applied.allowance_for(uid) for uid in self.pending}
        self.queue = sorted(self.pending, key=lambda uid: (len(self.allowances[uid].order), uid))
        self.ranks: dict[int, dict[str, int]] = {}
        self.placed: dict[int, str] = {}

    def _occupy(self, user_id: int, value: str | None) -> None:
        if value is None:
            return
        if is_extension(value):
            self.holders[value].add(user_id)
        elif (meant := stands_for(value)) is not None:
            self.claimants[meant].add(user_id)

    def _vacate(self, user_id: int, value: str | None) -> str | None:
        """Take ``user_id`` off ``value``; the extension that frees, if it does."""
        if value is None:
            return None
        if is_extension(value):
            self.holders[value].discard(user_id)
            return value
        meant = stands_for(value)
        if meant is None:
            return None
        self.claimants[meant].discard(user_id)
        return meant

    def taken(self, extension: str) -> bool:
        return (
            extension in self.reserved
            or bool(self.holders.get(extension))
            or bool(self.claimants.get(extension))
        )

    def run(self) -> Renumbering:
        rounds = 0
        pool: set[str] | None = None  # None: every extension (the first round)
        while self.pending:
            rounds += 1
            repairs = self._repairs()
            moves = repairs + self._placements(pool, {user_id for user_id, _ in repairs})
            if not moves:
                break
            pool = self._apply(moves)
        return self._result(rounds)

    def _repairs(self) -> list[tuple[int, str]]:
        """Damaged values given back the extension they stand for, where that is allowed and
        nobody else holds or claims it (a claim that stays would block the import)."""
        moves = []
        for user_id in sorted(self.pending):
            value = self.where[user_id]
            meant = stands_for(value) if value is not None else None
            if (
                meant is not None
                and meant != value
                and meant in self.allowances[user_id].allowed
                and not self.holders.get(meant)
                and self.claimants[meant] == {user_id}
            ):
                moves.append((user_id, meant))
        return moves

    def _placements(self, pool: set[str] | None, repaired: set[int]) -> list[tuple[int, str]]:
        """Each waiting user, in queue order, on the lowest untaken extension they may hold.

        After the first round only ``pool`` (what the last round vacated) can help: any
        other extension a waiting user may hold was already taken when they were passed
        over, and still is."""
        candidates: dict[int, list[str]] = {}
        cursor: dict[int, int] = {}
        given: set[str] = set()
        moves = []
        for user_id in self.queue:
            if user_id not in self.pending or user_id in repaired:
                continue
            allowance = self.allowances[user_id]
            key = id(allowance)
            if key not in candidates:
                candidates[key] = self._candidates(allowance, pool)
                cursor[key] = 0
            options, index = candidates[key], cursor[key]
            while index < len(options) and options[index] in given:
                index += 1
            cursor[key] = index
            if index < len(options):
                given.add(options[index])
                moves.append((user_id, options[index]))
        return moves

    def _candidates(self, allowance: Allowance, pool: set[str] | None) -> list[str]:
        if pool is None:
            return [e for e in allowance.order if not self.taken(e)]
        rank = self.ranks.get(id(allowance))
        if rank is None:
            rank = self.ranks[id(allowance)] = {e: i for i, e in enumerate(allowance.order)}
        return sorted((e for e in pool if e in rank and not self.taken(e)), key=rank.__getitem__)

    def _apply(self, moves: Iterable[tuple[int, str]]) -> set[str]:
        """Make the round's moves; return the extensions they vacate."""
        freed: set[str] = set()
        for user_id, extension in moves:
            old = self.where[user_id]
            vacated = self._vacate(user_id, old)
            if vacated is not None:
                freed.add(vacated)
            self.where[user_id] = extension
            self._occupy(user_id, extension)
            self.placed[user_id] = extension
            del self.pending[user_id]
        return freed

    def _result(self, rounds: int) -> Renumbering:
        moves = sorted(
            (Move(self._user(uid), ext, self.breaches[uid]) for uid, ext in self.placed.items()),
            key=lambda m: (m.to_ext, m.user.id),
        )
        unplaced = [self._unplaced(uid, breach) for uid, breach in sorted(self.pending.items())]
        return Renumbering(tuple(moves), tuple(unplaced), rounds)

    def _user(self, user_id: int) -> User:
        user = self.account.user_by_id(user_id)
        assert user is not None
        return user

    def _unplaced(self, user_id: int, breach: Breach) -> Unplaced:
        user = self._user(user_id)
        allowance = self.allowances[user_id]
        if allowance.ranges is None:
            full = "no extension is free in the account"
        else:
            full = f"no extension of {allowance.ranges_text} is free"
        message = (
            f"{describe(user)}, in {allowance.who}, {breach_text(user, breach, self.account)}, "
            f"and {full}"
        )
        return Unplaced(user, breach, allowance.teams, message)
