"""The sandbox account and its JSON state document.

The document holds the live API's shapes (``{"company", "users": [User], "numbers":
[Number], "teams": [Team]}``, a team's ``users`` being user ids) so it can be read,
hand-edited and diffed like API output; it is the interchange
format of ``sandbox reset --from`` and ``sandbox show -o json``, while the live state is a
SQLite database (``sandbox/store.py``). Older documents (v1-shaped users carrying
``numbers``, numbers without the newer fields) still load and are served in the live shapes.
It may hold legacy damage on purpose (shared or malformed extensions): the sandbox must let
the tool *find* such data, while the API itself never creates any. A number's ``users`` (its
call distribution) and a team's ``users`` are the only records of membership.
"""

from __future__ import annotations

import copy
import json
import unicodedata
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

JsonObject = dict[str, Any]

AVAILABILITY = ("available", "custom", "unavailable")
MAX_ID = 2**63 - 1  # SQLite's largest integer: the store keys records by id


class StateInvalid(ValueError):
    """A state document that does not describe an account; the message names the field."""


class SandboxAccount:
    """Company, users, numbers and teams in API shapes, with the lookups the service needs.

    Not thread-safe by itself: the WSGI app serialises access with its lock.
    """

    def __init__(
        self,
        company: JsonObject,
        users: Iterable[JsonObject],
        numbers: Iterable[JsonObject] = (),
        teams: Iterable[JsonObject] = (),
    ) -> None:
        self.company = {"name": company["name"]}
        self._users = {u["id"]: u for u in sorted(users, key=lambda u: int(u["id"]))}
        self._numbers = {n["id"]: n for n in sorted(numbers, key=lambda n: int(n["id"]))}
        self._teams = {t["id"]: t for t in sorted(teams, key=lambda t: int(t["id"]))}
        # Memberships never change after construction (only extensions are written), so a
        # user's teams and numbers are indexed once, not found by scanning every record.
        self._teams_of = _by_member(self._teams.values(), lambda t: t["users"])
        self._numbers_of = _by_member(
            self._numbers.values(), lambda n: [ref["id"] for ref in n["users"]]
        )

    # -- reading ----------------------------------------------------------------------
    def users(self) -> list[JsonObject]:
        """Users ordered by id: the order listings page through."""
        return list(self._users.values())

    def numbers(self) -> list[JsonObject]:
        return list(self._numbers.values())

    def teams(self) -> list[JsonObject]:
        return list(self._teams.values())

    def user(self, user_id: int) -> JsonObject | None:
        return self._users.get(user_id)

    def user_by_email(self, email: str) -> JsonObject | None:
        """The user with this email: an exact match, else the first (by id) that matches
        when ASCII letters are compared without case."""
        folded = fold_email(email)
        matches = [u for u in self._users.values() if fold_email(u["email"]) == folded]
        return email_match(email, matches)

    def number(self, number_id: int) -> JsonObject | None:
        return self._numbers.get(number_id)

    def team(self, team_id: int) -> JsonObject | None:
        return self._teams.get(team_id)

    def members(self, team: JsonObject) -> list[JsonObject]:
        """A team's users, in the team's order."""
        return [self._users[user_id] for user_id in team["users"]]

    def teams_of(self, user_id: int) -> list[JsonObject]:
        """The teams the user belongs to, by id."""
        return list(self._teams_of.get(user_id, ()))

    def distribution(self, number: JsonObject) -> list[JsonObject]:
        """The users a number rings, in its distribution's order."""
        return [self._users[ref["id"]] for ref in number.get("users", [])]

    def numbers_of(self, user_id: int) -> list[JsonObject]:
        """The numbers whose distribution holds the user, by id."""
        return list(self._numbers_of.get(user_id, ()))

    def holders(self, extension: str) -> list[JsonObject]:
        """Every user holding ``extension``: more than one only in damaged legacy data."""
        return [u for u in self._users.values() if u.get("extension") == extension]

    def company_document(self) -> JsonObject:
        """The company as the live API serves it: its name and counts that always match."""
        return company_document(self.company, len(self._users), len(self._numbers))

    def document(self) -> JsonObject:
        """A deep copy in the state-file format, safe to serialise outside the lock."""
        return {
            "company": self.company_document(),
            "users": copy.deepcopy(self.users()),
            "numbers": copy.deepcopy(self.numbers()),
            "teams": copy.deepcopy(self.teams()),
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
        teams = [_team(item, f"teams[{i}]") for i, item in enumerate(_list(doc, "teams"))]
        _check_unique_ids(users, "users")
        _check_unique_ids(numbers, "numbers")
        _check_unique_ids(teams, "teams")
        user_ids = {u["id"] for u in users}
        _check_distributions(numbers, user_ids)
        _check_teams(teams, user_ids)
        return cls(company, users, numbers, teams)


def _by_member(
    records: Iterable[JsonObject], members: Callable[[JsonObject], Iterable[int]]
) -> dict[int, list[JsonObject]]:
    """Each user id and the records (in the order given) whose ``members`` hold it."""
    index: dict[int, list[JsonObject]] = {}
    for record in records:
        for user_id in dict.fromkeys(members(record)):
            index.setdefault(user_id, []).append(record)
    return index


def company_document(company: JsonObject, users_count: int, numbers_count: int) -> JsonObject:
    """``{"name", "users_count", "numbers_count"}``: exactly what the live API sends."""
    return {"name": company["name"], "users_count": users_count, "numbers_count": numbers_count}


def fold_email(email: str) -> str:
    """An email with ASCII letters in lower case: how the sandbox matches ``/v2/users/EMAIL``
    (the store's SQL ``lower()`` folds exactly these, so both agree)."""
    return email.translate(_ASCII_LOWER)


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def email_match(email: str, folded_matches: list[JsonObject]) -> JsonObject | None:
    """Of the users (by id) whose email folds to ``email``'s: the exact match, else the first."""
    exact = (u for u in folded_matches if u["email"] == email)
    return next(exact, folded_matches[0] if folded_matches else None)


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
    if len(known) < len(record):
        known.update({k: v for k, v in record.items() if k not in known})
    return known


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
    _check_id(item.get("id"), where)
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


def _check_id(record_id: object, where: str) -> None:
    if (
        isinstance(record_id, bool)
        or not isinstance(record_id, int)
        or not 1 <= record_id <= MAX_ID
    ):
        raise StateInvalid(f'{where}: "id" must be a positive integer up to {MAX_ID}')


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


# A team as stored: what the document says, members as user ids. `direct_link` is derived
# (pasted API output still loads); any other key is a typo that would silently lose data.
TEAM_KEYS = ("id", "name", "created_at", "users")
_TEAM_DERIVED = frozenset({"direct_link"})


def _team(item: object, where: str) -> JsonObject:
    """One team: ``users`` may list ids or user objects (only their id is read)."""
    if not isinstance(item, dict):
        raise StateInvalid(f"{where}: expected an object, got {_kind(item)}")
    _check_id(item.get("id"), where)
    unknown = sorted(set(item) - set(TEAM_KEYS) - _TEAM_DERIVED)
    if unknown:
        known = ", ".join(TEAM_KEYS)
        raise StateInvalid(f'{where}: unknown key "{unknown[0]}" (a team has {known})')
    name = item.get("name")
    if not isinstance(name, str) or not name.strip():
        raise StateInvalid(f"{where}.name: must be a non-empty string, got {_kind(name)}")
    created_at = item.get("created_at", created_at_for(item["id"]))
    if not isinstance(created_at, str):
        raise StateInvalid(f"{where}.created_at: unexpected {_kind(created_at)}")
    members = item.get("users", [])
    if not isinstance(members, list):
        raise StateInvalid(f'{where} "{name}".users: must be a list, got {_kind(members)}')
    ids = []
    for i, member in enumerate(members):
        member_id = member.get("id") if isinstance(member, dict) else member
        if not isinstance(member_id, int) or isinstance(member_id, bool):
            raise StateInvalid(
                f'{where} "{name}".users[{i}]: expected a user id, got {_kind(member_id)}'
            )
        ids.append(member_id)
    return {"id": item["id"], "name": name, "created_at": created_at, "users": ids}


def _check_unique_ids(records: list[JsonObject], what: str) -> None:
    seen: set[int] = set()
    for i, record in enumerate(records):
        if record["id"] in seen:
            raise StateInvalid(f"{what}[{i}]: duplicate id {record['id']}")
        seen.add(record["id"])


def _check_distributions(numbers: list[JsonObject], user_ids: set[int]) -> None:
    for i, number in enumerate(numbers):
        _check_members([ref["id"] for ref in number["users"]], f"numbers[{i}].users", user_ids)


def _check_teams(teams: list[JsonObject], user_ids: set[int]) -> None:
    """Members exist and appear once; names are unique once Unicode-normalised (NFC), as
    plans match them."""
    names: dict[str, int] = {}
    for i, team in enumerate(teams):
        where = f'teams[{i}] "{team["name"]}"'
        key = unicodedata.normalize("NFC", team["name"])
        if key in names:
            raise StateInvalid(f"{where}: the name is already used by teams[{names[key]}]")
        names[key] = i
        _check_members(team["users"], f"{where}.users", user_ids)


def _check_members(members: list[int], where: str, user_ids: set[int]) -> None:
    """Each member of the list ``where`` is a user of the document, listed once."""
    seen: set[int] = set()
    for j, user_id in enumerate(members):
        if user_id not in user_ids:
            raise StateInvalid(f"{where}[{j}]: no user has id {user_id}")
        if user_id in seen:
            raise StateInvalid(f"{where}[{j}]: user {user_id} is listed twice")
        seen.add(user_id)


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
