"""The numbering plan file: what it means, and every way it is refused (file, line, key)."""

from __future__ import annotations

import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aircall_ext.api.models import User
from aircall_ext.core.account import Account
from aircall_ext.core.freeext import ExtensionRange
from aircall_ext.core.numbering import (
    AppliedPlan,
    NumberingPlan,
    breaches,
    key_text,
    lowest_free_for,
    next_free,
    parse_plan,
)
from aircall_ext.errors import EXIT_USAGE, UsageError
from tests.numbering_scenes import plans

SAMPLE_PLAN = """\
reserved = ["100", "911"]           # never handed out, whoever asks
default = "100-199"                 # users in none of the teams below

[teams]
Sales = "200-299"
"Customer Support" = ["300-349", "360-399"]
"""


def refusal(text: str) -> str:
    with pytest.raises(UsageError) as caught:
        parse_plan(text, "plan.toml")
    assert caught.value.exit_code == EXIT_USAGE
    return str(caught.value)


def test_the_documented_example() -> None:
    plan = parse_plan(SAMPLE_PLAN, "plan.toml")
    assert plan.reserved == {"100", "911"}
    assert [str(r.range) for r in plan.default or ()] == ["100-199"]
    assert list(plan.teams) == ["Sales", "Customer Support"]
    assert [str(r.range) for r in plan.teams["Customer Support"]] == ["300-349", "360-399"]
    assert plan.team_lines == {"Sales": 5, "Customer Support": 6}
    assert [(r.team, str(r.range)) for r in plan.ranges()] == [
        (None, "100-199"),
        ("Sales", "200-299"),
        ("Customer Support", "300-349"),
        ("Customer Support", "360-399"),
    ]


def test_an_empty_file_is_a_plan_with_no_constraint() -> None:
    plan = parse_plan("", "plan.toml")
    assert (plan.reserved, plan.default, dict(plan.teams)) == (frozenset(), None, {})
    assert len(plan.allowance().order) == 1000


def test_other_spellings_of_the_same_plan() -> None:
    dotted = 'teams.Sales = "200-299"\nteams."Customer Support" = ["300-349", "360-399"]\n'
    inline = 'teams = { Sales = "200-299", "Customer Support" = ["300-349", "360-399"] }\n'
    for text in (dotted, inline, "\ufeff" + dotted):
        plan = parse_plan(text, "plan.toml")
        assert {name: [str(r.range) for r in ranges] for name, ranges in plan.teams.items()} == {
            "Sales": ["200-299"],
            "Customer Support": ["300-349", "360-399"],
        }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            'reserved = ["100", 911]\n',
            'plan.toml:1:20: reserved[1]: 911 is a number; write "911" in quotes: an extension '
            'is text, as "007" shows',
        ),
        (
            "reserved = [\n  7,\n]\n",
            'plan.toml:2:3: reserved[0]: 7 is a number; write "007" in quotes if that is the '
            "extension: a number has no leading zeros",
        ),
        (
            'reserved = ["91"]\n',
            "plan.toml:1:13: reserved[0]: a reserved extension is 3 digits: '91' has 2 digits: "
            "leading zeros lost? did you mean 091?",
        ),
        (
            'reserved = [" 911"]\n',
            "plan.toml:1:13: reserved[0]: a reserved extension is 3 digits: has padding",
        ),
        (
            'reserved = "911"\n',
            'plan.toml:1:12: reserved: must be a list of extensions, e.g. ["911"]; found the '
            "string '911'",
        ),
        (
            '\ndefualt = "100-199"\n',
            "plan.toml:2:1: defualt: unknown key: did you mean default? a plan has reserved, "
            "default and [teams]",
        ),
        (
            '"Sales" = "200-299"\n',
            "plan.toml:1:1: Sales: unknown key: a plan has reserved, default and [teams]",
        ),
        (
            'default = "100-1000"\n',
            "plan.toml:1:11: default: '100-1000' is not a range of extensions: range bound "
            "'1000' has 4 digits; an extension has exactly 3",
        ),
        (
            'default = "299-200"\n',
            "plan.toml:1:11: default: '299-200' is backwards: did you mean 200-299?",
        ),
        (
            'default = "100"\n',
            "plan.toml:1:11: default: '100' is not a range: expected A-B, e.g. 200-299",
        ),
        (
            'teams.Sales = "2OO-299"\n',
            "plan.toml:1:15: teams.Sales: '2OO-299' is not a range of extensions: range bound "
            "'2OO' is not an extension: expected exactly 3 digits 0-9 (e.g. 101 or 007)",
        ),
        (
            "[teams]\nSales = 200\n",
            'plan.toml:2:9: teams.Sales: must be a range such as "200-299", or a list of '
            "them; found the number 200",
        ),
        (
            '[teams]\nSales = ["200-249", 250]\n',
            'plan.toml:2:21: teams.Sales[1]: must be a range such as "200-299"; found the '
            "number 250",
        ),
        (
            "[teams]\nSales = []\n",
            'plan.toml:2:9: teams.Sales: has no range: give one ("200-299") or a list of them',
        ),
        (
            '[teams.Sales]\nranges = "200-299"\n',
            'plan.toml:1:1: teams.Sales: must be a range such as "200-299", or a list of them; '
            "found a table",
        ),
        (
            'teams = ["Sales"]\n',
            "plan.toml:1:9: teams: must be a table: a [teams] line, then one line per team "
            '(Sales = "200-299"); found a list',
        ),
        (
            '[teams]\n"Caf\u00e9" = "200-299"\n"Cafe\u0301" = "300-399"\n',
            "plan.toml:3:1: teams.\"Cafe\u0301\": the same team as 'Caf\u00e9' on line 2 once "
            "Unicode-normalised (NFC): keep one of them",
        ),
    ],
)
def test_refused_with_file_line_column_and_key(text: str, message: str) -> None:
    assert refusal(text) == message


def test_two_teams_overlapping_name_both_and_the_overlap() -> None:
    text = '[teams]\nSales = "200-299"\n"Customer Support" = ["300-349", "250-310"]\n'
    assert refusal(text) == (
        'plan.toml:3:34: teams."Customer Support"[1]: range 250-310 overlaps 200-299 of team '
        "Sales (line 2) at 250-299: an extension belongs to one range of the plan at most"
    )


def test_the_default_range_may_not_overlap_a_team() -> None:
    text = 'default = "100-199"\n[teams]\nSales = "199-299"\n'
    assert refusal(text) == (
        "plan.toml:3:9: teams.Sales: range 199-299 overlaps 100-199 of the default range "
        "(line 1) at 199: an extension belongs to one range of the plan at most"
    )


def test_ranges_of_one_team_may_not_overlap_either() -> None:
    text = 'teams = { Ops = ["600-650", "640-699"] }\n'
    assert refusal(text) == (
        "plan.toml:1:29: teams.Ops[1]: range 640-699 overlaps 600-650 of the same team "
        "(line 1) at 640-650: an extension belongs to one range of the plan at most"
    )


def test_the_overlap_is_reported_where_the_file_writes_it_later() -> None:
    """Whatever order TOML tables come in, the message points at the later line."""
    text = 'teams.B = "250-260"\ndefault = "200-299"\n'
    assert refusal(text).startswith("plan.toml:2:11: default: range 200-299 overlaps 250-260")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a = [1,\n", "plan.toml:2:1: invalid TOML: Invalid value"),
        ("[t]\nx = 1\n[t]\n", "plan.toml:3:3: invalid TOML: Cannot declare ('t',) twice"),
        ('default = "100-199\n', "plan.toml:1:19: invalid TOML: Illegal character '\\n'"),
    ],
)
def test_toml_syntax_errors_name_line_and_column(text: str, message: str) -> None:
    assert refusal(text) == message


@pytest.mark.parametrize(("opening", "closing"), [("[", "]"), ("{a = ", "}")])
def test_nesting_deeper_than_the_stack_is_a_usage_error(opening: str, closing: str) -> None:
    depth = sys.getrecursionlimit()  # at least one Python frame per level
    text = "reserved = " + opening * depth + "1" + closing * depth + "\n"
    assert refusal(text) == "plan.toml: invalid TOML: nested too deeply"


@given(st.text(max_size=200))
def test_any_text_is_a_plan_or_a_one_line_usage_error(text: str) -> None:
    try:
        parse_plan(text, "plan.toml")
    except UsageError as err:
        assert str(err).startswith("plan.toml")
        assert "\n" not in str(err)


range_texts = st.one_of(
    st.tuples(st.integers(0, 1200), st.integers(0, 1200)).map(lambda p: f"{p[0]:03d}-{p[1]:03d}"),
    st.sampled_from(["", "1-2", "200", "a-b", "200--299", " 200-299 ", "٢٠٠-٢٩٩"]),
)
values = st.recursive(
    st.one_of(range_texts.map(lambda t: f'"{t}"'), st.integers(-5, 1500).map(str), st.just("true")),
    lambda inner: st.lists(inner, max_size=3).map(lambda items: f"[{', '.join(items)}]"),
    max_leaves=5,
)
keys = st.sampled_from(["reserved", "default", "teams", "Sales", '"Café"', "teams.Ops", "x"])
statements = st.one_of(
    st.tuples(keys, values).map(lambda kv: f"{kv[0]} = {kv[1]}"),
    st.sampled_from(["[teams]", "[teams.Sales]", "[[teams]]", "# comment"]),
)


@given(st.lists(statements, max_size=8).map("\n".join))
def test_plan_like_text_is_a_plan_or_a_usage_error(text: str) -> None:
    """Nothing but a UsageError escapes, whatever mix of keys, types and ranges."""
    try:
        plan = parse_plan(text, "plan.toml")
    except UsageError as err:
        assert str(err).startswith("plan.toml:")
        assert "\n" not in str(err)
    else:
        assert all(r.range.first <= r.range.last for r in plan.ranges())


@given(plans())
def test_generated_plans_read_back_and_never_overlap(plan: NumberingPlan) -> None:
    owners: dict[str, str | None] = {}
    for plan_range in plan.ranges():
        for extension in plan_range.range.candidates():
            assert extension not in owners
            owners[extension] = plan_range.team
    for team in plan.teams:
        allowance = plan.allowance((team,))
        assert set(allowance.order) == {e for e, t in owners.items() if t == team} - plan.reserved
        assert list(allowance.order) == sorted(allowance.order)


def test_key_text_quotes_what_toml_would() -> None:
    assert key_text(("teams", "Customer Support", 1)) == 'teams."Customer Support"[1]'
    assert key_text(("teams", 'say "hi"')) == 'teams."say \\"hi\\""'
    assert key_text(("teams", "R-D_2")) == "teams.R-D_2"


# -- who may hold what -------------------------------------------------------------------


def spec_plan() -> NumberingPlan:
    return parse_plan(SAMPLE_PLAN, "plan.toml")


def test_allowance_is_the_union_of_the_users_plan_teams() -> None:
    applied = AppliedPlan(
        spec_plan(),
        [("Sales", [1, 3]), ("Customer Support", [2, 3]), ("Unplanned", [4])],
    )
    assert applied.allowance_for(1).ranges == (ExtensionRange("200", "299"),)
    both = applied.allowance_for(3)
    assert both.teams == ("Sales", "Customer Support")
    assert both.who == "teams Sales, Customer Support"
    assert both.ranges_text == "200-299, 300-349, 360-399"
    assert len(both.order) == 100 + 50 + 40
    assert applied.plan.allowance(("Customer Support", "Sales", "Unplanned")) is both
    nobody = applied.allowance_for(4)  # a team the plan does not list counts for nothing
    assert (nobody.who, nobody.ranges_text) == ("no team of the plan", "the default range 100-199")
    assert nobody.order[0] == "101"  # 100 is reserved
    assert not applied.may_hold(3, "350")
    assert applied.may_hold(3, "360")


def test_team_names_match_after_nfc_both_ways() -> None:
    plan = parse_plan('[teams]\n"Cafe\u0301" = "200-299"\n', "plan.toml")
    applied = AppliedPlan(plan, [("Caf\u00e9", [1])])
    assert applied.teams_of(1) == ("Caf\u00e9",)
    assert plan.team_named("Cafe\u0301") == plan.team_named("Caf\u00e9") == "Caf\u00e9"
    assert applied.account_teams == {"Caf\u00e9"}


def test_two_account_teams_with_one_name_add_their_members() -> None:
    applied = AppliedPlan(spec_plan(), [("Sales", [1]), ("Sales", [2])])
    assert applied.teams_of(1) == applied.teams_of(2) == ("Sales",)


def test_without_default_users_in_no_team_get_space_outside_the_teams_first() -> None:
    plan = parse_plan('reserved = ["101"]\n[teams]\nSales = "100-199"\n', "plan.toml")
    order = plan.allowance().order
    assert order[:2] == ("200", "201")
    assert order.index("999") < order.index("000") < order.index("100")
    assert "101" not in order
    assert len(order) == 999


def test_unknown_team_lists_the_plans_teams() -> None:
    with pytest.raises(UsageError) as caught:
        spec_plan().team_named("sales")
    assert str(caught.value) == (
        "no team 'sales' in the numbering plan plan.toml; did you mean 'Sales'? "
        "(its teams: Sales, Customer Support)"
    )
    with pytest.raises(UsageError, match="names no team"):
        parse_plan("", "p.toml").team_named("Sales")


def account(*holdings: tuple[int, str | None]) -> Account:
    return Account.of(User(id=i, email=f"u{i}@example.com", extension=e) for i, e in holdings)


def test_next_free_for_a_team_skips_held_reserved_and_damaged_claims() -> None:
    plan = parse_plan('reserved = ["202"]\n[teams]\nSales = "200-209"\n', "plan.toml")
    users = account((1, "200"), (2, "1"), (3, "201.0"), (4, "203"), (5, "7"))
    # 201 is what "201.0" stands for; "1" and "7" claim 001 and 007, outside the range.
    assert next_free(plan, users, "Sales", 3) == ["204", "205", "206"]
    assert next_free(plan, users, "sales".title(), 100)[-1] == "209"


def test_next_free_without_team_uses_the_default_ranges() -> None:
    assert next_free(spec_plan(), account((1, "101")), None, 2) == ["102", "103"]


def test_lowest_free_for_a_user_counts_their_own_extension_as_free() -> None:
    applied = AppliedPlan(spec_plan(), [("Sales", [1, 2, 3])])
    users = account((1, "201"), (2, "200"), (3, "20"))
    assert lowest_free_for(applied, users, users.users[0]) == "201"
    assert lowest_free_for(applied, users, users.users[1]) == "200"
    # user 3's damaged "20" stands for 020, outside Sales: no claim of theirs inside it
    assert lowest_free_for(applied, users, users.users[2]) == "202"


def test_lowest_free_for_a_user_respects_other_users_damaged_claims() -> None:
    applied = AppliedPlan(spec_plan(), [("Sales", [1, 2])])
    users = account((1, None), (2, "200.0"))
    assert lowest_free_for(applied, users, users.users[0]) == "201"
    assert lowest_free_for(applied, users, users.users[1]) == "200"


def test_breaches_in_the_order_they_are_judged() -> None:
    applied = AppliedPlan(spec_plan(), [("Sales", [5, 6, 7])])
    users = Account.of(
        [
            User(id=1, extension=None),
            User(id=2, extension=None, outgoing_only=True),
            User(id=3, extension="7"),
            User(id=4, extension="911"),
            User(id=5, extension="150"),
            User(id=7, extension="250"),
            User(id=6, extension="250"),
            User(id=8, extension="150"),
        ]
    )
    assert breaches(applied, users) == {
        1: "missing",
        3: "invalid",
        4: "reserved",
        5: "out-of-range",
        7: "shared",  # 6 and 7 may both hold 250: the lower id keeps it
    }


def test_a_team_name_with_a_newline_still_makes_a_one_line_message() -> None:
    assert refusal('[teams]\n"a\\nb" = 5\n').startswith('plan.toml:2:10: teams."a\\nb": must be')
