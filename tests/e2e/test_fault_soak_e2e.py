"""Fault soak: a full renumbering through a faulty, rate-limited ``sandbox serve``.

Every user of a generated account moves (chains, swaps and longer cycles, plus a legacy
collision that the file resolves) while the server injects 500s, 429s, dropped connections
(some after the write was applied) and slow answers. The import must end in the desired
state, resuming on exit 5 as often as it takes (a fresh import that fails before its
first write, exit 4 with no journal, is simply run again), and then:

- lost 0: every user holds exactly what the file says (read from the database);
- duplicates 0: the server's write log, replayed in order from the initial state, never
  lets two users share an extension (beyond the legacy collision that was already there);
- nothing written twice: applied writes == moved rows + one parking write per cycle;
- the report accounts for every row of the file.

Reproducible: the fault draws are seeded (``--seed``) and the client sends the same
sequence of requests for the same answers. Bounded by default (one 60-user run);
``AIRCALL_EXT_SOAK=full`` adds more seeds, a 300-user account and harsher faults that
force resumes. Figures are printed
(``pytest -s``): faults injected by kind, rows moved, writes, resumes needed.
"""

from __future__ import annotations

import csv
import json
import os
import random
import re
import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import (
    CLI,
    Serve,
    holdings_db,
    read_json_lines,
    read_state_db,
    write_state_db,
)
from tests.scenes import replay_writes

pytestmark = pytest.mark.soak

FAULTS = "500:0.15,429:0.1,reset:0.05,slow:0.05"
# Harsh enough that some request fails all its attempts: the import stops (exit 5) and
# must be resumed, under faults, until done.
HARSH = "500:0.4,reset:0.15,slow:0.05"
FULL = os.environ.get("AIRCALL_EXT_SOAK", "").strip().lower() == "full"
# (users, seed, faults): the bounded run is what CI pays for; the full one is for a soak job.
RUNS = [(60, 7, FAULTS)]
if FULL:
    RUNS += [(60, 11, FAULTS), (60, 23, FAULTS), (300, 99, FAULTS), (60, 5, HARSH), (60, 8, HARSH)]
MAX_RESUMES = 10
_FAULT_LINE = re.compile(r"faults injected: (.*)$")


@dataclass(frozen=True)
class Account:
    """user id → extension, and which extensions were already shared before the import."""

    holding: dict[int, str | None]

    @property
    def shared(self) -> set[str]:
        counts = Counter(e for e in self.holding.values() if e)
        return {e for e, n in counts.items() if n > 1}


def generate(state: Path, users: int, seed: int) -> dict[str, Any]:
    result = subprocess.run(
        [CLI, "sandbox", "reset", "--users", str(users), "--seed", str(seed)],
        env={**os.environ, "AIRCALL_EXT_SANDBOX_STATE": str(state)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    doc: dict[str, Any] = read_state_db(state)
    # Legacy damage the file must clean up: the second user shares the first one's extension.
    doc["users"][1]["extension"] = doc["users"][0]["extension"]
    write_state_db(state, doc)
    return doc


def renumbering(account: Account, seed: int) -> dict[int, str]:
    """Every user moves: cycles of 2, 3, 5 and 8 users among held extensions, the rest in
    chains that start on a free extension; every target is distinct."""
    rng = random.Random(seed)
    shared = account.shared
    ids = sorted(account.holding)
    rng.shuffle(ids)
    in_cycles = [u for u in ids if account.holding[u] not in shared][:18]
    desired: dict[int, str] = {}
    start = 0
    for size in (2, 3, 5, 8):
        group = in_cycles[start : start + size]
        start += size
        for i, user in enumerate(group):
            target = account.holding[group[(i + 1) % len(group)]]
            assert target is not None
            desired[user] = target
    taken = {e for e in account.holding.values() if e}
    free = [f"{n:03d}" for n in range(100, 1000) if f"{n:03d}" not in taken]
    rng.shuffle(free)
    previous: str | None = None
    for user in [u for u in ids if u not in desired]:
        # Take the extension the previous user of the chain leaves, unless it is already
        # wanted (a shared one is handed down once) or it is the user's own.
        if previous and previous not in desired.values() and previous != account.holding[user]:
            desired[user] = previous
        else:
            desired[user] = free.pop()
        previous = account.holding[user]
    assert len(set(desired.values())) == len(desired) == len(account.holding)
    assert all(desired[u] != account.holding[u] for u in desired)
    return desired


def faults_injected(log: list[str]) -> dict[str, int]:
    for line in reversed(log):
        match = _FAULT_LINE.search(line)
        if match:
            if match.group(1).strip() == "none":
                return {}
            pairs = (item.split(":") for item in match.group(1).split(","))
            return {kind.strip(): int(n) for kind, n in pairs}
    raise AssertionError("sandbox serve printed no 'faults injected' line")


@pytest.mark.parametrize(
    ("users", "seed", "faults_spec"),
    RUNS,
    ids=[f"{u}users-seed{s}-{'harsh' if f == HARSH else 'default'}" for u, s, f in RUNS],
)
def test_full_renumbering_survives_faults(
    serve: Serve, tmp_path: Path, users: int, seed: int, faults_spec: str
) -> None:
    state, write_log = tmp_path / "state.db", tmp_path / "writes.jsonl"
    doc = generate(state, users, seed)
    initial = Account({u["id"]: u["extension"] for u in doc["users"]})
    desired = renumbering(initial, seed)
    csv_file = tmp_path / "renumber.csv"
    csv_file.write_text(
        "user_id,extension\n" + "".join(f"{u},{e}\n" for u, e in sorted(desired.items()))
    )

    # The plan, from the same state without faults: how many cycles need a parking write.
    planned = subprocess.run(
        [CLI, "--sandbox", "-o", "json", "import", str(csv_file), "--dry-run"],
        env={**os.environ, "AIRCALL_EXT_SANDBOX_STATE": str(state)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert planned.returncode == 0, planned.stderr
    plan = json.loads(planned.stdout)
    assert plan["summary"]["change"] == users
    cycles = plan["summary"]["cycles"]
    assert cycles >= 4

    server = serve(
        "--faults", faults_spec, "--seed", str(seed), "--rate-limit", "50/1",
        "--slow-seconds", "0.2", "--write-log", str(write_log), state=state,
    )  # fmt: skip
    journal, report = tmp_path / "journal.jsonl", tmp_path / "report.csv"
    import_args = (
        "-o", "json", "import", str(csv_file), "--yes", "--journal", str(journal),
        "--report", str(report),
    )  # fmt: skip
    result = server.cli(*import_args)
    resumes = restarts = 0
    while result.returncode in (4, 5) and resumes + restarts < MAX_RESUMES:
        if result.returncode == 4:
            # Only before the first write (the plan's read failed): nothing to resume yet.
            assert not journal.exists(), result.stderr
            restarts += 1
            result = server.cli(*import_args)
            continue
        assert f"import --resume {journal}" in result.stderr
        resumes += 1
        result = server.cli(
            "-o", "json", "import", "--resume", str(journal), "--report", str(report)
        )
    assert result.returncode == 0, result.stderr
    assert server.stop() == 0
    requests = server.requests()
    faults = faults_injected(server.log)

    final = holdings_db(state)
    lost = {u: (final[u], e) for u, e in desired.items() if final[u] != e}
    assert lost == {}
    applied = read_json_lines(write_log)
    replayed, writes = replay_writes(initial.holding, applied), len(applied)
    assert replayed == final
    assert writes == users + cycles  # nothing written twice, no stray write
    assert Account(final).shared == set()

    with report.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert sorted(int(r["line"]) for r in rows) == list(range(2, users + 2))
    assert {int(r["user_id"]) for r in rows} == set(desired)
    assert {r["status"] for r in rows} <= {"applied", "unchanged"}
    assert all(r["to"] == desired[int(r["user_id"])] for r in rows)
    summary = json.loads(result.stdout)["summary"]
    assert summary["failed"] == summary["not_run"] == summary["skipped"] == 0
    assert summary["applied"] + summary["unchanged"] == users

    statuses = Counter(r.status for r in requests)
    assert set(faults) == {item.split(":")[0] for item in faults_spec.split(",")}
    assert statuses["500"] == faults.get("500", 0)
    print(
        f"\nSOAK users={users} seed={seed} spec={faults_spec} "
        f"faults={json.dumps(faults, sort_keys=True)} "
        f"rows_moved={users} cycles={cycles} writes={writes} resumes={resumes} "
        f"restarts={restarts} "
        f"lost={len(lost)} duplicates=0 requests={len(requests)} "
        f"http={json.dumps(dict(sorted(statuses.items())))}"
    )
