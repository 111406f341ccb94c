"""Planning an assignment: pure, over an Account; the writes never let two users share one."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aircall_ext.api.models import User
from aircall_ext.core.account import Account
from aircall_ext.core.assign import plan_assign
from aircall_ext.core.planner import plan_import
from aircall_ext.errors import Refused


def users(*extensions: str | None) -> Account:
    return Account.of(
        User(id=i, email=f"u{i}@example.com", extension=e) for i, e in enumerate(extensions, 1)
    )


@dataclass(frozen=True)
class Row:
    line: int
    user: User
    extension: str | None


def test_parking_is_the_lowest_free_and_skips_damaged_values() -> None:
    account = users("101", "102", "100", "7", "103")
    plan = plan_assign(account, account.users[0], "102", swap=True)
    assert plan.parking == "104"
    assert [(s.user_id, s.from_ext, s.to_ext) for s in plan.steps] == [
        (2, "102", "104"),
        (1, "101", "102"),
        (2, "104", "101"),
    ]


def test_a_swap_is_the_import_planners_plan_of_its_two_rows() -> None:
    account = users("101", "102", "100", "7", "103")
    plan = plan_assign(account, account.users[0], "102", swap=True)
    rows = [Row(1, account.users[1], "101"), Row(2, account.users[0], "102")]
    planned = plan_import(account, rows)
    assert (plan.steps, plan.parking) == (planned.steps, planned.parking)
    assert [s.parking for s in plan.steps] == [True, False, False]


def test_a_swap_never_hands_over_an_extension_a_damaged_value_stands_for() -> None:
    """User 3 holds "42", a 042 waiting for its repair: swapping 1 (on 042) with 2 would
    give 042 to 2, which an import of the same two rows refuses too."""
    account = users("042", "102", "42")
    with pytest.raises(Refused, match=r"extension 042 is claimed by user 3 \(u3@example.com\)"):
        plan_assign(account, account.users[0], "102", swap=True)
    rows = [Row(1, account.users[1], "042"), Row(2, account.users[0], "102")]
    assert [f.code for f in plan_import(account, rows).findings] == ["extension-taken"]


def test_swap_in_a_full_account_is_refused() -> None:
    account = users(*(f"{n:03d}" for n in range(1000)))
    with pytest.raises(Refused, match="no free extension to park"):
        plan_assign(account, account.users[0], "001", swap=True)


def test_plain_assign_has_no_holder_and_one_step() -> None:
    account = users("101", None)
    plan = plan_assign(account, account.users[1], "200", swap=True)
    assert (plan.holder, plan.parking) == (None, None)
    assert [(s.user_id, s.from_ext, s.to_ext) for s in plan.steps] == [(2, None, "200")]


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
        assert held[step.user_id] == step.from_ext
        held[step.user_id] = step.to_ext
        counts = Counter(e for e in held.values() if e is not None)
        assert all(n == 1 for n in counts.values()), (plan.steps, held)
    assert held[user.id] == wanted
    if plan.holder is not None:
        assert held[plan.holder.id] == before[user.id]
    changed = {i for i in held if held[i] != before[i]}
    assert changed <= {user.id} | ({plan.holder.id} if plan.holder else set())
