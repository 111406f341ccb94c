"""End-to-end fixtures: a real ``aircall-ext sandbox serve`` process and the installed CLI.

The server's stderr (an access-log line per request answered, a line when a slow fault
holds a request) is collected by a reader thread: tests count requests exactly and wait on
those lines, the journal's records and the write log, never on time (:func:`wait_for`).
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.scenes import Request, holdings_db, users_holding

CLI = str(Path(sys.executable).with_name("aircall-ext"))
API_ID = "e2e-id"
API_TOKEN = "e2e-token-SECRET-4242"
_LISTENING = re.compile(r"listening on (http://\S+)")
# `METHOD PATH?QUERY STATUS`, bare or in Common Log Format (`"GET /x HTTP/1.1" 200 ...`).
_REQUEST = re.compile(
    r"\b(GET|PUT|POST|DELETE|PATCH|HEAD) (/\S*)(?: HTTP/[0-9.]+\"?)? (\d{3}|RESET)\b"
)
_HELD = re.compile(r"slow fault: holding (GET|PUT|POST|DELETE|PATCH|HEAD) (/\S*) for ")
START_TIMEOUT = 20.0
DEADLINE = 60.0  # for an event a test waits on: a safety net, never a timing relied on
POLL = 0.005


def wait_for(
    event: Callable[[], object],
    what: str,
    process: subprocess.Popen[Any] | None = None,
    timeout: float = DEADLINE,
) -> None:
    """Wait until ``event()`` is true: a journal record, a line of the server's log, a
    file. Fails if ``process`` ends first, or after ``timeout`` seconds. Polling for an
    event a real process makes is the one way the suite waits: never a sleep in its place.
    """
    deadline = time.monotonic() + timeout
    while not event():
        if process is not None and process.poll() is not None:
            raise AssertionError(f"the process ended (exit {process.returncode}) before {what}")
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:g} s")
        time.sleep(POLL)


def pause_when(process: subprocess.Popen[Any], ready: Callable[[], object], what: str) -> None:
    """Freeze ``process`` (SIGSTOP) as soon as ``ready()`` holds: a run held at a known
    point of its journal while another run acts; SIGCONT lets it go on."""
    wait_for(ready, what, process)
    os.kill(process.pid, signal.SIGSTOP)


@dataclass
class SandboxServer:
    process: subprocess.Popen[str]
    base_url: str
    state: Path
    log: list[str] = field(default_factory=list)
    reader: threading.Thread | None = None
    write_log: Path | None = None  # where ``--write-log`` records the applied writes
    # The CLI's request budget: the server's rate limit, so a run paces as a client that
    # knows the account's budget does (a server without one: no pacing to speak of).
    budget: str = "60/60"

    def holdings(self) -> dict[int, Any]:
        """What each user of the server's database holds now (user id → extension)."""
        return holdings_db(self.state)

    def applied(self) -> list[dict[str, Any]]:
        """The writes the server applied, in order, from its write log."""
        assert self.write_log is not None, "started without holdings=, so without a write log"
        return read_json_lines(self.write_log)

    def settle(self) -> None:
        """Wait until every request made so far is in the collected access log.

        The server logs a request after answering it, so a client may exit before its last
        line is written. A marker request sent now is logged after those: once it shows up,
        the log is complete. It speaks no HTTP version the server knows, so the server turns
        it away before its app sees it: logged like any request, it never spends the
        account's rate limit under a client that keeps the budget.
        """
        if self.process.poll() is not None:  # stopped: its whole log is in the pipe
            if self.reader is not None:
                self.reader.join(timeout=START_TIMEOUT)
            return
        marker = f"/v1/e2e-marker-{uuid.uuid4().hex}"
        host = self.base_url.removeprefix("http://").rsplit(":", 1)[0].strip("[]")
        with socket.create_connection((host, int(self.port)), timeout=10) as conn:
            conn.sendall(f"GET {marker} HTTP/9.9\r\n\r\n".encode())
            while conn.recv(4096):  # until the server has answered and closed
                pass
        wait_for(
            lambda: any(marker in line for line in list(self.log)),
            "the sandbox logged the marker request",
            self.process,
            START_TIMEOUT,
        )

    def requests(self, method: str | None = None, path: str | None = None) -> list[Request]:
        """Logged requests (marker requests excluded), filtered by method and exact path."""
        self.settle()
        found = []
        for line in list(self.log):
            match = _REQUEST.search(line)
            if not match or "e2e-marker-" in line:
                continue
            request = Request(*match.groups())
            if method and request.method != method:
                continue
            if path and request.path != path:
                continue
            found.append(request)
        return found

    def held(self, method: str | None = None) -> list[str]:
        """``METHOD /path`` of each request a slow fault held, as it arrived (not settled:
        a line is written when the request arrives, before it is answered)."""
        found = []
        for line in list(self.log):
            match = _HELD.search(line)
            if match and method in (None, match.group(1)):
                found.append(f"{match.group(1)} {match.group(2)}")
        return found

    @property
    def port(self) -> str:
        return self.base_url.rsplit(":", 1)[1].split("/")[0]

    def env(self, **extra: str) -> dict[str, str]:
        """Environment for the CLI: credentials only through the environment, never argv."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("AIRCALL")}
        env.update(
            AIRCALL_BASE_URL=self.base_url,
            AIRCALL_API_ID=API_ID,
            AIRCALL_API_TOKEN=API_TOKEN,
            AIRCALL_RATE_LIMIT=self.budget,
            NO_COLOR="1",
        )
        env.update(extra)
        return env

    def start(self, *args: str) -> subprocess.Popen[str]:
        """The installed CLI against this server, running in the background."""
        return subprocess.Popen(
            [CLI, *args],
            env=self.env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def cli(
        self, *args: str, input: str | None = None, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [CLI, *args],
            input=input,
            capture_output=True,
            text=True,
            env=env or self.env(),
            timeout=300,
        )

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=START_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def sandbox_env(state: Path, **extra: str) -> dict[str, str]:
    """Environment for ``aircall-ext --sandbox`` on the sandbox database ``state``, without
    a server."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRCALL")}
    env.update(AIRCALL_EXT_SANDBOX_STATE=str(state), NO_COLOR="1", **extra)
    return env


def _collect(stream: Iterable[str], log: list[str]) -> None:
    for line in stream:
        log.append(line.rstrip("\n"))


def start_server(state: Path, *options: str) -> SandboxServer:
    """Start ``sandbox serve`` on a free loopback port and wait for its listening line."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRCALL")}
    env["AIRCALL_EXT_SANDBOX_TOKEN"] = API_TOKEN
    process = subprocess.Popen(
        [
            CLI,
            "sandbox",
            "serve",
            "--port",
            "0",
            "--state",
            str(state),
            "--api-id",
            API_ID,
            *options,
        ],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    assert process.stderr is not None
    deadline = time.monotonic() + START_TIMEOUT
    first = process.stderr.readline()
    match = _LISTENING.search(first)
    if not match or time.monotonic() > deadline:
        process.kill()
        rest = process.stderr.read()
        raise RuntimeError(f"sandbox serve did not start: {first!r} {rest!r}")
    server = SandboxServer(process, match.group(1), state, budget=_budget(options))
    server.reader = threading.Thread(
        target=_collect, args=(process.stderr, server.log), daemon=True
    )
    server.reader.start()
    return server


def _budget(options: tuple[str, ...]) -> str:
    """The client budget that matches ``sandbox serve OPTIONS``'s rate limit."""
    limit = options[options.index("--rate-limit") + 1] if "--rate-limit" in options else "60/60"
    return "1000000/1" if limit == "off" else limit


Serve = Callable[..., SandboxServer]


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Serve]:
    """Factory: ``serve(*options, state=path)`` starts a server; all are stopped afterwards.

    With ``holdings=`` (user id → extension) the database is first filled with those users
    and the server records its writes (``server.applied()``).
    """
    servers: list[SandboxServer] = []

    def start(
        *options: str,
        state: Path | None = None,
        holdings: Mapping[int, str | None] | None = None,
        company: str = "E2E",
    ) -> SandboxServer:
        path = state or tmp_path / f"state-{len(servers)}.db"
        write_log = None
        if holdings is not None:
            write_holdings(path, holdings, company)
            write_log = path.with_name(f"{path.stem}-writes.jsonl")
            options = (*options, "--write-log", str(write_log))
        server = start_server(path, *options)
        server.write_log = write_log
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def write_state_db(path: Path, doc: Mapping[str, Any]) -> None:
    """Fill the sandbox database ``path`` from a state document (validated, as reset does)."""
    from aircall_ext.sandbox.state import SandboxAccount
    from tests.scenes import save_state

    save_state(path, SandboxAccount.from_document(dict(doc)))


def write_holdings(path: Path, holdings: Mapping[int, str | None], company: str = "E2E") -> None:
    """Fill the sandbox database ``path`` with users holding ``holdings`` (user id → extension)."""
    write_state_db(path, {"company": {"name": company}, "users": users_holding(holdings)})


def read_state_db(path: Path) -> dict[str, Any]:
    """The state document of the sandbox database ``path`` (what `sandbox show -o json` prints)."""
    from tests.scenes import read_state

    return read_state(path).document()


def read_json_lines(path: Path) -> list[dict[str, Any]]:
    """The complete lines of a JSON-lines file so far (a line being written is not one yet):
    the applied writes `sandbox serve --write-log` recorded, a journal's records."""
    if not path.exists():
        return []
    text = path.read_text()
    return [json.loads(line) for line in text[: text.rfind("\n") + 1].splitlines()]
