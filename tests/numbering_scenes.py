"""Numbering plans and accounts for the tests: written as TOML text, generated at random.

Random plans are cut from 000-999 at random boundaries, each piece going to a team, to the
default, or to nobody, so they never overlap; random accounts hold valid, shared, missing
and damaged extensions, with team members drawn from the plan's teams and others.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from hypothesis import strategies as st

from aircall_ext.api.models import User
from aircall_ext.core.account import Account
from aircall_ext.core.numbering import AppliedPlan, NumberingPlan, parse_plan

DAMAGED = ("42", "7", "101.0", "1.01E+02", " 150", "abc", "", "2OO")
TEAM_NAMES = ("Sales", "Customer Support", "Café", "Ops", "夜班", "R&D")


def plan_text(
    teams: Mapping[str, Sequence[str]],
    *,
    default: Sequence[str] | None = None,
    reserved: Iterable[str] = (),
) -> str:
    """A plan file as an admin writes it (names quoted as TOML needs)."""
    lines = [f"reserved = {json.dumps(list(reserved))}"]
    if default is not None:
        lines.append(f"default = {json.dumps(list(default))}")
    lines.append("[teams]")
    lines += [f"{json.dumps(name)} = {json.dumps(list(ranges))}" for name, ranges in teams.items()]
    return "\n".join(lines) + "\n"


def ext(number: int) -> str:
    return f"{number:03d}"


@dataclass(frozen=True)
class Scene:
    plan: NumberingPlan
    account: Account
    teams: tuple[tuple[str, tuple[int, ...]], ...]  # as GET /v1/teams gives them

    @property
    def applied(self) -> AppliedPlan:
        return AppliedPlan(self.plan, self.teams)


@st.composite
def plans(draw: st.DrawFn) -> NumberingPlan:
    """A valid plan: up to 5 teams (one or two ranges each), maybe a default, reserved ones."""
    cuts = sorted(draw(st.sets(st.integers(1, 999), max_size=12)))
    bounds = [0, *cuts, 1000]
    pieces = [(bounds[i], bounds[i + 1] - 1) for i in range(len(bounds) - 1)]
    names = draw(st.lists(st.sampled_from(TEAM_NAMES), unique=True, max_size=5))
    owners = [None, "default", *names]
    teams: dict[str, list[str]] = {}
    default: list[str] | None = None
    for first, last in pieces:
        owner = draw(st.sampled_from(owners))
        text = f"{ext(first)}-{ext(last)}"
        if owner == "default":
            default = [*(default or []), text]
        elif owner is not None and len(teams.get(owner, [])) < 2:
            teams.setdefault(owner, []).append(text)
    reserved = draw(st.sets(st.integers(0, 999).map(ext), max_size=6))
    reserved |= draw(st.sets(st.sampled_from(["100", "911", "000"]), max_size=3))
    return parse_plan(plan_text(teams, default=default, reserved=sorted(reserved)), "plan.toml")


@st.composite
def scenes(draw: st.DrawFn, max_users: int = 1000) -> Scene:
    """A random plan and a random account: drawn as knobs and a seed (fast at 1,000 users)."""
    plan = draw(plans())
    size = draw(st.integers(0, max_users))
    spread = draw(st.integers(1, 1000))  # fewer distinct extensions -> more collisions
    missing = draw(st.floats(0, 0.3))
    damaged = draw(st.floats(0, 0.1))
    in_teams = draw(st.floats(0, 1))
    # Crowded: every extension in a team's range, so ranges fill up with other teams'
    # members and only swaps can place them.
    crowded = draw(st.booleans())
    rng = random.Random(draw(st.integers(0, 2**32)))
    base = rng.randrange(1000)
    in_ranges = [e for ranges in plan.teams.values() for r in ranges for e in r.range.candidates()]
    rng.shuffle(in_ranges)
    users = []
    for user_id in range(1, size + 1):
        roll = rng.random()
        if roll < missing:
            extension: str | None = None
        elif roll < missing + damaged:
            extension = rng.choice(DAMAGED)
        elif crowded and in_ranges:
            extension = in_ranges.pop()
        else:
            extension = ext((base + rng.randrange(spread)) % 1000)
        users.append(
            User(
                id=user_id * 7 % 10007,  # distinct, and not in account order
                email=f"u{user_id}@example.com",
                name=f"User {user_id}",
                extension=extension,
                outgoing_only=rng.random() < 0.05,
            )
        )
    rng.shuffle(users)
    account_names = [*plan.teams, "Unplanned"]
    account_names = [n for n in account_names if rng.random() < 0.85]  # some plan teams lack
    if crowded and plan.teams:  # everyone in one team of the plan, as a tidy account is
        chosen = {u.id: rng.choice(list(plan.teams)) for u in users}
        teams = tuple(
            (name, tuple(uid for uid, team in chosen.items() if team == name))
            for name in account_names
        )
    else:
        teams = tuple(
            (name, tuple(u.id for u in users if rng.random() < in_teams / 2))
            for name in account_names
        )
    return Scene(plan, Account.of(users), teams)


def holdings(users: Iterable[User]) -> dict[int, str | None]:
    return {u.id: u.extension for u in users}


def applied_to(account: Account, desired: Mapping[int, str]) -> Account:
    """The account once ``desired`` is written."""
    return Account.of(
        u.model_copy(update={"extension": desired[u.id]}) if u.id in desired else u
        for u in account.users
    )


@st.composite
def full_scenes(draw: st.DrawFn) -> Scene:
    """Every team's range exactly full, of members of random teams, each team as large as
    its range: everyone can be placed, mostly only by swaps. 000-099 stays free to park."""
    sizes = draw(st.lists(st.integers(1, 60), min_size=2, max_size=5))
    names = [f"Team {index}" for index in range(len(sizes))]
    ranges, first = {}, 100
    for name, size in zip(names, sizes, strict=True):
        ranges[name] = [f"{ext(first)}-{ext(first + size - 1)}"]
        first += size
    plan = parse_plan(plan_text(ranges), "plan.toml")
    rng = random.Random(draw(st.integers(0, 2**32)))
    seats = [e for name in names for r in plan.teams[name] for e in r.range.candidates()]
    rng.shuffle(seats)
    members = [name for name, size in zip(names, sizes, strict=True) for _ in range(size)]
    users = [User(id=i + 1, extension=seat) for i, seat in enumerate(seats)]
    teams = tuple(
        (name, tuple(u.id for u, team in zip(users, members, strict=True) if team == name))
        for name in names
    )
    return Scene(plan, Account.of(users), teams)
