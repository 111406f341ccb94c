"""The request budget against the live API's rate limit (a script, not a test).

    pip install -e '.[test]'
    python tests/bench/bench_ratelimit.py [--changes 300] [--default-changes 300]

``aircall-ext sandbox serve --rate-limit 30/3`` answers as the live API does: no rate-limit
headers until the budget is spent, then a 429 with them and a block of one window. An
import of ``--changes`` changes runs against it twice, each with a fresh account, server,
cache and state directories:

1. ``--rate-limit 30/3``, the server's own budget: goal no 429 and at least 90 % of the
   budget used (requests per 3-s window, over the windows wholly inside the run, vs 30).
2. the default budget, 60/60: its first burst overshoots the server's 30, so one 429 is
   expected; the client then adopts the reported limit (30 per its 60-s window) for the
   rest of the run. Goal: at most 2 x 429 in the whole run. At 30 requests a minute this
   run takes about ten minutes for 300 changes; ``--default-changes`` shortens it.

Requests, statuses and their times come from the server's access log (one-second stamps:
the windows, whole seconds long and aligned on the clock, are told exactly).
"""

from __future__ import annotations

import argparse
import math
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench_all import API_ID, API_TOKEN, CLI, Server, clean_env, seed

SERVER_LIMIT = "30/3"
DEFAULT_BUDGET = (60, 60)  # the client's default, 60/60
ADOPTED_NOTICE = "the API limited us to"


def movers_csv(account: Any, changes: int, path: Path) -> None:
    """``changes`` users, each moved to an extension nobody holds."""
    taken = {user["extension"] for user in account.users()}
    free = [f"{n:03d}" for n in (*range(100, 1000), *range(100)) if f"{n:03d}" not in taken]
    movers = account.users()[:changes]
    rows = "".join(f"{u['id']},{e}\n" for u, e in zip(movers, free, strict=False))
    path.write_text("user_id,extension\n" + rows)


def scenario(work: Path, changes: int, budget: str | None) -> dict[str, Any]:
    """One import against a fresh live-mode server, with fresh per-user directories."""
    work.mkdir()
    state = work / "server.db"
    account = seed(state, changes + 100, seed=11)
    csv_file = work / "changes.csv"
    movers_csv(account, changes, csv_file)
    server = Server(state, SERVER_LIMIT)
    try:
        env = clean_env(
            AIRCALL_BASE_URL=server.base_url,
            AIRCALL_API_ID=API_ID,
            AIRCALL_API_TOKEN=API_TOKEN,
            XDG_CACHE_HOME=str(work / "cache"),
            XDG_STATE_HOME=str(work / "state"),
            XDG_CONFIG_HOME=str(work / "config"),
            AIRCALL_EXT_CONFIG_DIR=str(work / "config"),
        )
        if budget is not None:
            env["AIRCALL_RATE_LIMIT"] = budget
        argv = [CLI, "--no-progress", "import", str(csv_file), "--yes"]
        began = time.perf_counter()
        done = subprocess.run(
            [*argv, "--journal", str(work / "journal.jsonl")],
            capture_output=True,
            text=True,
            env=env,
            stdin=subprocess.DEVNULL,
        )
        elapsed = time.perf_counter() - began
        if done.returncode != 0:
            raise RuntimeError(f"the import exited {done.returncode}: {done.stderr}")
        requests = server.timed()
    finally:
        server.stop()
    return {
        "changes": changes,
        "budget": budget or "default (60/60)",
        "requests": [(status, at) for _method, _path, status, at in requests],
        "elapsed": elapsed,
        "notices": [line for line in done.stderr.splitlines() if ADOPTED_NOTICE in line],
    }


def window_use(times: list[int], limit: int, seconds: int) -> tuple[float, int, int]:
    """Requests per clock-aligned window of ``seconds``, over the windows wholly inside the
    run (not the first and last, which it only partly spans), vs ``limit``; with the number
    of those windows and the most requests any window of the run held."""
    per_window = Counter(at // seconds for at in times)
    full = range(min(per_window) + 1, max(per_window))
    used = sum(per_window[w] for w in full) / (limit * len(full)) if full else math.nan
    return used, len(full), max(per_window.values())


def budget_in_force(result: dict[str, Any], configured: tuple[int, int]) -> tuple[int, int]:
    """The budget the client paced to: the configured one, or what a 429 made it adopt."""
    for notice in result["notices"]:
        match = re.search(r"pacing at (\d+)/(\d+)", notice)
        if match:
            return int(match.group(1)), int(match.group(2))
    return configured


def report(name: str, result: dict[str, Any], limit: int, seconds: int) -> dict[str, Any]:
    statuses = [status for status, _at in result["requests"]]
    refused = statuses.count("429")
    times = [at for _status, at in result["requests"]]
    after = times
    if refused:  # the budget in force is the adopted one from the first 429 on
        first_refusal = statuses.index("429")
        after = times[first_refusal + 1 :]
    used, windows, most = window_use(after, limit, seconds)
    _, _, most_3s = window_use(times, 30, 3)
    print(f"\n{name}: import of {result['changes']} changes, budget {result['budget']}")
    print(f"   {len(statuses)} requests, {refused} x 429, {result['elapsed']:.1f} s wall")
    print(
        f"   budget use: {used:.1%} of {limit} per {seconds}-s window over the {windows} "
        f"windows wholly inside the run{' after the first 429' if refused else ''}"
    )
    print(f"   most requests the server counted in one of its 3-s windows: {most_3s} (limit 30)")
    since = " after the 429" if refused else ""
    print(f"   most requests in one {seconds}-s window of that budget{since}: {most}")
    for notice in result["notices"]:
        print(f"   stderr: {notice}")
    return {"refused": refused, "used": used, "requests": len(statuses)}


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--changes", type=int, default=300, help="changes, budget 30/3 run")
    parser.add_argument(
        "--default-changes", type=int, default=300, help="changes, default-budget run"
    )
    options = parser.parse_args()
    print(f"sandbox serve --rate-limit {SERVER_LIMIT} (live mode: headers only on 429s)")
    with tempfile.TemporaryDirectory(prefix="aircall-ext-bench-rate-") as tmp:
        work = Path(tmp)
        own = scenario(work / "own", options.changes, SERVER_LIMIT)
        first = report("1. --rate-limit 30/3", own, 30, 3)
        default = scenario(work / "default", options.default_changes, None)
        second = report("2. default budget", default, *budget_in_force(default, DEFAULT_BUDGET))
    goals = [
        ("30/3: no 429", first["refused"] == 0),
        ("30/3: >= 90 % of the budget used", first["used"] >= 0.9),
        ("default budget: at most 2 x 429", second["refused"] <= 2),
    ]
    print("\nSummary")
    for goal, ok in goals:
        print(f"   {goal:40} {'ok' if ok else 'MISSED'}")
    return 0 if all(ok for _goal, ok in goals) else 1


if __name__ == "__main__":
    sys.exit(main())
