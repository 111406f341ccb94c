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
   still waiting. Rounds stop when one places nobody.
4. Users still waiting whose ranges are full of other waiting users trade places in
   cycles (see :class:`_Swaps`); the rest are unplaceable.

So outside swaps a user only moves onto an extension that is free when they move: those
moves form chains, which the importer orders; a swap is a cycle, which it breaks by
parking one user on a free extension (so swaps are only proposed when one exists). The
result is a fixed point (renumbering it again moves nobody), deterministic whatever order
the users come in, and never gives one extension to two users.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from aircall_ext.api.models import User
from aircall_ext.core.account import Account
from aircall_ext.core.csvfile import EXPORT_COLUMNS
from aircall_ext.core.extensions import is_extension
from aircall_ext.core.findings import who
from aircall_ext.core.freeext import ALL_EXTENSIONS, stands_for
from aircall_ext.core.numbering import Allowance, AppliedPlan, Breach, judge

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
    swapped: int = 0  # moves onto an extension another mover leaves, in a cycle

    def rows(self) -> list[dict[str, object]]:
        """The desired state in the import format (:data:`ROW_COLUMNS`): moved users only,
        so importing it touches nobody else."""
        return [move.row() for move in self.moves]

    def desired(self) -> dict[int, str]:
        return {move.user.id: move.to_ext for move in self.moves}


def renumber(applied: AppliedPlan, account: Account) -> Renumbering:
    """Move every user who breaks the plan to the lowest free extension they may hold."""
    return _Renumberer(applied, account).run()


def breach_text(user: User, breach: Breach, keepers: Mapping[str, int]) -> str:
    """How a message says what is wrong: ``holds 150, outside what they may use``.

    ``keepers`` is :attr:`~aircall_ext.core.numbering.Judgement.keepers`."""
    extension = user.extension
    if breach == "missing" or extension is None:
        return "has no extension"
    if breach == "invalid":
        return f"holds the malformed value {extension!r}"
    if breach == "reserved":
        return f"holds {extension}, which the plan reserves"
    if breach == "out-of-range":
        return f"holds {extension}, outside what they may use"
    return f"shares {extension} with user {keepers[extension]}, who keeps it"


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
        judgement = judge(applied, account)
        self.breaches = judgement.breaches
        self.keepers = judgement.keepers
        self.pending = dict(self.breaches)
        self.allowances = {uid: applied.allowance_for(uid) for uid in self.pending}
        self.queue = sorted(self.pending, key=lambda uid: (len(self.allowances[uid].order), uid))
        # Who might be repaired: a waiting user's value only changes when they are placed.
        self.damaged = [
            user_id
            for user_id in sorted(self.pending)
            if (value := self.where[user_id]) is not None and not is_extension(value)
        ]
        self.ranks: dict[int, dict[str, int]] = {}
        self.placed: dict[int, str] = {}
        self.wordings: dict[Allowance, tuple[str, str]] = {}

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
            self.queue = [user_id for user_id in self.queue if user_id in self.pending]
        swaps = _Swaps(self).find()
        self._apply(swaps)
        return self._result(rounds, len(swaps))

    def _repairs(self) -> list[tuple[int, str]]:
        """Damaged values given back the extension they stand for, where that is allowed and
        nobody else holds or claims it (a claim that stays would block the import)."""
        moves = []
        for user_id in self.damaged:
            if user_id not in self.pending:
                continue
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
        left: dict[int, list[str]] = {}  # allowance -> what it may still be given, last first
        given: set[str] = set()
        moves = []
        pending, allowances = self.pending, self.allowances
        for user_id in self.queue:
            if user_id not in pending or user_id in repaired:
                continue
            allowance = allowances[user_id]
            options = left.get(id(allowance))
            if options is None:
                options = left[id(allowance)] = self._candidates(allowance, pool)[::-1]
            while options and options[-1] in given:
                options.pop()
            if options:
                extension = options.pop()
                given.add(extension)
                moves.append((user_id, extension))
        return moves

    def _candidates(self, allowance: Allowance, pool: set[str] | None) -> list[str]:
        if pool is None:
            return [e for e in allowance.order if not self.taken(e)]
        rank = self.rank(allowance)
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

    def rank(self, allowance: Allowance) -> dict[str, int]:
        """Each extension of ``allowance`` -> its place in the hand-out order."""
        rank = self.ranks.get(id(allowance))
        if rank is None:
            rank = self.ranks[id(allowance)] = {e: i for i, e in enumerate(allowance.order)}
        return rank

    def _result(self, rounds: int, swapped: int) -> Renumbering:
        moves = sorted(
            (Move(self._user(uid), ext, self.breaches[uid]) for uid, ext in self.placed.items()),
            key=lambda m: (m.to_ext, m.user.id),
        )
        unplaced = [self._unplaced(uid, breach) for uid, breach in sorted(self.pending.items())]
        return Renumbering(tuple(moves), tuple(unplaced), rounds, swapped)

    def _user(self, user_id: int) -> User:
        user = self.account.user_by_id(user_id)
        assert user is not None
        return user

    def _unplaced(self, user_id: int, breach: Breach) -> Unplaced:
        user = self._user(user_id)
        allowance = self.allowances[user_id]
        whose, full = self._wording(allowance)
        message = f"{who(user)}, in {whose}, {breach_text(user, breach, self.keepers)}, and {full}"
        return Unplaced(user, breach, allowance.teams, message)

    def _wording(self, allowance: Allowance) -> tuple[str, str]:
        """Whom ``allowance`` applies to, and what is full: worded once per allowance, not
        for each of the thousands of users an account may be unable to place."""
        wording = self.wordings.get(allowance)
        if wording is None:
            if allowance.ranges is None:
                full = "no extension is free in the account"
            else:
                full = f"no extension of {allowance.ranges_text} is free"
            wording = self.wordings[allowance] = (allowance.who, full)
        return wording


class _Swaps:
    """Waiting users whose ranges are full of other waiting users trade places.

    Only a cycle can still place them (a chain would end on a free extension, which the
    rounds would have found): Sales people on Support's extensions and Support people on
    Sales' is a swap. Users are grouped by allowance; group X points at group Y when a
    user of Y holds an extension X may have, and the shortest cycle of groups through each
    group in turn (in queue order) is taken until none is left. Each receiver takes the
    lowest extension of their allowance the next group offers. The importer breaks a cycle
    by parking one user on a free extension (never a reserved one), so there must be one,
    or nobody swaps.
    """

    def __init__(self, renumberer: _Renumberer) -> None:
        self.r = renumberer
        self.givers: dict[int, list[int]] = defaultdict(list)  # group -> users, queue order
        self.allowance: dict[int, Allowance] = {}
        for user_id in renumberer.queue:
            if user_id in renumberer.pending and self._can_give(user_id):
                group = id(renumberer.allowances[user_id])
                self.givers[group].append(user_id)
                self.allowance[group] = renumberer.allowances[user_id]

    def _can_give(self, user_id: int) -> bool:
        """Holds alone an extension someone else could be given (not reserved, not claimed)."""
        value = self.r.where[user_id]
        return (
            value is not None
            and is_extension(value)
            and self.r.holders.get(value) == {user_id}
            and value not in self.r.reserved
            and not self.r.claimants.get(value)
        )

    def find(self) -> list[tuple[int, str]]:
        if all(self.r.taken(e) for e in ALL_EXTENSIONS):
            return []  # nowhere to park (never a reserved one): no cycle could be broken
        moves: list[tuple[int, str]] = []
        for start in list(self.givers):
            while cycle := self._cycle(start):
                for receiver, giver in cycle:
                    extension = self.r.where[giver]
                    assert extension is not None
                    moves.append((receiver, extension))
                for receiver, _ in cycle:
                    self.givers[id(self.r.allowances[receiver])].remove(receiver)
        return moves

    def _pick(self, receivers: int, givers: int) -> int | None:
        """The user of group ``givers`` holding the lowest extension ``receivers`` may have."""
        rank = self.r.rank(self.allowance[receivers])
        offered = [u for u in self.givers[givers] if self.r.where[u] in rank]
        return min(offered, key=lambda u: rank[self.r.where[u] or ""], default=None)

    def _cycle(self, start: int) -> list[tuple[int, int]]:
        """(receiver, giver) pairs of the shortest cycle of groups through ``start``."""
        if not self.givers[start]:
            return []
        came_from: dict[int, tuple[int, int]] = {}  # group -> (previous group, its giver)
        frontier = [start]
        while frontier:
            following = []
            for group in frontier:
                closing = self._pick(group, start) if group != start else None
                if closing is not None:
                    return self._pairs(start, group, closing, came_from)
                for other in self.givers:
                    if other == start or other in came_from or not self.givers[other]:
                        continue
                    giver = self._pick(group, other)
                    if giver is not None:
                        came_from[other] = (group, giver)
                        following.append(other)
            frontier = following
        return []

    def _pairs(
        self, start: int, last: int, closing: int, came_from: dict[int, tuple[int, int]]
    ) -> list[tuple[int, int]]:
        """Walk back from ``last``: each group's giver receives from the next group's."""
        givers = [closing]  # start's user, who gives to ``last``'s user
        group = last
        while group != start:
            previous, giver = came_from[group]
            givers.append(giver)
            group = previous
        # givers: [start's, last's, ..., the second group's]; each receives from the one
        # before it in this list, and start's user receives from the second group's.
        return [(givers[i], givers[i - 1]) for i in range(1, len(givers))] + [
            (givers[0], givers[-1])
        ]
