"""The embedded reference service: the routing management API over a SQLite database.

A separate product inside the package: only ``services/session.py`` imports it, to run
``--sandbox`` in-process. Importing this package stays cheap (no server, no platformdirs).
"""

from __future__ import annotations

from pathlib import Path

from aircall_ext.sandbox.app import SandboxApp
from aircall_ext.sandbox.store import default_state_path, open_store

__all__ = ["SandboxApp", "build_inprocess_app", "default_state_path"]


def build_inprocess_app(state_path: Path | None = None) -> SandboxApp:
    """The sandbox for ``--sandbox``: no auth, no rate limit, no faults.

    Opens the database (seeding the demo account when it is missing); every write is
    committed before its response, so ``assign`` then ``list`` shows the change, and other
    processes on the same database see it too.
    """
    return SandboxApp(open_store(state_path))
