"""Reading the account: the snapshot every decision is made over."""

from __future__ import annotations

from aircall_ext.api.client import ApiClient
from aircall_ext.api.models import User
from aircall_ext.completion_cache import remember
from aircall_ext.core.account import Account, UserRef, find_user, no_user, parse_user_ref
from aircall_ext.errors import NotFound


def load_account(client: ApiClient, *, numbers: bool = False) -> Account:
    """Users (and, only when asked, numbers): ⌈U/50⌉ + ⌈N/50⌉ requests."""
    account = Account.of(client.list_users(), client.list_numbers() if numbers else ())
    remember(account.users, account.numbers if numbers else None)  # for shell completion
    return account


def lookup_user(client: ApiClient, text: str) -> User:
    """One user by id (one GET), or by email / ``ext:NNN`` (a listing)."""
    ref: UserRef = parse_user_ref(text)
    if ref.user_id is not None:
        try:
            return client.get_user(ref.user_id)
        except NotFound:
            raise no_user(ref) from None
    return find_user(load_account(client), ref)
