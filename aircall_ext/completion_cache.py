"""The last listing of users, numbers and teams, kept on disk so that shell completion never
calls the API.

Best effort by design: a missing, corrupt or unwritable cache only means fewer suggestions,
never an error. It holds ids, emails, names, extensions, digits and team names (never a
credential), in
``completion.json`` under the user cache dir (``$XDG_CACHE_HOME/aircall-ext`` on Linux), 0600.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aircall_ext.files import PRIVATE_DIR_MODE, write_atomic
from aircall_ext.names import cache_dir

if TYPE_CHECKING:
    from aircall_ext.api.models import Number, Team, User

FILE_NAME = "completion.json"
Entry = dict[str, Any]


def cache_path() -> Path:
    return cache_dir() / FILE_NAME


def remember(
    users: Iterable[User] | None = None,
    numbers: Iterable[Number] | None = None,
    teams: Iterable[Team] | None = None,
) -> None:
    """Replace the cached users, numbers and/or teams (``None`` keeps what is there); never
    raises. Nothing is written when nothing changed (a large account's cache is a big file)."""
    try:
        data = _load()
        before = {key: list(entries) for key, entries in data.items()}
        if users is not None:
            data["users"] = [_user_entry(u) for u in users]
        if numbers is not None:
            data["numbers"] = [_number_entry(n) for n in numbers]
        if teams is not None:
            data["teams"] = [{"id": t.id, "name": t.name} for t in teams]
        if data != before or not cache_path().exists():
            _write(cache_path(), data)
    except Exception:  # a cache is never worth failing the user's command
        return


def cached_users() -> list[Entry]:
    return _load()["users"]


def cached_numbers() -> list[Entry]:
    return _load()["numbers"]


def cached_teams() -> list[Entry]:
    return _load()["teams"]


def _user_entry(user: User) -> Entry:
    return {"id": user.id, "email": user.email, "name": user.name, "extension": user.extension}


def _number_entry(number: Number) -> Entry:
    digits = number.e164_digits or "".join((number.digits or "").split()) or None
    return {"id": number.id, "name": number.name, "digits": digits}


def _load() -> dict[str, list[Entry]]:
    """Both sections; whatever is missing, unreadable or odd reads as empty."""
    try:
        data = json.loads(cache_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = None
    if not isinstance(data, dict):
        data = {}
    return {key: _entries(data.get(key)) for key in ("users", "numbers", "teams")}


def _entries(value: Any) -> list[Entry]:
    if not isinstance(value, list):
        return []
    return [e for e in value if isinstance(e, dict) and isinstance(e.get("id"), int)]


def _write(path: Path, data: dict[str, list[Entry]]) -> None:
    """Atomic and private: a concurrent TAB press never reads half a file."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR_MODE)
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    write_atomic(path, text.encode("utf-8"), private=True, durable=False)
