"""The scenes the tests share, in one place: accounts in the API's shape, the CSV files that
renumber them, and the helpers that read back or interfere with the in-process sandbox.

A scene is written as a table (user id → extension) so that a reader sees the whole account at
a glance. The in-process sandbox gets them through the fixtures of tests/conftest.py, a
real server through ``serve(holdings=...)`` in tests/e2e/conftest.py.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
import threading
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import pytest

from aircall_ext.api.client import ApiClient
from aircall_ext.api.models import User
from aircall_ext.names import ENV_API_ID, ENV_API_TOKEN, ENV_BASE_URL
from aircall_ext.sandbox.demo import demo_account
from aircall_ext.sandbox.state import SandboxAccount
from aircall_ext.sandbox.store import SCHEMA_VERSION, Store, open_store

WriteState = Callable[..., Path]
Holdings = Mapping[int, str | None]


def read_state(path: Path) -> SandboxAccount:
    """The account in the existing sandbox database ``path``, in memory."""
    with Store.open(path, seed=None) as store:
        return store.snapshot()


def save_state(path: Path, account: SandboxAccount) -> None:
    """Replace the content of the sandbox database ``path`` (created if missing)."""
    with open_store(path) as store:
        store.replace(account)


# -- accounts --------------------------------------------------------------------------------


def api_user(
    user_id: int,
    extension: str | None,
    *,
    email: str | None = None,
    name: str | None = None,
    available: bool = True,
    status: str = "available",
    outgoing_only: bool = False,
) -> dict[str, object]:
    """A user in the API's shape, for sandbox state files and respx bodies."""
    return {
        "id": user_id,
        "name": name or f"User {user_id}",
        "email": email or f"user{user_id}@example.com",
        "available": available,
        "availability_status": status,
        "extension": extension,
        "outgoing_only": outgoing_only,
        "numbers": [],
    }


def users_holding(holdings: Holdings) -> list[dict[str, object]]:
    """Users ``User N`` (``userN@example.com``) holding ``holdings``, in its order."""
    return [api_user(user_id, extension) for user_id, extension in holdings.items()]


NAMES = {1: "ann", 2: "bob", 3: "cy", 4: "dee", 5: "eve", 6: "fay", 7: "gus", 8: "hal", 9: "ivy"}


def team(holdings: Holdings, *, outgoing_only: Collection[int] = ()) -> list[dict[str, object]]:
    """Users 1, 2, 3… known by their e-mail (``ann@``, ``bob@``, ``cy@``…) holding
    ``holdings``; the ids in ``outgoing_only`` are outgoing-only users."""
    return [
        api_user(u, e, email=f"{NAMES[u]}@example.com", outgoing_only=u in outgoing_only)
        for u, e in holdings.items()
    ]


def renumbering(wants: Holdings, *, emails: bool = False) -> str:
    """The CSV that asks for ``wants`` (``None``: a blank cell), with an email column if asked."""
    if emails:
        rows = "".join(f"{u},user{u}@example.com,{e or ''}\n" for u, e in wants.items())
        return "user_id,email,extension\n" + rows
    return "user_id,extension\n" + "".join(f"{u},{e or ''}\n" for u, e in wants.items())


def api_number(
    nid: int, name: str, digits: str, routing: str, members: list[int]
) -> dict[str, Any]:
    """A number in the API's shape; ``routing`` is smartflows, legacy-classic or legacy-ivr."""
    return {
        "id": nid,
        "name": name,
        "digits": digits,
        "e164_digits": "+" + "".join(ch for ch in digits if ch.isdigit()),
        "flow_editor_enabled": routing == "smartflows",
        "is_ivr": routing == "legacy-ivr",
        "users": [{"id": m, "name": f"User {m}", "email": f"user{m}@example.com"} for m in members],
        "direct_link": f"https://api.example.com/v1/numbers/{nid}",
        "country": "FR",
        "time_zone": "Europe/Paris",
    }


# -- the import scene: a swap (1, 2), a chain (3 → 104, held by 4, who moves to 105), an
# assignment (5), a blank cell (6) and an unchanged row (7); 8 is not in the file.

IMPORT_BEFORE: dict[int, str | None] = {
    1: "101", 2: "102", 3: "103", 4: "104", 5: None, 6: "106", 7: "107", 8: "100",
}  # fmt: skip
IMPORT_CSV = renumbering(
    {1: "102", 2: "101", 3: "104", 4: "105", 5: "150", 6: None, 7: "107"}, emails=True
)
IMPORT_DESIRED = {1: "102", 2: "101", 3: "104", 4: "105", 5: "150", 6: "106", 7: "107", 8: "100"}

# -- the undo scene: a 3-cycle (1, 2, 3), a swap (4, 5), a chain move (6 → free 303); 8 is
# not in the file. UNDO_AFTER is the account once UNDO_CSV is imported.

UNDO_BEFORE = {1: "101", 2: "102", 3: "103", 4: "201", 5: "202", 6: "301", 8: "100"}
UNDO_AFTER = {1: "102", 2: "103", 3: "101", 4: "202", 5: "201", 6: "303", 8: "100"}
UNDO_CSV = renumbering({u: e for u, e in UNDO_AFTER.items() if u != 8})

# -- the crash scene: a 4-cycle (1-4), a 3-cycle (5-7), a swap (8, 9), a chain (10 → free 405,
# 11 → 401, 12 with none → 402); 13 and 14 are not in the file. 12 moves, 3 parking writes.

CRASH_BEFORE: dict[int, str | None] = {
    1: "101", 2: "102", 3: "103", 4: "104",
    5: "201", 6: "202", 7: "203",
    8: "301", 9: "302",
    10: "401", 11: "402", 12: None,
    13: "100", 14: "500",
}  # fmt: skip
CRASH_WANTS = {
    1: "102", 2: "103", 3: "104", 4: "101",
    5: "202", 6: "203", 7: "201",
    8: "302", 9: "301",
    10: "405", 11: "401", 12: "402",
}  # fmt: skip
CRASH_MOVES, CRASH_CYCLES = len(CRASH_WANTS), 3

# -- the dial scene: one number per routing mode, users in every availability.

PARIS = "+33 1 76 36 06 95"
DIAL_USERS = [
    api_user(1, "101", name="Ann"),
    api_user(2, "007", name="Bob", available=False),
    api_user(3, "102", status="unavailable"),
    api_user(4, "103", outgoing_only=True),
    api_user(5, "104", status="custom"),
]
DIAL_NUMBERS = [
    api_number(10, "Paris Support", PARIS, "smartflows", [1, 2]),
    api_number(11, "Lyon Classic", "+33 4 72 00 00 11", "legacy-classic", [1]),
    api_number(12, "NYC IVR", "+1 212 555 0100", "legacy-ivr", []),
]
# The checks of a dialed call, in the order the simulator makes them.
DIAL_CHECKS = [
    "api-transfer",
    "stage",
    "sequence",
    "lookup",
    "outgoing-only",
    "distribution",
    "availability",
]


# -- files at the sandbox state path that are not a current sandbox database, and how the
# refusal names them (kind → (make the file, what the message says)).


def _other_app_db(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (body TEXT)")
    conn.execute("INSERT INTO notes VALUES ('mine')")
    conn.commit()
    conn.close()


def _newer_db(path: Path) -> None:
    save_state(path, demo_account())
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()


NOT_SANDBOX_DATABASES: dict[str, tuple[Callable[[Path], object], str]] = {
    "json": (lambda p: p.write_text(json.dumps(demo_account().document())), "a JSON document"),
    "text": (lambda p: p.write_text("ext,user\n101,ann\n"), "a text file"),
    "binary": (lambda p: p.write_bytes(bytes(range(256)) * 8), "binary data"),
    "other-app": (_other_app_db, "a SQLite database of another application (tables: notes)"),
    "newer": (_newer_db, "made by a newer aircall-ext"),
}


def scribble(path: Path, start: int, end: int | None = None) -> None:
    """Overwrite bytes ``[start, end)`` of a closed database (negative: from the end) with
    garbage, as a failing disk or a stray write would."""
    data = bytearray(path.read_bytes())
    first = start % len(data)
    last = len(data) if end is None else end
    data[first:last] = bytes((i * 37) % 256 for i in range(first, last))
    path.write_bytes(bytes(data))


# -- reading back and interfering ------------------------------------------------------------


def through_fifo(fifo: Path, run: Callable[[], Any]) -> tuple[Any, bytes]:
    """Make ``fifo`` a named pipe and call ``run()`` while a reader drains it: what ``run``
    returned, and the bytes that came through the pipe."""
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    result = run()
    reader.join(timeout=30)
    return result, b"".join(received)


def holdings_db(path: Path) -> dict[int, Any]:
    """What each user of the sandbox database ``path`` holds (user id → extension)."""
    return {u["id"]: u["extension"] for u in read_state(path).document()["users"]}


def extensions() -> dict[int, str | None]:
    """What the in-process sandbox account holds now, straight from its database."""
    return holdings_db(Path(os.environ["AIRCALL_EXT_SANDBOX_STATE"]))


def replay_writes(
    initial: Mapping[int, str | None], writes: Iterable[Mapping[str, Any]]
) -> dict[int, str | None]:
    """Apply ``writes`` ({user_id, to}, and from when the log has it) in order from
    ``initial`` and return the end state.

    Each write must start from what its user held and target an extension nobody else holds
    at that moment, so no write ever made two users share one; collisions that predate the
    import may only lose holders.
    """
    holding = dict(initial)
    for write in writes:
        user, target = write["user_id"], write["to"]
        assert holding[user] == write.get("from", holding[user]), write
        others = [u for u, e in holding.items() if e == target and u != user]
        assert others == [], f"{write}: {target} was still held by {others}"
        holding[user] = target
    assert _shared(holding) <= _shared(initial), "an extension became shared"
    return holding


def _shared(holding: Mapping[int, str | None]) -> set[str]:
    return {e for e, n in Counter(e for e in holding.values() if e).items() if n > 1}


def read_report(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text("utf-8"))))


def journal_header(journal: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(journal.read_text().splitlines()[0])
    return doc


def env_credentials(
    monkeypatch: pytest.MonkeyPatch, api_id: str, token: str, *, base_url: str | None = None
) -> None:
    """Credentials (and an API root) in the environment, as a CI job sets them."""
    monkeypatch.setenv(ENV_API_ID, api_id)
    monkeypatch.setenv(ENV_API_TOKEN, token)
    if base_url is not None:
        monkeypatch.setenv(ENV_BASE_URL, base_url)


def fail_on_write(monkeypatch: pytest.MonkeyPatch, number: int, error: BaseException) -> None:
    """Make the ``number``-th write (1-based) of the run raise ``error`` before it is sent."""
    real = ApiClient.set_extension
    calls = {"n": 0}

    def set_extension(self: ApiClient, user_id: int, extension: str) -> User:
        calls["n"] += 1
        if calls["n"] == number:
            raise error
        return real(self, user_id, extension)

    monkeypatch.setattr(ApiClient, "set_extension", set_extension)


def run_with_failing_write(
    run_cli: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
    number: int,
    error: BaseException,
    *args: str,
    input: str | None = None,
) -> Any:
    """``run_cli(*args)`` with its ``number``-th write raising ``error``; later runs write."""
    with monkeypatch.context() as patch:
        fail_on_write(patch, number, error)
        return run_cli(*args, input=input)


def record_writes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, str]]:
    """Every write the CLI sends from now on, in order, as (user id, extension)."""
    sent: list[tuple[int, str]] = []
    real = ApiClient.set_extension

    def record(self: ApiClient, user_id: int, extension: str) -> User:
        sent.append((user_id, extension))
        return real(self, user_id, extension)

    monkeypatch.setattr(ApiClient, "set_extension", record)
    return sent


def on_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Standard input is a terminal: the import asks before writing."""
    monkeypatch.setattr("aircall_ext.cli.context.stdin_is_terminal", lambda: True)


def write_while_confirming(monkeypatch: pytest.MonkeyPatch, user_id: int, extension: str) -> None:
    """On a terminal, another admin gives ``user_id`` ``extension`` while the user reads the
    plan, who then answers yes."""

    def confirm(*_args: object, **_kwargs: object) -> bool:
        click.get_current_context().obj.client().set_extension(user_id, extension)
        return True

    on_terminal(monkeypatch)
    monkeypatch.setattr("click.confirm", confirm)


# -- requests, as a server's access log or the in-process count shows them ----------------------


@dataclass(frozen=True)
class Request:
    method: str
    target: str  # path?query
    status: str  # "200", or "RESET" for a dropped connection

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]


def only(requests: Iterable[Request], **expected: int) -> None:
    """Exactly these requests (keys like ``GET_users``, ``GET_users_one`` for
    /v2/users/ID, ``GET_users_one_numbers`` for /v2/users/ID/numbers), and nothing else."""
    seen: dict[str, int] = {}
    for r in requests:
        parts = r.path.split("/")
        key = "_".join([r.method, parts[2], *(["one"] if len(parts) > 3 else []), *parts[4:]])
        seen[key] = seen.get(key, 0) + 1
    assert seen == {k: v for k, v in expected.items() if v}


def first_free(account: SandboxAccount, *, but: Collection[str] = ()) -> str:
    """The lowest three-digit extension nobody in ``account`` holds (and not in ``but``)."""
    return min(
        f"{n:03d}"
        for n in range(100, 1000)
        if not account.holders(f"{n:03d}") and f"{n:03d}" not in but
    )


def floor_import(account: SandboxAccount) -> tuple[str, int, int, dict[int, str]]:
    """The request floor's import of ``account`` (a generated one): two swaps and a 3-cycle
    (K = 3), a chain into a free extension, an unchanged row and a blank cell: C = 9 changes.
    The CSV text, C, K and what the file asks of the users it changes."""
    u = account.users()
    ext = [user["extension"] for user in u]
    desired = {
        u[0]["id"]: ext[1], u[1]["id"]: ext[0],  # swap
        u[2]["id"]: ext[3], u[3]["id"]: ext[2],  # swap
        u[4]["id"]: ext[5], u[5]["id"]: ext[6], u[6]["id"]: ext[4],  # 3-cycle
        u[7]["id"]: first_free(account), u[8]["id"]: ext[7],  # chain
    }  # fmt: skip
    rows = [f"{user_id},{extension}" for user_id, extension in desired.items()]
    rows += [f"{u[9]['id']},{ext[9]}", f"{u[10]['id']},"]  # unchanged, blank
    return "user_id,extension\n" + "\n".join(rows) + "\n", len(desired), 3, desired
