"""The extension map: the picture people read, its segments' kinds, and the JSON figures."""

from __future__ import annotations

import pytest
from hypothesis import given

from aircall_ext.api.models import User
from aircall_ext.core.account import Account
from aircall_ext.core.extmap import LEGEND, WIDTH, build_map, display_width
from aircall_ext.core.freeext import ALL_EXTENSIONS
from aircall_ext.core.numbering import AppliedPlan, parse_plan
from aircall_ext.errors import UsageError
from tests.numbering_scenes import Scene, scenes

PLAN = parse_plan(
    'reserved = ["100", "911"]\ndefault = "100-199"\n\n[teams]\nSales = "200-299"\n'
    '"Customer Support" = ["300-349", "360-399"]\n',
    "plan.toml",
)
HOLDINGS = {
    1: "101",  # no team, in the default range
    2: "102",  # Sales, in the default range: against the plan
    3: "150",  # shared
    4: "150",
    5: "200",
    6: "201",
    7: "203",
    8: "205",  # Customer Support in Sales' range
    9: "300",
    10: "301",
    11: "302",
    12: "303",
    13: "304",
    14: "911",  # reserved
    15: "42",  # damaged: stands for 042
    16: "360",  # no team, in Customer Support's range
}
APPLIED = AppliedPlan(PLAN, [("Sales", [2, 5, 6, 7]), ("Customer Support", [8, 9, 10, 11, 12, 13])])
ACCOUNT = Account.of(User(id=i, extension=e) for i, e in HOLDINGS.items())


def test_the_picture() -> None:
    lines = [line.text for line in build_map(APPLIED, ACCOUNT).lines]
    assert lines == [
        "    0          10         20         30         40",
        "000 .......... .......... .......... .......... ..!.......",
        "050 .......... .......... .......... .......... ..........",
        "100 r#!....... .......... .......... .......... ..........  default 100-199",
        "150 x......... .......... .......... .......... ..........  default",
        "200 ##.#.!.... .......... .......... .......... ..........  Sales 200-299",
        "250 .......... .......... .......... .......... ..........  Sales",
        "300 #####..... .......... .......... .......... ..........  Customer Support",
        "350 .......... !......... .......... .......... ..........  Customer Support",
        "900 .......... .!........ .......... .......... ..........",
        "950 .......... .......... .......... .......... ..........",
    ]
    assert LEGEND.text == ". free  # held  ! held against the plan  x shared  r reserved"


def test_segments_carry_their_kind_and_no_escape_codes() -> None:
    line = build_map(APPLIED, ACCOUNT).lines[5]  # 200
    assert [(s.text, s.kind) for s in line.segments[:6]] == [
        ("200 ", "text"),
        ("##", "held"),
        (".", "free"),
        ("#", "held"),
        (".", "free"),
        ("!", "breaking"),
    ]
    assert all(
        "\x1b" not in s.text for line in build_map(APPLIED, ACCOUNT).lines for s in line.segments
    )


def test_the_json_figures_per_range() -> None:
    columns = ("team", "range", "size", "held", "free", "breaking", "reserved")
    rows = [
        (None, "100-199", 100, 3, 96, 2, 1),
        ("Sales", "200-299", 100, 4, 96, 1, 0),
        ("Customer Support", "300-349", 50, 5, 45, 0, 0),
        ("Customer Support", "360-399", 40, 1, 39, 1, 0),
    ]
    expected = {"ranges": [dict(zip(columns, row, strict=True)) for row in rows]}
    assert build_map(APPLIED, ACCOUNT).to_json() == expected


def test_one_team_only() -> None:
    restricted = build_map(APPLIED, ACCOUNT, "customer support".title())
    assert [line.text for line in restricted.lines] == [
        "    0          10         20         30         40",
        "300 #####..... .......... .......... .......... ..........  Customer Support",
        "350            !......... .......... .......... ..........  Customer Support",
    ]
    assert [r["range"] for r in restricted.to_json()["ranges"]] == ["300-349", "360-399"]
    assert {s.kind for s in restricted.lines[2].segments} >= {"outside", "breaking"}


def test_an_unknown_team_lists_the_plans_teams() -> None:
    with pytest.raises(UsageError, match=r"its teams: Sales, Customer Support"):
        build_map(APPLIED, ACCOUNT, "Support")


def test_spans_move_to_the_next_line_when_they_do_not_fit() -> None:
    plan = parse_plan(
        '[teams]\n"Night shift crew" = "500-599"\nOps = "600-624"\nDev = "625-699"\n', "p"
    )
    lines = [line.text[58:] for line in build_map(AppliedPlan(plan, []), Account(())).lines]
    assert lines[1:] == ["  Night shift crew", "  500-599", "  Ops; Dev", "  625-699"]


def test_a_long_wide_name_is_cut_to_80_columns() -> None:
    plan = parse_plan('[teams]\n"夜班客户支持团队东京办公室的同事" = "500-549"\n', "p")
    line = build_map(AppliedPlan(plan, []), Account(())).lines[1].text
    assert line.endswith("…")
    assert WIDTH - 1 <= display_width(line) <= WIDTH  # a wide character needs two columns


def test_nothing_held_or_planned_is_an_empty_map() -> None:
    empty = build_map(AppliedPlan(parse_plan("", "p"), []), Account(()))
    assert empty.lines == ()
    assert empty.to_json() == {"ranges": []}


@given(scenes(max_users=300))
def test_every_line_fits_and_every_cell_is_one_extension(scene: Scene) -> None:
    extension_map = build_map(scene.applied, scene.account)
    held = {u.extension for u in scene.account.users}
    for line in extension_map.lines[1:]:
        assert display_width(line.text) <= WIDTH
        start = line.text[:3]
        cells = line.text[4:58].replace(" ", "")
        assert len(cells) == 50
        for offset, symbol in enumerate(cells):
            extension = ALL_EXTENSIONS[ALL_EXTENSIONS.index(start) + offset]
            assert (symbol in "#!x") == (extension in held) or symbol == "!"
    for use in extension_map.ranges:
        assert use.free <= use.size - use.held
