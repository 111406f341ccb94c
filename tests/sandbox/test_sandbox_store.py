"""The SQLite store: what it refuses to touch, how it is created, and that the service over it
answers exactly as over the in-memory account, with every write committed."""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from aircall_ext.errors import ConfigError
from aircall_ext.sandbox import store as store_module
from aircall_ext.sandbox.app import AppliedWrite, SandboxApp
from aircall_ext.sandbox.demo import demo_account, generate_account
from aircall_ext.sandbox.server import SandboxServer
from aircall_ext.sandbox.state import SandboxAccount
from aircall_ext.sandbox.store import (
    APPLICATION_ID,
    SCHEMA_VERSION,
    Store,
    StoreDamaged,
    StoreUnusable,
    load_or_seed,
    reset_database,
)
from tests.conftest import Unprivileged
from tests.scenes import NOT_SANDBOX_DATABASES, read_state, save_state, scribble


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Store]:
    store = Store.open(tmp_path / "s.db")
    yield store
    store.close()


def http(app: SandboxApp) -> httpx.Client:
    return httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://sandbox.test")


# -- files that are not ours are never written --------------------------------------------


@pytest.mark.parametrize(
    ("make", "says"), NOT_SANDBOX_DATABASES.values(), ids=NOT_SANDBOX_DATABASES.keys()
)
def test_a_file_that_is_not_a_current_sandbox_database_is_refused_untouched(
    tmp_path: Path, make: Any, says: str
) -> None:
    path = tmp_path / "dir" / "state.db"
    path.parent.mkdir()
    make(path)
    before = path.read_bytes()
    for attempt in (lambda: Store.open(path), lambda: save_state(path, generate_account(3))):
        with pytest.raises(ConfigError) as caught:
            attempt()
        assert says in str(caught.value) and str(path) in str(caught.value)
        assert "\n" not in str(caught.value)
    assert path.read_bytes() == before
    assert os.listdir(path.parent) == ["state.db"]  # no journal or WAL beside it


def test_a_json_document_is_refused_with_the_command_that_imports_it(tmp_path: Path) -> None:
    path = tmp_path / "sandbox.json"
    path.write_text("{}")
    with pytest.raises(ConfigError) as caught:
        Store.open(path)
    assert caught.value.hint is not None
    assert f"aircall-ext sandbox reset --from {path} --state NEW.db" in caught.value.hint
    assert "AIRCALL_EXT_SANDBOX_STATE" in caught.value.hint


def test_a_directory_at_the_state_path_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"cannot read sandbox state .*directory"):
        Store.open(tmp_path)


def test_an_unreadable_file_is_a_clear_error(unprivileged: Unprivileged) -> None:
    path = unprivileged.directory / "state.db"
    path.write_text("secret")
    path.chmod(0)

    def check() -> None:
        with pytest.raises(ConfigError, match="cannot read sandbox state"):
            Store.open(path)

    try:
        unprivileged.run(check)
    finally:
        path.chmod(0o600)
    assert path.read_text() == "secret"


# -- creation -----------------------------------------------------------------------------


def test_a_new_database_is_marked_as_ours_with_its_schema_version(db: Store) -> None:
    conn = sqlite3.connect(db.path)
    assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()
    assert db.document() == demo_account().document()


@pytest.mark.parametrize("make", [Path.touch, lambda p: sqlite3.connect(p).close()])
def test_an_empty_file_or_empty_database_is_initialised(tmp_path: Path, make: Any) -> None:
    """Nothing to lose, and it is what a process creating the database leaves for an instant."""
    path = tmp_path / "state.db"
    make(path)
    with Store.open(path) as store:
        assert store.document() == demo_account().document()


def test_racing_first_opens_seed_exactly_once(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    seeded: list[int] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(6)

    def seed() -> SandboxAccount:
        seeded.append(1)
        return demo_account()

    def open_it() -> None:
        barrier.wait(timeout=10)
        try:
            Store.open(path, seed=seed).close()
        except BaseException as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=open_it) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert seeded == [1]
    assert read_state(path).document() == demo_account().document()


# -- the service over the store -----------------------------------------------------------

REQUESTS: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/v1/company", None),
    ("GET", "/v2/users?per_page=7&page=3", None),
    ("GET", "/v2/users?per_page=50&page=2", None),
    ("GET", "/v2/users?page=999", None),
    ("GET", "/v1/numbers?per_page=2", None),
    ("GET", "/v1/numbers/900002", None),
    ("GET", "/v2/users/500003", None),
    ("GET", "/v1/numbers/1", None),
    ("GET", "/v2/users/500002/numbers", None),
    ("GET", "/v2/users/BEA.Garcia.4@example.com", None),
    ("GET", "/v1/teams?per_page=2&page=2", None),
    ("GET", "/v1/teams/700002", None),
    ("GET", "/v1/teams/1", None),
    ("PUT", "/v2/users/500003", {"extension": "000"}),
    ("PUT", "/v2/users/500004", {"extension": "000"}),
    ("PUT", "/v2/users/500004", {"extension": "12"}),
    ("PUT", "/v2/users/424242", {"extension": "001"}),
    ("GET", "/v2/users/500003", None),
]


def test_the_service_answers_over_the_store_exactly_as_in_memory(tmp_path: Path) -> None:
    account = generate_account(120, seed=5, numbers=4)
    path = tmp_path / "s.db"
    save_state(path, account)
    memory_writes: list[AppliedWrite] = []
    stored_writes: list[AppliedWrite] = []
    memory = http(
        SandboxApp(
            generate_account(120, seed=5, numbers=4),
            on_write=memory_writes.append,
            clock=lambda: 1.0,
        )
    )
    with Store.open(path) as store:
        stored = http(SandboxApp(store, on_write=stored_writes.append, clock=lambda: 1.0))
        for method, url, body in REQUESTS:
            expected = memory.request(method, url, json=body)
            got = stored.request(method, url, json=body)
            assert (got.status_code, got.json()) == (expected.status_code, expected.json()), url
    assert stored_writes == memory_writes and len(stored_writes) == 1
    assert read_state(path).user(500003) == {**account.user(500003), "extension": "000"}  # type: ignore[dict-item]


def test_a_page_loads_only_its_own_rows(db: Store) -> None:
    db.replace(generate_account(300, seed=1))
    with db.transaction():
        users = db.users()
        assert len(users) == 300
        page = users[100:105]
        assert [u["id"] for u in page] == [500101, 500102, 500103, 500104, 500105]
        assert users[-1]["id"] == 500300
        assert len(db._tx().users) == 6  # only what was asked for was decoded


def test_pages_follow_the_ids_whatever_gaps_there_are(db: Store) -> None:
    db.replace(generate_account(130, seed=2))
    gone = "(id % 7 = 0 OR id < 500004)"
    with db.transaction(write=True):
        conn = db._tx().conn
        for table in ("team_members", "distribution"):
            conn.execute(f"DELETE FROM {table} WHERE {gone.replace('id', 'user_id')}")
        conn.execute(f"DELETE FROM users WHERE {gone}")
        remaining = [row[0] for row in conn.execute("SELECT id FROM users ORDER BY id")]
    client = http(SandboxApp(db))
    pages = [client.get(f"/v2/users?page={page}&per_page=50").json() for page in (1, 2, 3, 4)]
    assert [u["id"] for page in pages for u in page["users"]] == remaining
    assert [page["meta"]["count"] for page in pages] == [50, 50, len(remaining) - 100, 0]


def test_a_page_of_documents_loads_as_one_by_one_a_damaged_one_failing_alone(db: Store) -> None:
    db.replace(generate_account(5, seed=3))
    with db.transaction():
        expected = [json.loads(doc) for (doc,) in db._tx().conn.execute("SELECT doc FROM users")]
        assert db.users()[0:5] == expected
    # Three damaged rows that, joined, would read as three sound documents of other users.
    damaged = ['{"id":500001,"x":[1', "2]}", '{"id":500003},{"id":500004}']
    with db.transaction(write=True):
        for user_id, doc in zip((500001, 500002, 500003), damaged, strict=True):
            db._tx().conn.execute("UPDATE users SET doc = ? WHERE id = ?", (doc, user_id))
    with pytest.raises(json.JSONDecodeError) as alone:
        json.loads(damaged[0])
    with db.transaction(), pytest.raises(json.JSONDecodeError) as caught:
        db.users()[0:5]
    assert str(caught.value) == str(alone.value)


def test_reads_happen_inside_a_transaction_only(db: Store) -> None:
    with pytest.raises(RuntimeError, match="inside a transaction"):
        db.user(481001)
    with db.transaction():
        users = db.users()
    with pytest.raises(RuntimeError):
        len(users)


def test_two_stores_on_one_database_see_each_others_commits(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with Store.open(path) as first, Store.open(path) as second:
        one, two = http(SandboxApp(first)), http(SandboxApp(second))
        assert one.put("/v2/users/481002", json={"extension": "150"}).status_code == 200
        assert two.get("/v2/users/481002").json()["user"]["extension"] == "150"
        assert two.put("/v2/users/481003", json={"extension": "150"}).status_code == 422


def test_concurrent_writers_on_separate_connections_never_share_an_extension(
    tmp_path: Path,
) -> None:
    path = tmp_path / "s.db"
    save_state(path, generate_account(20, seed=2))
    stores = [Store.open(path) for _ in range(8)]
    barrier = threading.Barrier(len(stores))
    statuses: list[int] = []

    def claim(index: int) -> None:
        client = http(SandboxApp(stores[index]))
        barrier.wait(timeout=10)
        response = client.put(f"/v2/users/{500001 + index}", json={"extension": "000"})
        statuses.append(response.status_code)

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(len(stores))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for store in stores:
        store.close()
    assert sorted(statuses) == [200] + [422] * (len(stores) - 1)
    holders = [u["id"] for u in read_state(path).users() if u["extension"] == "000"]
    assert len(holders) == 1


def test_a_busy_database_answers_503_and_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "s.db"
    save_state(path, demo_account())
    monkeypatch.setattr(store_module, "BUSY_TIMEOUT", 0.05)
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # another process in the middle of a write
    try:
        with Store.open(path) as store:
            response = http(SandboxApp(store)).put("/v2/users/481002", json={"extension": "150"})
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert response.status_code == 503
    assert "database is locked" in response.json()["troubleshoot"]
    assert "nothing was changed" in response.json()["troubleshoot"]
    assert read_state(path).user(481002)["extension"] == "102"  # type: ignore[index]


def test_the_write_log_sees_only_committed_writes(tmp_path: Path) -> None:
    """The hook runs after the commit: a reader in another connection already sees the write."""
    path = tmp_path / "s.db"
    seen: list[str | None] = []

    def check(write: AppliedWrite) -> None:
        seen.append(read_state(path).user(write.user_id)["extension"])  # type: ignore[index]

    with Store.open(path) as store:
        http(SandboxApp(store, on_write=check)).put("/v2/users/481002", json={"extension": "150"})
    assert seen == ["150"]


def test_distribution_queries_follow_the_numbers_documents(tmp_path: Path) -> None:
    account = generate_account(40, seed=3, numbers=5)
    with Store.open(tmp_path / "s.db") as store:
        store.replace(account)
        with store.transaction():
            for number in account.numbers():
                members = [u["id"] for u in store.distribution(number)]
                assert members == [ref["id"] for ref in number["users"]]
            for user in account.users():
                expected = [
                    n["id"]
                    for n in account.numbers()
                    if any(r["id"] == user["id"] for r in n["users"])
                ]
                assert [n["id"] for n in store.numbers_of(user["id"])] == expected


# -- a database that retrying cannot help ----------------------------------------------------


# Where the garbage goes: the last pages (users' rows), the header but not our mark in it
# (bytes 68-71), the header and the mark.
PAGES, HEADER, MARK = (-8192, None), (16, 60), (16, 100)


@pytest.fixture
def damaged(tmp_path: Path) -> Callable[[tuple[int, int | None]], Path]:
    def make(where: tuple[int, int | None]) -> Path:
        path = tmp_path / "damaged.db"
        save_state(path, generate_account(300, seed=1))
        scribble(path, *where)
        return path

    return make


def test_damaged_pages_stop_a_request_naming_the_file_not_a_503(
    damaged: Callable[[tuple[int, int | None]], Path],
) -> None:
    path = damaged(PAGES)
    with Store.open(path) as store, pytest.raises(StoreDamaged) as caught:
        http(SandboxApp(store)).get("/v2/users", params={"page": 6, "per_page": 50})
    assert str(caught.value) == (
        f"sandbox database {path} is damaged: database disk image is malformed"
    )
    assert caught.value.exit_code == 3
    assert caught.value.hint == (
        f"run `aircall-ext sandbox reset --state {path}` to make it again (what it held is lost)"
    )


def test_a_damaged_header_is_named_when_the_database_is_opened(
    damaged: Callable[[tuple[int, int | None]], Path],
) -> None:
    path = damaged(HEADER)
    with pytest.raises(StoreDamaged, match=f"^sandbox database {path} is damaged: file is not"):
        Store.open(path)


@pytest.mark.parametrize("where", [PAGES, HEADER], ids=["pages", "header"])
def test_reset_makes_a_damaged_database_of_ours_again(
    damaged: Callable[[tuple[int, int | None]], Path], where: tuple[int, int | None]
) -> None:
    path = damaged(where)
    damage = reset_database(path, demo_account())
    assert damage is not None and str(path) in str(damage)
    assert read_state(path).document() == demo_account().document()
    with Store.open(path) as store:
        store.check()


def test_a_damaged_file_without_our_mark_is_left_alone(
    damaged: Callable[[tuple[int, int | None]], Path],
) -> None:
    path = damaged(MARK)
    before = path.read_bytes()
    with pytest.raises(StoreDamaged) as caught:
        reset_database(path, demo_account())
    assert f"sandbox state {path} is a damaged SQLite file" in str(caught.value)
    assert caught.value.hint is not None and f"rm {path}" in caught.value.hint
    assert path.read_bytes() == before


def test_reset_of_a_sound_database_replaces_its_content(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    save_state(path, demo_account())
    assert reset_database(path, generate_account(5)) is None
    assert read_state(path).document() == generate_account(5).document()


@pytest.fixture
def in_read_only_directory(unprivileged: Unprivileged) -> Iterator[Path]:
    """A writable database in a directory nobody may write to (SQLite needs to create the
    -wal and -shm files beside it)."""
    directory = unprivileged.directory / "locked"
    directory.mkdir()
    path = directory / "s.db"
    save_state(path, demo_account())
    path.chmod(0o666)
    directory.chmod(0o555)
    try:
        yield path
    finally:
        directory.chmod(0o755)


def test_a_read_only_directory_is_named(
    in_read_only_directory: Path, unprivileged: Unprivileged
) -> None:
    path = in_read_only_directory

    def check() -> None:
        with pytest.raises(ConfigError) as caught:
            load_or_seed(path)
        assert str(caught.value) == (
            f"cannot write sandbox database {path}: its directory {path.parent} is read-only, "
            "and SQLite keeps the database's -wal and -shm files beside it"
        )
        assert caught.value.hint is not None
        assert f"make {path.parent} writable" in caught.value.hint

    unprivileged.run(check)


def test_a_read_only_database_file_is_named_when_written(unprivileged: Unprivileged) -> None:
    directory = unprivileged.directory / "open"
    directory.mkdir(mode=0o777)
    directory.chmod(0o777)  # whatever the umask: only the file is read-only
    path = directory / "s.db"
    save_state(path, demo_account())
    path.chmod(0o444)

    def check() -> None:
        with Store.open(path) as store:
            assert http(SandboxApp(store)).get("/v2/users/481002").status_code == 200
            with pytest.raises(StoreUnusable, match=f"^cannot write sandbox database {path}: "):
                http(SandboxApp(store)).put("/v2/users/481002", json={"extension": "150"})
        with pytest.raises(StoreUnusable):
            reset_database(path, demo_account())

    unprivileged.run(check)
    assert read_state(path).user(481002)["extension"] == "102"  # type: ignore[index]


def save_older(path: Path, account: SandboxAccount, version: int, *undo: str) -> None:
    """``account`` saved, then taken back to schema ``version`` by the ``undo`` statements."""
    save_state(path, account)
    conn = sqlite3.connect(path)
    for statement in undo:
        conn.execute(statement)
    conn.execute(f"PRAGMA user_version = {version}")
    conn.close()


def test_a_database_of_schema_1_gains_the_team_tables_once(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    save_older(path, generate_account(5), 1, "DROP TABLE team_members", "DROP TABLE teams")
    old = read_state(path)
    assert old.teams() == [] and len(old.users()) == 5
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    conn.close()
    save_state(path, demo_account())
    assert read_state(path).document() == demo_account().document()


def test_a_database_of_schema_2_gains_the_index_of_user_ids_once(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    save_older(path, generate_account(60), 2, "DROP INDEX users_in_order")
    with Store.open(path) as store:
        pages = [http(SandboxApp(store)).get(f"/v2/users?page={n}&per_page=50") for n in (1, 2)]
    assert [len(page.json()["users"]) for page in pages] == [50, 10]
    conn = sqlite3.connect(path)
    indexes = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")]
    assert "users_in_order" in indexes
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 3
    conn.close()


def interrupt_at(monkeypatch: pytest.MonkeyPatch, prefix: str) -> None:
    """SQLite interrupts the store's statements that start with ``prefix``. An interrupted
    write rolls its whole transaction back at once, before the store's own ROLLBACK."""
    connect = store_module._connect

    def interrupting(path: Path, *, create: bool) -> sqlite3.Connection:
        conn = connect(path, create=create)
        running = [""]
        conn.set_trace_callback(lambda statement: running.__setitem__(0, statement))
        conn.set_progress_handler(lambda: running[0].startswith(prefix), 1)
        return conn

    monkeypatch.setattr(store_module, "_connect", interrupting)


def test_a_failed_migration_names_its_own_error_and_leaves_the_old_schema(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "old.db"
    save_older(path, generate_account(60), 2, "DROP INDEX users_in_order")
    interrupt_at(monkeypatch, "CREATE INDEX")
    with pytest.raises(ConfigError, match=f"^cannot open sandbox database {path}: interrupted$"):
        Store.open(path)
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 2
    conn.close()


def test_a_failed_seeding_names_its_own_error_and_leaves_a_blank_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "new.db"
    interrupt_at(monkeypatch, "INSERT INTO users")
    with pytest.raises(ConfigError, match=f"^cannot open sandbox database {path}: interrupted$"):
        Store.open(path)
    monkeypatch.undo()
    assert load_or_seed(path).document() == demo_account().document()  # seeded on the next open


def test_a_failed_write_answers_503_with_its_own_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "s.db"
    save_state(path, demo_account())
    interrupt_at(monkeypatch, "UPDATE users")
    with Store.open(path) as store:
        response = http(SandboxApp(store)).put("/v2/users/481002", json={"extension": "150"})
    assert response.status_code == 503
    assert response.json()["troubleshoot"].startswith("The sandbox database failed (interrupted)")
    assert read_state(path).user(481002)["extension"] == "102"  # type: ignore[index]


def test_sandbox_serve_answers_a_damaged_database_with_a_500_naming_it(
    damaged: Callable[[tuple[int, int | None]], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    path = damaged(PAGES)
    access: list[str] = []
    with Store.open(path) as store:
        server = SandboxServer("127.0.0.1", 0, SandboxApp(store), access.append)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
        thread.start()
        try:
            response = httpx.get(f"{server.url}/v2/users?page=6&per_page=50", timeout=30)
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=30)
    assert response.status_code == 500
    assert response.json()["troubleshoot"].startswith(
        f"sandbox database {path} is damaged: database disk image is malformed; "
        "retrying will not help: run `aircall-ext sandbox reset --state"
    )
    errors = capsys.readouterr().err.splitlines()
    assert errors == [
        f"error: sandbox database {path} is damaged: database disk image is malformed"
    ]
    assert any('"GET /v2/users?page=6&per_page=50 HTTP/1.1" 500' in line for line in access)
