"""Numbering plans on a large account, in-process (not a test: pytest does not collect it).

    pip install -e '.[test]'
    python tests/bench/bench_numbering.py [--users 10000] [--teams 20] [--runs 5]

A generated account (``--users`` users: most on an extension, some shared, some missing,
some damaged; members of ``--teams`` teams, a few in two) and a plan giving each team its
own range. Measures, as the median of ``--runs`` wall times: reading the plan, applying it
to the teams, ``validate``'s plan findings, ``renumber``, ``map`` (the picture and the
JSON), and reading back, checking and planning the renumbering CSV as ``import --dry-run``
does. Goal: renumber and map each well under 1 s; the import planning under 2 s.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

from aircall_ext.api.models import User
from aircall_ext.core.account import Account
from aircall_ext.core.csvfile import read_extension_csv
from aircall_ext.core.desired import check_desired
from aircall_ext.core.extmap import build_map
from aircall_ext.core.numbering import AppliedPlan, NumberingPlan, parse_plan
from aircall_ext.core.numbering_checks import plan_findings
from aircall_ext.core.planner import plan_import
from aircall_ext.core.renumber import ROW_COLUMNS, renumber
from aircall_ext.output import render_csv

DAMAGED = ("42", "7", "101.0", "1.01E+02", " 150")


def plan_text(teams: int) -> str:
    """Team i owns 30 extensions from 200 on; the default is 100-199."""
    lines = ['reserved = ["100", "911", "999"]', 'default = "100-199"', "[teams]"]
    for index in range(teams):
        first = 200 + 30 * index
        lines.append(f'"Team {index + 1:02d}" = "{first:03d}-{first + 29:03d}"')
    return "\n".join(lines) + "\n"


def account(
    users: int, teams: int, *, held: int, seed: int = 7
) -> tuple[Account, list[tuple[str, list[int]]]]:
    """``held`` users on random extensions (so some shared), a few damaged, the rest none;
    70 % in one team, 5 % in a second."""
    rng = random.Random(seed)
    people = []
    for user_id in range(1, users + 1):
        extension: str | None = None
        if user_id <= held:
            damaged = rng.random() < 0.02
            extension = rng.choice(DAMAGED) if damaged else f"{rng.randrange(1000):03d}"
        people.append(User(id=user_id, email=f"u{user_id}@example.com", extension=extension))
    rng.shuffle(people)
    members: list[tuple[str, list[int]]] = [(f"Team {i + 1:02d}", []) for i in range(teams)]
    for user_id in range(1, users + 1):
        if rng.random() < 0.7:
            members[rng.randrange(teams)][1].append(user_id)
        if rng.random() < 0.05:
            members[rng.randrange(teams)][1].append(user_id)
    return Account.of(people), members


def sandbox_like(users: int, teams: int) -> tuple[Account, list[tuple[str, list[int]]]]:
    """Like ``sandbox reset --users N``: the first 1,000 on unique extensions, the rest none."""
    rng = random.Random(3)
    extensions: list[str | None] = [f"{n:03d}" for n in rng.sample(range(1000), min(users, 1000))]
    extensions += [None] * (users - len(extensions))
    people = [
        User(id=index + 1, email=f"u{index + 1}@example.com", extension=extension)
        for index, extension in enumerate(extensions)
    ]
    members: list[tuple[str, list[int]]] = [(f"Team {i + 1:02d}", []) for i in range(teams)]
    for person in people:
        if rng.random() < 0.7:
            members[rng.randrange(teams)][1].append(person.id)
    return Account.of(people), members


def crowded(
    users: int, teams: int, plan: NumberingPlan
) -> tuple[Account, list[tuple[str, list[int]]]]:
    """Every team extension held, by a member of a random team (the rest: no extension):
    most have to swap."""
    rng = random.Random(5)
    seats = [e for ranges in plan.teams.values() for r in ranges for e in r.range.candidates()]
    rng.shuffle(seats)
    people = [
        User(
            id=i + 1, email=f"u{i + 1}@example.com", extension=seats[i] if i < len(seats) else None
        )
        for i in range(users)
    ]
    names = list(plan.teams)
    members: dict[str, list[int]] = {name: [] for name in names}
    for person in people:
        members[rng.choice(names)].append(person.id)
    return Account.of(people), list(members.items())


def median_seconds(function: Callable[[], Any], runs: int) -> tuple[float, Any]:
    times = []
    result = None
    for _ in range(runs):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--teams", type=int, default=20)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    text = plan_text(args.teams)
    scenes = {
        "sandbox-like (1,000 unique, the rest none)": sandbox_like(args.users, args.teams),
        "busy (800 random, shared and damaged)": account(args.users, args.teams, held=800),
        "crowded (team ranges full of other teams)": crowded(
            args.users, args.teams, parse_plan(text, "plan.toml")
        ),
    }
    print(f"{args.users:,} users, {args.teams} teams; median of {args.runs} runs")
    for title, (users, teams) in scenes.items():
        print(title)
        for name, seconds, detail in measure(text, users, teams, args.runs):
            print(f"  {name:<32} {seconds * 1000:8.1f} ms  {detail}")


def measure(
    text: str, users: Account, teams: list[tuple[str, list[int]]], runs: int
) -> list[tuple[str, float, str]]:
    figures: list[tuple[str, float, str]] = []
    seconds, plan = median_seconds(lambda: parse_plan(text, "plan.toml"), runs)
    figures.append(("read the plan", seconds, f"{len(plan.teams)} teams"))
    seconds, _ = median_seconds(lambda: AppliedPlan(plan, teams), runs)
    figures.append(("apply it to the teams", seconds, ""))

    # Fresh objects for each run: nothing is cached between runs that a real run would not
    # build itself (the plan's allowances, the account's indexes).
    def fresh() -> tuple[AppliedPlan, Account]:
        return AppliedPlan(parse_plan(text, "plan.toml"), teams), Account.of(users.users)

    seconds, findings = median_seconds(lambda: plan_findings(*fresh()), runs)
    figures.append(("validate: plan findings", seconds, f"{len(findings)} findings"))
    seconds, result = median_seconds(lambda: renumber(*fresh()), runs)
    detail = (
        f"{len(result.moves)} moves ({result.swapped} in swaps), {len(result.unplaced)} "
        f"unplaced, {result.rounds} rounds"
    )
    figures.append(("renumber", seconds, detail))
    seconds, extension_map = median_seconds(lambda: build_map(*fresh()), runs)
    figures.append(("map (picture and JSON)", seconds, f"{len(extension_map.lines)} lines"))

    data = render_csv(result.rows(), ROW_COLUMNS).encode()

    def dry_run() -> Any:
        account = Account.of(users.users)
        state = check_desired(read_extension_csv(data, source="moves.csv"), account)
        return plan_import(account, state.rows)

    if result.moves:
        seconds, import_plan = median_seconds(dry_run, runs)
        detail = (
            f"{len(import_plan.steps)} writes, {import_plan.cycles} cycles, "
            f"blocked: {import_plan.blocked}"
        )
        figures.append(("import --dry-run of it (core)", seconds, detail))
    return figures


if __name__ == "__main__":
    main()
