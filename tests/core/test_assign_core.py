"""Planning an assignment: pure, over an Account; the writes never let two users share one."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aircall_ext.api.models import User
from aircall_ext.core.account import Account
from aircall_ext.core.assign import plan_assign
from aircall_ext.errors import Refused


def users(*extensions: str | None) -> Account:
    return Account.of(User(id=i, extension=e) for i, e in enumerate(extensions, start=1))


def test_parking_is_the_lowest_free_and_skips_damaged_values() -> None:
    account = users("101", "102", "100", "7", "103")
    plan = plan_assign(account, account.users[0], "102", swap=True)
    assert plan.parking == "104"
    assert [(s.user.id, s.from_, s.to) for s in plan.steps] == [
        (2, "102", "104"),
        (1, "101", "102"),
        (2, "104", "101"),
    ]


def test_swap_in_a_full_account_is_refused() -> None:
    account = users(*(f"{n:03d}" for n in range(1000)))
    with pytest.raises(Refused, match="no free extension to park"):
        plan_assign(account, account.users[0], "001", swap=True)


def test_plain_assign_has_no_holder_and_one_step() -> None:
    account = users("101", None)
    plan = plan_assign(account, account.users[1], "200", swap=True)
    assert (plan.holder, plan.parking) == (None, None)
    assert [(s.user.id, s.from_, s.to) for s in plan.steps] == [(2, None, "200")]


EXTENSIONS = st.sampled_from(["100", "101", "102", "103", "007"])


@given(
    st.lists(st.one_of(st.none(), EXTENSIONS), min_size=1, max_size=5, unique=True),
    st.integers(min_value=0, max_value=4),
    EXTENSIONS,
    st.booleans(),
)
def test_replaying_a_plan_never_puts_two_users_on_one_extension(
    extensions: list[str | None], index: int, wanted: str, swap: bool
) -> None:
    account = users(*extensions)
    user = account.users[index % len(account.users)]
    try:
        plan = plan_assign(account, user, wanted, swap=swap)
    except Refused:
        return
    held = {u.id: u.extension for u in account.users}
    before = dict(held)
    for step in plan.steps:
        assert held[step.user.id] == step.from_
        held[step.user.id] = step.to
        counts = Counter(e for e in held.values() if e is not None)
        assert all(n == 1 for n in counts.values()), (plan.steps, held)
    assert held[user.id] == wanted
    if plan.holder is not None:
        assert held[plan.holder.id] == before[user.id]
    changed = {i for i in held if held[i] != before[i]}
    assert changed <= {user.id} | ({plan.holder.id} if plan.holder else set())
