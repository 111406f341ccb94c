"""The account's rate-limit state, shared by the runs of this tool on one machine.

The live API says nothing about its limit until a request is refused, and a refusal blocks
the whole account (every integration of the company) for about a minute. So what a run
learns is kept for the next ones, in a cache file (``rate-limits.json`` in the user cache
dir): the limit a 429 reported (it caps the budget of later runs), a block still in force,
and when each request of the last window was sent and answered, so that a run started
right after another (a resume after Ctrl-C, a script's next command) does not spend the
same window's budget twice. Runs at the same moment share it too, approximately (the last
writer wins a race). Losing the file costs one 429 at most. Accounts are keyed by host and
a fingerprint of the API ID, never the ID itself.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aircall_ext.api.ratelimit import MAX_WAIT, Recalled
from aircall_ext.files import PRIVATE_DIR_MODE, write_atomic
from aircall_ext.names import rate_limits_path
from aircall_ext.services.identity import account_identity

Warn = Callable[[str], None]


class AccountRateLimit:
    """One account's entry of the cache file, as one run sees it (an
    :class:`~aircall_ext.api.ratelimit.AccountMemory`)."""

    def __init__(self, path: Path, key: str, warn: Warn) -> None:
        self.path = path
        self.key = key
        self.run = os.urandom(4).hex()  # this run's requests, told from the others'
        self._warn = warn
        self._warned = False

    @classmethod
    def of(cls, base_url: str, api_id: str, warn: Warn) -> AccountRateLimit:
        identity = account_identity(base_url, api_id, sandbox=False)
        return cls(rate_limits_path(), f"{identity.host} {identity.api_id_sha256}", warn)

    def recall(self) -> Recalled:
        entry = self._entry(self._accounts())
        return Recalled(_limit(entry), _blocked_until(entry))

    def remember(self, limit: int | None, blocked_until: float) -> None:
        accounts = self._accounts()
        entry = self._entry(accounts)
        if limit is not None:
            entry["limit"] = limit
            entry["since"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        kept = _blocked_until(entry)
        # Another run's block may end later, but by MAX_WAIT at most (no run writes one
        # further ahead): anything beyond is damage, which must not outlive this write.
        if kept > blocked_until + MAX_WAIT:
            kept = 0.0
        entry["blocked_until"] = max(blocked_until, kept)
        self._save(accounts)

    def others(self, since: float) -> list[float]:
        mine = f"{self.run}:"
        requests = self._requests(self._entry(self._accounts()))
        return [at for key, at in requests.items() if not key.startswith(mine) and at > since]

    def record(self, request: int, at: float, forget_before: float) -> None:
        accounts = self._accounts()
        entry = self._entry(accounts)
        requests = {k: t for k, t in self._requests(entry).items() if t >= forget_before}
        requests[f"{self.run}:{request}"] = at
        entry["requests"] = requests
        self._save(accounts)

    def _entry(self, accounts: dict[str, Any]) -> dict[str, Any]:
        entry = accounts.get(self.key)
        if not isinstance(entry, dict):
            entry = accounts[self.key] = {}
        return entry

    @staticmethod
    def _requests(entry: dict[str, Any]) -> dict[str, float]:
        requests = entry.get("requests")
        if not isinstance(requests, dict):
            return {}
        times = {str(key): _time(at) for key, at in requests.items()}
        return {key: at for key, at in times.items() if at is not None}

    def _accounts(self) -> dict[str, Any]:
        """Every account's entry; an unreadable or foreign file holds none."""
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError, RecursionError):
            return {}
        accounts = doc.get("accounts") if isinstance(doc, dict) else None
        return accounts if isinstance(accounts, dict) else {}

    def _save(self, accounts: dict[str, Any]) -> None:
        data = json.dumps({"accounts": accounts}, sort_keys=True) + "\n"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR_MODE)
            write_atomic(self.path, data.encode("utf-8"), private=True, durable=False)
        except OSError as err:
            if not self._warned:  # said once: the run goes on, only less informed
                self._warned = True
                self._warn(
                    f"cannot keep the API's rate-limit state in {self.path}: {err.strerror or err}"
                )


def _limit(entry: dict[str, Any]) -> int | None:
    limit = entry.get("limit")
    usable = isinstance(limit, int) and not isinstance(limit, bool) and limit > 0
    return limit if usable else None


def _blocked_until(entry: dict[str, Any]) -> float:
    return _time(entry.get("blocked_until")) or 0.0


def _time(value: object) -> float | None:
    """A UNIX time read back from the file; None for anything else (NaN included)."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value == value:
        return float(value)
    return None
