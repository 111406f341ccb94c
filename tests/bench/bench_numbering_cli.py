"""The numbering commands end to end on a large sandbox account, in-process (not a test:
pytest does not collect it).

    pip install -e '.[test]'
    python tests/bench/bench_numbering_cli.py [--users 10000] [--runs 5]

Makes an account like ``sandbox reset --users N`` (1,000 users on unique extensions, the
rest without one; 20 teams) in a temporary sandbox database, and a plan giving each of its
teams 40 extensions from 200 on, the default 100-199, two reserved. Then runs, through the
command line's own entry point and the in-process sandbox (the HTTP client, the WSGI
service and its SQLite store included), and reports the median wall time of ``--runs`` runs
after one warm-up run (which also imports the modules a fresh process would):

- ``renumber`` (its CSV written to a file), goal < 1 s;
- ``map``, goal < 1 s;
- ``import moves.csv --dry-run``: reading the account and planning the renumbering, < 2 s;
- ``validate`` with the plan, for comparison.

Twice: on the account as generated (all 1,000 extensions held, so nobody who breaks the plan
can be placed), and with 40 % of them freed (hundreds of moves to plan). Wall times vary
with the machine's load; the CPU figures (the whole process: the in-process sandbox too)
are the steadier ones. The time spent inside the sandbox service (it stands in for the
API's servers: reading 10,000 users is 200 requests) is measured too, and what is left is
the tool's own: client, core and output.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

GOALS = {"renumber": 1.0, "map": 1.0, "import moves.csv --dry-run": 2.0}


def isolate(root: Path) -> None:
    """Every per-user directory under ``root``: the bench never touches the real home."""
    for name, sub in (
        ("HOME", "home"),
        ("XDG_STATE_HOME", "state"),
        ("XDG_CACHE_HOME", "cache"),
        ("XDG_CONFIG_HOME", "config"),
        ("AIRCALL_EXT_CONFIG_DIR", "config/aircall-ext"),
    ):
        os.environ[name] = str(root / sub)
    os.environ["AIRCALL_EXT_SANDBOX_STATE"] = str(root / "sandbox.db")
    os.environ["NO_COLOR"] = "1"
    for name in list(os.environ):
        if name.startswith("AIRCALL_") and name not in {
            "AIRCALL_EXT_CONFIG_DIR",
            "AIRCALL_EXT_SANDBOX_STATE",
        }:
            del os.environ[name]


SERVED = [0.0]  # wall seconds spent inside the sandbox service, answering requests


def time_the_sandbox() -> None:
    """Wrap the in-process sandbox so the time it spends answering is known: it stands in
    for the API's servers, whose time is not the tool's."""
    import httpx

    from aircall_ext.sandbox import build_inprocess_app
    from aircall_ext.services import session

    def transport() -> httpx.BaseTransport:
        app = build_inprocess_app()

        def timed(environ: Any, start_response: Any) -> Any:
            start = time.perf_counter()
            try:
                return list(app(environ, start_response))
            finally:
                SERVED[0] += time.perf_counter() - start

        return httpx.WSGITransport(app=timed)

    session._sandbox_transport = transport  # type: ignore[assignment]


def cli(*args: str) -> tuple[int, str, str]:
    from aircall_ext.cli import run

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = run(list(args))
    return code, out.getvalue(), err.getvalue()


def plan_for(state: dict[str, Any]) -> str:
    teams = [t["name"] for t in state["teams"]]
    lines = ['reserved = ["100", "911"]', 'default = "100-199"', "[teams]"]
    for index, name in enumerate(teams):
        first = 200 + 40 * index
        lines.append(f'{json.dumps(name)} = "{first:03d}-{first + 39:03d}"')
    return "\n".join(lines) + "\n"


def timed(runs: int, *args: str) -> tuple[float, float, float, float, int, str]:
    """Seconds of the first run; the median of the next ``runs`` of the wall time, of the
    CPU time (the whole process: the in-process sandbox too), and of the wall time spent
    outside the sandbox service (the tool's own); the last run's exit code and stdout."""
    walls, cpus, owns = [], [], []
    result = (0, "", "")
    for _ in range(runs + 1):
        SERVED[0] = 0.0
        wall, cpu = time.perf_counter(), time.process_time()
        result = cli(*args)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
        owns.append(walls[-1] - SERVED[0])
    rest = slice(1, None)
    return (
        walls[0],
        statistics.median(walls[rest]),
        statistics.median(cpus[rest]),
        statistics.median(owns[rest]),
        *result[:2],
    )


def with_room(state: dict[str, Any], share: float) -> dict[str, Any]:
    """``state`` with ``share`` of the extensions freed (every n-th holder loses theirs),
    so that renumbering has somewhere to put the users who break the plan."""
    holders = [u for u in state["users"] if u.get("extension")]
    step = round(1 / share)
    for index, user in enumerate(holders):
        if index % step == 0:
            user["extension"] = None
    return state


def measure(root: Path, runs: int) -> None:
    base = ("--sandbox", "--numbering", "plan.toml", "-q")
    for name, command in (
        ("renumber", ["renumber"]),
        ("map", ["map"]),
        ("import moves.csv --dry-run", ["-o", "json", "import", "moves.csv", "--dry-run"]),
        ("validate", ["-o", "json", "validate"]),
    ):
        first, wall, cpu, own, code, out = timed(runs, *base, *command)
        if name == "renumber":
            (root / "moves.csv").write_text(out, encoding="utf-8")
            detail = f"{max(0, out.count(chr(10)) - 1)} moves"
        elif name.startswith("import"):
            summary = json.loads(out).get("summary", {})
            detail = f"{summary.get('writes', 0)} writes, {summary.get('cycles', 0)} cycles"
        elif name == "validate":
            detail = f"{len(json.loads(out)['findings'])} findings"
        else:
            detail = f"{out.count(chr(10))} lines"
        goal = GOALS.get(name)
        verdict = (
            "" if goal is None else f", goal < {goal:.0f} s: {'ok' if wall < goal else 'MISSED'}"
        )
        print(
            f"  {name:<28} first {first * 1000:5.0f} ms; median {wall * 1000:5.0f} ms wall "
            f"({own * 1000:4.0f} ms outside the sandbox service), {cpu * 1000:5.0f} ms CPU "
            f"({detail}, exit {code}{verdict})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        isolate(root)
        time_the_sandbox()
        os.chdir(root)
        code, _out, err = cli("--sandbox", "sandbox", "reset", "--users", str(args.users))
        assert code == 0, err
        _code, shown, _err = cli("--sandbox", "-o", "json", "sandbox", "show")
        state = json.loads(shown)
        (root / "plan.toml").write_text(plan_for(state), encoding="utf-8")
        print(
            f"{len(state['users']):,} users, {len(state['teams'])} teams; the first run, then "
            f"the median of {args.runs}"
        )
        print(f"as `sandbox reset --users {args.users}` made it (every extension held):")
        measure(root, args.runs)
        (root / "roomy.json").write_text(json.dumps(with_room(state, 0.4)), encoding="utf-8")
        code, _out, err = cli("--sandbox", "sandbox", "reset", "--from", "roomy.json")
        assert code == 0, err
        print("the same with 40 % of the extensions freed (room to renumber):")
        measure(root, args.runs)


if __name__ == "__main__":
    main()
