"""End-to-end fixtures: a real ``aircall-ext sandbox serve`` process and the installed CLI.

The server's access log (stderr, one line per request) is collected by a reader thread so
tests can count requests exactly.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.scenes import holdings_db, users_holding

CLI = str(Path(sys.executable).with_name("aircall-ext"))
API_ID = "e2e-id"
API_TOKEN = "e2e-token-SECRET-4242"
_LISTENING = re.compile(r"listening on (http://\S+)")
# `METHOD PATH?QUERY STATUS`, bare or in Common Log Format (`"GET /x HTTP/1.1" 200 ...`).
_REQUEST = re.compile(
    r"\b(GET|PUT|POST|DELETE|PATCH|HEAD) (/\S*)(?: HTTP/[0-9.]+\"?)? (\d{3}|RESET)\b"
)
START_TIMEOUT = 20.0


@dataclass
class Request:
    method: str
    target: str  # path?query
    status: str

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]


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
        return read_write_log(self.write_log)

    def settle(self) -> None:
        """Wait until every request made so far is in the collected access log.

        The server logs a request after answering it, so a client may exit before its last
        line is written. A marker request sent now is logged after those: once it shows up,
        the log is complete.
        """
        if self.process.poll() is not None:  # stopped: its whole log is in the pipe
            if self.reader is not None:
                self.reader.join(timeout=START_TIMEOUT)
            return
        marker = f"/v1/e2e-marker-{uuid.uuid4().hex}"
        with contextlib.suppress(OSError):
            urllib.request.urlopen(self.base_url + marker, timeout=10)
        deadline = time.monotonic() + START_TIMEOUT
        while not any(marker in line for line in list(self.log)):
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError("the sandbox did not log the marker request")
            time.sleep(0.01)

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


def read_write_log(path: Path) -> list[dict[str, Any]]:
    """The applied writes `sandbox serve --write-log` recorded (a line being written is not
    one yet)."""
    if not path.exists():
        return []
    text = path.read_text()
    return [json.loads(line) for line in text[: text.rfind("\n") + 1].splitlines()]


def replay_writes(
    initial: Mapping[int, str | None], writes: Iterable[Mapping[str, Any]]
) -> dict[int, str | None]:
    """Apply the server's writes in order from ``initial`` and return the end state.

    Each write must start from what its user held and target an extension nobody else holds
    at that moment, so no write ever made two users share one; collisions that predate the
    import may only lose holders.
    """
    holding = dict(initial)
    for write in writes:
        user, target = write["user_id"], write["to"]
        assert holding[user] == write["from"], write
        others = [u for u, e in holding.items() if e == target and u != user]
        assert others == [], f"{write}: {target} was still held by {others}"
        holding[user] = target
    assert _shared(holding) <= _shared(initial), "an extension became shared"
    return holding


def _shared(holding: Mapping[int, str | None]) -> set[str]:
    return {e for e, n in Counter(e for e in holding.values() if e).items() if n > 1}
