"""The numbering commands end to end on a large sandbox account, in-process (not a test:
pytest does not collect it).

    pip install -e '.[test]'
    python tests/bench/bench_numbering_cli.py [--users 10000] [--runs 5]
    git worktree add --detach /tmp/old 64cff33   # an older checkout, to compare with
    python tests/bench/bench_numbering_cli.py --baseline-src /tmp/old [--rounds 3]

Makes an account like ``sandbox reset --users N`` (1,000 users on unique extensions, the
rest without one; 20 teams) in a temporary sandbox database, and a plan giving each of its
teams 40 extensions from 200 on, the default 100-199, two reserved. Then runs, through the
command line's own entry point and the in-process sandbox (the HTTP client, the WSGI
service and its SQLite store included), and reports the median wall time of ``--runs`` runs
after one warm-up run (which also imports the modules a fresh process would):

- ``renumber`` (its CSV written to a file), goal < 1 s;
- ``map``, goal < 1 s;
- ``import moves.csv --dry-run``: reading the account and planning the renumbering, < 2 s;
- ``validate`` with the plan (``-o json`` and the table), and ``list`` (the table and
  ``-o json``), which read the account the same way, for comparison.

Twice: on the account as generated (all 1,000 extensions held, so nobody who breaks the plan
can be placed), and with 40 % of them freed (hundreds of moves to plan). Wall times vary
with the machine's load; the CPU figures (the whole process: the in-process sandbox too)
are the steadier ones. The time spent inside the sandbox service (it stands in for the
API's servers: reading 10,000 users is 200 requests) is measured too, and what is left is
the tool's own: client, core and output.

``--baseline-src DIR`` runs the same measurements on the source tree DIR (another checkout)
and on this one, each in a process of its own, alternating ``--rounds`` times so that both
meet the same load, and prints them side by side: for each side, the lowest and the
highest of the rounds' medians.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import statistics
import subprocess
import sys
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


COMMANDS = (
    ("renumber", ["renumber"]),
    ("map", ["map"]),
    ("import moves.csv --dry-run", ["-o", "json", "import", "moves.csv", "--dry-run"]),
    ("validate -o json", ["-o", "json", "validate"]),
    ("validate", ["validate"]),
    ("list", ["list"]),
    ("list -o json", ["-o", "json", "list"]),
)


def measure(root: Path, runs: int, *, quiet: bool = False) -> dict[str, dict[str, float]]:
    """Each command's figures in ms (``first``, ``wall``, ``cpu``, ``own``), printed unless
    ``quiet``."""
    base = ("--sandbox", "--numbering", "plan.toml", "-q")
    results: dict[str, dict[str, float]] = {}
    for name, command in COMMANDS:
        first, wall, cpu, own, code, out = timed(runs, *base, *command)
        results[name] = {"first": first * 1000, "wall": wall * 1000, "cpu": cpu * 1000}
        results[name]["own"] = own * 1000
        if name == "renumber":
            (root / "moves.csv").write_text(out, encoding="utf-8")
        if quiet:
            continue
        goal = GOALS.get(name)
        verdict = (
            "" if goal is None else f", goal < {goal:.0f} s: {'ok' if wall < goal else 'MISSED'}"
        )
        print(
            f"  {name:<28} first {first * 1000:5.0f} ms; median {wall * 1000:5.0f} ms wall "
            f"({own * 1000:4.0f} ms outside the sandbox service), {cpu * 1000:5.0f} ms CPU "
            f"({describe(name, out)}, exit {code}{verdict})"
        )
    return results


def describe(name: str, out: str) -> str:
    lines = out.count("\n")
    if name == "renumber":
        return f"{max(0, lines - 1)} moves"
    if name.startswith("import"):
        summary = json.loads(out).get("summary", {})
        return f"{summary.get('writes', 0)} writes, {summary.get('cycles', 0)} cycles"
    if name == "validate -o json":
        return f"{len(json.loads(out)['findings'])} findings"
    if name == "list -o json":
        return f"{len(json.loads(out)['users'])} users"
    return f"{lines} lines"


def run_both(args: argparse.Namespace, *, quiet: bool) -> dict[str, dict[str, dict[str, float]]]:
    """The account as generated, then with 40 % of the extensions freed: each one's figures."""
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
        say = (lambda _text: None) if quiet else print
        say(
            f"{len(state['users']):,} users, {len(state['teams'])} teams; the first run, then "
            f"the median of {args.runs}"
        )
        say(f"as `sandbox reset --users {args.users}` made it (every extension held):")
        held = measure(root, args.runs, quiet=quiet)
        (root / "roomy.json").write_text(json.dumps(with_room(state, 0.4)), encoding="utf-8")
        code, _out, err = cli("--sandbox", "sandbox", "reset", "--from", "roomy.json")
        assert code == 0, err
        say("the same with 40 % of the extensions freed (room to renumber):")
        roomy = measure(root, args.runs, quiet=quiet)
        os.chdir(Path(__file__).parent)  # out of the directory before it is removed
    return {"held": held, "roomy": roomy}


def side(src: Path, args: argparse.Namespace) -> dict[str, dict[str, dict[str, float]]]:
    """This script's figures on the source tree ``src``, from a process of its own."""
    env = dict(os.environ, PYTHONPATH=str(src))
    command = [sys.executable, __file__, "--users", str(args.users), "--runs", str(args.runs)]
    done = subprocess.run([*command, "--json"], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"the run on {src} failed:\n{done.stderr}")
    figures: dict[str, dict[str, dict[str, float]]] = json.loads(done.stdout)
    return figures


def compare(args: argparse.Namespace) -> None:
    """Both source trees, alternating, ``--rounds`` times; the range of their medians."""
    here = Path(__file__).resolve().parents[2]
    trees = {"this checkout": here, "baseline": args.baseline_src.resolve()}
    rounds: dict[str, list[dict[str, dict[str, dict[str, float]]]]] = {n: [] for n in trees}
    for _ in range(args.rounds):
        for name, src in trees.items():
            rounds[name].append(side(src, args))
    print(
        f"`sandbox reset --users {args.users}`; median of {args.runs} runs (wall, CPU) per round; "
        f"lowest-highest of {args.rounds} rounds, each side in a process of its own, "
        f"alternating; baseline {trees['baseline']}"
    )
    for scene, title in (("held", "every extension held"), ("roomy", "40 % freed")):
        print(f"{title}:{'this checkout':>40}{'baseline':>28}   ratio (median)")
        for command, _words in COMMANDS:
            cells = []
            medians = []
            for name in trees:
                walls = [r[scene][command]["wall"] for r in rounds[name]]
                cpus = [r[scene][command]["cpu"] for r in rounds[name]]
                medians.append(statistics.median(walls))
                cells.append(
                    f"{min(walls):5.0f}-{max(walls):5.0f} ms ({statistics.median(cpus):4.0f} CPU)"
                )
            ratio = medians[0] / medians[1] if medians[1] else 0.0
            print(f"  {command:<28}{cells[0]:>26}{cells[1]:>28}   x{ratio:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--baseline-src", type=Path, help="another checkout's root, measured side by side"
    )
    parser.add_argument("--rounds", type=int, default=3, help="with --baseline-src")
    parser.add_argument("--json", action="store_true", help="the figures as JSON, for compare")
    args = parser.parse_args()
    if args.baseline_src is not None:
        compare(args)
    elif args.json:
        print(json.dumps(run_both(args, quiet=True)))
    else:
        run_both(args, quiet=False)


if __name__ == "__main__":
    main()
