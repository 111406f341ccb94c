"""The demo account every sandbox starts with, and a generator of large clean accounts.

The demo is small enough to read in one screen yet shows every case the tool must handle:
a legacy collision, a dead extension (outgoing-only), a missing extension, both ways of
being unavailable, spreadsheet damage (``42``), a leading zero (``007``), one number per
routing mode (the classic one with a partial distribution), and teams that break
``SAMPLE_PLAN`` in every way a numbering plan can be broken.
"""

from __future__ import annotations

import math
import random
from typing import Any

from aircall_ext.sandbox.state import MESSAGE_KEYS, JsonObject, SandboxAccount

DEMO_COMPANY = "Brightwave Studios (sandbox)"

# id, name, email local part, extension, extras (fields that differ from a plain user).
# `_ABSENT` leaves the key out entirely, as the live API does for a user without extension.
_ABSENT: Any = object()
_DEMO_USERS: list[tuple[int, str, str, str | None, dict[str, Any]]] = [
    (481001, "Amelia Hart", "amelia.hart", "101", {"substatus": "always_opened"}),
    (481002, "Bruno Keller", "bruno.keller", "102",
     {"language": "de-DE", "time_zone": "Europe/Berlin"}),
    (481003, "Chloé Martin", "chloe.martin", "103", {"language": "fr-FR", "wrap_up_time": 30}),
    # Legacy collision: two users on 104. The API refuses to create this; old data has it.
    (481004, "Daniel Okafor", "daniel.okafor", "104", {"time_zone": "Europe/London"}),
    (481005, "Elena Rossi", "elena.rossi", "104",
     {"language": "it-IT", "time_zone": "Europe/Rome"}),
    # Outgoing-only with an extension: callers dialing 110 hear "does not exist".
    (481006, "Farid Haddad", "farid.haddad", "110", {"outgoing_only": True}),
    # No extension: the live API leaves the key out rather than sending null.
    (481007, "Grace Liu", "grace.liu", _ABSENT, {"time_zone": "America/Los_Angeles"}),
    # Unavailable by status (while `available` still says true) ...
    (481008, "Hiroshi Tanaka", "hiroshi.tanaka", "120", {"availability_status": "unavailable"}),
    # ... and by the boolean (with a custom status: in a meeting).
    (481009, "Isabel Nunes", "isabel.nunes", "121",
     {"available": False, "availability_status": "custom", "substatus": "in_a_meeting"}),
    # Spreadsheet damage from a past import: the zero-padded "042" lost its zero.
    (481010, "James O'Connor", "james.oconnor", "42", {"wrap_up_time": 15}),
    (481011, "Kavya Iyer", "kavya.iyer", "007", {}),
    (481012, "Lucas Moreau", "lucas.moreau", "130", {"language": "fr-FR"}),
    # Team members, against SAMPLE_PLAN: Maya is in Sales' range; Noor is in two teams and
    # in range through Customer Support; Omar, in no team, holds the reserved 100; Rafael
    # and Tariq hold both extensions of Reception's range, which leaves it full, though
    # Tariq is in Sales, out of its range.
    (481013, "Maya Fischer", "maya.fischer", "201", {"time_zone": "Europe/Berlin"}),
    (481014, "Noor Rahman", "noor.rahman", "305", {"language": "en-GB"}),
    (481015, "Omar Benali", "omar.benali", "100", {"language": "fr-FR"}),
    (481016, "Rafael Costa", "rafael.costa", "500", {"time_zone": "Europe/Lisbon"}),
    (481017, "Tariq Novak", "tariq.novak", "501", {}),
]  # fmt: skip

# id, name, created_at, members. The account has no "Billing" team: the plan's is unknown.
_DEMO_TEAMS: list[tuple[int, str, str, list[int]]] = [
    (7001, "Sales", "2023-02-06T09:00:00.000Z", [481013, 481014, 481017]),
    (7002, "Customer Support", "2023-02-06T09:05:00.000Z", [481014]),
    (7003, "Reception", "2023-02-07T08:30:00.000Z", [481016]),
]

# The numbering plan the demo's teams break, one way each (the README and docs/sandbox.md
# show it): a member out of their team's range, a reserved extension held, a plan team the
# account lacks, a team range with no free extension.
SAMPLE_PLAN = """\
reserved = ["100", "911"]
default = "100-199"

[teams]
Sales = "200-299"
"Customer Support" = ["300-349", "360-399"]
Reception = "500-501"
Billing = "400-449"
"""

# id, name, digits, flow_editor_enabled, is_ivr, country, time zone, distribution, extras
_DEMO_NUMBERS: list[tuple[int, str, str, bool, bool, str, str, list[int], dict[str, Any]]] = [
    (912001, "Support", "+33 1 76 36 06 95", True, False, "FR", "Europe/Paris",
     [481001, 481002, 481003, 481008], {"live_recording_activated": True, "priority": 1}),
    # Classic legacy number: its distribution is NOT everyone (not-in-distribution demo).
    (912002, "Sales (legacy)", "+44 20 7946 0321", False, False, "GB", "Europe/London",
     [481001, 481004, 481009, 481011], {"availability_status": "custom", "priority": 0}),
    (912003, "Reception IVR (legacy)", "+1 415-555-0142", False, True, "US",
     "America/Los_Angeles", [481005, 481006, 481012], {}),
]  # fmt: skip


def demo_account() -> SandboxAccount:
    """A fresh copy of the demo account (callers may mutate it)."""
    numbers = [
        _number(nid, name, digits, smart, ivr, country, tz, members, i, **extras)
        for i, (nid, name, digits, smart, ivr, country, tz, members, extras) in enumerate(
            _DEMO_NUMBERS
        )
    ]
    users = [
        _user(uid, name, f"{local}@example.com", ext, i, _home(uid, numbers), **extras)
        for i, (uid, name, local, ext, extras) in enumerate(_DEMO_USERS)
    ]
    teams = [
        {"id": tid, "name": name, "created_at": created, "users": members}
        for tid, name, created, members in _DEMO_TEAMS
    ]
    return SandboxAccount.from_document(
        {"company": {"name": DEMO_COMPANY}, "users": users, "numbers": numbers, "teams": teams}
    )


def _home(user_id: int, numbers: list[JsonObject]) -> int | None:
    """A user's default outgoing number: the first number that rings them."""
    return next((n["id"] for n in numbers if {"id": user_id} in n["users"]), None)


_FIRST = (  # noqa: SIM905 - a word list reads best as words
    "Ada Alan Amara Anders Aya Bea Carlos Chen Dara Diego Emil Eva Fatima Femi Gia Hana "
    "Ivan Jonas Julia Kai Lea Liam Maya Mateo Nadia Noor Omar Priya Rafael Sofia Tariq Uma "
    "Vera Wei Yara Zoe"
).split()
_LAST = (  # noqa: SIM905 - a word list reads best as words
    "Adams Bauer Costa Dubois Eriksen Fischer Garcia Haddad Ito Jensen Kowalski Lopez "
    "Martin Nakamura Novak Okafor Petrov Quinn Rossi Schmidt Silva Tanaka Vargas Weber "
    "Yilmaz Zhang"
).split()
_TEAM_NAMES = (  # noqa: SIM905 - a word list reads best as words
    "Sales Support Billing Onboarding Renewals Partners Reception Logistics Finance Legal "
    "Marketing Success Operations Training Escalations Night Weekend Enterprise Retail Field"
).split()
_ROUTINGS = ((True, False), (False, False), (False, True))  # smartflows, classic, ivr
_MAX_DISTRIBUTION = 25
MAX_GENERATED_TEAMS = 20
USERS_PER_TEAM = 50


def generated_team_count(users: int) -> int:
    """Teams of a generated account: one per 50 users, rounded up, at most 20."""
    return min(MAX_GENERATED_TEAMS, math.ceil(users / USERS_PER_TEAM))


def generate_account(
    users: int, *, seed: int = 0, numbers: int = 3, teams: int | None = None
) -> SandboxAccount:
    """A clean account of ``users`` users for tests and benchmarks, the same for a seed.

    Extensions are valid and unique (100-999 first, then 000-099); past 1000 users the
    rest have none. Numbers cycle through the three routing modes. ``teams`` (default:
    :func:`generated_team_count`) hold most users, a few in two teams, some in none.
    """
    if users < 0 or numbers < 0 or (teams is not None and teams < 0):
        raise ValueError("users, numbers and teams must be >= 0")
    rng = random.Random(seed)
    pool = [f"{n:03d}" for n in range(100, 1000)]
    if users > len(pool):
        pool += [f"{n:03d}" for n in range(100)]
    extensions: list[str | None] = [*rng.sample(pool, min(users, len(pool)))]
    extensions += [None] * (users - len(extensions))
    people = [_generated_user(i, rng, ext) for i, ext in enumerate(extensions)]
    ids = [p["id"] for p in people]
    lines = [_generated_number(j, rng, ids) for j in range(numbers)]
    for person in people:
        person["default_number_id"] = _home(person["id"], lines)
    # Drawn last, so the users and numbers of a seed are what they were before teams came.
    groups = _generated_teams(generated_team_count(users) if teams is None else teams, rng, ids)
    company = {"name": f"Generated account ({users} users)"}
    return SandboxAccount.from_document(
        {"company": company, "users": people, "numbers": lines, "teams": groups}
    )


def _generated_teams(count: int, rng: random.Random, user_ids: list[int]) -> list[JsonObject]:
    """About 90 % of users in one team, one in 20 of those in a second one too."""
    if count == 0:
        return []
    members: list[list[int]] = [[] for _ in range(count)]
    for user_id in user_ids:
        draw = rng.random()
        if draw < 0.1:
            continue  # in no team: the plan's default range applies
        first = rng.randrange(count)
        members[first].append(user_id)
        if draw > 0.95 and count > 1:
            members[(first + 1 + rng.randrange(count - 1)) % count].append(user_id)
    return [
        {"id": 700001 + i, "name": _team_name(i), "users": sorted(group)}
        for i, group in enumerate(members)
    ]


def _team_name(index: int) -> str:
    return _TEAM_NAMES[index] if index < len(_TEAM_NAMES) else f"Team {index + 1}"


def _generated_user(index: int, rng: random.Random, extension: str | None) -> JsonObject:
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    email = f"{first.lower()}.{last.lower()}.{index + 1}@example.com"
    return _user(500001 + index, f"{first} {last}", email, extension, index, None)


def _generated_number(index: int, rng: random.Random, user_ids: list[int]) -> JsonObject:
    smart, ivr = _ROUTINGS[index % 3]
    size = min(len(user_ids), _MAX_DISTRIBUTION, max(1, len(user_ids) // 3))
    members = sorted(rng.sample(user_ids, size))
    return _number(
        900001 + index,
        f"Line {index + 1}",
        f"+1 415-555-{index + 1:04d}",
        smart,
        ivr,
        "US",
        "America/New_York",
        members,
        index,
    )


def _user(
    user_id: int,
    name: str,
    email: str,
    extension: str | None,
    index: int,
    default_number_id: int | None,
    **extras: Any,
) -> JsonObject:
    """A v2 user with every live field; ``extras`` override the plain values."""
    minute = index % 60
    user: JsonObject = {
        "id": user_id,
        "name": name,
        "email": email,
        "created_at": f"2023-03-{1 + index % 28:02d}T09:{minute:02d}:00.000Z",
        "available": True,
        "availability_status": "available",
        "state": "active",
        "time_zone": "Europe/Paris",
        "language": "en-US",
        "wrap_up_time": 0,
        "default_number_id": default_number_id,
        "extension": extension,
        "outgoing_only": False,
        **extras,
    }
    if extension is _ABSENT:
        del user["extension"]
    return user


def _number(
    number_id: int,
    name: str,
    digits: str,
    smartflows: bool,
    ivr: bool,
    country: str,
    time_zone: str,
    members: list[int],
    index: int,
    **extras: Any,
) -> JsonObject:
    """A v1 number with every live field; ``users`` are references the account resolves."""
    return {
        "id": number_id,
        "name": name,
        "digits": digits,
        "created_at": f"2022-11-{1 + index % 28:02d}T14:{index % 60:02d}:00.000Z",
        "country": country,
        "time_zone": time_zone,
        "open": True,
        "availability_status": "open",
        "is_ivr": ivr,
        "live_recording_activated": False,
        "priority": None,
        "messages": _messages(number_id, ivr),
        "flow_editor_enabled": smartflows,
        "users": [{"id": uid} for uid in members],
        **extras,
    }


_RECORDED = ("welcome", "voicemail", "closed")


def _messages(number_id: int, ivr: bool) -> JsonObject:
    """Recorded message URLs for the common greetings; the IVR one has its menu prompt."""
    recorded = (*_RECORDED, "ivr") if ivr else _RECORDED
    base = f"https://sandbox.aircall.invalid/messages/{number_id}"
    return {key: f"{base}/{key}.mp3" if key in recorded else None for key in MESSAGE_KEYS}
