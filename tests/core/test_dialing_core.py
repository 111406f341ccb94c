"""The dial simulator against every routing rule, checked in the order the outcomes are decided."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aircall_ext.api.models import Number, User
from aircall_ext.core.account import Account
from aircall_ext.core.dialing import simulate
from aircall_ext.core.dialterms import OUTCOMES, STAGES, Stage
from aircall_ext.core.numbers import find_number
from aircall_ext.errors import EXIT_USAGE, UsageError
from tests.scenes import DIAL_CHECKS

ROUTINGS = ("smartflows", "legacy-classic", "legacy-ivr")
MODE_LABEL = {
    "smartflows": "Smartflows",
    "legacy-classic": "legacy routing, classic number",
    "legacy-ivr": "legacy routing, IVR number",
}
# Which stage accepts digits in which routing mode, written out by hand so that a wrong table
# in the code cannot agree with itself.
ACCEPTS = {
    ("smartflows", "welcome"): False,
    ("smartflows", "ivr"): True,
    ("smartflows", "audio"): True,
    ("smartflows", "waiting"): True,
    ("smartflows", "ringing"): False,
    ("legacy-classic", "welcome"): True,
    ("legacy-classic", "ivr"): False,
    ("legacy-classic", "audio"): False,
    ("legacy-classic", "waiting"): False,
    ("legacy-classic", "ringing"): False,
    ("legacy-ivr", "welcome"): True,
    ("legacy-ivr", "ivr"): True,
    ("legacy-ivr", "audio"): False,
    ("legacy-ivr", "waiting"): False,
    ("legacy-ivr", "ringing"): False,
}
# A stage each routing mode accepts, to test the later checks.
OPEN_STAGE: dict[str, Stage] = {
    "smartflows": "ivr",
    "legacy-classic": "welcome",
    "legacy-ivr": "welcome",
}


def user(uid: int, extension: str | None, **fields: Any) -> User:
    return User.model_validate(
        {"id": uid, "name": f"User {uid}", "email": f"u{uid}@example.com", "extension": extension}
        | fields
    )


def number(nid: int, routing: str, members: list[int], **fields: Any) -> Number:
    flags = {
        "smartflows": {"flow_editor_enabled": True, "is_ivr": False},
        "legacy-classic": {"flow_editor_enabled": False, "is_ivr": False},
        "legacy-ivr": {"flow_editor_enabled": False, "is_ivr": True},
    }[routing]
    doc = {
        "id": nid,
        "name": f"Line {nid}",
        "digits": f"+33 1 00 00 00 {nid:02d}",
        "users": [{"id": m, "name": f"User {m}", "email": f"u{m}@example.com"} for m in members],
    }
    return Number.model_validate(doc | flags | fields)


def dial(
    users: list[User],
    routing: str,
    digits: str,
    stage: Stage | None = None,
    *,
    members: list[int] | None = None,
    api_transfer: bool = False,
) -> Any:
    line = number(50, routing, [u.id for u in users] if members is None else members)
    account = Account.of(users, [line])
    return simulate(account, line, digits, stage or OPEN_STAGE[routing], api_transfer=api_transfer)


def checks(result: Any) -> list[str]:
    return [c.check for c in result.trace]


# -- stages -------------------------------------------------------------------------------


@pytest.mark.parametrize(("routing", "stage"), sorted(ACCEPTS))
def test_each_routing_mode_accepts_extensions_only_at_its_stages(
    routing: str, stage: Stage
) -> None:
    result = dial([user(1, "101")], routing, "101", stage)
    if ACCEPTS[routing, stage]:
        assert result.outcome == "rings-user"
        assert result.trace[1].ok
    else:
        assert result.outcome == "stage-not-accepting"
        assert checks(result) == ["api-transfer", "stage"]
        assert result.user is None
        assert result.missed_call_notified == ()
    assert MODE_LABEL[routing].lower() in result.trace[1].detail.lower()


@pytest.mark.parametrize("routing", ROUTINGS)
def test_ringing_is_refused_with_an_explanation(routing: str) -> None:
    result = dial([user(1, "101")], routing, "101", "ringing")
    detail = result.trace[1].detail
    assert result.outcome == "stage-not-accepting"
    assert "ringing" in detail and "No routing mode" in detail
    assert result.caller_hears is not None and "ringing tone" in result.caller_hears


def test_a_refused_stage_says_what_the_caller_keeps_hearing() -> None:
    result = dial([user(1, "101")], "legacy-classic", "101", "waiting")
    assert result.caller_hears is not None and "waiting music" in result.caller_hears
    assert "only during the welcome message" in result.trace[1].detail


def test_a_classic_number_has_no_ivr_message() -> None:
    result = dial([user(1, "101")], "legacy-classic", "101", "ivr")
    assert "no IVR message" in result.trace[1].detail


def test_the_stage_is_checked_before_the_digits() -> None:
    result = dial([user(1, "101")], "smartflows", "7", "welcome")
    assert result.outcome == "stage-not-accepting"


# -- api transfer -------------------------------------------------------------------------


@pytest.mark.parametrize("routing", ROUTINGS)
@pytest.mark.parametrize("stage", STAGES)
def test_an_api_transfer_ringing_phase_blocks_dialing_first(routing: str, stage: Stage) -> None:
    result = dial([user(1, "101")], routing, "xx", stage, api_transfer=True)
    assert result.outcome == "api-transfer"
    assert checks(result) == ["api-transfer"]
    assert not result.trace[0].ok and "public API" in result.trace[0].detail
    assert result.user is None and not result.reaches_user


# -- the digit sequence -------------------------------------------------------------------


@pytest.mark.parametrize("digits", ["7", "07", "1234", "", "abc", "1 1", "10#", "٢٠١", "1.0"])
@pytest.mark.parametrize("routing", ROUTINGS)
def test_anything_but_three_ascii_digits_is_an_invalid_sequence(routing: str, digits: str) -> None:
    result = dial([user(1, "101"), user(2, "007")], routing, digits)
    assert result.outcome == "invalid-sequence"
    assert checks(result) == ["api-transfer", "stage", "sequence"]
    assert result.user is None and result.caller_hears is None


def test_a_short_sequence_names_the_lost_leading_zeros() -> None:
    result = dial([user(1, "007")], "legacy-ivr", "7")
    assert "to reach extension 007, dial 007" in result.trace[2].detail


def test_surrounding_padding_is_not_part_of_the_sequence() -> None:
    result = dial([user(1, "101")], "legacy-ivr", " 101\t")
    assert result.outcome == "rings-user" and result.digits == "101"


# -- lookup, leading zeros, collisions ----------------------------------------------------


@pytest.mark.parametrize("routing", ROUTINGS)
def test_leading_zeros_are_significant(routing: str) -> None:
    users = [user(1, "007"), user(2, "070"), user(3, "700")]
    for digits, uid in [("007", 1), ("070", 2), ("700", 3)]:
        result = dial(users, routing, digits)
        assert (result.outcome, result.user.id) == ("rings-user", uid)
        assert result.user.extension == digits


def test_an_unknown_extension_does_not_exist() -> None:
    result = dial([user(1, "101")], "smartflows", "102")
    assert result.outcome == "extension-does-not-exist"
    assert result.caller_hears == "This extension does not exist"
    assert result.user is None
    assert checks(result) == DIAL_CHECKS[:4]


def test_a_damaged_stored_extension_is_pointed_out_but_never_matched() -> None:
    result = dial([user(1, "7"), user(2, "101")], "legacy-ivr", "007")
    assert result.outcome == "extension-does-not-exist"
    assert "user 1 (u1@example.com)" in result.trace[3].detail
    assert "'7'" in result.trace[3].detail and "user 2" not in result.trace[3].detail


@pytest.mark.parametrize("order", [[9, 4], [4, 9]])
def test_a_collision_follows_the_lowest_id_and_says_so(order: list[int]) -> None:
    users = [user(uid, "101", outgoing_only=uid == 9) for uid in order]
    result = dial(users, "smartflows", "101")
    assert result.user.id == 4
    assert result.outcome == "rings-user"
    assert [u.id for u in result.collision] == order
    detail = result.trace[3].detail
    assert "collision" in detail and "u4@example.com" in detail and "u9@example.com" in detail


def test_no_collision_is_reported_for_a_single_holder() -> None:
    assert dial([user(1, "101")], "smartflows", "101").collision == ()


# -- outgoing-only ------------------------------------------------------------------------


@pytest.mark.parametrize("routing", ROUTINGS)
def test_an_outgoing_only_user_has_a_dead_extension(routing: str) -> None:
    result = dial([user(1, "101", outgoing_only=True, available=False)], routing, "101")
    assert result.outcome == "extension-does-not-exist"
    assert result.caller_hears == "This extension does not exist"
    assert result.user is not None and result.user.id == 1
    assert checks(result) == DIAL_CHECKS[:5]
    assert "outgoing" in result.trace[4].detail


# -- distribution -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("routing", "outcome"),
    [
        ("legacy-classic", "not-in-distribution"),
        ("legacy-ivr", "rings-user"),
        ("smartflows", "rings-user"),
    ],
)
def test_only_classic_numbers_require_the_distribution(routing: str, outcome: str) -> None:
    result = dial([user(1, "101"), user(2, "102")], routing, "101", members=[2])
    assert result.outcome == outcome
    assert result.user.id == 1
    assert result.trace[5].check == "distribution"
    assert MODE_LABEL[routing].lower() in result.trace[5].detail.lower()


def test_a_classic_number_reaches_its_distribution() -> None:
    result = dial([user(1, "101"), user(2, "102")], "legacy-classic", "101", members=[1])
    assert result.outcome == "rings-user"


def test_not_in_distribution_is_decided_before_availability() -> None:
    users = [user(1, "101", available=False), user(2, "102")]
    result = dial(users, "legacy-classic", "101", members=[2])
    assert result.outcome == "not-in-distribution"
    assert result.caller_hears is None
    assert "availability" not in checks(result)


# -- availability -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("available", "status", "outcome"),
    [
        (False, None, "user-unavailable"),
        (False, "available", "user-unavailable"),
        (True, "unavailable", "user-unavailable"),
        (True, "custom", "rings-user"),
        (True, "available", "rings-user"),
        (True, None, "rings-user"),
    ],
)
@pytest.mark.parametrize("routing", ROUTINGS)
def test_availability(routing: str, available: bool, status: str | None, outcome: str) -> None:
    result = dial([user(1, "101", available=available, availability_status=status)], routing, "101")
    assert result.outcome == outcome
    assert result.user.id == 1
    assert checks(result) == DIAL_CHECKS
    if outcome == "user-unavailable":
        assert result.caller_hears is not None and "cannot be customised" in result.caller_hears
        assert not result.reaches_user


def test_a_custom_status_is_explained_as_available() -> None:
    result = dial([user(1, "101", availability_status="custom")], "smartflows", "101")
    assert "custom status counts as available" in result.trace[6].detail


# -- missed-call notification -------------------------------------------------------------


def test_a_ringing_extension_notifies_the_numbers_users_if_unanswered() -> None:
    users = [user(1, "101"), user(2, "102"), user(3, "103")]
    result = dial(users, "smartflows", "101", members=[3, 2])
    assert result.outcome == "rings-user"
    assert [u.id for u in result.missed_call_notified] == [3, 2]
    assert "u3@example.com, u2@example.com" in result.verdict


def test_notified_users_get_their_email_from_the_account() -> None:
    line = Number.model_validate(number(50, "legacy-ivr", []).model_dump() | {"users": [{"id": 2}]})
    account = Account.of([user(1, "101"), user(2, "102")], [line])
    result = simulate(account, line, "101", "ivr")
    assert [(u.id, u.email) for u in result.missed_call_notified] == [(2, "u2@example.com")]


def test_nobody_is_notified_when_the_number_has_no_users() -> None:
    result = dial([user(1, "101")], "smartflows", "101", members=[])
    assert result.outcome == "rings-user"
    assert result.missed_call_notified == ()
    assert "notifies nobody" in result.verdict


@pytest.mark.parametrize(("digits", "stage"), [("101", "ringing"), ("999", "ivr"), ("12", "ivr")])
def test_nobody_is_notified_when_nothing_rings(digits: str, stage: Stage) -> None:
    result = dial([user(1, "101", available=False)], "smartflows", digits, stage)
    assert result.outcome != "rings-user"
    assert result.missed_call_notified == ()


# -- the trace and the document -----------------------------------------------------------


def test_a_ringing_call_evaluates_every_check_in_spec_order() -> None:
    result = dial([user(1, "101")], "legacy-classic", "101")
    assert checks(result) == DIAL_CHECKS
    assert all(c.ok for c in result.trace)
    assert result.reaches_user
    assert result.caller_hears is not None


@pytest.mark.parametrize("routing", ROUTINGS)
@pytest.mark.parametrize("stage", STAGES)
def test_trace_details_are_single_lines(routing: str, stage: Stage) -> None:
    result = dial([user(1, "101")], routing, "101", stage)
    for check in result.trace:
        assert check.detail and "\n" not in check.detail
    assert result.trace[-1].ok == (result.outcome == "rings-user")


def test_json_document_has_the_spec_shape() -> None:
    doc = dial([user(1, "101")], "legacy-ivr", "101").to_json()
    json.dumps(doc)  # serialisable as it is
    assert {
        "number",
        "routing",
        "stage",
        "digits",
        "outcome",
        "reaches_user",
        "user",
        "caller_hears",
        "missed_call_notified",
        "trace",
    } <= set(doc)
    assert doc["number"] == {"id": 50, "name": "Line 50", "digits": "+33 1 00 00 00 50"}
    assert (doc["routing"], doc["stage"], doc["digits"]) == ("legacy-ivr", "welcome", "101")
    assert {"id", "email", "extension"} <= set(doc["user"])
    assert doc["user"]["extension"] == "101"
    assert doc["missed_call_notified"] == [{"id": 1, "email": "u1@example.com", "name": "User 1"}]
    assert all(set(c) == {"check", "ok", "detail"} for c in doc["trace"])


def test_json_user_is_null_before_the_lookup() -> None:
    doc = dial([user(1, "101")], "legacy-ivr", "101", "audio").to_json()
    assert doc["user"] is None and doc["missed_call_notified"] == []
    assert doc["reaches_user"] is False


@given(digits=st.text(max_size=8), stage=st.sampled_from(STAGES), api=st.booleans())
def test_any_digits_give_an_outcome_never_an_exception(
    digits: str, stage: Stage, api: bool
) -> None:
    users = [user(1, "101"), user(2, "007", outgoing_only=True)]
    result = dial(users, "legacy-ivr", digits, stage, api_transfer=api)
    assert result.outcome in OUTCOMES
    if not api and stage in ("welcome", "ivr") and result.outcome != "invalid-sequence":
        assert len(result.digits) == 3 and result.digits.isascii() and result.digits.isdigit()


# -- finding NUMBER -----------------------------------------------------------------------


def numbers_account() -> Account:
    return Account.of(
        [user(1, "101")],
        [
            number(1, "smartflows", [], name="Paris Support", digits="+33 1 76 36 06 95"),
            number(2, "legacy-ivr", [], name="NYC", digits="+1 (212) 555-0100"),
            number(3, "legacy-classic", [], name="London", digits="+44 20 7946 0000"),
        ],
    )


@pytest.mark.parametrize(
    ("text", "nid"),
    [
        ("1", 1),
        (" 2 ", 2),
        ("Paris Support", 1),
        ("paris support", 1),
        ("NYC", 2),
        ("+33 1 76 36 06 95", 1),
        ("33176360695", 1),
        ("+33176360695", 1),
        ("+33-1-76-36-06-95", 1),
        ("0033 1 76 36 06 95", 1),
        ("01 76 36 06 95", 1),
        ("12125550100", 2),
        ("+1 212-555-0100", 2),
        ("020 7946 0000", 3),
    ],
)
def test_number_by_id_name_or_digits(text: str, nid: int) -> None:
    assert find_number(numbers_account(), text).id == nid


@pytest.mark.parametrize("text", ["Paris", "4", "+33 1 76 36 06 96", "", "support"])
def test_an_unknown_number_is_a_usage_error_listing_candidates(text: str) -> None:
    with pytest.raises(UsageError) as caught:
        find_number(numbers_account(), text)
    assert caught.value.exit_code == EXIT_USAGE
    assert "not a number of this account" in caught.value.message
    assert caught.value.hint is not None
    assert "1 'Paris Support'" in caught.value.hint and "3 'London'" in caught.value.hint


def test_an_ambiguous_number_lists_what_matched() -> None:
    account = Account.of(
        [],
        [number(7, "smartflows", [], name="Sales"), number(8, "smartflows", [], name="7")],
    )
    with pytest.raises(UsageError) as caught:
        find_number(account, "7")
    message = caught.value.message
    assert "ambiguous" in message and "7 'Sales'" in message and "8 '7'" in message
    assert "by id" in message and "by name" in message


def test_an_account_without_numbers_says_so() -> None:
    with pytest.raises(UsageError) as caught:
        find_number(Account.of([]), "1")
    assert caught.value.hint == "the account has no numbers"


def test_a_long_candidate_list_is_cut() -> None:
    account = Account.of([], [number(i, "smartflows", []) for i in range(1, 21)])
    with pytest.raises(UsageError) as caught:
        find_number(account, "nope")
    assert caught.value.hint is not None and "and 12 more" in caught.value.hint


@given(st.text(max_size=30))
def test_any_number_text_finds_one_number_or_raises_a_usage_error(text: str) -> None:
    try:
        found = find_number(numbers_account(), text)
    except UsageError as err:
        assert "\n" not in err.message
    else:
        assert found.id in (1, 2, 3)
