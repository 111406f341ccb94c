"""``renumber > moves.csv && import moves.csv`` on random accounts and plans, through the
command line and the sandbox service in-process: the sandbox's write log shows no moment
where two users share an extension the import touched, no write onto a reserved extension
(parking included), and afterwards every user keeps to the plan or was named unplaceable.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from aircall_ext.api.models import User
from aircall_ext.core.account import Account
from aircall_ext.core.freeext import ALL_EXTENSIONS
from aircall_ext.core.numbering import AppliedPlan, NumberingPlan, breaches, parse_plan
from aircall_ext.sandbox import SandboxApp
from aircall_ext.sandbox.app import AppliedWrite
from aircall_ext.sandbox.state import SandboxAccount
from aircall_ext.services import session
from tests.conftest import RunCli
from tests.numbering_scenes import Scene, full_scenes, plan_text, scenes


def toml_of(plan: NumberingPlan) -> str:
    """The plan file that reads back as ``plan``."""
    teams = {name: [str(r.range) for r in ranges] for name, ranges in plan.teams.items()}
    default = None if plan.default is None else [str(r.range) for r in plan.default]
    return plan_text(teams, default=default, reserved=sorted(plan.reserved))


def document(scene: Scene) -> dict[str, Any]:
    users = [
        {
            "id": u.id,
            "name": u.name or f"User {u.id}",
            "email": u.email or f"u{u.id}@example.com",
            "extension": u.extension,
            "outgoing_only": bool(u.outgoing_only),
        }
        for u in scene.account.users
    ]
    teams = [
        {"id": index, "name": name, "users": list(members)}
        for index, (name, members) in enumerate(scene.teams, start=1)
    ]
    return {"company": {"name": "T"}, "users": users, "teams": teams}


class WriteLog:
    """The sandbox's ``on_write`` hook: every write checked against the account right after
    it is committed (problems kept, not raised: the hook runs inside the service)."""

    def __init__(self, account: SandboxAccount, reserved: frozenset[str]) -> None:
        self.account = account
        self.reserved = reserved
        self.writes: list[AppliedWrite] = []
        self.problems: list[str] = []

    def __call__(self, write: AppliedWrite) -> None:
        self.writes.append(write)
        holders = [u["id"] for u in self.account.users() if u["extension"] == write.extension]
        if holders != [write.user_id]:
            self.problems.append(f"write {len(self.writes)}: {write} shared with {holders}")
        if write.extension in self.reserved:
            self.problems.append(f"write {len(self.writes)}: {write} on a reserved extension")


@pytest.fixture
def sandbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[SandboxApp]]:
    """Each example puts its app here; every client of the run is built on it. The journal's
    fsync calls are skipped: durability is not under test, and they are most of the time."""
    apps: list[SandboxApp] = []
    monkeypatch.setattr(session, "_sandbox_transport", lambda: httpx.WSGITransport(app=apps[-1]))
    monkeypatch.setattr(os, "fsync", lambda _fd: None)
    yield apps


@st.composite
def reserved_all_but_one(draw: st.DrawFn) -> Scene:
    """Full team ranges of misplaced members (only swaps place them), and every extension
    outside the ranges reserved but one: the one place a swap may park."""
    scene = draw(full_scenes())
    ranges = [r for team in scene.plan.teams.values() for r in team]
    outside = [e for e in ALL_EXTENSIONS if not any(e in r for r in ranges)]
    keep = draw(st.sampled_from(outside))
    text = toml_of(scene.plan).replace("reserved = []", "")
    reserved = [e for e in outside if e != keep]
    plan = parse_plan(f"reserved = {json.dumps(reserved)}\n{text}", "plan.toml")
    return Scene(plan, scene.account, scene.teams)


SLOW = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
Check = Callable[[Scene], None]


@settings(max_examples=4, suppress_health_check=SLOW)
@given(scene=reserved_all_but_one())
def test_swaps_park_only_where_the_plan_allows(scene: Scene, renumber_then_import: Check) -> None:
    renumber_then_import(scene)


@settings(max_examples=8, suppress_health_check=SLOW)
@given(scene=scenes(max_users=1000))
def test_renumber_then_import_keeps_to_the_plan_without_a_collision(
    scene: Scene, renumber_then_import: Check
) -> None:
    renumber_then_import(scene)


@pytest.fixture
def renumber_then_import(
    run_cli: RunCli,
    sandbox: list[SandboxApp],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Check:
    """The property each example checks, on the fixtures every example shares."""
    monkeypatch.chdir(tmp_path)
    return functools.partial(check_renumber_then_import, run_cli=run_cli, sandbox=sandbox)


def check_renumber_then_import(scene: Scene, *, run_cli: RunCli, sandbox: list[SandboxApp]) -> None:
    account = SandboxAccount.from_document(document(scene))
    log = WriteLog(account, scene.plan.reserved)
    sandbox.append(SandboxApp(account, on_write=log))
    Path("plan.toml").write_text(toml_of(scene.plan), encoding="utf-8")
    run = ("--sandbox", "--numbering", "plan.toml", "-q", "--no-progress")

    renumbered = run_cli(*run, "renumber")
    unplaced = {
        u["user_id"] for u in json.loads(run_cli(*run, "-o", "json", "renumber").stdout)["unplaced"]
    }
    assert renumbered.exit_code == (1 if unplaced else 0), renumbered.stderr
    Path("moves.csv").write_text(renumbered.stdout, encoding="utf-8")
    if renumbered.stdout:
        imported = run_cli(*run, "import", "moves.csv", "--yes")
        assert imported.exit_code == 0, imported.stderr
    else:
        assert log.writes == []
    assert log.problems == []
    writes = len(log.writes)
    event(f"writes: {'none' if not writes else '1-99' if writes < 100 else '100+'}")
    event(f"unplaced: {'some' if unplaced else 'none'}")

    final = Account.of(User.model_validate(u) for u in account.users())
    assert breaches(AppliedPlan(scene.plan, scene.teams), final).keys() == unplaced
    again = run_cli(*run, "renumber")
    assert again.stdout == "" and again.exit_code == (1 if unplaced else 0)
