"""The sandbox store, side by side in one run (not a test: pytest does not collect it).

    pip install -e '.[test]'
    git worktree add --detach /tmp/old-store a097c13     # the JSON store, for (a)
    python tests/bench/bench_store.py --baseline-src /tmp/old-store

(a) Import: ``aircall-ext --sandbox import FILE --yes`` of a CSV that moves every user of a
    900-user account (``sandbox reset --users 900``; the export with every extension taken
    from the next user: one 900-user cycle, 901 writes), with this tree's SQLite store and
    with the JSON store of ``--baseline-src``; wall and CPU time of the import process, ratio
    (goal: at least 5x faster).
(b) One write: a PUT through the in-process app (what ``--sandbox`` runs) on a 10,000-user
    account against a 100-user account; median wall and CPU time per write, ratio (goal:
    at most 1.5).
(c) ``sandbox serve --rate-limit off``: committed writes per second from 4 concurrent
    clients, each moving its own user back and forth.

Timings depend on the machine and on what else runs on it; the ratios are what to compare.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

PYTHON = sys.executable
HERE = Path(__file__).resolve().parents[2]
API_ID, API_TOKEN = "bench-id", "bench-token"
LISTENING = re.compile(r"listening on (http://\S+)")


def run_cli(
    src: Path, state: Path, *args: str, stdin: str | None = None
) -> tuple[str, float, float]:
    """Run ``python -m aircall_ext`` from ``src`` (its own code); stdout, wall and CPU time."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRCALL")}
    env.update(PYTHONPATH=str(src), AIRCALL_EXT_SANDBOX_STATE=str(state), NO_COLOR="1")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        [PYTHON, "-m", "aircall_ext", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=state.parent,  # not the source tree: -m must import aircall_ext from src
        timeout=900,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode != 0:
        sys.exit(f"{' '.join(args)} failed ({src}): {done.stderr.strip()}")
    return done.stdout, wall, cpu


def shifted_csv(exported: str) -> str:
    """Every user takes the next user's extension: one cycle through the whole account."""
    rows = list(csv.DictReader(io.StringIO(exported)))
    extensions = [row["extension"] for row in rows]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["user_id", "extension"])
    for row, extension in zip(rows, extensions[1:] + extensions[:1], strict=True):
        writer.writerow([row["user_id"], extension])
    return out.getvalue()


def import_run(src: Path, state_name: str, users: int, seed: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-store-") as tmp:
        state = Path(tmp) / state_name
        run_cli(src, state, "sandbox", "reset", "--users", str(users), "--seed", str(seed))
        exported, _wall, _cpu = run_cli(src, state, "--sandbox", "export")
        changes = Path(tmp) / "shift.csv"
        changes.write_text(shifted_csv(exported))
        out, wall, cpu = run_cli(
            src, state, "--sandbox", "-o", "json", "import", str(changes), "--yes"
        )
        check, _w, _c = run_cli(src, state, "--sandbox", "-o", "csv", "export")
        expected = {r["user_id"]: r["extension"] for r in csv.DictReader(io.StringIO(check))}
        wanted = {r["user_id"]: r["extension"] for r in csv.DictReader(changes.open())}
        if expected != wanted:
            sys.exit(f"the import with {src} did not reach the file's state")
        return {"wall": wall, "cpu": cpu, "summary": out}


# -- (b) one write ------------------------------------------------------------------------


def write_cost(users: int, writes: int) -> dict[str, float]:
    import httpx

    from aircall_ext.sandbox import build_inprocess_app
    from aircall_ext.sandbox.demo import generate_account
    from aircall_ext.sandbox.store import open_store

    account = generate_account(users, seed=3)
    mover, freed = account.users()[0], account.users()[1]
    home, free = mover["extension"], freed["extension"]
    account.set_extension(freed["id"], None)  # a free extension to move to and back
    with tempfile.TemporaryDirectory(prefix="bench-store-") as tmp:
        state = Path(tmp) / "write.db"
        with open_store(state) as store:
            store.replace(account)
        app = build_inprocess_app(state)
        client = httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://s")
        walls, cpus = [], []
        for i in range(writes):
            target = free if i % 2 == 0 else home
            start, start_cpu = time.perf_counter(), time.process_time()
            response = client.put(f"/v2/users/{mover['id']}", json={"extension": target})
            walls.append(time.perf_counter() - start)
            cpus.append(time.process_time() - start_cpu)
            if response.status_code != 200:
                sys.exit(f"PUT failed: {response.status_code} {response.text}")
        client.close()
    return {"wall": statistics.median(walls), "cpu": statistics.median(cpus)}


# -- (c) serve throughput -----------------------------------------------------------------


def serve_throughput(clients: int, seconds: float) -> dict[str, float]:
    import httpx

    from aircall_ext.sandbox.demo import generate_account
    from aircall_ext.sandbox.store import open_store

    account = generate_account(1000, seed=4)
    users = account.users()
    # Client i moves user 2i between its own extension and user 2i+1's, freed for it.
    movers = [
        (u["id"], u["extension"], users[2 * i + 1]["extension"])
        for i, u in enumerate(users[: 2 * clients : 2])
    ]
    for freed in users[1 : 2 * clients : 2]:
        account.set_extension(freed["id"], None)
    with tempfile.TemporaryDirectory(prefix="bench-store-") as tmp:
        state = Path(tmp) / "serve.db"
        with open_store(state) as store:
            store.replace(account)
        env = {k: v for k, v in os.environ.items() if not k.startswith("AIRCALL")}
        env["AIRCALL_EXT_SANDBOX_TOKEN"] = API_TOKEN
        cli = shutil.which("aircall-ext", path=str(Path(PYTHON).parent)) or "aircall-ext"
        server = subprocess.Popen(
            [cli, "sandbox", "serve", "--port", "0", "--state", str(state), "--api-id", API_ID,
             "--rate-limit", "off"],
            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env,
        )  # fmt: skip
        assert server.stderr is not None
        match = LISTENING.search(server.stderr.readline())
        if not match:
            server.kill()
            sys.exit("sandbox serve did not start")
        drain = threading.Thread(target=lambda: server.stderr and server.stderr.read())
        drain.start()
        counts = [0] * clients
        failures: list[str] = []
        stop_at = time.monotonic() + seconds

        def work(index: int) -> None:
            user_id, home, free = movers[index]
            targets = (free, home)
            with httpx.Client(base_url=match.group(1), auth=(API_ID, API_TOKEN)) as http:
                while time.monotonic() < stop_at:
                    target = targets[counts[index] % 2]
                    response = http.put(f"/v2/users/{user_id}", json={"extension": target})
                    if response.status_code != 200:
                        failures.append(f"{response.status_code} {response.text}")
                        return
                    counts[index] += 1

        start = time.perf_counter()
        threads = [threading.Thread(target=work, args=(i,)) for i in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - start
        server.terminate()
        server.wait(timeout=30)
        drain.join(timeout=30)
    if failures:
        sys.exit(f"serve writes failed: {failures[0]}")
    return {"writes": sum(counts), "seconds": elapsed, "per_second": sum(counts) / elapsed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--baseline-src",
        type=Path,
        help="a checkout of the JSON store (e.g. `git worktree add --detach /tmp/old-store "
        "a097c13`); without it, (a) runs the SQLite store only",
    )
    parser.add_argument("--users", type=int, default=900, help="account size for (a)")
    parser.add_argument("--seed", type=int, default=7, help="seed of the generated account")
    parser.add_argument("--writes", type=int, default=200, help="PUTs per account size in (b)")
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of (c)")
    args = parser.parse_args()

    print(f"(a) import moving every user of a {args.users}-user account (--sandbox, in-process)")
    new = import_run(HERE, "sandbox.db", args.users, args.seed)
    print(f"    SQLite store (this tree)   wall {new['wall']:7.2f} s   CPU {new['cpu']:7.2f} s")
    if args.baseline_src:
        old = import_run(args.baseline_src.resolve(), "sandbox.json", args.users, args.seed)
        print(
            f"    JSON store ({args.baseline_src})  wall {old['wall']:7.2f} s   "
            f"CPU {old['cpu']:7.2f} s"
        )
        print(
            f"    ratio JSON / SQLite: wall x{old['wall'] / new['wall']:.1f}, "
            f"CPU x{old['cpu'] / new['cpu']:.1f}   (goal: >= x5)"
        )

    print(f"(b) one PUT through the in-process app, median of {args.writes}")
    small, big = write_cost(100, args.writes), write_cost(10_000, args.writes)
    print(
        f"    100 users      wall {small['wall'] * 1e3:6.2f} ms   CPU {small['cpu'] * 1e3:6.2f} ms"
    )
    print(f"    10,000 users   wall {big['wall'] * 1e3:6.2f} ms   CPU {big['cpu'] * 1e3:6.2f} ms")
    print(
        f"    ratio 10,000 / 100: wall x{big['wall'] / small['wall']:.2f}, "
        f"CPU x{big['cpu'] / small['cpu']:.2f}   (goal: <= x1.5)"
    )

    print(f"(c) sandbox serve --rate-limit off, 4 concurrent clients for {args.seconds:g} s")
    served = serve_throughput(4, args.seconds)
    print(
        f"    {served['writes']} committed writes in {served['seconds']:.1f} s: "
        f"{served['per_second']:.0f} writes/s"
    )


if __name__ == "__main__":
    main()
