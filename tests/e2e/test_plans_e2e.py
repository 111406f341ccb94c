"""Saved plans and ``jobs`` against a real ``sandbox serve``, counted in its access log.

A saved plan applied after another client moved one of its users is refused, naming that
user, and sends no write; an untouched one applies exactly its steps (the server's write
log) at an import's cost: ⌈U/50⌉ GETs to check, C + K PUTs, ⌈U/50⌉ GETs to verify.
"""

from __future__ import annotations

import json
import math
import urllib.request
from base64 import b64encode
from pathlib import Path

import pytest

from aircall_ext.sandbox.state import SandboxAccount
from tests.e2e.conftest import (
    API_ID,
    API_TOKEN,
    SandboxServer,
    Serve,
    read_state_db,
    read_write_log,
    replay_writes,
)
from tests.e2e.test_crash_safety_e2e import MOVES, POINTS, Run, kill_when
from tests.e2e.test_request_floor_e2e import Audit, import_file, only, write_account

pytestmark = pytest.mark.e2e

USERS = 120
PAGES_U = math.ceil(USERS / 50)


def another_client_sets(server: SandboxServer, user_id: int, extension: str) -> None:
    """A write by someone else (another tool, the web admin): not through this CLI."""
    auth = b64encode(f"{API_ID}:{API_TOKEN}".encode()).decode()
    request = urllib.request.Request(
        f"{server.base_url}/v2/users/{user_id}",
        data=json.dumps({"extension": extension}).encode(),
        method="PUT",
        headers={"Authorization": f"Basic {auth}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200


def planned(
    serve: Serve, tmp_path: Path, *options: str
) -> tuple[SandboxServer, SandboxAccount, Audit, Path, dict[int, str], int]:
    state = tmp_path / "state.db"
    account = write_account(state, USERS)
    server = serve("--rate-limit", "off", *options, state=state)
    text, changes, cycles, desired = import_file(account)
    csv_file = tmp_path / "desired.csv"
    csv_file.write_text(text)
    plan = tmp_path / "plan.json"
    audit = Audit(server)
    result = server.cli("import", str(csv_file), "--dry-run", "--save-plan", str(plan))
    assert result.returncode == 0, result.stderr
    only(audit.new(), GET_users=PAGES_U)
    return server, account, audit, plan, desired, changes + cycles


def test_a_plan_applied_after_another_client_moved_an_involved_user_is_refused(
    serve: Serve, tmp_path: Path
) -> None:
    server, account, audit, plan, desired, _writes = planned(serve, tmp_path)
    mover = account.users()[0]
    parking = json.loads(plan.read_text())["parking"]
    free = next(
        e
        for e in (f"{n:03d}" for n in range(999, 99, -1))
        if not account.holders(e) and e not in desired.values() and e != parking
    )
    another_client_sets(server, mover["id"], free)
    audit.new()
    before = read_state_db(server.state)

    result = server.cli("import", "--plan", str(plan), "--yes")
    assert result.returncode == 1, result.stderr
    assert (
        f"plan is stale: user {mover['id']} ({mover['email']}) has {free}, "
        f"the plan expected {mover['extension']}"
    ) in result.stderr
    only(audit.new(), GET_users=PAGES_U)  # read to check, nothing written
    assert read_state_db(server.state) == before


def test_an_untouched_plan_applies_exactly_its_steps_at_the_cost_of_an_import(
    serve: Serve, tmp_path: Path
) -> None:
    writes = tmp_path / "writes.jsonl"
    server, account, audit, plan, desired, count = planned(
        serve, tmp_path, "--write-log", str(writes)
    )
    steps = json.loads(plan.read_text())["steps"]
    assert len(steps) == count
    journal = tmp_path / "jobs" / "job.jsonl"

    result = server.cli(
        "-o", "json", "import", "--plan", str(plan), "--yes", "--journal", str(journal)
    )
    assert result.returncode == 0, result.stderr
    requests = audit.new()
    only(requests, GET_users=2 * PAGES_U, PUT_users_one=count, GET_users_one=1)
    sent = ["PUT", "GET", *["PUT"] * (count - 1)]  # the first write is read back
    assert [r.method for r in requests] == ["GET"] * PAGES_U + sent + ["GET"] * PAGES_U
    applied = read_write_log(writes)
    assert [(w["user_id"], w["from"], w["to"]) for w in applied] == [
        (s["user_id"], s["from"], s["to"]) for s in steps
    ]
    initial = {u["id"]: u["extension"] for u in account.users()}
    final = replay_writes(initial, applied)  # no two users ever shared an extension
    assert {u: final[u] for u in desired} == desired
    assert json.loads(result.stdout)["summary"]["applied"] == len(desired)

    listed = server.cli("-o", "json", "jobs", "--dir", str(journal.parent))
    [job] = json.loads(listed.stdout)["jobs"]
    assert job["status"] == "done" and job["account"] == f"{API_ID}@{server.base_url[7:]}"
    assert job["undo"] == f"aircall-ext import --undo {journal}"


def test_jobs_lists_a_killed_import_as_stopped_and_its_resume_finishes_it(
    serve: Serve, tmp_path: Path
) -> None:
    run = Run(tmp_path)
    run.journal = tmp_path / "jobs" / "killed.jsonl"
    options, trigger = POINTS["mid-way"]
    server = serve(*options, "--write-log", str(run.writes), state=run.state)
    kill_when(run, server, trigger)
    (run.journal.parent / "garbage.jsonl").write_text("this is not a journal\n")

    listed = server.cli("-o", "json", "jobs", "--dir", str(run.journal.parent))
    assert listed.returncode == 0, listed.stderr
    jobs = {Path(j["journal"]).name: j for j in json.loads(listed.stdout)["jobs"]}
    killed = jobs["killed.jsonl"]
    done = len([r for r in run.records() if r["type"] == "done"])
    assert killed["status"] == f"stopped at {done} of {MOVES + 3}"
    assert killed["file"] == str(run.csv)
    assert jobs["garbage.jsonl"]["status"] == "unreadable"
    resume = killed["resume"].split()
    assert resume == ["aircall-ext", "import", "--resume", str(run.journal)]

    finished = server.cli(*resume[1:])
    assert finished.returncode == 0, finished.stderr
    listed = server.cli("-o", "json", "jobs", "--dir", str(run.journal.parent))
    jobs = {Path(j["journal"]).name: j for j in json.loads(listed.stdout)["jobs"]}
    assert jobs["killed.jsonl"]["status"] == "done"
    assert jobs["killed.jsonl"]["resume"] is None
