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
Sections = dict[str, list[Entry]]

# The file's bytes and sections as this process last read or wrote them: a command that
# reads users then teams remembers both, and parsing a 10,000-user cache twice is not free.
_last: tuple[Path, bytes, Sections] | None = None


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


def _load() -> Sections:
    """Every section; whatever is missing, unreadable or odd reads as empty."""
    path = cache_path()
    try:
        raw = path.read_bytes()
    except OSError:
        raw = b""
    if _last is not None and _last[:2] == (path, raw):
        return _copy(_last[2])
    try:
        data = json.loads(raw.decode("utf-8"))
    except ValueError:
        data = None
    if not isinstance(data, dict):
        data = {}
    sections = {key: _entries(data.get(key)) for key in ("users", "numbers", "teams")}
    _keep(path, raw, sections)
    return sections


def _keep(path: Path, raw: bytes, sections: Sections) -> None:
    global _last
    _last = (path, raw, _copy(sections))


def _copy(sections: Sections) -> Sections:
    # New lists, so a caller's changes never reach what is kept; the entries are only read.
    return {key: list(entries) for key, entries in sections.items()}


def _entries(value: Any) -> list[Entry]:
    if not isinstance(value, list):
        return []
    return [e for e in value if isinstance(e, dict) and isinstance(e.get("id"), int)]


def _write(path: Path, data: Sections) -> None:
    """Atomic and private: a concurrent TAB press never reads half a file."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR_MODE)
    raw = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    write_atomic(path, raw, private=True, durable=False)
    _keep(path, raw, data)
