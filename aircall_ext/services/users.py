"""Reading the account: the snapshot every decision is made over."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from aircall_ext.api.client import ApiClient, Listing
from aircall_ext.api.models import Number, User
from aircall_ext.completion_cache import remember
from aircall_ext.core.account import Account, UserRef, find_user, no_user, parse_user_ref
from aircall_ext.errors import ApiError, NotFound

T = TypeVar("T")


def load_account(client: ApiClient, *, numbers: bool = False, whole: bool = True) -> Account:
    """Users (and, only when asked, numbers): ⌈U/50⌉ + ⌈N/50⌉ requests.

    ``whole``: the caller decides from the whole account, so a listing whose pages do not
    add up is read again once (⌈U/50⌉ more), and if it still does not, nothing is decided:
    :class:`ApiError` (exit 4) says what did not add up. Otherwise (``list``, ``export``) the
    snapshot carries the reason in ``incomplete``, for the caller to warn with.
    """
    users = read_listing(client.list_users, whole=whole)
    listed = read_listing(client.list_numbers, whole=whole) if numbers else Listing(())
    incomplete = "; ".join(filter(None, (users.incomplete, listed.incomplete))) or None
    account = Account.of(users, listed, incomplete)
    remember(account.users, account.numbers if numbers else None)  # for shell completion
    return account


def read_listing(listing: Callable[[], Listing[T]], *, whole: bool = True) -> Listing[T]:
    """``listing()`` (``client.list_teams``, ...), read again once when a ``whole`` read did
    not add up; still not: :class:`ApiError`. The cap is not read again: the same 10,000
    records would come back. Not ``whole``: as it came, for the caller to warn with."""
    read = listing()
    if whole and read.incomplete is not None and not read.capped:
        read = listing()
    if whole and read.incomplete is not None:
        raise ApiError(
            f"the account could not be read whole, so nothing was decided: {read.incomplete}",
            hint=None if read.capped else "run the command again once the account is quiet",
        )
    return read


def with_details(client: ApiClient, number: Number) -> Number:
    """``number`` with its call distribution and routing flags: listings may lack them.

    One GET of the number's own record, only when the listing item lacks ``users`` or
    ``flow_editor_enabled``.
    """
    if number.users is not None and number.flow_editor_enabled is not None:
        return number
    return client.get_number(number.id)


def list_numbers_in_full(client: ApiClient) -> Listing[Number]:
    """Every number with routing and distribution: ⌈N/50⌉ GETs + one per incomplete item.
    A listing that did not add up is said (``incomplete``), not refused: nothing is decided."""
    listed = client.list_numbers()
    numbers = sorted((with_details(client, n) for n in listed), key=lambda n: n.id)
    remember(numbers=numbers)  # for shell completion of NUMBER
    return Listing(tuple(numbers), listed.incomplete, listed.capped)


def lookup_user(client: ApiClient, text: str) -> User:
    """One user by id or email (one GET), or by ``ext:NNN`` (the whole account)."""
    ref: UserRef = parse_user_ref(text)
    if ref.user_id is None and ref.email is None:
        return find_user(load_account(client), ref)
    try:
        if ref.user_id is not None:
            return client.get_user(ref.user_id)
        assert ref.email is not None
        return client.get_user_by_email(ref.email)
    except NotFound:
        raise no_user(ref) from None


def user_with_numbers(client: ApiClient, text: str) -> tuple[User, Listing[Number]]:
    """The user ``text`` names and the numbers they are assigned to: one GET (or the
    listing, for ``ext:NNN``) + ⌈M/50⌉ GETs of their numbers (at least one)."""
    user = lookup_user(client, text)
    return user, client.list_user_numbers(user.id)
