"""The sandbox's SQLite store: one database shared by any number of processes.

Every user, number and team is kept as its normalised JSON document (what
:meth:`SandboxAccount.from_document` produces), so the store does not depend on the record
shapes; a few columns exist only for queries: ``users.extension`` (indexed, for the
uniqueness check) and the ``distribution`` and ``team_members`` tables (who is where, in
order).

Every request runs in one transaction. Writes use ``BEGIN IMMEDIATE``, so the read-check-write
of the uniqueness rule is serialised across processes, and they are committed (WAL,
``synchronous=FULL``) before the response is built. A file at the state path that is not a
sandbox database is never written to: opening it is a :class:`ConfigError`, and so is a
database that retrying cannot help (damaged, or in a directory SQLite cannot write to).
Where the database lives by default, and opening, reading, replacing or recreating it in
one call, are here too.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import shlex
import sqlite3
import stat
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol, overload
from urllib.parse import quote

from aircall_ext.errors import ConfigError, Hint, Remedy
from aircall_ext.names import APP_NAME, ENV_SANDBOX_STATE, state_dir
from aircall_ext.sandbox.demo import demo_account
from aircall_ext.sandbox.state import (
    JsonObject,
    SandboxAccount,
    company_document,
    email_match,
    fold_email,
)

SCHEMA_VERSION = 3  # PRAGMA user_version; bump it (with a migration) when the schema changes
APPLICATION_ID = 0x61637865  # PRAGMA application_id: "acxe", marks the file as ours
BUSY_TIMEOUT = 30.0  # seconds a transaction waits for another process's write to finish
SQLITE_HEADER = b"SQLite format 3\x00"

# Teams came with schema 2: their tables are also the migration from schema 1.
_TEAM_TABLES = (
    "CREATE TABLE teams (id INTEGER PRIMARY KEY, doc TEXT NOT NULL)",
    "CREATE TABLE team_members ("
    " team_id INTEGER NOT NULL REFERENCES teams (id),"
    " user_id INTEGER NOT NULL REFERENCES users (id),"
    " position INTEGER NOT NULL,"
    " PRIMARY KEY (team_id, user_id)) WITHOUT ROWID",
    "CREATE INDEX team_members_by_user ON team_members (user_id)",
)
# Users by id, apart from their documents: a page of the listing skips the users before it
# here, in a few pages, instead of across the whole table (schema 3).
_USERS_IN_ORDER = ("CREATE INDEX IF NOT EXISTS users_in_order ON users (id)",)
# The whole schema. Documents are JSON text; only what queries need is a column.
SCHEMA = (
    "CREATE TABLE company (id INTEGER PRIMARY KEY CHECK (id = 1), doc TEXT NOT NULL)",
    "CREATE TABLE users (id INTEGER PRIMARY KEY, extension TEXT, doc TEXT NOT NULL)",
    "CREATE INDEX users_by_extension ON users (extension)",
    *_USERS_IN_ORDER,
    "CREATE TABLE numbers (id INTEGER PRIMARY KEY, doc TEXT NOT NULL)",
    "CREATE TABLE distribution ("
    " number_id INTEGER NOT NULL REFERENCES numbers (id),"
    " user_id INTEGER NOT NULL REFERENCES users (id),"
    " position INTEGER NOT NULL,"
    " PRIMARY KEY (number_id, user_id)) WITHOUT ROWID",
    "CREATE INDEX distribution_by_user ON distribution (user_id)",
    *_TEAM_TABLES,
)
# What brings a database of schema N-1 to schema N, for each N up to SCHEMA_VERSION.
MIGRATIONS: dict[int, tuple[str, ...]] = {2: _TEAM_TABLES, 3: _USERS_IN_ORDER}

NEW_PATH_HINT = f"point {ENV_SANDBOX_STATE} (or --state) at another path"


class StoreError(Exception):
    """The database failed during a request (busy past the timeout, disk full, I/O error):
    the request changed nothing, and trying again may work."""


class StoreUnusable(ConfigError):
    """The database cannot answer any request until someone acts on the file: retrying
    never helps. The message names the file and what is wrong."""


class StoreDamaged(StoreUnusable):
    """SQLite reports the database damaged (corrupt pages, or not a database at all)."""


class Account(Protocol):
    """What the service's handlers read and write, in memory or in the database."""

    def users(self) -> Sequence[JsonObject]: ...
    def numbers(self) -> Sequence[JsonObject]: ...
    def teams(self) -> Sequence[JsonObject]: ...
    def user(self, user_id: int) -> JsonObject | None: ...
    def user_by_email(self, email: str) -> JsonObject | None: ...
    def number(self, number_id: int) -> JsonObject | None: ...
    def team(self, team_id: int) -> JsonObject | None: ...
    def holders(self, extension: str) -> list[JsonObject]: ...
    def distribution(self, number: JsonObject) -> list[JsonObject]: ...
    def numbers_of(self, user_id: int) -> list[JsonObject]: ...
    def members(self, team: JsonObject) -> list[JsonObject]: ...
    def teams_of(self, user_id: int) -> list[JsonObject]: ...
    def company_document(self) -> JsonObject: ...
    def set_extension(self, user_id: int, extension: str | None) -> str | None: ...


class Backend(Protocol):
    """An account plus transactions around it: :class:`Store` or :class:`MemoryStore`."""

    @property
    def account(self) -> Account: ...

    def transaction(self, *, write: bool = False) -> AbstractContextManager[None]: ...

    def document(self) -> JsonObject: ...


class MemoryStore:
    """An in-memory account (tests, embedders); a lock stands in for transactions."""

    def __init__(self, account: SandboxAccount) -> None:
        self._account = account
        self._lock = threading.RLock()

    @property
    def account(self) -> Account:
        return self._account

    @contextlib.contextmanager
    def transaction(self, *, write: bool = False) -> Iterator[None]:
        with self._lock:
            yield

    def document(self) -> JsonObject:
        with self._lock:
            return self._account.document()


# -- opening: never write to a file that is not ours --------------------------------------


def _describe(path: Path, head: bytes) -> str:
    """What a non-database file looks like, for the error message."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text[:1] in (b"{", b"["):
        return "a JSON document (an older sandbox state file?), not a sandbox database"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as err:
        if err.start < len(head) - 4:  # not just a character cut at the end of the sample
            return "binary data, not a SQLite database"
    return "a text file, not a sandbox database"


def _import_hint(path: Path) -> Hint:
    return (
        "it is left untouched; import a JSON state document with ",
        Remedy("sandbox", "reset", "--from", str(path), "--state", "NEW.db"),
        f", or {NEW_PATH_HINT}",
    )


def _inspect(path: Path) -> Literal["missing", "empty", "sqlite"]:
    """Classify the path by its bytes before SQLite sees it; refuse anything else."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return "missing"
    except OSError as err:
        raise ConfigError(f"cannot read sandbox state {path}: {err.strerror or err}") from None
    if stat.S_ISDIR(info.st_mode):
        raise ConfigError(
            f"cannot read sandbox state {path}: it is a directory", hint=NEW_PATH_HINT
        )
    if not stat.S_ISREG(info.st_mode):
        raise ConfigError(f"sandbox state {path} is not a regular file", hint=NEW_PATH_HINT)
    if info.st_size == 0:
        return "empty"  # nothing to lose: initialised like a new database
    try:
        with path.open("rb") as handle:
            head = handle.read(4096)
    except OSError as err:
        raise ConfigError(f"cannot read sandbox state {path}: {err.strerror or err}") from None
    if head.startswith(SQLITE_HEADER):
        return "sqlite"
    raise ConfigError(f"sandbox state {path} is {_describe(path, head)}", hint=_import_hint(path))


def _marked_ours(path: Path) -> bool:
    """Whether the file's header carries our application id: readable from the bytes even
    when SQLite can no longer open the file."""
    try:
        with path.open("rb") as handle:
            header = handle.read(100)
    except OSError:
        return False
    return header.startswith(SQLITE_HEADER) and header[68:72] == APPLICATION_ID.to_bytes(4, "big")


def _reset_remedy(path: Path) -> Remedy:
    """The command that recreates ``path``: ``--state`` only when it is not the default."""
    given = () if path.absolute() == default_state_path().absolute() else ("--state", str(path))
    return Remedy("sandbox", "reset", *given)


def _damaged(path: Path, reason: object) -> StoreDamaged:
    """The damage named, and what to do: a file of ours is recreated by ``sandbox reset``;
    one whose mark is gone may be anything, so only its owner may delete it."""
    if _marked_ours(path):
        return StoreDamaged(
            f"sandbox database {path} is damaged: {reason}",
            hint=("run ", _reset_remedy(path), " to make it again (what it held is lost)"),
        )
    return StoreDamaged(
        f"sandbox state {path} is a damaged SQLite file: {reason}",
        hint="it does not carry the sandbox's mark, so it is left as it is: delete it if it "
        f"is the sandbox's (`rm {shlex.quote(str(path))}`), or {NEW_PATH_HINT}",
    )


def _unusable(err: sqlite3.Error, path: Path) -> StoreUnusable | None:
    """What SQLite's error means for the user when retrying cannot help; None otherwise."""
    name = getattr(err, "sqlite_errorname", "")
    if name.startswith("SQLITE_CORRUPT") or name == "SQLITE_NOTADB":
        return _damaged(path, err)
    if name == "SQLITE_READONLY_DIRECTORY":
        return StoreUnusable(
            f"cannot write sandbox database {path}: its directory {path.parent} is read-only, "
            "and SQLite keeps the database's -wal and -shm files beside it",
            hint=f"make {path.parent} writable, or {NEW_PATH_HINT}",
        )
    if name.startswith("SQLITE_READONLY"):
        return StoreUnusable(
            f"cannot write sandbox database {path}: {err}",
            hint=f"make {path} and its directory writable, or {NEW_PATH_HINT}",
        )
    return None


def _connect(path: Path, *, create: bool) -> sqlite3.Connection:
    uri = f"file:{quote(os.fspath(path.absolute()))}?mode={'rwc' if create else 'rw'}"
    conn = sqlite3.connect(
        uri, uri=True, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False
    )
    conn.execute("PRAGMA synchronous = FULL")  # a commit survives a power cut, not just a kill
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def _identify(conn: sqlite3.Connection, path: Path) -> Literal["ours", "blank"]:
    """Ours (and not from a newer version), or blank (no tables yet); refuse anything else.

    The three reads share one snapshot: read one by one, they could straddle another
    process's seeding commit and see its tables without its application id.
    """
    snapshot = not conn.in_transaction
    if snapshot:
        conn.execute("BEGIN")
    try:
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    finally:
        if snapshot:
            conn.execute("COMMIT")
    if app_id == APPLICATION_ID:
        if version > SCHEMA_VERSION:
            raise ConfigError(
                f"sandbox database {path} was made by a newer {APP_NAME} "
                f"(schema {version}; this version knows up to {SCHEMA_VERSION})",
                hint=f"upgrade {APP_NAME}, or {NEW_PATH_HINT}",
            )
        return "ours"
    if app_id == 0 and not tables:
        return "blank"
    listed = ", ".join(tables[:5]) or "none"
    raise ConfigError(
        f"sandbox state {path} is a SQLite database of another application (tables: {listed})",
        hint="it is left untouched; " + NEW_PATH_HINT,
    )


@contextlib.contextmanager
def _transaction(conn: sqlite3.Connection, begin: str = "BEGIN IMMEDIATE") -> Iterator[None]:
    """Committed when the block ends, else rolled back. SQLite may have rolled it back
    already (an interrupted or failed write can end the whole transaction), so the rollback
    is tried only while one is open, and its own failure never hides the block's error."""
    conn.execute(begin)
    try:
        yield
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            with contextlib.suppress(sqlite3.Error):  # a damaged file may refuse it too
                conn.execute("ROLLBACK")
        raise


def _migrate(conn: sqlite3.Connection) -> None:
    """Bring a database of ours made by an older version to the current schema, once: the
    version is re-read under the write lock, so racing processes migrate it once."""
    if conn.execute("PRAGMA user_version").fetchone()[0] >= SCHEMA_VERSION:
        return
    with _transaction(conn):
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        for target in range(version + 1, SCHEMA_VERSION + 1):
            for statement in MIGRATIONS.get(target, ()):
                conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def _use_wal(conn: sqlite3.Connection) -> None:
    """Switch to WAL. SQLite answers "locked" at once, without waiting, while another
    connection opening the same new file holds a lock, so the switch is retried."""
    deadline = time.monotonic() + BUSY_TIMEOUT
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as err:
            if "locked" not in str(err) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def _initialise(conn: sqlite3.Connection, path: Path, seed: Callable[[], SandboxAccount]) -> None:
    """Create the schema and seed it; when several processes race, exactly one seeds."""
    _use_wal(conn)
    with _transaction(conn):
        if _identify(conn, path) == "blank":  # re-checked under the write lock
            for statement in SCHEMA:
                conn.execute(statement)
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            _fill(conn, seed())


def _fill(conn: sqlite3.Connection, account: SandboxAccount) -> None:
    conn.execute("INSERT INTO company (id, doc) VALUES (1, ?)", (_dump(account.company),))
    conn.executemany(
        "INSERT INTO users (id, extension, doc) VALUES (?, ?, ?)",
        ((u["id"], u.get("extension"), _dump(u)) for u in account.users()),
    )
    numbers = account.numbers()
    conn.executemany(
        "INSERT INTO numbers (id, doc) VALUES (?, ?)", ((n["id"], _dump(n)) for n in numbers)
    )
    conn.executemany(
        "INSERT INTO distribution (number_id, user_id, position) VALUES (?, ?, ?)",
        (
            (n["id"], ref["id"], position)
            for n in numbers
            for position, ref in enumerate(n.get("users") or [])
        ),
    )
    teams = account.teams()
    conn.executemany(
        "INSERT INTO teams (id, doc) VALUES (?, ?)", ((t["id"], _dump(t)) for t in teams)
    )
    conn.executemany(
        "INSERT INTO team_members (team_id, user_id, position) VALUES (?, ?, ?)",
        (
            (t["id"], user_id, position)
            for t in teams
            for position, user_id in enumerate(t["users"])
        ),
    )


def _dump(doc: JsonObject) -> str:
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


# -- the store ----------------------------------------------------------------------------

# The records that have members, each with its table of members (in order) and the column
# there that names the record. Queries take table names from here only, never from input.
_Grouping = Literal["numbers", "teams"]
_MEMBERS: dict[_Grouping, tuple[str, str]] = {
    "numbers": ("distribution", "number_id"),
    "teams": ("team_members", "team_id"),
}


@dataclass
class _Transaction:
    conn: sqlite3.Connection
    users: dict[int, JsonObject] = field(default_factory=dict)  # one dict per user and request


class Store:
    """The account in a SQLite database; every read and write runs inside :meth:`transaction`.

    Thread-safe: each thread's transaction has its own connection (from a small pool). Within
    a transaction, ``user(id)`` returns the same dict each time and ``set_extension`` updates
    it, so a handler sees its own write, as with the in-memory account.
    """

    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        self.path = path
        self._pool: queue.SimpleQueue[sqlite3.Connection] = queue.SimpleQueue()
        self._pool.put(conn)
        self._write_lock = threading.Lock()  # threads of this process queue here, not in SQLite
        self._local = threading.local()
        self._connections = [conn]
        self._connections_lock = threading.Lock()

    @classmethod
    def open(cls, path: Path, *, seed: Callable[[], SandboxAccount] | None = demo_account) -> Store:
        """Open the database at ``path``; a missing or empty file is created and seeded.

        ``seed=None`` refuses a missing database instead. Anything that is not a sandbox
        database (or is one from a newer schema) is a :class:`ConfigError`, file untouched.
        """
        kind = _inspect(path)
        if kind == "missing":
            if seed is None:
                raise ConfigError(
                    f"no sandbox database at {path}",
                    hint=("run ", Remedy("sandbox", "reset"), " to create one"),
                )
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as err:
                raise ConfigError(
                    f"cannot create sandbox state {path}: {err.strerror or err}"
                ) from None
        try:
            conn = _connect(path, create=kind == "missing")
        except sqlite3.Error as err:
            problem = _unusable(err, path)
            raise problem or ConfigError(f"cannot open sandbox database {path}: {err}") from None
        try:
            if _identify(conn, path) == "blank":
                if seed is None:
                    raise ConfigError(
                        f"sandbox database {path} is empty",
                        hint=("run ", Remedy("sandbox", "reset"), " to fill it"),
                    )
                _initialise(conn, path, seed)
            else:
                _migrate(conn)
        except sqlite3.DatabaseError as err:
            conn.close()
            _inspect(path)  # raced with a writer of something else: describe that
            problem = _unusable(err, path)
            raise problem or ConfigError(f"cannot open sandbox database {path}: {err}") from None
        except BaseException:
            conn.close()
            raise
        return cls(path, conn)

    def close(self) -> None:
        with self._connections_lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- transactions ---------------------------------------------------------------------
    @property
    def account(self) -> Account:
        return self

    @contextlib.contextmanager
    def transaction(self, *, write: bool = False) -> Iterator[None]:
        """One consistent snapshot (reads) or one serialised, committed change (writes)."""
        if getattr(self._local, "tx", None) is not None:
            raise RuntimeError("sandbox store transactions do not nest")
        with self._write_lock if write else contextlib.nullcontext():
            conn = self._acquire()
            try:
                with _transaction(conn, "BEGIN IMMEDIATE" if write else "BEGIN"):
                    self._local.tx = _Transaction(conn)
                    yield
            except sqlite3.Error as err:
                raise _unusable(err, self.path) or StoreError(str(err)) from err
            finally:
                self._local.tx = None
                self._pool.put(conn)

    def _acquire(self) -> sqlite3.Connection:
        try:
            return self._pool.get_nowait()
        except queue.Empty:
            pass
        conn = _connect(self.path, create=False)
        with self._connections_lock:
            self._connections.append(conn)
        return conn

    def _tx(self) -> _Transaction:
        tx: _Transaction | None = getattr(self._local, "tx", None)
        if tx is None:
            raise RuntimeError("the sandbox store is read inside a transaction only")
        return tx

    # -- the account (inside a transaction) -----------------------------------------------
    def users(self) -> Sequence[JsonObject]:
        """Users ordered by id, loaded page by page as they are indexed."""
        return _Rows(self, "users")

    def numbers(self) -> Sequence[JsonObject]:
        return _Rows(self, "numbers")

    def teams(self) -> Sequence[JsonObject]:
        return _Rows(self, "teams")

    def user(self, user_id: int) -> JsonObject | None:
        tx = self._tx()
        if user_id in tx.users:
            return tx.users[user_id]
        row = tx.conn.execute("SELECT doc FROM users WHERE id = ?", (user_id,)).fetchone()
        return self._cached(tx, user_id, row[0]) if row else None

    def user_by_email(self, email: str) -> JsonObject | None:
        """As :meth:`SandboxAccount.user_by_email`: SQLite's ``lower()`` folds ASCII only,
        as :func:`fold_email` does."""
        tx = self._tx()
        rows = tx.conn.execute(
            "SELECT id, doc FROM users WHERE lower(json_extract(doc, '$.email')) = ? ORDER BY id",
            (fold_email(email),),
        )
        return email_match(email, [self._cached(tx, user_id, doc) for user_id, doc in rows])

    def number(self, number_id: int) -> JsonObject | None:
        return self._record("numbers", number_id)

    def team(self, team_id: int) -> JsonObject | None:
        return self._record("teams", team_id)

    def holders(self, extension: str) -> list[JsonObject]:
        """Every user holding ``extension`` (an index lookup): more than one only in damage."""
        tx = self._tx()
        rows = tx.conn.execute(
            "SELECT id, doc FROM users WHERE extension = ? ORDER BY id", (extension,)
        )
        return [self._cached(tx, user_id, doc) for user_id, doc in rows]

    def company_document(self) -> JsonObject:
        conn = self._tx().conn
        company = _load(conn.execute("SELECT doc FROM company WHERE id = 1").fetchone()[0])
        return company_document(
            company,
            conn.execute("SELECT count(*) FROM users").fetchone()[0],
            conn.execute("SELECT count(*) FROM numbers").fetchone()[0],
        )

    def distribution(self, number: JsonObject) -> list[JsonObject]:
        """The users a number rings, in its distribution's order."""
        return self._members_of("numbers", number["id"])

    def numbers_of(self, user_id: int) -> list[JsonObject]:
        """The numbers whose distribution holds the user, by id."""
        return self._holding("numbers", user_id)

    def members(self, team: JsonObject) -> list[JsonObject]:
        """A team's users, in the team's order."""
        return self._members_of("teams", team["id"])

    def teams_of(self, user_id: int) -> list[JsonObject]:
        """The teams the user belongs to, by id."""
        return self._holding("teams", user_id)

    def _record(self, table: _Grouping, record_id: int) -> JsonObject | None:
        query = f"SELECT doc FROM {table} WHERE id = ?"
        found = self._tx().conn.execute(query, (record_id,)).fetchone()
        return _load(found[0]) if found else None

    def _members_of(self, table: _Grouping, record_id: int) -> list[JsonObject]:
        """The users of a number or a team, in its order."""
        members, column = _MEMBERS[table]
        tx = self._tx()
        rows = tx.conn.execute(
            f"SELECT u.id, u.doc FROM {members} m JOIN users u ON u.id = m.user_id"
            f" WHERE m.{column} = ? ORDER BY m.position",
            (record_id,),
        )
        return self._users_of(tx, rows.fetchall())

    def _holding(self, table: _Grouping, user_id: int) -> list[JsonObject]:
        """The numbers or the teams whose members hold the user, by id."""
        members, column = _MEMBERS[table]
        rows = self._tx().conn.execute(
            f"SELECT r.doc FROM {members} m JOIN {table} r ON r.id = m.{column}"
            " WHERE m.user_id = ? ORDER BY r.id",
            (user_id,),
        )
        return [_load(doc) for (doc,) in rows]

    def set_extension(self, user_id: int, extension: str | None) -> str | None:
        """Set a user's extension (one row) and return the previous one."""
        tx = self._tx()
        user = self.user(user_id)
        if user is None:
            raise KeyError(user_id)
        previous: str | None = user.get("extension")
        user["extension"] = extension
        tx.conn.execute(
            "UPDATE users SET extension = ?, doc = ? WHERE id = ?",
            (extension, _dump(user), user_id),
        )
        return previous

    @staticmethod
    def _cached(tx: _Transaction, user_id: int, doc: str) -> JsonObject:
        if user_id not in tx.users:
            tx.users[user_id] = _load(doc)
        return tx.users[user_id]

    @staticmethod
    def _users_of(tx: _Transaction, rows: list[tuple[int, str]]) -> list[JsonObject]:
        """:meth:`_cached` for many rows, the documents not yet read parsed in one go."""
        fresh = [(user_id, doc) for user_id, doc in rows if user_id not in tx.users]
        for (user_id, _doc), loaded in zip(fresh, _load_rows(fresh), strict=True):
            tx.users.setdefault(user_id, loaded)
        return [tx.users[user_id] for user_id, _doc in rows]

    # -- whole-account operations (each its own transaction) ------------------------------
    def snapshot(self) -> SandboxAccount:
        """The whole account in memory, from one consistent read."""
        with self.transaction():
            company = _load(self._tx().conn.execute("SELECT doc FROM company").fetchone()[0])
            return SandboxAccount(
                company, list(self.users()), list(self.numbers()), list(self.teams())
            )

    def document(self) -> JsonObject:
        """The state document ``{"company", "users", "numbers", "teams"}``: the interchange
        format."""
        return self.snapshot().document()

    def replace(self, account: SandboxAccount) -> None:
        """Replace the whole content in one transaction: readers see the old or the new."""
        with self.transaction(write=True):
            conn = self._tx().conn
            for table in ("team_members", "teams", "distribution", "numbers", "users", "company"):
                conn.execute(f"DELETE FROM {table}")
            _fill(conn, account)

    def check(self) -> None:
        """Raise :class:`StoreDamaged` when SQLite finds the file damaged anywhere, even in
        pages no request has read yet."""
        with self.transaction():
            found = [row[0] for row in self._tx().conn.execute("PRAGMA quick_check")]
        if found != ["ok"]:
            raise _damaged(self.path, found[0])


def _load(text: str) -> JsonObject:
    doc: JsonObject = json.loads(text)
    return doc


def _load_rows(rows: Sequence[tuple[int, str]]) -> list[JsonObject]:
    """The documents of ``(id, doc)`` rows, parsed as one JSON array: for documents this
    small, each ``json.loads`` call costs more than its parsing. Rows that do not come back
    one object per row with their own id (a damaged row) are parsed one by one, so that
    they fail or load exactly as alone."""
    if not rows:
        return []
    try:
        docs = json.loads("[" + ",".join(doc for _id, doc in rows) + "]")
    except ValueError:
        docs = None
    if not (
        isinstance(docs, list)
        and len(docs) == len(rows)
        and all(
            isinstance(doc, dict) and doc.get("id") == row_id
            for doc, (row_id, _text) in zip(docs, rows, strict=True)
        )
    ):
        return [_load(doc) for _id, doc in rows]
    return docs


class _Rows(Sequence[JsonObject]):
    """A table's documents by id, read lazily: a page of a listing loads only that page."""

    def __init__(self, store: Store, table: Literal["users", "numbers", "teams"]) -> None:
        self._store = store
        self._tx = store._tx()
        self._table = table
        self._length: int | None = None

    def _conn(self) -> sqlite3.Connection:
        if self._store._tx() is not self._tx:
            raise RuntimeError("a listing is read inside its own transaction only")
        return self._tx.conn

    def __len__(self) -> int:
        if self._length is None:
            query = f"SELECT count(*) FROM {self._table}"
            self._length = int(self._conn().execute(query).fetchone()[0])
        return self._length

    @overload
    def __getitem__(self, index: int) -> JsonObject: ...
    @overload
    def __getitem__(self, index: slice) -> list[JsonObject]: ...
    def __getitem__(self, index: int | slice) -> JsonObject | list[JsonObject]:
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            if step != 1:
                return [self[i] for i in range(start, stop, step)]
            return self._fetch(max(0, stop - start), start)
        position = index + len(self) if index < 0 else index
        if not 0 <= position < len(self):
            raise IndexError(index)
        return self._fetch(1, position)[0]

    def __iter__(self) -> Iterator[JsonObject]:
        yield from self._fetch(-1, 0)

    def _fetch(self, limit: int, offset: int) -> list[JsonObject]:
        # The first id is found by skipping ``offset`` ids (an index of ids only, for
        # users), then the page is read from there.
        query = (
            f"SELECT id, doc FROM {self._table} WHERE id >= "
            f"(SELECT id FROM {self._table} ORDER BY id LIMIT 1 OFFSET ?) ORDER BY id LIMIT ?"
        )
        rows = self._conn().execute(query, (offset, limit)).fetchall()
        if self._table == "users":
            return Store._users_of(self._tx, rows)
        return _load_rows(rows)


# -- where the database lives -------------------------------------------------------------


def default_state_path() -> Path:
    """``AIRCALL_EXT_SANDBOX_STATE``, else ``sandbox.db`` in the per-user state dir."""
    configured = os.environ.get(ENV_SANDBOX_STATE, "").strip()
    if configured:
        return Path(configured).expanduser()
    return state_dir() / "sandbox.db"


def open_store(path: Path | None = None) -> Store:
    """The sandbox database at ``path`` (default: :func:`default_state_path`), created and
    seeded with the demo account when missing. Raises ``ConfigError`` for anything else."""
    return Store.open(path or default_state_path())


def load_or_seed(path: Path) -> SandboxAccount:
    """The account in ``path``, in memory; a missing database is seeded with the demo."""
    with open_store(path) as store, _failing_for_the_cli(path):
        return store.snapshot()


@contextlib.contextmanager
def _failing_for_the_cli(path: Path) -> Iterator[None]:
    """A :class:`StoreError` said as a command's error, naming the file: the service answers
    one with 503, a command has only its exit code."""
    try:
        yield
    except StoreError as err:
        raise ConfigError(
            f"sandbox database {path} failed: {err}",
            hint="retrying is safe: is another process writing to it, or the disk full?",
        ) from None


def reset_database(path: Path, account: SandboxAccount) -> StoreDamaged | None:
    """Make ``account`` the whole content of the database at ``path``, created if missing.

    A damaged database that carries our mark is deleted (with its -wal and -shm files) and
    made again: what it held cannot be read anyway. Returns the damage found, if any. Any
    other file is refused as :meth:`Store.open` refuses it.
    """
    created: list[bool] = []

    def seed() -> SandboxAccount:
        created.append(True)
        return account

    try:
        with Store.open(path, seed=seed) as store, _failing_for_the_cli(path):
            if not created:
                store.check()
                store.replace(account)
        return None
    except StoreDamaged as damage:
        if not _marked_ours(path):
            raise
        _remove_database(path)
        Store.open(path, seed=lambda: account).close()
        return damage


def _remove_database(path: Path) -> None:
    for name in (f"{path.name}-wal", f"{path.name}-shm", f"{path.name}-journal", path.name):
        try:
            path.with_name(name).unlink(missing_ok=True)
        except OSError as err:
            raise ConfigError(
                f"cannot remove damaged sandbox database {path.with_name(name)}: "
                f"{err.strerror or err}",
                hint=f"delete it by hand, or {NEW_PATH_HINT}",
            ) from None
