"""Reading the account: the snapshot every decision is made over."""

from __future__ import annotations

from aircall_ext.api.client import ApiClient
from aircall_ext.api.models import Number, User
from aircall_ext.completion_cache import remember
from aircall_ext.core.account import Account, UserRef, find_user, no_user, parse_user_ref
from aircall_ext.errors import NotFound


def load_account(client: ApiClient, *, numbers: bool = False) -> Account:
    """Users (and, only when asked, numbers): ⌈U/50⌉ + ⌈N/50⌉ requests."""
    account = Account.of(client.list_users(), client.list_numbers() if numbers else ())
    remember(account.users, account.numbers if numbers else None)  # for shell completion
    return account


def with_details(client: ApiClient, number: Number) -> Number:
    """``number`` with its call distribution and routing flags: listings may lack them.

    One GET of the number's own record, only when the listing item lacks ``users`` or
    ``flow_editor_enabled``.
    """
    if number.users is not None and number.flow_editor_enabled is not None:
        return number
    return client.get_number(number.id)


def list_numbers_in_full(client: ApiClient) -> list[Number]:
    """Every number with routing and distribution: ⌈N/50⌉ GETs + one per incomplete item."""
    numbers = [with_details(client, n) for n in client.list_numbers()]
    numbers.sort(key=lambda n: n.id)
    remember(numbers=numbers)  # for shell completion of NUMBER
    return numbers


def lookup_user(client: ApiClient, text: str) -> User:
    """One user by id (one GET), or by email / ``ext:NNN`` (a listing)."""
    ref: UserRef = parse_user_ref(text)
    if ref.user_id is not None:
        try:
            return client.get_user(ref.user_id)
        except NotFound:
            raise no_user(ref) from None
    return find_user(load_account(client), ref)
