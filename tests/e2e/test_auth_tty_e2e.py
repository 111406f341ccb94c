"""``auth login`` typed at a real terminal: the token is prompted for and never echoed.

The CLI runs on a pseudo-terminal that is its controlling terminal (``pty.fork``), as in an
interactive shell, so the terminal's own echo is what is tested.
"""

from __future__ import annotations

import json
import os
import pty
import select
import time
from pathlib import Path

from tests.e2e.conftest import API_ID, API_TOKEN, CLI, Serve

WAIT = 30.0  # a safety net for a broken build, never a timing the test relies on

FILE_KEYRING = '''
import json, os
from keyring.backend import KeyringBackend


class FileKeyring(KeyringBackend):
    """A keyring in a JSON file, so the child process never touches a real one."""

    priority = 1

    def _load(self):
        path = os.environ["TEST_KEYRING_FILE"]
        return json.load(open(path)) if os.path.exists(path) else {}

    def get_password(self, service, username):
        return self._load().get(service + "/" + username)

    def set_password(self, service, username, password):
        data = self._load()
        data[service + "/" + username] = password
        json.dump(data, open(os.environ["TEST_KEYRING_FILE"], "w"))

    def delete_password(self, service, username):
        raise NotImplementedError
'''


def read_until(fd: int, marker: bytes, seen: bytearray) -> bool:
    """Read the terminal into ``seen`` until ``marker`` shows up or the child is done."""
    deadline = time.monotonic() + WAIT
    while marker not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: the child closed the terminal
            return marker in seen
        if not chunk:
            break
        seen += chunk
    return marker in seen


def test_token_stdin_at_a_terminal_is_a_hidden_prompt(serve: Serve, tmp_path: Path) -> None:
    server = serve()
    (tmp_path / "kr").mkdir()
    (tmp_path / "kr" / "filekeyring.py").write_text(FILE_KEYRING)
    secrets = tmp_path / "keyring.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRCALL")}
    env.update(
        AIRCALL_BASE_URL=server.base_url,
        AIRCALL_EXT_CONFIG_DIR=str(tmp_path / "config"),
        PYTHONPATH=str(tmp_path / "kr"),
        PYTHON_KEYRING_BACKEND="filekeyring.FileKeyring",
        TEST_KEYRING_FILE=str(secrets),
        NO_COLOR="1",
    )
    pid, fd = pty.fork()
    if pid == 0:  # the child: the pseudo-terminal is its controlling terminal
        os.execve(CLI, [CLI, "auth", "login", "--api-id", API_ID, "--token-stdin"], env)
    transcript = bytearray()
    try:
        prompted = read_until(fd, b"API token", transcript)
        os.write(fd, API_TOKEN.encode() + b"\n")  # typed, whether or not it was asked for
        read_until(fd, b"\x00never", transcript)  # everything until the child exits
    finally:
        os.close(fd)
        _, status = os.waitpid(pid, 0)
    text = transcript.decode(errors="replace")
    assert prompted, text
    assert API_TOKEN not in text  # not echoed by the terminal, not printed by the CLI
    assert os.waitstatus_to_exitcode(status) == 0, text
    assert "logged in" in text
    assert json.loads(secrets.read_text()) == {"aircall-ext/default": API_TOKEN}
