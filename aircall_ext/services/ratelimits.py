"""The limits the API imposed with a 429, remembered per account for the next runs.

The live API reports its limit only when it refuses a request, and that refusal blocks the
whole account for about a minute; a run that learnt the limit the hard way keeps it here
so the next one starts at that pace. It is a cache (``rate-limits.json`` in the user cache
dir): losing it costs one 429 at most. Accounts are keyed by host and a fingerprint of
the API ID, never the ID itself.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aircall_ext.files import PRIVATE_DIR_MODE, write_atomic
from aircall_ext.names import rate_limits_path
from aircall_ext.services.journal import account_identity

Warn = Callable[[str], None]


class AccountLimit:
    """The remembered limit of one account (an :class:`~aircall_ext.api.ratelimit.LimitMemory`)."""

    def __init__(self, path: Path, key: str, warn: Warn) -> None:
        self.path = path
        self.key = key
        self._warn = warn

    @classmethod
    def of(cls, base_url: str, api_id: str, warn: Warn) -> AccountLimit:
        identity = account_identity(base_url, api_id, sandbox=False)
        return cls(rate_limits_path(), f"{identity['host']} {identity['api_id_sha256']}", warn)

    def recall(self) -> int | None:
        limit = self._accounts().get(self.key, {}).get("limit")
        return (
            limit if isinstance(limit, int) and not isinstance(limit, bool) and limit > 0 else None
        )

    def remember(self, limit: int) -> None:
        accounts = self._accounts()
        accounts[self.key] = {
            "limit": limit,
            "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        data = json.dumps({"accounts": accounts}, indent=1, sort_keys=True) + "\n"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR_MODE)
            write_atomic(self.path, data.encode("utf-8"), private=True, durable=False)
        except OSError as err:
            self._warn(f"cannot remember the API's limit in {self.path}: {err.strerror or err}")

    def _accounts(self) -> dict[str, Any]:
        """Every remembered account; an unreadable or foreign file remembers nothing."""
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError, RecursionError):
            return {}
        accounts = doc.get("accounts") if isinstance(doc, dict) else None
        if not isinstance(accounts, dict):
            return {}
        return {k: v for k, v in accounts.items() if isinstance(v, dict)}
