"""An in-memory snapshot of the account: what the pure core decides over."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

from aircall_ext.api.models import Number, User
from aircall_ext.core.emails import normalize_email
from aircall_ext.core.extensions import (
    ExtensionProblem,
    is_extension,
    is_missing,
    parse_extension,
    unwrap_excel_text,
)
from aircall_ext.core.findings import listed, who
from aircall_ext.errors import HintPart, Remedy, UnknownUser, UsageError

_USER_ID = re.compile(r"[0-9]+")


@dataclass(frozen=True)
class Account:
    users: tuple[User, ...]
    numbers: tuple[Number, ...] = field(default=())
    # Why this snapshot may not be the whole account (its pages did not add up); ``None``
    # when it is. Only listings for people carry one: decisions are never made on it.
    incomplete: str | None = None

    @classmethod
    def of(
        cls, users: Iterable[User], numbers: Iterable[Number] = (), incomplete: str | None = None
    ) -> Account:
        return cls(tuple(users), tuple(numbers), incomplete)

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
        return self._by_email.get(normalize_email(email).casefold())

    def holders(self, extension: str) -> list[User]:
        """Every user holding ``extension`` (more than one only in a damaged account)."""
        return list(self._by_extension.get(extension, ()))

    def users_by_extension(self) -> list[User]:
        """Users sorted by extension (users without one last), then by id."""

        def key(user: User) -> tuple[bool, str, int]:
            missing = is_missing(user.extension)
            return missing, "" if missing else user.extension or "", user.id

        return sorted(self.users, key=key)

    def collisions(self) -> dict[str, list[User]]:
        """Each valid extension that two or more users hold → its holders, by id.

        Only a valid extension collides: callers dialing it reach one holder at most. Two
        users holding the damaged ``7`` hold two invalid extensions (each the audit's
        ``invalid-extension``), which nobody can dial at all; :meth:`holders` still finds
        them by their text."""
        return {
            extension: sorted(users, key=lambda u: u.id)
            for extension, users in self._by_extension.items()
            if len(users) > 1 and is_extension(extension)
        }

    def missing(self) -> list[User]:
        """Users without an extension: none at all, or blank text (see ``is_missing``)."""
        return [user for user in self.users if is_missing(user.extension)]


@dataclass(frozen=True)
class UserRef:
    """A parsed USER argument: exactly one of the three forms is set."""

    text: str
    user_id: int | None = None
    email: str | None = None  # normalised: no mailto:, <>, padding or invisible characters
    # ext:NNN: a valid extension, or the text of a damaged one the account may hold as it is
    extension: str | None = None
    problem: ExtensionProblem | None = None  # why ``extension`` is not a valid extension


def parse_user_ref(text: str) -> UserRef:
    """USER is an id (``42``), an email (``ann@example.com``) or ``ext:NNN``.

    ``ext:42`` is kept with its diagnosis rather than refused: the account itself may hold
    the damaged ``42``, and its holder must stay reachable (that is how it gets repaired).
    """
    value = text.strip()
    if value.lower().startswith("ext:"):
        parsed = parse_extension(value[4:])
        if isinstance(parsed, str):
            return UserRef(text, extension=parsed)
        if parsed.code == "empty":
            raise UsageError(f"invalid USER {text!r}: {parsed.reason}")
        return UserRef(text, extension=unwrap_excel_text(value[4:]), problem=parsed)
    if _USER_ID.fullmatch(value):
        return UserRef(text, user_id=int(value))
    email = normalize_email(value)
    if "@" in email and not email.startswith("@") and not email.endswith("@"):
        return UserRef(text, email=email)
    raise UsageError(
        f"invalid USER {text!r}: expected a user id (42), an email (ann@example.com) "
        "or ext:NNN (ext:101)"
    )


def find_user(account: Account, ref: UserRef) -> User:
    """The one user ``ref`` names, or :class:`UnknownUser` with a message that says why."""
    if ref.user_id is not None:
        user = account.user_by_id(ref.user_id)
    elif ref.email is not None:
        user = account.user_by_email(ref.email)
    else:
        assert ref.extension is not None
        holders = account.holders(ref.extension)
        if len(holders) > 1:
            raise UnknownUser(
                f"ext:{ref.extension} is held by {len(holders)} users: "
                f"{listed(who(u) for u in holders)}; name the user by id or email",
            )
        if holders:
            return holders[0]
        if ref.problem is not None:
            # Said without the spreadsheet advice: this is an argument, not a CSV cell.
            raise UsageError(f"invalid USER {ref.text!r}: {ref.problem.reason}")
        user = None
    if user is None:
        raise no_user(ref, account)
    return user


def no_user(ref: UserRef, account: Account | None = None) -> UnknownUser:
    """Why ``ref`` names nobody, with the way forward when one can be seen.

    Texts are shown with ``repr``, so an invisible character the user pasted is visible.
    """
    see_users = ("run ", Remedy("list"), " to see users")
    if ref.user_id is not None:
        return UnknownUser(f"no user with id {ref.user_id}", hint=see_users)
    if ref.email is not None:
        looked_up = f" (looked up as {ref.email!r})" if ref.email != ref.text.strip() else ""
        return UnknownUser(f"no user matches {ref.text!r}{looked_up}", hint=see_users)
    wanted = ref.extension
    assert wanted is not None  # neither an id nor an email: ext:NNN
    users = account.users if account is not None else ()
    stand_ins = [u for u in users if u.extension and _stands_for(u.extension) == wanted]
    if stand_ins:
        user = stand_ins[0]
        return UnknownUser(
            f"nobody holds {wanted}, but {who(user)} holds {user.extension!r}, a damaged form "
            f"of {wanted}",
            hint=(
                f"name that user by id ({user.id}) or email; ",
                Remedy("assign", str(user.id), wanted),
                " repairs the extension",
            ),
        )
    return UnknownUser(f"nobody holds extension {wanted}", hint=see_users)


def damaged_match_note(
    ref: UserRef, user: User, *, assigning: str | None = None
) -> tuple[HintPart, ...] | None:
    """What to tell the admin when ``ext:42`` found the user holding the damaged ``42``:
    text and the repair as a remedy, for the CLI to write with the run's options.

    ``assigning``: the extension the running command gives that user; when it is the
    repair, the note does not suggest running it again.
    """
    if ref.problem is None:
        return None
    note: tuple[HintPart, ...] = (
        f"{ref.text.strip()!r} is not a valid extension ({ref.problem.reason}); "
        f"it names {who(user)}, who holds {user.extension!r} in the account",
    )
    suggestion = ref.problem.suggestion
    if suggestion is not None and suggestion != assigning:
        note += (": ", Remedy("assign", str(user.id), suggestion), " repairs it")
    return note


def _stands_for(extension: str) -> str | None:
    """The valid extension a damaged one (``42``) most likely meant (``042``)."""
    parsed = parse_extension(extension)
    return None if isinstance(parsed, str) else parsed.suggestion
