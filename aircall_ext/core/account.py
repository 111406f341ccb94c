"""An in-memory snapshot of the account: what the pure core decides over."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

from aircall_ext.api.models import Number, User
from aircall_ext.core.extensions import parse_extension
from aircall_ext.errors import NotFound, UsageError

_USER_ID = re.compile(r"[0-9]+")


@dataclass(frozen=True)
class Account:
    users: tuple[User, ...]
    numbers: tuple[Number, ...] = field(default=())

    @classmethod
    def of(cls, users: Iterable[User], numbers: Iterable[Number] = ()) -> Account:
        return cls(tuple(users), tuple(numbers))

    @cached_property
    def _by_id(self) -> dict[int, User]:
        return {user.id: user for user in self.users}

    @cached_property
    def _by_email(self) -> dict[str, User]:
        return {user.email.casefold(): user for user in self.users if user.email}

    @cached_property
    def _by_extension(self) -> dict[str, list[User]]:
        holders: dict[str, list[User]] = defaultdict(list)
        for user in self.users:
            if user.extension is not None:
                holders[user.extension].append(user)
        return dict(holders)

    def user_by_id(self, user_id: int) -> User | None:
        return self._by_id.get(user_id)

    def user_by_email(self, email: str) -> User | None:
        return self._by_email.get(email.strip().casefold())

    def holders(self, extension: str) -> list[User]:
        """Every user holding ``extension`` (more than one only in a damaged account)."""
        return list(self._by_extension.get(extension, ()))

    def taken_extensions(self) -> set[str]:
        return set(self._by_extension)

    def users_by_extension(self) -> list[User]:
        """Users sorted by extension (users without one last), then by id."""
        return sorted(self.users, key=lambda u: (u.extension is None, u.extension or "", u.id))


@dataclass(frozen=True)
class UserRef:
    """A parsed USER argument: exactly one of the three forms is set."""

    text: str
    user_id: int | None = None
    email: str | None = None
    extension: str | None = None


def parse_user_ref(text: str) -> UserRef:
    """USER is an id (``42``), an email (``ann@example.com``) or ``ext:NNN``."""
    value = text.strip()
    if value.lower().startswith("ext:"):
        parsed = parse_extension(value[4:])
        if isinstance(parsed, str):
            return UserRef(text, extension=parsed)
        raise UsageError(f"invalid USER {text!r}: {parsed.message}")
    if _USER_ID.fullmatch(value):
        return UserRef(text, user_id=int(value))
    if "@" in value and not value.startswith("@") and not value.endswith("@"):
        return UserRef(text, email=value)
    raise UsageError(
        f"invalid USER {text!r}: expected a user id (42), an email (ann@example.com) "
        "or ext:NNN (ext:101)"
    )


def find_user(account: Account, ref: UserRef) -> User:
    """The one user ``ref`` names, or :class:`NotFound` with a message that says why."""
    if ref.user_id is not None:
        user = account.user_by_id(ref.user_id)
    elif ref.email is not None:
        user = account.user_by_email(ref.email)
    else:
        assert ref.extension is not None
        holders = account.holders(ref.extension)
        if len(holders) > 1:
            ids = ", ".join(f"{u.id} ({u.email})" for u in holders)
            raise NotFound(
                f"ext:{ref.extension} is held by {len(holders)} users ({ids}); "
                "name the user by id or email",
            )
        user = holders[0] if holders else None
    if user is None:
        raise NotFound(f"no user matches {ref.text!r}", hint="run `aircall-ext list` to see users")
    return user
