"""The sandbox account and its JSON state document.

The document holds the live API's shapes (``{"company", "users": [User], "numbers":
[Number]}``) so it can be read, hand-edited and diffed like API output; it is the interchange
format of ``sandbox reset --from`` and ``sandbox show -o json``, while the live state is a
SQLite database (``sandbox/store.py``). Older documents (v1-shaped users carrying
``numbers``, numbers without the newer fields) still load and are served in the live shapes.
It may hold legacy damage on purpose (shared or malformed extensions): the sandbox must let
the tool *find* such data, while the API itself never creates any. A number's ``users`` (its
call distribution) is the only record of membership.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

JsonObject = dict[str, Any]

AVAILABILITY = ("available", "custom", "unavailable")


class StateInvalid(ValueError):
    """A state document that does not describe an account; the message names the field."""


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

    def distribution(self, number: JsonObject) -> list[JsonObject]:
        """The users a number rings, in its distribution's order."""
        return [self._users[ref["id"]] for ref in number.get("users", [])]

    def numbers_of(self, user_id: int) -> list[JsonObject]:
        """The numbers whose distribution holds the user."""
        return [n for n in self._numbers.values() if any(r["id"] == user_id for r in n["users"])]

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


# -- validation -----------------------------------------------------------------------

# Stored field order: the live API's, minus `direct_link`, which the app derives from the host
# the client used. A number's `users` holds `{"id": N}` references only; served users are built
# from the user records, so a distribution never disagrees with the users themselves.
USER_FIELDS = (
    "id",
    "name",
    "email",
    "created_at",
    "available",
    "availability_status",
    "substatus",
    "state",
    "time_zone",
    "language",
    "wrap_up_time",
    "default_number_id",
    "extension",
    "outgoing_only",
)
NUMBER_FIELDS = (
    "id",
    "name",
    "digits",
    "created_at",
    "country",
    "time_zone",
    "open",
    "availability_status",
    "is_ivr",
    "live_recording_activated",
    "priority",
    "messages",
    "flow_editor_enabled",
    "users",
)
MESSAGE_KEYS = (
    "welcome",
    "waiting",
    "ivr",
    "voicemail",
    "closed",
    "callback_later",
    "unanswered_call",
    "after_hours",
    "ringing_tone",
)
NUMBER_AVAILABILITY = ("open", "custom", "closed")
# Derived on every response, never stored: a user's `numbers` (the v1 shape) and the links.
_USER_DERIVED = frozenset({"numbers", "direct_link"})
_NUMBER_DERIVED = frozenset({"direct_link"})

_USER_DEFAULTS: JsonObject = {
    "available": True,
    "availability_status": "available",
    "state": "active",
    "time_zone": "Etc/UTC",
    "language": "en-US",
    "wrap_up_time": 0,
    "default_number_id": None,
    "outgoing_only": False,
}
_USER_TYPES: dict[str, tuple[type, ...]] = {
    "name": (str,),
    "email": (str,),
    "created_at": (str,),
    "available": (bool,),
    "availability_status": (str,),
    "substatus": (str,),
    "state": (str,),
    "time_zone": (str,),
    "language": (str,),
    "wrap_up_time": (int,),
    "default_number_id": (int, type(None)),
    "extension": (str, type(None)),
    "outgoing_only": (bool,),
}
_NUMBER_DEFAULTS: JsonObject = {
    "time_zone": "Etc/UTC",
    "open": True,
    "availability_status": "open",
    "live_recording_activated": False,
    "priority": None,
    "messages": dict.fromkeys(MESSAGE_KEYS),
    "users": [],
}
_NUMBER_TYPES: dict[str, tuple[type, ...]] = {
    "name": (str,),
    "digits": (str,),
    "created_at": (str,),
    "country": (str,),
    "time_zone": (str,),
    "open": (bool,),
    "availability_status": (str,),
    "is_ivr": (bool, type(None)),
    "live_recording_activated": (bool,),
    "priority": (int, type(None)),
    "messages": (dict,),
    "flow_editor_enabled": (bool, type(None)),
    "users": (list,),
}
# Calling code -> country, for numbers of older documents that hold no country.
_COUNTRIES = (("+1", "US"), ("+33", "FR"), ("+44", "GB"), ("+49", "DE"), ("+34", "ES"))
_EPOCH = datetime(2022, 1, 3, 8, 0, tzinfo=UTC)
_SPREAD = 3 * 365 * 86_400  # seconds: created_at values fall within three years


def created_at_for(record_id: int) -> str:
    """A plausible creation time derived from the id, so older documents serve the same
    ``created_at`` every time."""
    moment = _EPOCH + timedelta(seconds=(record_id * 7_919) % _SPREAD)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def ordered(record: JsonObject, fields: Iterable[str]) -> JsonObject:
    """``record`` with the known ``fields`` first in the API's order, then any extra fields."""
    known = {key: record[key] for key in fields if key in record}
    return {**known, **{k: v for k, v in record.items() if k not in known}}


def _kind(value: object) -> str:
    return "null" if value is None else type(value).__name__


def _list(doc: JsonObject, key: str) -> list[object]:
    value = doc.get(key, [])
    if not isinstance(value, list):
        raise StateInvalid(f'"{key}" must be a list, got {_kind(value)}')
    return value


def _is(value: object, allowed: tuple[type, ...]) -> bool:
    # bool is an int to isinstance; `true` is no wrap-up time or priority.
    if isinstance(value, bool) and bool not in allowed:
        return False
    return isinstance(value, allowed)


def _record(
    item: object,
    where: str,
    required: tuple[str, ...],
    defaults: JsonObject,
    types: dict[str, tuple[type, ...]],
    derived: frozenset[str],
    fields: tuple[str, ...],
) -> JsonObject:
    """Check one object's required keys and field types, fill defaults, drop derived fields;
    extra fields are kept (after the known ones).

    A default replaces a missing field, and a null where the live API never sends null (older
    sandbox documents stored ``"time_zone": null``); a field that may be null keeps its null.
    """
    if not isinstance(item, dict):
        raise StateInvalid(f"{where}: expected an object, got {_kind(item)}")
    record_id = item.get("id")
    if not isinstance(record_id, int) or isinstance(record_id, bool) or record_id < 1:
        raise StateInvalid(f'{where}: "id" must be a positive integer')
    for key in required:
        if key not in item:
            raise StateInvalid(f'{where}: "{key}" is missing')
    record = {k: copy.deepcopy(v) for k, v in item.items() if k not in derived}
    for key, default in defaults.items():
        if key not in record or (record[key] is None and type(None) not in types[key]):
            record[key] = copy.deepcopy(default)
    for key, allowed in types.items():
        if key in record and not _is(record[key], allowed):
            raise StateInvalid(f"{where}.{key}: unexpected {_kind(record[key])}")
    return ordered(record, fields)


def _user(item: object, where: str) -> JsonObject:
    """One user in the stored v2 shape.

    ``extension`` and ``substatus`` may be absent on the live API, and a document that omits
    them is served without them. The exception is a user in an older shape (it carries the v1
    ``numbers`` list, or no ``created_at``): those documents meant "no extension" by omitting
    the key, and older sandboxes always served it, so it becomes null.
    """
    defaults = dict(_USER_DEFAULTS)
    if isinstance(item, dict):
        if "numbers" in item or item.get("created_at") is None:
            defaults["extension"] = None
        if isinstance(item.get("id"), int):
            defaults["created_at"] = created_at_for(item["id"])
    user = _record(
        item, where, ("name", "email"), defaults, _USER_TYPES, _USER_DERIVED, USER_FIELDS
    )
    if user["availability_status"] not in AVAILABILITY:
        raise StateInvalid(f"{where}.availability_status: must be one of {', '.join(AVAILABILITY)}")
    if user["wrap_up_time"] < 0:
        raise StateInvalid(f"{where}.wrap_up_time: must be 0 or more seconds")
    return user


def _number(item: object, where: str) -> JsonObject:
    """One number in the stored v1 shape; ``users`` becomes ``[{"id": N}]`` (full user objects
    are accepted: only their id is read; served users are built from the user records, so a
    number never shows a stale name or email).

    ``is_ivr`` and ``flow_editor_enabled`` are served as stored, absent or null included, so
    tests can exercise unknown routing. A number in the older shape (no ``created_at``, which
    older sandboxes never wrote) meant false by omitting them, so it gets false.
    """
    defaults = dict(_NUMBER_DEFAULTS)
    if isinstance(item, dict):
        if item.get("created_at") is None:
            defaults.update(is_ivr=False, flow_editor_enabled=False)
        if isinstance(item.get("id"), int):
            defaults["created_at"] = created_at_for(item["id"])
        digits = item.get("digits")
        if isinstance(digits, str):
            defaults["country"] = next(
                (c for code, c in _COUNTRIES if digits.startswith(code)), "US"
            )
    number = _record(
        item, where, ("name", "digits"), defaults, _NUMBER_TYPES, _NUMBER_DERIVED, NUMBER_FIELDS
    )
    if number["availability_status"] not in NUMBER_AVAILABILITY:
        raise StateInvalid(
            f"{where}.availability_status: must be one of {', '.join(NUMBER_AVAILABILITY)}"
        )
    if number["priority"] not in (None, 0, 1):
        raise StateInvalid(f"{where}.priority: must be null, 0 or 1")
    refs = []
    for i, ref in enumerate(number["users"]):
        ref_id = ref.get("id") if isinstance(ref, dict) else None
        if not isinstance(ref_id, int) or isinstance(ref_id, bool):
            raise StateInvalid(f'{where}.users[{i}]: expected an object with an integer "id"')
        refs.append({"id": ref_id})
    number["users"] = refs
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


# -- the JSON document --------------------------------------------------


def parse_state(text: str) -> SandboxAccount:
    """Parse and validate a state document; raises :class:`StateInvalid` with the reason."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as err:
        raise StateInvalid(
            f"not valid JSON (line {err.lineno}, column {err.colno}: {err.msg})"
        ) from None
    return SandboxAccount.from_document(doc)
