"""Shared fixtures: every test runs isolated from the real machine and the real network."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import tempfile
import traceback
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import keyring
import pytest
from click.testing import CliRunner
from hypothesis import settings
from keyring.backend import KeyringBackend
from keyring.backends import fail

from aircall_ext.cli import run
from aircall_ext.sandbox.state import SandboxAccount
from tests.scenes import (
    IMPORT_BEFORE,
    IMPORT_CSV,
    UNDO_BEFORE,
    UNDO_CSV,
    Request,
    WriteState,
    extensions,
    save_state,
    users_holding,
)

# -- the tiers: tests/e2e/ is the end-to-end tier, and only it ------------------------------

E2E = pytest.mark.e2e


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test under tests/e2e/ is marked ``e2e``, so ``-m "not e2e"`` leaves out all of
    them and only them; a test marked ``e2e`` anywhere else stops the run."""
    e2e_dir = config.rootpath / "tests" / "e2e"
    misplaced = []
    for item in items:
        if e2e_dir in item.path.parents:
            item.add_marker(E2E)
        elif item.get_closest_marker(E2E.name) is not None:
            misplaced.append(item.nodeid)
    if misplaced:
        raise pytest.UsageError(
            f"marked e2e outside tests/e2e/: {', '.join(misplaced)} (the end-to-end tier is "
            "the folder: move the test there, or make it in-process)"
        )


# -- hypothesis: reproducible in CI, exploring locally ----------------------------------------

# CI: derandomized (each test's seed comes from its own name, so a failure recurs on every
# run and every machine) and no example database (nothing written next to the checkout).
# Locally: a fresh random seed per run and the database under .hypothesis/ (git-ignored),
# which replays the last failures first. HYPOTHESIS_PROFILE overrides the choice.
# Both start from Hypothesis's defaults: its own CI detection may already have loaded a
# derandomized profile as the default by the time this runs. Neither has a deadline: how
# long an example takes depends on the machine's load, and no test asserts a timing.
settings.register_profile(
    "ci",
    parent=settings.get_profile("default"),
    derandomize=True,
    database=None,
    print_blob=True,
    deadline=None,
)
settings.register_profile(
    "dev", parent=settings.get_profile("default"), print_blob=True, deadline=None
)


def hypothesis_profile(environ: Mapping[str, str]) -> str:
    """The profile a run gets: ``ci`` when the CI variable is set (``CI=true``), else ``dev``."""
    if environ.get("HYPOTHESIS_PROFILE"):
        return environ["HYPOTHESIS_PROFILE"]
    ci = environ.get("CI", "").strip().lower() not in {"", "0", "false", "no"}
    return "ci" if ci else "dev"


settings.load_profile(hypothesis_profile(os.environ))


def pytest_report_header(config: pytest.Config) -> str:
    return _hypothesis_line(config)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """``-q`` (this project's default) hides the header: say it at the end instead."""
    if config.get_verbosity() < 0:
        terminalreporter.write_line(_hypothesis_line(config))


def _hypothesis_line(config: pytest.Config) -> str:
    current = settings.default
    seed = (
        "derived from each test's name (derandomized)"
        if current.derandomize
        else "random per test; a failure prints @reproduce_failure and is replayed first"
    )
    forced = config.getoption("hypothesis_seed", None)
    if forced is not None:
        seed = f"{forced} (--hypothesis-seed)"
    database = "none" if current.database is None else str(getattr(current.database, "path", ""))
    return (
        f"hypothesis: profile {settings.get_current_profile_name()!r}, seed {seed}, "
        f"database {database}"
    )


class MemoryKeyring(KeyringBackend):
    """An in-memory OS keyring, so tests never touch (or need) a real one."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.secrets: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.secrets.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.secrets[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        from keyring.errors import PasswordDeleteError

        if self.secrets.pop((service, username), None) is None:
            raise PasswordDeleteError(username)


@pytest.fixture(autouse=True)
def isolate(tmp_path: Path) -> Iterator[MemoryKeyring]:
    """A temp home with every XDG dir in it, an in-memory keyring, no colour, no CI or
    AIRCALL_* settings leaking in from the machine that runs the suite.

    Every per-user path the tool or its libraries compute (click.get_app_dir, platformdirs,
    keyring's own config, ``~``) lands under ``tmp_path``; tests/test_isolation.py checks it.
    The environment is patched apart from the test's own ``monkeypatch``, so a test that
    undoes its patches halfway (``monkeypatch.undo()``) stays isolated.
    """
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith(("AIRCALL", "XDG_", "GITHUB_")) or name in {"NO_COLOR", "CI"}:
                patch.delenv(name)
        home = tmp_path / "home"
        home.mkdir()
        patch.setenv("HOME", str(home))
        patch.setenv("XDG_STATE_HOME", str(home / ".local" / "state"))
        patch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
        patch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
        patch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
        patch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))
        patch.setenv("AIRCALL_EXT_CONFIG_DIR", str(tmp_path / "config"))
        patch.setenv("AIRCALL_EXT_SANDBOX_STATE", str(tmp_path / "sandbox.db"))
        patch.setenv("NO_COLOR", "1")
        patch.setenv("COLUMNS", "80")
        backend = MemoryKeyring()
        keyring.set_keyring(backend)  # set, never detected: detection would probe the real one
        yield backend
        keyring.set_keyring(fail.Keyring())  # outside a test, a keyring call fails loudly


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


RunCli = Callable[..., CliResult]


@pytest.fixture
def run_cli() -> RunCli:
    """Run the CLI in-process through the real entry point (exit-code mapping included)."""

    def invoke(*args: str, input: str | bytes | None = None) -> CliResult:
        runner = CliRunner()
        with runner.isolation(input=input) as (out, err, _mixed):
            code = run(list(args))
        return CliResult(code, out.getvalue().decode(), err.getvalue().decode())

    return invoke


class RequestLog:
    """What the in-process sandbox answered, in order, as ``sandbox serve``'s access log
    shows it (method, path?query, status), and the writes it applied."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.writes: list[dict[str, Any]] = []  # {user_id, to} of each PUT answered 200
        self._seen = 0

    def __call__(self, method: str | None = None, path: str | None = None) -> list[Request]:
        """The requests so far, of ``method`` to exactly ``path`` when given."""
        return [
            r
            for r in self.requests
            if (method is None or r.method == method) and (path is None or r.path == path)
        ]

    def new(self) -> list[Request]:
        """The requests since the last call, so one test counts several commands apart."""
        fresh, self._seen = self.requests[self._seen :], len(self.requests)
        return fresh


class CountingTransport(httpx.BaseTransport):
    """The in-process sandbox's own transport, logging what it answers into a
    :class:`RequestLog`."""

    def __init__(self, inner: httpx.BaseTransport, log: RequestLog) -> None:
        self.inner = inner
        self.log = log

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        target = request.url.raw_path.decode("ascii")
        self.log.requests.append(Request(request.method, target, str(response.status_code)))
        if request.method == "PUT" and response.status_code == 200:
            user_id = int(request.url.path.rsplit("/", 1)[1])
            extension = json.loads(request.content)["extension"]
            self.log.writes.append({"user_id": user_id, "to": extension})
        return response


@pytest.fixture
def sandbox_requests(monkeypatch: pytest.MonkeyPatch) -> RequestLog:
    """Every request the in-process sandbox answers from now on, counted exactly: the
    ``--sandbox`` runs of ``run_cli`` go through a :class:`CountingTransport`."""
    from aircall_ext.services import session

    log = RequestLog()
    build = session._sandbox_transport
    monkeypatch.setattr(session, "_sandbox_transport", lambda: CountingTransport(build(), log))
    return log


@pytest.fixture
def write_state() -> WriteState:
    """Fill the in-process sandbox's database (the path the isolation fixture set)."""

    def write(
        users: list[dict[str, object]], numbers: list[dict[str, object]] | None = None
    ) -> Path:
        path = Path(os.environ["AIRCALL_EXT_SANDBOX_STATE"])
        state = {
            "company": {"name": "Test Co", "users_count": len(users), "numbers_count": 0},
            "users": users,
            "numbers": numbers or [],
        }
        save_state(path, SandboxAccount.from_document(state))
        return path

    return write


@pytest.fixture
def import_scene(write_state: WriteState) -> None:
    """The import scene's account (``IMPORT_BEFORE``) installed in the in-process sandbox."""
    write_state(users_holding(IMPORT_BEFORE))
    assert extensions() == IMPORT_BEFORE


@pytest.fixture
def undo_scene(write_state: WriteState, tmp_path: Path) -> Path:
    """The undo scene's account (``UNDO_BEFORE``) installed in the in-process sandbox; the
    CSV file that renumbers it to ``UNDO_AFTER``."""
    write_state(users_holding(UNDO_BEFORE))
    path = tmp_path / "users.csv"
    path.write_text(UNDO_CSV)
    return path


@pytest.fixture
def csv_file(tmp_path: Path) -> Path:
    """The import scene's CSV file."""
    path = tmp_path / "users.csv"
    path.write_text(IMPORT_CSV)
    return path


# -- a user without root's privileges -----------------------------------------------------------

UNPRIVILEGED_USER = "nobody"


@dataclass
class Unprivileged:
    """Runs a check as a user that file modes apply to. CI runs as root, which reads a
    mode-000 file and writes into a read-only directory: a test of those errors run as root
    would pass without testing anything, so as root the check runs in a forked child that
    has dropped to ``nobody`` first."""

    directory: Path  # a directory the checking user owns: put the test's files here
    uid: int | None  # the uid to drop to; None when this process is already unprivileged
    gid: int | None = None

    def run(self, check: Callable[[], None]) -> None:
        if self.uid is None:
            check()
            return
        reader, writer = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: drop privileges, check, report through the pipe
            code = 0
            try:
                os.close(reader)
                os.setgroups([])
                os.setgid(self.gid if self.gid is not None else self.uid)
                os.setuid(self.uid)
                check()
            except BaseException:
                code = 1
                os.write(writer, traceback.format_exc().encode())
            finally:
                os._exit(code)
        os.close(writer)
        with os.fdopen(reader, "rb") as pipe:
            failure = pipe.read().decode()
        _pid, status = os.waitpid(pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            pytest.fail(f"as {UNPRIVILEGED_USER} (uid {self.uid}):\n{failure}")


@pytest.fixture
def unprivileged(tmp_path: Path) -> Iterator[Unprivileged]:
    """Where and how to check what only an unprivileged user sees (see :class:`Unprivileged`)."""
    if os.geteuid() != 0:
        yield Unprivileged(tmp_path, None)
        return
    user = pwd.getpwnam(UNPRIVILEGED_USER)
    # Under /tmp, not tmp_path: pytest's temp root is private to root, so nobody could not
    # even reach a file there, and the test would pass for the wrong reason.
    directory = Path(tempfile.mkdtemp(prefix="aircall-ext-unprivileged-"))
    os.chown(directory, user.pw_uid, user.pw_gid)
    try:
        yield Unprivileged(directory, user.pw_uid, user.pw_gid)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
