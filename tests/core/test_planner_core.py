"""The import planner: per-row actions, safe write order, cycle breaking, blocked plans."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from hypothesis import event, given, note, settings
from hypothesis import strategies as st

from aircall_ext.api.models import User
from aircall_ext.core.account import Account
from aircall_ext.core.planner import Plan, Step, plan_import


@dataclass(frozen=True)
class Row:
    line: int
    user: User
    extension: str | None


def account_of(holdings: Mapping[int, str | None]) -> Account:
    return Account.of(
        User(id=uid, email=f"u{uid}@example.com", extension=ext) for uid, ext in holdings.items()
    )


def rows_for(account: Account, wanted: Sequence[tuple[int, str | None]]) -> list[Row]:
    """Rows in file order; line 1 is the header."""
    rows = []
    for index, (uid, ext) in enumerate(wanted):
        user = account.user_by_id(uid)
        assert user is not None
        rows.append(Row(index + 2, user, ext))
    return rows


def plan_for(holdings: Mapping[int, str | None], wanted: Sequence[tuple[int, str | None]]) -> Plan:
    account = account_of(holdings)
    return plan_import(account, rows_for(account, wanted))


def replay(holdings: Mapping[int, str | None], steps: Sequence[Step]) -> dict[int, str | None]:
    """Apply steps like the API would, asserting each target is free when written."""
    state = dict(holdings)
    for step in steps:
        assert state[step.user_id] == step.from_ext, step
        others = [u for u, ext in state.items() if ext == step.to_ext and u != step.user_id]
        assert not others, f"{step} collides with {others}"
        state[step.user_id] = step.to_ext
    return state


def cycles_in(holdings: Mapping[int, str | None], desired: Mapping[int, str]) -> int:
    """Independent count: cycles of "v wants what u holds" among users who move."""
    movers = {u: t for u, t in desired.items() if holdings[u] != t}
    wants = {t: u for u, t in movers.items()}
    successor = {u: wants.get(holdings[u] or "") for u in movers}
    seen: set[int] = set()
    count = 0
    for start in movers:
        path: list[int] = []
        node: int | None = start
        while node is not None and node not in seen and node not in path:
            path.append(node)
            node = successor[node]
        if node is not None and node in path:
            count += 1
        seen.update(path)
    return count


# -- actions ---------------------------------------------------------------------------


def test_actions_per_row_and_summary() -> None:
    plan = plan_for(
        {1: "101", 2: None, 3: "103", 4: "104"},
        [(1, "101"), (2, "102"), (3, "105"), (4, None)],
    )
    assert [(r.user_id, r.from_ext, r.to_ext, r.action) for r in plan.rows] == [
        (1, "101", "101", "unchanged"),
        (2, None, "102", "assign"),
        (3, "103", "105", "change"),
        (4, "104", None, "skip"),
    ]
    assert plan.summary() == {
        "unchanged": 1,
        "assign": 1,
        "change": 1,
        "skip": 1,
        "writes": 2,
        "cycles": 0,
    }
    assert not plan.findings


def test_plan_json_has_the_spec_shape() -> None:
    plan = plan_for({1: "101", 2: "102"}, [(1, "102"), (2, "101")])
    doc = plan.to_json()
    assert doc["plan"][0] == {
        "line": 2,
        "user_id": 1,
        "email": "u1@example.com",
        "from": "101",
        "to": "102",
        "action": "change",
    }
    assert [(s["user_id"], s["from"], s["to"]) for s in doc["steps"]] == [
        (1, "101", "100"),
        (2, "102", "101"),
        (1, "100", "102"),
    ]
    assert {"unchanged", "assign", "change", "skip"} <= doc["summary"].keys()
    assert doc["findings"] == []


def test_malformed_current_value_is_a_change() -> None:
    plan = plan_for({1: "7"}, [(1, "007")])
    assert plan.rows[0].action == "change"
    assert plan.steps == (Step(1, "7", "007"),)


# -- order ------------------------------------------------------------------------------


def test_chain_moves_from_its_free_end() -> None:
    plan = plan_for({1: "101", 2: "102", 3: "103"}, [(1, "102"), (2, "103"), (3, "104")])
    assert [s.user_id for s in plan.steps] == [3, 2, 1]
    assert plan.cycles == 0


def test_swap_parks_the_first_row_on_the_lowest_free_extension() -> None:
    plan = plan_for({1: "100", 2: "101", 3: "102"}, [(2, "102"), (3, "101")])
    assert plan.steps == (
        Step(2, "101", "103", parking=True),
        Step(3, "102", "101"),
        Step(2, "103", "102"),
    )
    assert plan.parking == "103"
    assert plan.cycles == 1


def test_the_count_line_names_each_action_then_the_writes_and_their_cycles() -> None:
    """One line, in the plan document's order, wherever people read it (a terminal, a CI
    notice, a step summary)."""
    chain = plan_for({1: "101", 2: "102", 3: None}, [(1, "102"), (2, "103"), (3, None)])
    assert chain.counts_line() == "0 unchanged, 0 assign, 2 change, 1 skip; 2 writes"
    one = plan_for({1: "101"}, [(1, "102")])
    assert one.counts_line() == "0 unchanged, 0 assign, 1 change, 0 skip; 1 write"
    holdings = {1: "201", 2: "202", 3: "203", 4: "204", 5: "205", 6: None}
    wanted = [(1, "202"), (2, "203"), (3, "201"), (4, "205"), (5, "204"), (6, "206")]
    cycles = plan_for(holdings, wanted)
    assert cycles.counts_line() == (
        "0 unchanged, 1 assign, 5 change, 0 skip; 8 writes (2 cycles via parking 100)"
    )
    swap = plan_for({1: "201", 2: "202"}, [(1, "202"), (2, "201")])
    assert swap.counts_line().endswith("; 3 writes (1 cycle via parking 100)")


def test_parking_prefers_100_to_999_then_000() -> None:
    holdings: dict[int, str | None] = {n: f"{n:03d}" for n in range(100, 1000)}
    plan = plan_for(holdings, [(100, "101"), (101, "100")])
    assert plan.parking == "000"
    holdings[0] = "000"
    assert plan_for(holdings, [(100, "101"), (101, "100")]).parking == "001"


def test_one_parking_extension_serves_every_cycle() -> None:
    holdings = {1: "201", 2: "202", 3: "203", 4: "204", 5: "205"}
    wanted = [(1, "202"), (2, "203"), (3, "201"), (4, "205"), (5, "204")]
    plan = plan_for(holdings, wanted)
    assert plan.cycles == 2
    assert len(plan.steps) == 5 + 2
    assert {s.to_ext for s in plan.steps if s.parking} == {"100"}
    final = replay(holdings, plan.steps)
    assert final == dict(wanted)


def test_parking_prefers_a_cold_extension_to_one_a_chain_just_freed() -> None:
    # User 1 leaves 100 (a chain): callers may still dial 100, so 103 parks the swap.
    plan = plan_for({1: "100", 2: "101", 3: "102", 4: "150"}, [(1, "151"), (2, "102"), (3, "101")])
    assert plan.parking == "103"


def test_extension_freed_by_a_chain_can_park_a_cycle() -> None:
    # 999 users hold every extension but 555; a chain frees 200, which then parks the swap.
    holdings: dict[int, str | None] = {n: f"{n:03d}" for n in range(1000) if n != 555}
    plan = plan_for(holdings, [(200, "555"), (300, "301"), (301, "300")])
    assert not plan.findings
    assert plan.parking == "200"
    assert [(s.user_id, s.to_ext) for s in plan.steps] == [
        (200, "555"),
        (300, "200"),
        (301, "300"),
        (300, "301"),
    ]


def test_no_free_extension_blocks_the_plan_with_a_clear_error() -> None:
    holdings: dict[int, str | None] = {n: f"{n:03d}" for n in range(1000)}
    plan = plan_for(holdings, [(5, "006"), (6, "007"), (7, "005"), (8, "008")])
    assert plan.blocked
    assert plan.steps == ()
    (finding,) = plan.findings
    assert finding.code == "plan-blocked"
    assert finding.severity == "error"
    assert "5 005→006, 6 006→007, 7 007→005" in finding.message
    assert "free" in finding.message


def test_a_chain_alone_needs_no_free_extension() -> None:
    # Every extension ends up taken; the chain still runs, from its free end (999).
    holdings: dict[int, str | None] = {n: f"{n:03d}" for n in range(999)}
    holdings[1000] = None
    plan = plan_for(holdings, [(1000, "500"), (500, "999")])
    assert not plan.findings
    assert [s.user_id for s in plan.steps] == [500, 1000]
    assert plan.parking is None


def full_but(*free: str) -> dict[int, str | None]:
    """Users 0-999 each on their own extension, except those in ``free``."""
    return {n: f"{n:03d}" for n in range(1000) if f"{n:03d}" not in free}


def test_the_last_free_extension_parks_the_cycle_before_a_newcomer_takes_it() -> None:
    # Only 500 is free: the swap parks on it, and only then does 2000 take it for good.
    holdings = {**full_but("500"), 2000: None}
    swap = [(100, "101"), (101, "100")]
    for wanted in ([*swap, (2000, "500")], [(2000, "500"), *swap]):
        plan = plan_for(holdings, wanted)
        assert not plan.findings
        assert [(s.user_id, s.to_ext, s.parking) for s in plan.steps] == [
            (100, "500", True),
            (101, "100", False),
            (100, "101", False),
            (2000, "500", False),
        ]
        assert plan.parking == "500"
        assert replay(holdings, plan.steps)[2000] == "500"


def test_a_user_leaving_a_shared_extension_spends_a_free_one_too() -> None:
    # 2000 shares 300 with user 300, so its move frees nothing: the swap goes first.
    holdings = {**full_but("500"), 2000: "300"}
    plan = plan_for(holdings, [(2000, "500"), (100, "101"), (101, "100")])
    assert not plan.findings
    assert [s.user_id for s in plan.steps] == [100, 101, 100, 2000]


def test_newcomers_still_go_first_when_a_free_extension_is_left_to_park_on() -> None:
    holdings = {**full_but("500", "600"), 2000: None}
    plan = plan_for(holdings, [(100, "101"), (101, "100"), (2000, "500")])
    assert [(s.user_id, s.to_ext) for s in plan.steps] == [
        (2000, "500"),
        (100, "600"),
        (101, "100"),
        (100, "101"),
    ]


# -- accounts already damaged, and plans that must not run ------------------------------


def test_pre_existing_collision_waits_for_both_holders() -> None:
    holdings = {1: "101", 2: "101", 3: "103"}
    plan = plan_for(holdings, [(3, "101"), (1, "102"), (2, "104")])
    assert [s.user_id for s in plan.steps] == [1, 2, 3]
    assert replay(holdings, plan.steps) == {1: "102", 2: "104", 3: "101"}


def test_moving_one_of_two_colliding_holders_is_fine() -> None:
    plan = plan_for({1: "101", 2: "101"}, [(1, "102")])
    assert not plan.findings
    assert plan.steps == (Step(1, "101", "102"),)


def test_target_kept_by_someone_the_file_does_not_move_blocks() -> None:
    plan = plan_for({1: "101", 2: "102"}, [(1, "102")])
    assert plan.blocked
    assert plan.steps == ()
    (finding,) = plan.findings
    assert (finding.code, finding.line) == ("extension-taken", 2)
    assert finding.message == (
        "line 2: extension 102 is held by user 2 (u2@example.com), whom the file does not move away"
    )


def test_blank_row_keeps_its_extension_so_it_cannot_be_taken() -> None:
    plan = plan_for({1: "101", 2: "102"}, [(1, "102"), (2, None)])
    assert plan.blocked


def test_same_target_twice_blocks() -> None:
    plan = plan_for({1: "101", 2: "102"}, [(1, "105"), (2, "105")])
    assert plan.blocked
    (finding,) = plan.findings
    assert (finding.code, finding.line) == ("duplicate-extension-in-file", 3)
    assert finding.message == "line 3: extension 105 is wanted on lines 2 and 3"


def test_user_gone_from_a_fresh_read_blocks() -> None:
    account = account_of({1: "101"})
    ghost = User(id=9, email="gone@example.com", extension="109")
    plan = plan_import(account, [Row(2, ghost, "110")])
    assert plan.blocked
    assert "not in the account" in plan.findings[0].message


# -- properties -------------------------------------------------------------------------

extensions = st.integers(0, 999).map(lambda n: f"{n:03d}")


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[dict[int, str | None], list[tuple[int, str | None]]]:
    """A random account (collisions and users without extension allowed) and a valid file:
    no target is held by a user the file does not move, no target twice."""
    count = draw(st.integers(1, 25))
    pool = draw(st.lists(extensions, min_size=1, max_size=count + 4, unique=True))
    values = draw(st.lists(st.none() | st.sampled_from(pool), min_size=count, max_size=count))
    holdings = dict(enumerate(values, start=1))
    in_file = draw(st.lists(st.sampled_from(sorted(holdings)), unique=True))
    blanks = draw(st.sets(st.sampled_from(in_file))) if in_file else set()
    movable = [u for u in in_file if u not in blanks]
    while True:  # users left without a target stay put, which takes more extensions away
        staying = {holdings[u] for u in holdings if u not in movable} - {None}
        free = [e for e in pool if e not in staying]
        if len(free) >= len(movable):
            break
        movable = movable[: len(free)]
    targets = dict(zip(movable, draw(st.permutations(free)), strict=False))
    return holdings, [(u, targets.get(u)) for u in in_file]


@st.composite
def permutations(draw: st.DrawFn) -> tuple[dict[int, str | None], list[tuple[int, str | None]]]:
    """Distinct extensions reshuffled among their holders: cycles and chains galore."""
    pool = draw(st.lists(extensions, min_size=1, max_size=33, unique=True))
    held = pool[: draw(st.integers(max(1, len(pool) - 3), len(pool)))]
    shuffled = draw(st.permutations(pool))
    holdings: dict[int, str | None] = dict(enumerate(held, start=1))
    order = draw(st.permutations(sorted(holdings)))
    return holdings, [(u, shuffled[u - 1]) for u in order]


def check_plan(holdings: dict[int, str | None], wanted: list[tuple[int, str | None]]) -> Plan:
    plan = plan_for(holdings, wanted)
    assert not plan.findings, plan.findings
    desired = {u: t for u, t in wanted if t is not None}
    final = replay(holdings, plan.steps)
    assert final == {**holdings, **desired}
    changes = sum(1 for u, t in desired.items() if holdings[u] != t)
    cycles = cycles_in(holdings, desired)
    assert plan.summary()["assign"] + plan.summary()["change"] == changes
    assert plan.cycles == cycles
    assert len(plan.steps) == changes + cycles
    assert plan_for(holdings, wanted) == plan  # deterministic
    event(f"cycles: {min(cycles, 3)}{'+' if cycles >= 3 else ''}")
    return plan


@settings(max_examples=400)
@given(scenarios())
def test_property_random_accounts_reach_the_desired_state_safely(
    case: tuple[dict[int, str | None], list[tuple[int, str | None]]],
) -> None:
    check_plan(*case)


@settings(max_examples=400)
@given(permutations())
def test_property_permutations_use_one_extra_write_per_cycle(
    case: tuple[dict[int, str | None], list[tuple[int, str | None]]],
) -> None:
    check_plan(*case)


@settings(max_examples=200)
@given(permutations(), st.data())
def test_property_replanning_part_way_finishes_within_what_was_left(
    case: tuple[dict[int, str | None], list[tuple[int, str | None]]], data: st.DataObject
) -> None:
    """What ``--resume`` does after a crash: plan again from the real, partial state."""
    holdings, wanted = case
    plan = check_plan(holdings, wanted)
    done = data.draw(st.integers(0, len(plan.steps)))
    middle = replay(holdings, plan.steps[:done])
    replan = check_plan(middle, wanted)
    assert len(replan.steps) <= len(plan.steps) - done
    if done == len(plan.steps):
        assert replan.steps == ()
        assert {r.action for r in replan.rows} <= {"unchanged"}


# Crowded accounts: fillers hold every extension but a few, so the brute force below can
# try every order of writes. 099 is in the space so that 0xx parking is exercised too.
SMALL_SPACE = ("099", "100", "101", "102", "103", "104")
FILLER = 10_000  # filler ids: FILLER + n holds extension n


@st.composite
def crowded(
    draw: st.DrawFn,
) -> tuple[dict[int, str | None], list[tuple[int, str | None]], tuple[str, ...]]:
    """A few users on a few extensions (the only ones the fillers leave free), mostly
    reshuffled among themselves (cycles), some without an extension or sharing one, and a
    valid file: (users, rows, the extensions they play on)."""
    size = draw(st.integers(2, len(SMALL_SPACE)))
    space = tuple(sorted(draw(st.permutations(SMALL_SPACE))[:size]))
    held = draw(st.permutations(space))[: draw(st.integers(2, size))]
    extra = draw(st.lists(st.none() | st.sampled_from(space), max_size=2))
    users: dict[int, str | None] = dict(enumerate([*held, *extra], start=1))
    lines = draw(st.permutations(sorted(users)))
    # The first one is left out of the file, or on a blank row, or moves like the others.
    how = draw(st.sampled_from(("moves", "absent", "blank")))
    in_file = lines[1:] if how == "absent" else lines
    movable = in_file[1:] if how == "blank" else in_file
    staying = {users[u] for u in users if u not in movable} - {None}
    free = [e for e in space if e not in staying]
    movable = movable[: len(free)]
    # The movers' own extensions first, reversed: the simplest draws are swaps.
    own = [e for e in dict.fromkeys(users[u] for u in movable) if e in free]
    order = draw(st.permutations([*own, *(e for e in free if e not in own)]))
    targets = dict(zip(movable, order[len(movable) - 1 :: -1], strict=False))
    return users, [(u, targets.get(u)) for u in in_file], space


def left_on_a_target(holdings: Mapping[int, str | None], desired: Mapping[int, str]) -> bool:
    """Whether a user the file does not move holds an extension the file gives someone
    else (a row keeping a collision included)."""
    return any(
        held == target and other != user and other not in desired
        for user, target in desired.items()
        for other, held in holdings.items()
    )


def safe_order_exists(
    holdings: Mapping[int, str | None],
    wanted: Sequence[tuple[int, str | None]],
    space: Sequence[str],
) -> bool:
    """Brute force over every sequence of writes: a user moves to its target or parks on
    any extension nobody holds at that moment, never onto one somebody holds."""
    desired = {u: t for u, t in wanted if t is not None and holdings[u] != t}
    movers = sorted(desired)
    fixed = {e for u, e in holdings.items() if u not in desired and e is not None}
    start = tuple(holdings[u] for u in movers)
    goal = tuple(desired[u] for u in movers)
    seen = {start}
    queue = deque([start])
    while queue:
        state = queue.popleft()
        if state == goal:
            return True
        taken = fixed | set(state)
        for index in range(len(movers)):
            for ext in space:
                if ext not in taken:
                    after = (*state[:index], ext, *state[index + 1 :])
                    if after not in seen:
                        seen.add(after)
                        queue.append(after)
    return False


@settings(max_examples=300)
@given(crowded())
def test_property_the_planner_finds_a_safe_order_whenever_one_exists(
    case: tuple[dict[int, str | None], list[tuple[int, str | None]], tuple[str, ...]],
) -> None:
    users, wanted, space = case
    note(f"free extensions {space}, users {users}")
    fillers = {FILLER + n: f"{n:03d}" for n in range(1000) if f"{n:03d}" not in space}
    holdings = {**users, **fillers}
    plan = plan_for(holdings, wanted)
    desired = {u: t for u, t in wanted if t is not None}
    if left_on_a_target(holdings, desired):  # the file breaks a rule: no order helps
        event("a user the file does not move holds a target")
        assert plan.steps == ()
        assert {f.code for f in plan.findings} == {"extension-taken"}
        return
    exists = safe_order_exists(holdings, wanted, space)
    assert plan.blocked == (not exists), plan.findings
    free = sum(1 for e in space if e not in users.values())
    cycles = min(cycles_in(holdings, desired), 2)
    event(f"safe order: {exists}; cycles: {cycles}; free at the start: {min(free, 2)}")
    if exists:
        assert replay(holdings, plan.steps) == {**holdings, **desired}
        assert len({s.to_ext for s in plan.steps if s.parking}) <= 1
    else:
        assert plan.steps == ()
        assert {f.code for f in plan.findings} == {"plan-blocked"}


# -- extensions a damaged value stands for, and long lists in messages -----------------


def test_an_extension_a_damaged_value_stands_for_blocks_unless_the_file_moves_it() -> None:
    """User 2 holds "42" (a 042 that lost its zero): 042 waits for that repair."""
    plan = plan_for({1: "101", 2: "42"}, [(1, "042")])
    assert plan.blocked and plan.steps == ()
    (finding,) = plan.findings
    assert (finding.code, finding.line) == ("extension-taken", 2)
    assert "claimed by user 2 (u2@example.com), whose extension '42' is a damaged 042" in (
        finding.message
    )
    repaired = plan_for({1: "101", 2: "42"}, [(2, "042")])
    assert repaired.steps == (Step(2, "42", "042"),)
    moved = plan_for({1: "101", 2: "42"}, [(1, "042"), (2, "043")])
    assert not moved.findings and replay({1: "101", 2: "42"}, moved.steps)[1] == "042"


def test_parking_never_lands_on_what_a_damaged_value_stands_for() -> None:
    holdings = {1: "101", 2: "102", 3: "1", 100: "100"}  # 3's "1" stands for 001
    holdings.update({n: f"{n:03d}" for n in range(103, 1000)})
    holdings.update({n + 1000: f"{n:03d}" for n in (0, *range(2, 100))})
    plan = plan_for(holdings, [(1, "102"), (2, "101")])
    assert plan.blocked  # 001 is the only technically free extension, and it is spoken for


def test_a_blocked_cycle_on_a_full_account_is_one_short_line() -> None:
    holdings: dict[int, str | None] = {n: f"{n:03d}" for n in range(1000)}
    rotation = [(n, f"{(n + 1) % 1000:03d}") for n in range(1000)]
    plan = plan_for(holdings, rotation)
    (finding,) = plan.findings
    assert "and 990 more" in finding.message
    assert len(finding.message) < 400


def test_parking_never_lands_on_an_extension_the_caller_forbids() -> None:
    """A numbering plan's reserved extensions: a caller dialing 100 must not reach a user
    parked there, even for a moment."""
    holdings = {1: "101", 2: "102"}
    account = account_of(holdings)
    rows = rows_for(account, [(1, "102"), (2, "101")])
    assert plan_import(account, rows).parking == "100"
    plan = plan_import(account, rows, never_park=frozenset({"100", "103"}))
    assert plan.parking == "104"
    assert replay(holdings, plan.steps) == {1: "102", 2: "101"}


def test_a_cycle_with_only_forbidden_extensions_free_is_blocked() -> None:
    holdings: dict[int, str | None] = {n: f"{n:03d}" for n in range(1000) if n != 911}
    account = account_of(holdings)
    rows = rows_for(account, [(101, "102"), (102, "101")])
    assert plan_import(account, rows).parking == "911"
    assert plan_import(account, rows, never_park=frozenset({"911"})).blocked
