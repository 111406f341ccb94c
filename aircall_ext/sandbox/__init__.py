"""The embedded reference service: SPEC §3 over a JSON state file (SPEC §7).

A separate product inside the package: only ``services/session.py`` imports it, to run
``--sandbox`` in-process. Importing this package stays cheap (no server, no platformdirs).
"""

from __future__ import annotations

from pathlib import Path

from aircall_ext.sandbox.app import AppliedWrite, SandboxApp
from aircall_ext.sandbox.state import default_state_path, load_or_seed, save_state

__all__ = ["SandboxApp", "build_inprocess_app", "default_state_path"]


def build_inprocess_app(state_path: Path | None = None) -> SandboxApp:
    """The sandbox for ``--sandbox``: no auth, no rate limit, no faults.

    Loads the state file (seeding the demo account when it is missing) and saves it
    atomically after every applied write, so ``assign`` then ``list`` shows the change.
    """
    path = state_path or default_state_path()
    account = load_or_seed(path)

    def persist(_write: AppliedWrite) -> None:
        save_state(path, account)  # called under the app's lock: a consistent snapshot

    return SandboxApp(account, on_write=persist)
