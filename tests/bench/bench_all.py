"""The benchmarks, side by side in one run (not a test: pytest does not collect it).

    pip install -e '.[test]'
    python tests/bench/bench_all.py [--runs 40] [--changes 300] [--rate-limit 30/3]
    python tests/bench/bench_all.py --startup-only [--runs 40] [--baseline-src DIR]

1. Start-up: medians of ``--runs`` interleaved runs of ``python -c "import click"`` and of
   ``aircall-ext --help`` / ``--version`` / ``completion bash`` / ``python -m aircall_ext
   --help``; the ratios to ``import click`` (goal for ``--help``: at most 1.5), and the heavy
   modules (httpx, pydantic, keyring, tabulate) each of them imports (goal: none).
2. Request floor: exact request counts from ``sandbox serve``'s access log for listings,
   an import with cycles, its re-run, assign, a refused assign and which commands list
   numbers, next to the expected counts.
3. Throughput: an import of ``--changes`` changes against ``sandbox serve --rate-limit
   N/S``: requests / (wall time x allowed rate) (goal: at least 0.90, and no 429).
4. CPU: ``time.process_time`` to parse a 1,000-user account, then read, check and plan a
   1,000-row CSV against it, in-process (goal: well under a second, and under 5 % of that
   import's minimum wall time at 60 requests per minute).

Timings depend on the machine and on what else runs on it; the ratios and counts are
what to compare.
"""

from __future__ import annotations

import argparse
import calendar
import contextlib
import math
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

PYTHON = sys.executable
HEAVY = ("httpx", "pydantic", "keyring", "tabulate")
API_ID, API_TOKEN = "bench-id", "bench-token"
REQUEST_LINE = re.compile(r'\[([^]]+)\] "(GET|PUT) (/\S*) HTTP/[0-9.]+" (\d{3})')
LISTENING = re.compile(r"listening on (http://\S+)")


def console_script() -> str:
    beside = Path(PYTHON).with_name("aircall-ext")
    found = str(beside) if beside.exists() else shutil.which("aircall-ext")
    if not found:
        sys.exit("aircall-ext is not installed: run `pip install -e '.[test]'` first")
    return found


CLI = console_script()


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRCALL")}
    env.update(NO_COLOR="1", **extra)
    return env


# -- 1. start-up -----------------------------------------------------------------------


# The CLI's entry point run by ``python -c``, so that another checkout can be timed the same
# way through PYTHONPATH.
MAIN = "import sys; from aircall_ext.cli import main; sys.argv[0] = 'aircall-ext'; sys.exit(main())"


def startup(runs: int, baseline: Path | None = None) -> dict[str, Any]:
    env = clean_env()
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # both trees run from their .pyc files, as installed
    commands: dict[str, tuple[list[str], dict[str, str]]] = {
        'python -c "import click"': ([PYTHON, "-c", "import click"], env),
        "aircall-ext --help": ([CLI, "--help"], env),
        "aircall-ext --version": ([CLI, "--version"], env),
        "aircall-ext completion bash": ([CLI, "completion", "bash"], env),
        "python -m aircall_ext --help": ([PYTHON, "-m", "aircall_ext", "--help"], env),
    }
    if baseline is not None:  # the same --help, side by side: this checkout and the baseline's
        commands["--help, this checkout"] = ([PYTHON, "-c", MAIN, "--help"], env)
        baseline_env = dict(env, PYTHONPATH=str(baseline))
        commands[f"--help, {baseline}"] = ([PYTHON, "-c", MAIN, "--help"], baseline_env)
    for argv, argv_env in commands.values():  # warm the OS cache and the .pyc files once
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=argv_env)
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):  # interleaved, so a busy moment hurts every command alike
        for name, (argv, argv_env) in commands.items():
            began = time.perf_counter()
            subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=argv_env)
            times[name].append(time.perf_counter() - began)
    medians = {name: statistics.median(values) for name, values in times.items()}
    base = medians['python -c "import click"']
    heavy = {
        name: heavy_imports(argv[1:]) for name, (argv, _env) in commands.items() if argv[0] == CLI
    }
    return {"medians": medians, "ratios": {n: m / base for n, m in medians.items()}, "heavy": heavy}


def heavy_imports(argv: list[str]) -> list[str]:
    probe = (
        "import contextlib, io, sys\n"
        "from aircall_ext.cli import run\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    run({argv!r})\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    done = subprocess.run([PYTHON, "-c", probe], capture_output=True, text=True, env=clean_env())
    return [m for m in done.stdout.strip().split(",") if m]


# -- sandbox serve, with its access log ------------------------------------------------


class Server:
    """``aircall-ext sandbox serve`` on a free port; its access log, counted exactly."""

    def __init__(self, state: Path, rate_limit: str) -> None:
        # The CLI's request budget is the server's limit: a client that knows its budget
        # (without one, the default 60/60 would slow the request-floor runs down).
        self.budget = "1000000/1" if rate_limit == "off" else rate_limit
        argv = [CLI, "sandbox", "serve", "--port", "0", "--state", str(state)]
        self.process = subprocess.Popen(
            [*argv, "--api-id", API_ID, "--rate-limit", rate_limit],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=clean_env(AIRCALL_EXT_SANDBOX_TOKEN=API_TOKEN),
        )
        assert self.process.stderr is not None
        first = self.process.stderr.readline()
        match = LISTENING.search(first)
        if not match:
            self.process.kill()
            raise RuntimeError(f"sandbox serve did not start: {first!r}")
        self.base_url = match.group(1)
        self.log: list[str] = []
        self.seen = 0
        threading.Thread(target=self._collect, daemon=True).start()

    def _collect(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.log.append(line)

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = clean_env(
            AIRCALL_BASE_URL=self.base_url,
            AIRCALL_API_ID=API_ID,
            AIRCALL_API_TOKEN=API_TOKEN,
            AIRCALL_RATE_LIMIT=self.budget,
        )
        return subprocess.run(
            [CLI, *args], capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL
        )

    def requests(self) -> list[tuple[str, str, str]]:
        """(method, path, status) of every request since the last call."""
        return [(method, path, status) for method, path, status, _at in self.timed()]

    def timed(self) -> list[tuple[str, str, str, int]]:
        """(method, path, status, UNIX second it was logged) since the last call."""
        marker = f"/v1/bench-marker-{uuid.uuid4().hex}"  # logged after everything before it
        with contextlib.suppress(OSError):
            urllib.request.urlopen(self.base_url + marker, timeout=10)
        while not any(marker in line for line in self.log[self.seen :]):
            time.sleep(0.01)
        found = []
        for line in self.log[self.seen :]:
            match = REQUEST_LINE.search(line)
            if match and "bench-marker-" not in line:
                when, method, target, status = match.groups()
                at = calendar.timegm(time.strptime(when, "%d/%b/%Y:%H:%M:%S +0000"))
                found.append((method, target.split("?", 1)[0], status, at))
        self.seen = len(self.log)
        return found

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()


@contextlib.contextmanager
def serving(state: Path, rate_limit: str = "off") -> Iterator[Server]:
    server = Server(state, rate_limit)
    try:
        yield server
    finally:
        server.stop()


def seed(path: Path, users: int, numbers: int = 3, seed: int = 8) -> Any:
    from aircall_ext.sandbox.demo import generate_account
    from aircall_ext.sandbox.store import open_store

    account = generate_account(users, seed=seed, numbers=numbers)
    with open_store(path) as store:
        store.replace(account)
    return account


def tally(requests: list[tuple[str, str, str]]) -> dict[str, int]:
    counts = {"GET users": 0, "GET numbers": 0, "GET number ID": 0, "PUT": 0, "other": 0}
    for method, path, _status in requests:
        if method == "PUT":
            counts["PUT"] += 1
        elif path == "/v2/users":
            counts["GET users"] += 1
        elif path == "/v1/numbers":
            counts["GET numbers"] += 1
        elif method == "GET" and path.startswith("/v1/numbers/"):
            counts["GET number ID"] += 1
        else:
            counts["other"] += 1
    return counts


def check(result: subprocess.CompletedProcess[str], *codes: int) -> None:
    if result.returncode not in codes:
        args = " ".join(result.args[1:])
        raise RuntimeError(f"`aircall-ext {args}` exited {result.returncode}: {result.stderr}")


def free_extensions(account: Any) -> list[str]:
    return [f"{n:03d}" for n in range(100, 1000) if not account.holders(f"{n:03d}")]


# -- 2. request floor ------------------------------------------------------------------


def request_floor(work: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []

    def record(scenario: str, expected: dict[str, int], measured: dict[str, int]) -> None:
        rows.append({"scenario": scenario, "expected": expected, "measured": measured})

    for users in (50, 51, 120):
        state = work / f"list-{users}.db"
        seed(state, users)
        with serving(state) as server:
            check(server.cli("-o", "json", "list"), 0)
            pages = math.ceil(users / 50)
            record(f"list, U={users}", {"GET users": pages}, tally(server.requests()))

    users, numbers = 120, 60
    pages_u, pages_n = math.ceil(users / 50), math.ceil(numbers / 50)
    state = work / "account.db"
    account = seed(state, users, numbers)
    u = account.users()
    ext = [user["extension"] for user in u]
    desired = {
        u[0]["id"]: ext[1], u[1]["id"]: ext[0], u[2]["id"]: ext[3], u[3]["id"]: ext[2],
        u[4]["id"]: ext[5], u[5]["id"]: ext[6], u[6]["id"]: ext[4],
        u[7]["id"]: free_extensions(account)[0], u[8]["id"]: ext[7],
    }  # fmt: skip
    changes, cycles = len(desired), 3  # two swaps and a 3-cycle; a chain of two
    csv_file = work / "desired.csv"
    csv_file.write_text("user_id,extension\n" + "".join(f"{i},{e}\n" for i, e in desired.items()))
    exported = work / "export.csv"
    with serving(state) as server:
        server.requests()
        # "other": the GET of /v2/users/ID that reads the first write back.
        expect_import = {"GET users": 2 * pages_u, "PUT": changes + cycles, "other": 1}
        check(server.cli("import", str(csv_file), "--yes", "--journal", str(work / "j")), 0)
        record(f"import C={changes} K={cycles}, U={users}", expect_import, tally(server.requests()))
        check(server.cli("import", str(csv_file), "--yes"), 0)
        record("import again (re-run)", {"GET users": pages_u}, tally(server.requests()))
        free = free_extensions(account)[1]  # [0] went to the import
        check(server.cli("assign", str(u[20]["id"]), free), 0)
        record("assign", {"GET users": pages_u, "PUT": 1, "other": 1}, tally(server.requests()))
        check(server.cli("assign", str(u[20]["id"]), ext[30]), 1)
        record(
            "assign to a taken extension (refused)",
            {"GET users": pages_u},
            tally(server.requests()),
        )
        for label, args in (
            ("export", ["export", str(exported)]),
            ("validate", ["validate"]),
            ("validate FILE", ["validate", str(exported)]),
            ("diff FILE", ["diff", str(exported)]),
            ("import FILE --dry-run", ["import", str(exported), "--dry-run"]),
        ):
            check(server.cli(*args), 0)
            record(label, {"GET users": pages_u}, tally(server.requests()))
        check(server.cli("numbers"), 0)
        record(
            f"numbers, N={numbers}",
            {"GET numbers": pages_n, "GET number ID": numbers},
            tally(server.requests()),
        )
        number = account.numbers()[0]["id"]
        check(server.cli("dial", str(number), ext[0], "--stage", "ivr"), 0, 1)
        record(
            "dial",
            {"GET users": pages_u, "GET numbers": pages_n, "GET number ID": 1},
            tally(server.requests()),
        )
    for row in rows:
        row["expected"] = {**dict.fromkeys(row["measured"], 0), **row["expected"]}
        row["ok"] = row["expected"] == row["measured"]
    return rows


# -- 3. throughput ---------------------------------------------------------------------


def throughput(work: Path, changes: int, rate_limit: str) -> dict[str, Any]:
    limit, seconds = (float(x) for x in rate_limit.split("/"))
    rate = limit / seconds
    users = changes + 100
    state = work / "throughput.db"
    account = seed(state, users, seed=11)
    taken = {user["extension"] for user in account.users()}
    free = [f"{n:03d}" for n in (*range(100, 1000), *range(100)) if f"{n:03d}" not in taken]
    movers = account.users()[:changes]
    csv_file = work / "throughput.csv"
    csv_file.write_text(
        "user_id,extension\n"
        + "".join(f"{u['id']},{e}\n" for u, e in zip(movers, free, strict=False))
    )
    with serving(state, rate_limit) as server:  # no marker first: it would spend the budget
        began = time.perf_counter()
        result = server.cli(
            "--no-progress", "-o", "json", "import", str(csv_file), "--yes",
            "--journal", str(work / "throughput.jsonl"),
        )  # fmt: skip
        elapsed = time.perf_counter() - began
        check(result, 0)
        requests = server.timed()
    refused = sum(1 for _m, _p, status, _at in requests if status == "429")
    # Windows are aligned on the clock; with whole seconds, the access log's one-second
    # timestamps tell each request's window. The first and last are only partly spanned.
    per_window = Counter(int(at // seconds) for _m, _p, _s, at in requests)
    full = range(min(per_window) + 1, max(per_window))
    return {
        "changes": changes,
        "users": users,
        "rate_limit": rate_limit,
        "requests": len(requests),
        "puts": sum(1 for m, _p, _s, _at in requests if m == "PUT"),
        "refused": refused,
        "elapsed": elapsed,
        "minimum": len(requests) / rate,
        "utilisation": len(requests) / (elapsed * rate),
        "full_windows": len(full) if seconds == int(seconds) else 0,
        "full_window_use": sum(per_window[w] for w in full) / (limit * len(full)) if full else 0.0,
    }


# -- 4. CPU to validate and plan --------------------------------------------------------


def cpu(repeats: int = 5) -> dict[str, Any]:
    from aircall_ext.api.models import User
    from aircall_ext.core.account import Account
    from aircall_ext.core.csvfile import read_extension_csv
    from aircall_ext.core.desired import check_desired
    from aircall_ext.core.planner import plan_import
    from aircall_ext.sandbox.demo import generate_account

    people = [dict(user) for user in generate_account(1000, seed=21, numbers=0).users()]
    for user in people[-150:]:  # 150 users without an extension: 150 free extensions
        user["extension"] = None
    holders = {user["extension"] for user in people if user["extension"]}
    free = [f"{n:03d}" for n in range(1000) if f"{n:03d}" not in holders]
    with_ext, without = people[:850], people[850:]
    desired: dict[int, str | None] = {u["id"]: u["extension"] for u in with_ext}  # unchanged
    for i in range(0, 200, 2):  # 100 swaps: 100 cycles
        a, b = with_ext[i], with_ext[i + 1]
        desired[a["id"]], desired[b["id"]] = b["extension"], a["extension"]
    for mover, target, newcomer in zip(with_ext[200:300], free[:100], without[:100], strict=True):
        desired[mover["id"]] = target  # 100 moves to free extensions...
        desired[newcomer["id"]] = mover["extension"]  # ...and 100 users take their old ones
    for user in without[100:]:
        desired[user["id"]] = None  # 50 blank cells
    data = (
        "user_id,email,extension\n"
        + "".join(f"{u['id']},{u['email']},{desired[u['id']] or ''}\n" for u in people)
    ).encode()
    changes, cycles = 400, 100
    samples: list[dict[str, float]] = []
    for _ in range(repeats):
        t0 = time.process_time()
        account = Account.of(User.model_validate(user) for user in people)
        t1 = time.process_time()
        csv_file = read_extension_csv(data, source="bench.csv")
        t2 = time.process_time()
        state = check_desired(csv_file, account)
        t3 = time.process_time()
        plan = plan_import(account, state.rows)
        t4 = time.process_time()
        assert not state.has_errors and not plan.blocked, plan.findings[:1]
        assert len(plan.steps) == changes + cycles, len(plan.steps)
        samples.append(
            {
                "models": t1 - t0,
                "read": t2 - t1,
                "check": t3 - t2,
                "plan": t4 - t3,
                "total": t4 - t0,
            }
        )
    median = {key: statistics.median(s[key] for s in samples) for key in samples[0]}
    requests = 2 * math.ceil(1000 / 50) + changes + cycles  # plan read, writes, verification
    minimum_at_60 = requests * 60 / 60
    return {
        "rows": 1000,
        "users": 1000,
        "changes": changes,
        "cycles": cycles,
        "median": median,
        "minimum_at_60": minimum_at_60,
        "share": median["total"] / minimum_at_60,
    }


# -- report ----------------------------------------------------------------------------

Goal = tuple[str, str, bool]  # what, the figure, met


def mark(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def show(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in counts.items() if v) or "none"


def report_startup(runs: int, baseline: Path | None) -> list[Goal]:
    print(f"\n1. Start-up (median of {runs} interleaved runs each; ratio to import click)")
    start = startup(runs, baseline)
    for name, median in start["medians"].items():
        heavy = start["heavy"].get(name)
        extra = "" if heavy is None else f"   heavy imports: {', '.join(heavy) or 'none'}"
        print(f"   {name:30} {median * 1000:6.1f} ms   x{start['ratios'][name]:.2f}{extra}")
    ratio = start["ratios"]["aircall-ext --help"]
    light = not any(start["heavy"].values())
    return [
        ("--help vs import click", f"x{ratio:.2f} (goal <= x1.50)", ratio <= 1.5),
        ("heavy imports: --help, --version, completion", "none" if light else "SOME", light),
    ]


def report_floor(work: Path) -> list[Goal]:
    print("\n2. Request floor (sandbox serve access log)")
    print(f"   {'scenario':40} {'expected':30} measured")
    floor = request_floor(work)
    for row in floor:
        expected, measured = show(row["expected"]), show(row["measured"])
        print(f"   {row['scenario']:40} {expected:30} {measured:30} {mark(row['ok'])}")
    exact = sum(row["ok"] for row in floor)
    return [("request floor", f"{exact}/{len(floor)} scenarios exact", exact == len(floor))]


def report_throughput(work: Path, changes: int, rate_limit: str) -> list[Goal]:
    print(f"\n3. Throughput: import of {changes} changes, sandbox serve --rate-limit {rate_limit}")
    thr = throughput(work, changes, rate_limit)
    print(
        f"   {thr['requests']} requests ({thr['puts']} PUT) in {thr['elapsed']:.1f} s wall, "
        f"{thr['refused']} x 429; requests / allowed rate = {thr['minimum']:.1f} s"
    )
    print(f"   requests / (elapsed x rate) = {thr['utilisation']:.3f}")
    if thr["full_windows"]:
        print(
            f"   the {thr['full_windows']} windows wholly inside the run: "
            f"{thr['full_window_use']:.1%} of their budget used (access-log timestamps)"
        )
    ok = thr["utilisation"] >= 0.9 and not thr["refused"]
    figure = f"{thr['utilisation']:.1%} of the rate, {thr['refused']} x 429 (goal >= 90 %, 0)"
    return [("rate used by an import", figure, ok)]


def report_cpu() -> list[Goal]:
    print("\n4. CPU (time.process_time, median of 5): 1,000-user account, 1,000-row CSV")
    c = cpu()
    m = {key: value * 1000 for key, value in c["median"].items()}
    print(
        f"   parse the account {m['models']:.0f} ms, read the CSV {m['read']:.0f} ms, "
        f"check it {m['check']:.0f} ms, plan {m['plan']:.0f} ms "
        f"({c['changes']} changes, {c['cycles']} cycles): {m['total']:.0f} ms"
    )
    print(
        f"   that import's minimum wall time at 60 req/min: {c['minimum_at_60']:.0f} s, "
        f"5 % of it: {c['minimum_at_60'] * 0.05:.0f} s; the CPU time is {c['share']:.3%} of it"
    )
    ok = m["total"] < 1000 and c["share"] < 0.05
    return [("CPU: check + plan 1,000 rows", f"{m['total']:.0f} ms (goal < 1 s, < 5 %)", ok)]


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=40, help="start-up runs per command")
    parser.add_argument("--changes", type=int, default=300, help="changes in the timed import")
    parser.add_argument("--rate-limit", default="30/3", help="sandbox window, N/SECONDS")
    parser.add_argument(
        "--baseline-src",
        type=Path,
        help="another checkout's root (e.g. a `git worktree` of an older commit): its --help "
        "is timed in the same runs, through PYTHONPATH",
    )
    parser.add_argument("--startup-only", action="store_true", help="time start-up only (part 1)")
    options = parser.parse_args()

    import platform
    from importlib.metadata import version

    print(
        f"aircall-ext {version('aircall-ext')} bench: Python {platform.python_version()}, "
        f"click {version('click')}, {os.cpu_count()} CPUs, {platform.platform()}"
    )
    goals = report_startup(options.runs, options.baseline_src)
    if not options.startup_only:
        with tempfile.TemporaryDirectory(prefix="aircall-ext-bench-") as tmp:
            goals += report_floor(Path(tmp))
            goals += report_throughput(Path(tmp), options.changes, options.rate_limit)
        goals += report_cpu()
    print("\nSummary")
    for name, figure, ok in goals:
        print(f"   {name:46} {figure:52} {mark(ok)}")
    return 0 if all(ok for _name, _figure, ok in goals) else 1


if __name__ == "__main__":
    sys.exit(main())
