"""Numbering plans: which extensions each team may use, written as a small TOML file.

    reserved = ["100", "911"]      # never handed out
    default = "100-199"            # users in no team of the plan (absent: unconstrained)
    [teams]
    Sales = "200-299"
    "Customer Support" = ["300-349", "360-399"]

A plan that cannot be right is refused whole (:class:`UsageError`, exit 2) with the file,
line, column and key, so an admin fixes the file rather than guessing: TOML syntax, an
unknown key, a value of the wrong type, a malformed range or one beyond 000-999, a reserved
value that is not three digits (a TOML number loses leading zeros, so it must be quoted),
two team names equal once Unicode-normalised, and two ranges that share an extension
(teams, the default, or two ranges of one team: every extension has at most one owner).

Applied to an account's teams, a plan says which extensions each user may hold: the union
of the ranges of the plan's teams they belong to, else the default ranges, else anything;
never a reserved one. Team names match after Unicode NFC. Pure: the caller reads the file.
"""

from __future__ import annotations

import difflib
import json
import tomllib
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, NoReturn

from aircall_ext.api.models import User
from aircall_ext.core.account import Account
from aircall_ext.core.extensions import (
    ExtensionProblem,
    is_extension,
    is_missing,
    parse_extension,
)
from aircall_ext.core.findings import plural
from aircall_ext.core.freeext import (
    DEFAULT_ORDER,
    ExtensionRange,
    damaged_claims,
    free_extensions,
    occupied,
    parse_range,
)
from aircall_ext.core.tomlkeys import KeyPath, KeyPositions, locate_keys
from aircall_ext.errors import UsageError

PLAN_KEYS = ("reserved", "default", "teams")

# Why a user breaks the plan, in the order they are judged (the first that applies).
Breach = Literal["missing", "invalid", "reserved", "out-of-range", "shared"]


def nfc(name: str) -> str:
    """A team name as compared: "Café" typed on a Mac and on Windows is one name."""
    return unicodedata.normalize("NFC", name)


@dataclass(frozen=True)
class PlanRange:
    """One range of the plan and its owner (``team`` None: the default range)."""

    team: str | None
    range: ExtensionRange
    line: int  # where the plan file writes it

    @property
    def owner(self) -> str:
        return f"team {self.team}" if self.team is not None else "the default range"

    def __contains__(self, extension: object) -> bool:
        return isinstance(extension, str) and self.range.first <= extension <= self.range.last


@dataclass(frozen=True, eq=False)
class Allowance:
    """The extensions a user may hold, and the order they are handed out in."""

    teams: tuple[str, ...]  # the plan teams that grant it; () for users in none
    ranges: tuple[ExtensionRange, ...] | None  # None: unconstrained (the plan has no default)
    order: tuple[str, ...]  # every allowed extension, lowest first (see allowance())
    allowed: frozenset[str]

    @property
    def who(self) -> str:
        """Whom it applies to: ``team Sales``, ``teams Sales, Support``, ``no team of the plan``."""
        if not self.teams:
            return "no team of the plan"
        return ("team " if len(self.teams) == 1 else "teams ") + ", ".join(self.teams)

    @property
    def ranges_text(self) -> str:
        """``200-299, 300-349``; ``the default range 100-199``; ``any extension``."""
        if self.ranges is None:
            return "any extension"
        text = ", ".join(str(r) for r in self.ranges)
        if self.teams:
            return text
        return f"the default {plural(len(self.ranges), 'range', counted=False)} {text}"


@dataclass(frozen=True, eq=False)
class NumberingPlan:
    source: str  # how messages name the file
    reserved: frozenset[str]
    default: tuple[PlanRange, ...] | None  # None: users in no team are unconstrained
    teams: Mapping[str, tuple[PlanRange, ...]]  # NFC name -> ranges, in the file's order
    team_lines: Mapping[str, int] = field(default_factory=dict)
    # Plan-ordered plan teams -> their allowance: an account's users share a few dozen.
    _allowances: dict[tuple[str, ...], Allowance] = field(
        default_factory=dict, repr=False, compare=False
    )

    def ranges(self) -> tuple[PlanRange, ...]:
        """Every range of the plan, the default's included, lowest first."""
        every = [r for ranges in self.teams.values() for r in ranges] + list(self.default or ())
        return tuple(sorted(every, key=lambda r: r.range.first))

    def ranges_of(self, team: str | None) -> tuple[PlanRange, ...]:
        """A team's ranges (``team_named`` it first), or the default's for None."""
        return self.teams[team] if team is not None else (self.default or ())

    def team_named(self, name: str) -> str:
        """The plan's team NAME means (``--team NAME``), or a usage error listing them."""
        wanted = nfc(name)
        if wanted in self.teams:
            return wanted
        if not self.teams:
            raise UsageError(f"no team {name!r}: the numbering plan {self.source} names no team")
        close = difflib.get_close_matches(wanted, list(self.teams), n=1)
        also = f"; did you mean {close[0]!r}?" if close else ""
        raise UsageError(
            f"no team {name!r} in the numbering plan {self.source}{also} "
            f"(its teams: {', '.join(self.teams)})"
        )

    def allowance(self, teams: tuple[str, ...] = ()) -> Allowance:
        """What members of ``teams`` (plan team names, NFC) may hold; () for no team.

        Lowest first within the ranges; unconstrained users (no default) are handed
        100-999 before 000-099 like ``next-free``, and extensions outside every range of the
        plan before those inside a team's range, so they do not eat a team's space.
        """
        cached = self._allowances.get(teams)  # found at once when in the plan's order
        if cached is None:
            key = tuple(t for t in self.teams if t in teams)
            cached = self._allowances.get(key)
            if cached is None:
                cached = self._allowances[key] = self._build_allowance(key)
        return cached

    def _build_allowance(self, teams: tuple[str, ...]) -> Allowance:
        if teams:
            owned: tuple[PlanRange, ...] | None = tuple(r for t in teams for r in self.teams[t])
        else:
            owned = self.default
        if owned is None:
            planned = self.ranges()
            outside = [e for e in DEFAULT_ORDER if not any(e in r for r in planned)]
            inside = [e for e in DEFAULT_ORDER if any(e in r for r in planned)]
            order = tuple(e for e in [*outside, *inside] if e not in self.reserved)
            return Allowance(teams, None, order, frozenset(order))
        ranges = tuple(sorted((r.range for r in owned), key=lambda r: r.first))
        order = tuple(e for r in ranges for e in r.candidates() if e not in self.reserved)
        return Allowance(teams, ranges, order, frozenset(order))


def next_free(plan: NumberingPlan, account: Account, team: str | None, count: int) -> list[str]:
    """``next-free --team NAME`` (None: the default ranges): the lowest extensions of those
    ranges that nobody holds, never a reserved one nor one a damaged value stands for."""
    allowance = plan.allowance((plan.team_named(team),) if team is not None else ())
    return free_extensions(occupied(account) | plan.reserved, count, allowance.order)


# -- the plan applied to an account's teams ---------------------------------------------


class AppliedPlan:
    """A plan and the account's team membership: who may hold what.

    ``teams`` is each account team's name and its members' user ids (from ``GET /v1/teams``;
    a list of pairs because two teams may bear one name, whose members then add up).
    """

    def __init__(self, plan: NumberingPlan, teams: Iterable[tuple[str, Iterable[int]]]) -> None:
        self.plan = plan
        names: set[str] = set()
        members: dict[int, set[str]] = defaultdict(set)
        for name, user_ids in teams:
            team = nfc(name)
            names.add(team)
            if team in plan.teams:
                for user_id in user_ids:
                    members[user_id].add(team)
        self.account_teams = frozenset(names)
        place = {team: index for index, team in enumerate(plan.teams)}
        self._teams_of = {
            user_id: _in_order(teams_in, place) for user_id, teams_in in members.items()
        }

    def teams_of(self, user_id: int) -> tuple[str, ...]:
        """The plan's teams the user belongs to, in the plan's order."""
        return self._teams_of.get(user_id, ())

    def allowance_for(self, user_id: int) -> Allowance:
        return self.plan.allowance(self._teams_of.get(user_id, ()))  # teams_of, inlined: per user

    def may_hold(self, user_id: int, extension: str) -> bool:
        return extension in self.allowance_for(user_id).allowed


def _in_order(teams: set[str], place: dict[str, int]) -> tuple[str, ...]:
    # Most users are in one team: no sort to pay for on 10,000 of them.
    return tuple(teams) if len(teams) == 1 else tuple(sorted(teams, key=place.__getitem__))


def lowest_free_for(applied: AppliedPlan, account: Account, user: User) -> str | None:
    """``assign USER --next``: the lowest extension USER may hold that nobody else holds or
    claims with a damaged value (their own extension counts as free: it may be the answer)."""
    taken = {u.extension for u in account.users if u.id != user.id and u.extension is not None}
    for meant, claimants in damaged_claims(account).items():
        if any(c.id != user.id for c in claimants):
            taken.add(meant)
    return next((e for e in applied.allowance_for(user.id).order if e not in taken), None)


@dataclass(frozen=True)
class Judgement:
    """Who breaks the plan and why, and who keeps each extension shared by its holders."""

    breaches: dict[int, Breach]  # user id -> why; users who keep to the plan are absent
    keepers: dict[str, int]  # a shared extension -> the user id who keeps it


def breaches(applied: AppliedPlan, account: Account) -> dict[int, Breach]:
    """user id -> why that user breaks the plan (see :func:`judge`)."""
    return judge(applied, account).breaches


def judge(applied: AppliedPlan, account: Account) -> Judgement:
    """Why each user breaks the plan; users who keep to it are absent.

    Judged in this order: no extension (outgoing-only users excepted: nobody can dial
    them anyway), a value that is not three digits, a reserved extension, one outside what
    the user may hold, and an extension shared with another user who may hold it. Of the
    holders of a shared extension who may hold it, the lowest user id keeps it.
    """
    found: dict[int, Breach] = {}
    keepers: dict[str, int] = {}
    rightful: dict[str, list[int]] = defaultdict(list)
    for user in account.users:
        breach = _own_breach(applied, user)
        if breach is not None:
            found[user.id] = breach
        elif user.extension is not None and is_extension(user.extension):
            rightful[user.extension].append(user.id)
    for extension, user_ids in rightful.items():
        sharing = len(account.holders(extension)) > 1
        if sharing:
            keeper, *others = sorted(user_ids)
            keepers[extension] = keeper
            for user_id in others:
                found[user_id] = "shared"
    return Judgement(found, keepers)


def _own_breach(applied: AppliedPlan, user: User) -> Breach | None:
    extension = user.extension
    if extension is None or is_missing(extension):
        return None if user.outgoing_only else "missing"
    if not is_extension(extension):
        return "invalid"
    if extension in applied.plan.reserved:
        return "reserved"
    if not applied.may_hold(user.id, extension):
        return "out-of-range"
    return None


# -- reading the plan file --------------------------------------------------------------


def parse_plan(text: str, source: str) -> NumberingPlan:
    """The plan in ``text`` (the file's content; ``source`` names it in messages)."""
    text = text.removeprefix("\ufeff")  # an editor's byte order mark is not content
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise UsageError(_syntax_message(source, text, err)) from None
    except RecursionError:  # tomllib recurses once per nested array or inline table
        raise UsageError(f"{source}: invalid TOML: nested too deeply") from None
    return _PlanReader(source, locate_keys(text), doc).read()


def _syntax_message(source: str, text: str, err: tomllib.TOMLDecodeError) -> str:
    """``FILE:LINE:COL: invalid TOML: ...`` from tomllib's ``... (at line L, column C)``."""
    message = str(err)
    reason, _, where = message.rpartition(" (at ")
    if not reason:
        return f"{source}: invalid TOML: {message}"
    where = where.removesuffix(")")
    if where == "end of document":
        lines = text.split("\n")
        line, column = len(lines), len(lines[-1]) + 1
    else:
        try:
            line_text, column_text = where.removeprefix("line ").split(", column ")
            line, column = int(line_text), int(column_text)
        except ValueError:
            return f"{source}: invalid TOML: {message}"
    return f"{source}:{line}:{column}: invalid TOML: {reason}"


def key_text(path: KeyPath) -> str:
    """A key path as written in TOML: ``teams."Customer Support"``, ``reserved[1]``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            bare = part and all(c.isascii() and (c.isalnum() or c in "-_") for c in part)
            shown = part if bare else json.dumps(part, ensure_ascii=False)
            text += f".{shown}" if text else shown
    return text


class _PlanReader:
    def __init__(self, source: str, positions: KeyPositions, doc: Mapping[str, Any]) -> None:
        self.source = source
        self.positions = positions
        self.doc = doc
        self.placed: list[tuple[KeyPath, PlanRange]] = []

    def fail(
        self, path: KeyPath, message: str, *, at: Literal["key", "value"] = "value"
    ) -> NoReturn:
        raise UsageError(f"{self.where(path, at)}: {key_text(path)}: {message}")

    def where(self, path: KeyPath, at: Literal["key", "value"] = "value") -> str:
        place = self.positions.nearest(path)
        if place is None:
            return self.source
        position = place.key if at == "key" else place.value
        return f"{self.source}:{position.line}:{position.column}"

    def line(self, path: KeyPath) -> int:
        place = self.positions.nearest(path)
        return place.value.line if place else 0

    def read(self) -> NumberingPlan:
        for key in self.doc:
            if key not in PLAN_KEYS:
                close = difflib.get_close_matches(key, PLAN_KEYS, n=1)
                also = f"did you mean {close[0]}? " if close else ""
                self.fail(
                    (key,),
                    f"unknown key: {also}a plan has reserved, default and [teams]",
                    at="key",
                )
        reserved = self.reserved()
        default = self.default()
        teams, team_lines = self.teams()
        self.check_overlaps()
        return NumberingPlan(self.source, reserved, default, teams, team_lines)

    def reserved(self) -> frozenset[str]:
        value = self.doc.get("reserved", [])
        if not isinstance(value, list):
            self.fail(("reserved",), f'must be a list of extensions, e.g. ["911"]; {_found(value)}')
        found: set[str] = set()
        for index, item in enumerate(value):
            found.add(self.reserved_value(("reserved", index), item))
        return frozenset(found)

    def reserved_value(self, path: KeyPath, item: object) -> str:
        if isinstance(item, int) and not isinstance(item, bool) and 0 <= item <= 999:
            if item >= 100:
                advice = f'write "{item}" in quotes: an extension is text, as "007" shows'
            else:
                advice = (
                    f'write "{item:03d}" in quotes if that is the extension: '
                    "a number has no leading zeros"
                )
            self.fail(path, f"{item} is a number; {advice}")
        if not isinstance(item, str):
            self.fail(path, f'must be an extension in quotes, e.g. "911"; {_found(item)}')
        parsed = parse_extension(item)
        if isinstance(parsed, ExtensionProblem) or parsed != item:
            reason = parsed.reason if isinstance(parsed, ExtensionProblem) else "has padding"
            self.fail(path, f"a reserved extension is 3 digits: {reason}")
        return item

    def default(self) -> tuple[PlanRange, ...] | None:
        if "default" not in self.doc:
            return None
        return self.ranges(("default",), self.doc["default"], None)

    def teams(self) -> tuple[dict[str, tuple[PlanRange, ...]], dict[str, int]]:
        value = self.doc.get("teams", {})
        if not isinstance(value, dict):
            self.fail(
                ("teams",),
                f'must be a table: a [teams] line, then one line per team (Sales = "200-299"); '
                f"{_found(value)}",
            )
        teams: dict[str, tuple[PlanRange, ...]] = {}
        lines: dict[str, int] = {}
        spelled: dict[str, str] = {}
        for name, ranges in value.items():
            path: KeyPath = ("teams", name)
            team = nfc(name)
            if team in teams:
                self.fail(
                    path,
                    f"the same team as {spelled[team]!r} on line {lines[team]} once "
                    "Unicode-normalised (NFC): keep one of them",
                    at="key",
                )
            spelled[team] = name
            lines[team] = self.line(path)
            teams[team] = self.ranges(path, ranges, team)
        return teams, lines

    def ranges(self, path: KeyPath, value: object, team: str | None) -> tuple[PlanRange, ...]:
        """A range, or a non-empty list of them."""
        if isinstance(value, str):
            return (self.range(path, value, team),)
        if not isinstance(value, list):
            self.fail(
                path, f'must be a range such as "200-299", or a list of them; {_found(value)}'
            )
        if not value:
            self.fail(path, 'has no range: give one ("200-299") or a list of them')
        parsed = []
        for index, item in enumerate(value):
            item_path = (*path, index)
            if not isinstance(item, str):
                self.fail(item_path, f'must be a range such as "200-299"; {_found(item)}')
            parsed.append(self.range(item_path, item, team))
        return tuple(parsed)

    def range(self, path: KeyPath, text: str, team: str | None) -> PlanRange:
        try:
            extension_range = parse_range(text)
        except ValueError as err:
            reason = str(err)
            if repr(text) not in reason:
                reason = f"{text!r} is not a range of extensions: {reason}"
            self.fail(path, reason)
        placed = PlanRange(team, extension_range, self.line(path))
        self.placed.append((path, placed))
        return placed

    def check_overlaps(self) -> None:
        """Two ranges sharing an extension: reported on the one written later."""
        ordered = sorted(self.placed, key=lambda item: _position_key(self, item[0]))
        for later_index, (path, later) in enumerate(ordered):
            for _earlier_path, earlier in ordered[:later_index]:
                first = max(later.range.first, earlier.range.first)
                last = min(later.range.last, earlier.range.last)
                if first > last:
                    continue
                owner = "of the same team" if later.team == earlier.team else f"of {earlier.owner}"
                shared = first if first == last else f"{first}-{last}"
                self.fail(
                    path,
                    f"range {later.range} overlaps {earlier.range} {owner} (line {earlier.line}) "
                    f"at {shared}: an extension belongs to one range of the plan at most",
                )


def _position_key(reader: _PlanReader, path: KeyPath) -> tuple[int, int]:
    place = reader.positions.nearest(path)
    return (place.value.line, place.value.column) if place else (0, 0)


def _found(value: object) -> str:
    """What the file holds instead, in TOML's words."""
    if isinstance(value, bool):
        return f"found the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"found the number {value}"
    if isinstance(value, str):
        return f"found the string {value!r}"
    if isinstance(value, dict):
        return "found a table"
    if isinstance(value, list):
        return "found a list"
    return "found a date or time"
