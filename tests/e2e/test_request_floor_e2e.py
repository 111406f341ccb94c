"""The request floor and pacing, counted exactly in ``sandbox serve``'s access log.

Floors (U users, N numbers, 50 per page; a listing always takes at least one page):

- a listing of users: max(1, ⌈U/50⌉) GETs of /v2/users, nothing else;
- an import of C changes with K cycles: ⌈U/50⌉ GETs to plan, C + K PUTs, one GET of
  /v2/users/ID reading the first write back, ⌈U/50⌉ GETs to verify, nothing else; running
  it again: ⌈U/50⌉ GETs and no PUT; --dry-run: no PUT;
- assign: ⌈U/50⌉ GETs (collisions are checked on the whole account), 1 PUT and one GET of
  /v2/users/ID reading the user back; a refused or dry-run assign: no PUT, no read-back;
- show by id: one GET of /v2/users/ID and one page of /v2/users/ID/numbers;
- numbers are listed (⌈N/50⌉ GETs of /v1/numbers) only by ``numbers`` and ``dial``; listing
  items carry no call distribution, so ``numbers`` reads each number's own record (N GETs
  of /v1/numbers/ID) and ``dial`` reads the dialed number's (1 GET).

Pacing is not under test in the floor tests (``--rate-limit off``); the pacing tests at the
end use scaled windows and assert outcomes (no 429, waits shown), never timings.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import pty
import subprocess
import threading
import time
import urllib.error
import urllib.request
from base64 import b64encode
from collections.abc import Iterator
from pathlib import Path

import pytest

from aircall_ext.sandbox.demo import generate_account
from aircall_ext.sandbox.state import SandboxAccount
from tests.e2e.conftest import (
    API_ID,
    API_TOKEN,
    CLI,
    Request,
    SandboxServer,
    Serve,
    holdings_db,
)
from tests.scenes import save_state

pytestmark = pytest.mark.e2e

USERS = 120
NUMBERS = 60
PAGES_U = math.ceil(USERS / 50)  # 3
PAGES_N = math.ceil(NUMBERS / 50)  # 2


def write_account(path: Path, users: int, numbers: int = 3, seed: int = 8) -> SandboxAccount:
    account = generate_account(users, seed=seed, numbers=numbers)
    save_state(path, account)
    return account


class Audit:
    """The server's requests since the last call, so one server serves several commands."""

    def __init__(self, server: SandboxServer) -> None:
        self.server = server
        self.seen = 0

    def new(self) -> list[Request]:
        requests = self.server.requests()
        fresh, self.seen = requests[self.seen :], len(requests)
        return fresh


def count(requests: list[Request], method: str, path: str) -> int:
    return sum(1 for r in requests if r.method == method and r.path == path)


def only(requests: list[Request], **expected: int) -> None:
    """Exactly these requests (keys like ``GET_users``, ``GET_users_one`` for
    /v2/users/ID, ``GET_users_one_numbers`` for /v2/users/ID/numbers), and nothing else."""
    seen: dict[str, int] = {}
    for r in requests:
        parts = r.path.split("/")
        key = "_".join([r.method, parts[2], *(["one"] if len(parts) > 3 else []), *parts[4:]])
        seen[key] = seen.get(key, 0) + 1
    assert seen == {k: v for k, v in expected.items() if v}


@pytest.fixture
def big(serve: Serve, tmp_path: Path) -> Iterator[tuple[SandboxServer, SandboxAccount, Audit]]:
    state = tmp_path / "big.db"
    account = write_account(state, USERS, numbers=NUMBERS)
    server = serve("--rate-limit", "off", state=state)
    yield server, account, Audit(server)


# -- listings --------------------------------------------------------------------------


@pytest.mark.parametrize("users", [0, 1, 49, 50, 51, 100, 120, 151])
def test_listing_u_users_takes_ceil_u_over_50_gets(
    serve: Serve, tmp_path: Path, users: int
) -> None:
    state = tmp_path / "state.db"
    write_account(state, users)
    server = serve("--rate-limit", "off", state=state)
    result = server.cli("-o", "json", "list")
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)["users"]) == users
    requests = server.requests()
    pages = max(1, math.ceil(users / 50))
    only(requests, GET_users=pages)
    assert [r.target for r in requests] == [
        f"/v2/users?page={page}&per_page=50" for page in range(1, pages + 1)
    ]


def test_read_only_commands_list_users_once_and_never_numbers(
    big: tuple[SandboxServer, SandboxAccount, Audit], tmp_path: Path
) -> None:
    server, account, audit = big
    exported = tmp_path / "export.csv"
    for args in (
        ["list", "--missing"],
        ["validate"],
        ["next-free", "--count", "3"],
        ["export", str(exported)],
        ["validate", str(exported)],
        ["diff", str(exported)],
        ["import", str(exported), "--dry-run"],
    ):
        result = server.cli(*args)
        assert result.returncode == 0, (args, result.stderr)
        only(audit.new(), GET_users=PAGES_U)
    user = account.users()[7]
    result = server.cli("-o", "json", "show", str(user["id"]))
    assert json.loads(result.stdout)["user"]["extension"] == user["extension"]
    only(audit.new(), GET_users_one=1, GET_users_one_numbers=1)
    result = server.cli("-o", "json", "show", user["email"])
    assert json.loads(result.stdout)["user"]["id"] == user["id"]
    only(audit.new(), GET_users_one=1, GET_users_one_numbers=1)


def test_numbers_are_listed_only_by_the_commands_that_need_them(
    big: tuple[SandboxServer, SandboxAccount, Audit],
) -> None:
    server, account, audit = big
    result = server.cli("-o", "json", "numbers")
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)["numbers"]) == NUMBERS
    only(audit.new(), GET_numbers=PAGES_N, GET_numbers_one=NUMBERS)
    number = account.numbers()[0]
    user = account.users()[0]
    result = server.cli("dial", str(number["id"]), user["extension"], "--stage", "ivr")
    assert result.returncode in {0, 1}, result.stderr  # reaching the user or not: both fine
    only(audit.new(), GET_users=PAGES_U, GET_numbers=PAGES_N, GET_numbers_one=1)


# -- assign ----------------------------------------------------------------------------


def test_assign_is_one_put_and_a_refused_or_dry_run_assign_none(
    big: tuple[SandboxServer, SandboxAccount, Audit],
) -> None:
    server, account, audit = big
    first, second = account.users()[0], account.users()[1]
    taken = second["extension"]
    free = min(f"{n:03d}" for n in range(100, 1000) if not account.holders(f"{n:03d}"))

    result = server.cli("assign", str(first["id"]), taken)  # taken, no --swap: refused
    assert result.returncode == 1
    only(audit.new(), GET_users=PAGES_U)

    result = server.cli("assign", str(first["id"]), free, "--dry-run")
    assert result.returncode == 0, result.stderr
    only(audit.new(), GET_users=PAGES_U)

    result = server.cli("assign", str(first["id"]), free)
    assert result.returncode == 0, result.stderr
    only(audit.new(), GET_users=PAGES_U, PUT_users_one=1, GET_users_one=1)

    result = server.cli("assign", str(first["id"]), free)  # already so: nothing to write
    assert result.returncode == 0, result.stderr
    only(audit.new(), GET_users=PAGES_U)

    result = server.cli("assign", str(first["id"]), taken, "--swap")  # park, move, move
    assert result.returncode == 0, result.stderr
    only(audit.new(), GET_users=PAGES_U, PUT_users_one=3, GET_users_one=1)


# -- import ----------------------------------------------------------------------------


def import_file(account: SandboxAccount) -> tuple[str, int, int, dict[int, str]]:
    """Two swaps and a 3-cycle (K = 3), a chain into a free extension, an unchanged row and
    a blank cell: C = 9 changes."""
    u = account.users()
    ext = [user["extension"] for user in u]
    free = min(f"{n:03d}" for n in range(100, 1000) if not account.holders(f"{n:03d}"))
    desired = {
        u[0]["id"]: ext[1], u[1]["id"]: ext[0],  # swap
        u[2]["id"]: ext[3], u[3]["id"]: ext[2],  # swap
        u[4]["id"]: ext[5], u[5]["id"]: ext[6], u[6]["id"]: ext[4],  # 3-cycle
        u[7]["id"]: free, u[8]["id"]: ext[7],  # chain
    }  # fmt: skip
    rows = [f"{user_id},{extension}" for user_id, extension in desired.items()]
    rows += [f"{u[9]['id']},{ext[9]}", f"{u[10]['id']},"]  # unchanged, blank
    return "user_id,extension\n" + "\n".join(rows) + "\n", len(desired), 3, desired


def test_import_is_c_plus_k_puts_and_one_read_back_between_a_plan_read_and_a_verification(
    big: tuple[SandboxServer, SandboxAccount, Audit], tmp_path: Path
) -> None:
    server, account, audit = big
    text, changes, cycles, desired = import_file(account)
    csv_file = tmp_path / "desired.csv"
    csv_file.write_text(text)
    journal = tmp_path / "journal.jsonl"

    result = server.cli("-o", "json", "import", str(csv_file), "--dry-run")
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    assert len(plan["steps"]) == changes + cycles
    only(audit.new(), GET_users=PAGES_U)

    result = server.cli("import", str(csv_file), "--yes", "--journal", str(journal))
    assert result.returncode == 0, result.stderr
    requests = audit.new()
    only(requests, GET_users=2 * PAGES_U, PUT_users_one=changes + cycles, GET_users_one=1)
    kinds = [r.method for r in requests]  # the reads frame the writes; the first is read back
    writes = ["PUT", "GET", *["PUT"] * (changes + cycles - 1)]
    assert kinds == ["GET"] * PAGES_U + writes + ["GET"] * PAGES_U
    assert requests[PAGES_U + 1].path == requests[PAGES_U].path  # the same user
    assert {int(r.path.rsplit("/", 1)[1]) for r in requests if r.method == "PUT"} == set(desired)

    result = server.cli("-o", "json", "import", str(csv_file), "--yes")  # again: done already
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["summary"]["applied"] == 0
    only(audit.new(), GET_users=PAGES_U)

    result = server.cli("diff", str(csv_file))
    assert result.returncode == 0, result.stdout + result.stderr  # no drift
    only(audit.new(), GET_users=PAGES_U)


# -- pacing ----------------------------------------------------------------------------


def rotation(account: SandboxAccount, size: int) -> str:
    """Each of the first ``size`` users takes the next one's extension: size + 1 writes."""
    u = account.users()[:size]
    rows = [f"{user['id']},{u[(i + 1) % size]['extension']}" for i, user in enumerate(u)]
    return "user_id,extension\n" + "\n".join(rows) + "\n"


def raw_get(server: SandboxServer, path: str) -> tuple[int, dict[str, str]]:
    """A request from 'another client' of the same account: no pacing at all."""
    auth = b64encode(f"{API_ID}:{API_TOKEN}".encode()).decode()
    request = urllib.request.Request(server.base_url + path)
    request.add_header("Authorization", f"Basic {auth}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers)


def test_budget_drained_by_another_client_mid_import_is_waited_out(
    serve: Serve, tmp_path: Path
) -> None:
    state = tmp_path / "state.db"
    account = write_account(state, 30)
    server = serve("--rate-limit", "6/2", state=state)
    csv_file = tmp_path / "rotate.csv"
    csv_file.write_text(rotation(account, 12))
    process = subprocess.Popen(
        [CLI, "-v", "import", str(csv_file), "--yes", "--journal", str(tmp_path / "j.jsonl")],
        env=server.env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not any(" /v2/users/" in line for line in list(server.log)):
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.01)
    drained = 0
    while True:  # the other client spends whatever is left of the window, then one more
        status, _headers = raw_get(server, "/v1/company")
        drained += 1
        if status == 429:
            break
    _stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr
    logged = server.requests()
    theirs = [i for i, r in enumerate(logged) if r.path == "/v1/company"]
    assert len(theirs) == drained and logged[theirs[-1]].status == "429"
    mine = [r for r in logged if r.path != "/v1/company"]
    after_drain = [r for r in logged[theirs[-1] :] if r.method == "PUT"]
    assert after_drain  # the budget ran out in the middle of the import
    refused = [r for r in mine if r.status == "429"]
    assert len(refused) <= 1  # told once at most; then it waits for the reset
    puts = [r for r in mine if r.method == "PUT" and r.status == "200"]
    assert len(puts) == 13
    assert count(mine, "GET", "/v2/users") == 2
    assert server.stop() == 0
    final = holdings_db(state)
    exts = [u["extension"] for u in account.users()[:12]]
    assert [final[u["id"]] for u in account.users()[:12]] == exts[1:] + exts[:1]
    if refused:
        assert "rate limited (HTTP 429): waiting" in stderr


def run_with_terminal_stderr(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    """Run the CLI with stderr on a pseudo-terminal (progress bars only draw on one)."""
    master, slave = pty.openpty()
    chunks: list[bytes] = []

    def drain() -> None:
        with contextlib.suppress(OSError):  # EIO once the child side is closed
            while chunk := os.read(master, 4096):
                chunks.append(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        done = subprocess.run(
            [CLI, *args],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=slave,
            timeout=120,
            check=False,
        )
    finally:
        os.close(slave)
    reader.join(timeout=10)
    os.close(master)
    return done.returncode, b"".join(chunks).decode(errors="replace")


def test_the_import_progress_bar_shows_rate_limit_waits(serve: Serve, tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    account = write_account(state, 20)
    server = serve("--rate-limit", "4/1", state=state)
    csv_file = tmp_path / "rotate.csv"
    csv_file.write_text(rotation(account, 8))
    code, terminal = run_with_terminal_stderr(
        ["import", str(csv_file), "--yes", "--journal", str(tmp_path / "j.jsonl")],
        server.env(COLUMNS="100"),
    )
    assert code == 0, terminal
    assert "waiting for rate limit" in terminal
    assert "import [" in terminal and "9/9" in terminal
    assert [r for r in server.requests() if r.status == "429"] == []
