"""The sandbox account, its JSON state document, and where the sandbox database lives.

The document holds the API shapes (``{"company", "users": [User], "numbers": [Number]}``) so
it can be read, hand-edited and diffed like API output; it is the interchange format of
``sandbox reset --from`` and ``sandbox show -o json``. The live state is a SQLite database
(``sandbox/store.py``). It may hold legacy damage on purpose
(shared or malformed extensions): the sandbox must let the tool *find* such data, while the
API itself never creates any. A number's ``users`` (its call distribution) is the source of
truth for membership; each user's ``numbers`` is derived from it so the two never disagree.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aircall_ext.sandbox.store import Store

JsonObject = dict[str, Any]

STATE_ENV = "AIRCALL_EXT_SANDBOX_STATE"
AVAILABILITY = ("available", "custom", "unavailable")


class StateInvalid(ValueError):
    """A state document that does not describe an account; the message names the field."""


def default_state_path() -> Path:
    """``AIRCALL_EXT_SANDBOX_STATE``, else ``sandbox.db`` in the per-user state dir."""
    configured = os.environ.get(STATE_ENV, "").strip()
    if configured:
        return Path(configured).expanduser()
    from platformdirs import user_state_path

    return user_state_path("aircall-ext", appauthor=False) / "sandbox.db"


class SandboxAccount:
    """Company, users and numbers in API shapes, with the lookups the service needs.

    Not thread-safe by itself: the WSGI app serialises access with its lock.
    """

    def __init__(
        self,
        company: JsonObject,
        users: Iterable[JsonObject],
        numbers: Iterable[JsonObject] = (),
    ) -> None:
        self.company = dict(company)
        self._users = {u["id"]: u for u in sorted(users, key=lambda u: int(u["id"]))}
        self._numbers = {n["id"]: n for n in sorted(numbers, key=lambda n: int(n["id"]))}
        self._link()

    # -- reading ----------------------------------------------------------------------
    def users(self) -> list[JsonObject]:
        """Users ordered by id: the order listings page through."""
        return list(self._users.values())

    def numbers(self) -> list[JsonObject]:
        return list(self._numbers.values())

    def user(self, user_id: int) -> JsonObject | None:
        return self._users.get(user_id)

    def number(self, number_id: int) -> JsonObject | None:
        return self._numbers.get(number_id)

    def holders(self, extension: str) -> list[JsonObject]:
        """Every user holding ``extension``: more than one only in damaged legacy data."""
        return [u for u in self._users.values() if u.get("extension") == extension]

    def company_document(self) -> JsonObject:
        """The company with counts that always match the account."""
        return {
            **self.company,
            "users_count": len(self._users),
            "numbers_count": len(self._numbers),
        }

    def document(self) -> JsonObject:
        """A deep copy in the state-file format, safe to serialise outside the lock."""
        return {
            "company": self.company_document(),
            "users": copy.deepcopy(self.users()),
            "numbers": copy.deepcopy(self.numbers()),
        }

    # -- writing ----------------------------------------------------------------------
    def set_extension(self, user_id: int, extension: str | None) -> str | None:
        """Set a user's extension and return the previous one. Rules live in the app."""
        user = self._users[user_id]
        previous: str | None = user.get("extension")
        user["extension"] = extension
        return previous

    # -- construction -----------------------------------------------------------------
    @classmethod
    def from_document(cls, doc: object) -> SandboxAccount:
        """Validate and normalise a state document; raises :class:`StateInvalid`."""
        if not isinstance(doc, dict):
            raise StateInvalid(f"expected a JSON object at the top, got {_kind(doc)}")
        company = doc.get("company", {"name": "Sandbox"})
        if not isinstance(company, dict) or not isinstance(company.get("name"), str):
            raise StateInvalid('"company" must be an object with a string "name"')
        users = [_user(item, f"users[{i}]") for i, item in enumerate(_list(doc, "users"))]
        numbers = [_number(item, f"numbers[{i}]") for i, item in enumerate(_list(doc, "numbers"))]
        _check_unique_ids(users, "users")
        _check_unique_ids(numbers, "numbers")
        _check_distributions(numbers, {u["id"] for u in users})
        return cls(company, users, numbers)

    def _link(self) -> None:
        """Refresh the denormalised copies: distribution entries and each user's numbers."""
        for user in self._users.values():
            user["numbers"] = []
        for number in self._numbers.values():
            refs = []
            for ref in number.get("users", []):
                user = self._users[ref["id"]]
                refs.append({"id": user["id"], "name": user["name"], "email": user["email"]})
                user["numbers"].append(
                    {"id": number["id"], "name": number["name"], "digits": number["digits"]}
                )
            number["users"] = refs


# -- validation -----------------------------------------------------------------------

_USER_DEFAULTS: JsonObject = {
    "available": True,
    "availability_status": "available",
    "extension": None,
    "outgoing_only": False,
    "direct_link": None,
    "created_at": None,
    "time_zone": None,
    "language": None,
}
_USER_TYPES: dict[str, tuple[type, ...]] = {
    "name": (str,),
    "email": (str,),
    "available": (bool,),
    "availability_status": (str,),
    "extension": (str, type(None)),
    "outgoing_only": (bool,),
    "direct_link": (str, type(None)),
    "created_at": (str, type(None)),
    "time_zone": (str, type(None)),
    "language": (str, type(None)),
}
_NUMBER_DEFAULTS: JsonObject = {
    "e164_digits": None,
    "flow_editor_enabled": False,
    "is_ivr": False,
    "users": [],
    "direct_link": None,
    "country": None,
    "time_zone": None,
}
_NUMBER_TYPES: dict[str, tuple[type, ...]] = {
    "name": (str,),
    "digits": (str,),
    "e164_digits": (str, type(None)),
    "flow_editor_enabled": (bool,),
    "is_ivr": (bool,),
    "users": (list,),
    "direct_link": (str, type(None)),
    "country": (str, type(None)),
    "time_zone": (str, type(None)),
}


def _kind(value: object) -> str:
    return "null" if value is None else type(value).__name__


def _list(doc: JsonObject, key: str) -> list[object]:
    value = doc.get(key, [])
    if not isinstance(value, list):
        raise StateInvalid(f'"{key}" must be a list, got {_kind(value)}')
    return value


def _record(
    item: object,
    where: str,
    required: tuple[str, ...],
    defaults: JsonObject,
    types: dict[str, tuple[type, ...]],
) -> JsonObject:
    """Check one object's required keys and field types; fill defaults; keep extra fields."""
    if not isinstance(item, dict):
        raise StateInvalid(f"{where}: expected an object, got {_kind(item)}")
    record_id = item.get("id")
    if not isinstance(record_id, int) or isinstance(record_id, bool) or record_id < 1:
        raise StateInvalid(f'{where}: "id" must be a positive integer')
    for key in required:
        if key not in item:
            raise StateInvalid(f'{where}: "{key}" is missing')
    # Known fields in the API's order (id, required, the rest), then any extra fields.
    known = {"id": record_id, **{k: item[k] for k in required}, **copy.deepcopy(defaults)}
    record = {**known, **item}
    for key, allowed in types.items():
        if not isinstance(record[key], allowed):
            raise StateInvalid(f"{where}.{key}: unexpected {_kind(record[key])}")
    return record


def _user(item: object, where: str) -> JsonObject:
    user = _record(item, where, ("name", "email"), _USER_DEFAULTS, _USER_TYPES)
    if user["availability_status"] not in AVAILABILITY:
        raise StateInvalid(f"{where}.availability_status: must be one of {', '.join(AVAILABILITY)}")
    return user


def _number(item: object, where: str) -> JsonObject:
    number = _record(item, where, ("name", "digits"), _NUMBER_DEFAULTS, _NUMBER_TYPES)
    for i, ref in enumerate(number["users"]):
        ref_id = ref.get("id") if isinstance(ref, dict) else None
        if not isinstance(ref_id, int) or isinstance(ref_id, bool):
            raise StateInvalid(f'{where}.users[{i}]: expected an object with an integer "id"')
    return number


def _check_unique_ids(records: list[JsonObject], what: str) -> None:
    seen: set[int] = set()
    for i, record in enumerate(records):
        if record["id"] in seen:
            raise StateInvalid(f"{what}[{i}]: duplicate id {record['id']}")
        seen.add(record["id"])


def _check_distributions(numbers: list[JsonObject], user_ids: set[int]) -> None:
    for i, number in enumerate(numbers):
        members: set[int] = set()
        for j, ref in enumerate(number["users"]):
            where = f"numbers[{i}].users[{j}]"
            if ref["id"] not in user_ids:
                raise StateInvalid(f"{where}: no user has id {ref['id']}")
            if ref["id"] in members:
                raise StateInvalid(f"{where}: user {ref['id']} is listed twice")
            members.add(ref["id"])


# -- the JSON document and the database --------------------------------------------------


def parse_state(text: str) -> SandboxAccount:
    """Parse and validate a state document; raises :class:`StateInvalid` with the reason."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as err:
        raise StateInvalid(
            f"not valid JSON (line {err.lineno}, column {err.colno}: {err.msg})"
        ) from None
    return SandboxAccount.from_document(doc)


def open_store(path: Path | None = None) -> Store:
    """The sandbox database at ``path`` (default: :func:`default_state_path`), created and
    seeded with the demo account when missing. Raises ``ConfigError`` for anything else."""
    from aircall_ext.sandbox.store import Store

    return Store.open(path or default_state_path())


def read_state(path: Path) -> SandboxAccount:
    """The account in the existing database ``path``, in memory."""
    from aircall_ext.sandbox.store import Store

    with Store.open(path, seed=None) as store:
        return store.snapshot()


def load_or_seed(path: Path) -> SandboxAccount:
    """The account in ``path``, in memory; a missing database is seeded with the demo."""
    with open_store(path) as store:
        return store.snapshot()


def save_state(path: Path, account: SandboxAccount) -> None:
    """Replace the content of the database ``path`` (created if missing) in one transaction."""
    with open_store(path) as store:
        store.replace(account)
