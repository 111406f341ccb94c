"""The state document, the database path, the demo account, the generator, the in-process app."""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path
from typing import Any

import httpx
import pytest

from aircall_ext.api.models import Number, User
from aircall_ext.core.extensions import ExtensionProblem, parse_extension
from aircall_ext.errors import ConfigError
from aircall_ext.sandbox import build_inprocess_app, default_state_path
from aircall_ext.sandbox.demo import SAMPLE_PLAN, demo_account, generate_account
from aircall_ext.sandbox.state import SandboxAccount, StateInvalid, parse_state
from aircall_ext.sandbox.store import load_or_seed
from tests.scenes import read_state, save_state


def minimal(**changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "company": {"name": "Tiny"},
        "users": [{"id": 1, "name": "Ann", "email": "ann@example.com", "extension": "042"}],
        "numbers": [{"id": 9, "name": "Main", "digits": "+1 555", "users": [{"id": 1}]}],
    }
    doc.update(changes)
    return doc


# -- paths --------------------------------------------------------------------------------


def test_state_path_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRCALL_EXT_SANDBOX_STATE", "/somewhere/state.db")
    assert default_state_path() == Path("/somewhere/state.db")


def test_state_path_defaults_to_the_user_state_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AIRCALL_EXT_SANDBOX_STATE")
    path = default_state_path()
    assert path.name == "sandbox.db"
    assert "aircall-ext" in path.parts


# -- load and save ------------------------------------------------------------------------


def test_a_missing_database_is_seeded_with_the_demo_account(tmp_path: Path) -> None:
    path = tmp_path / "new" / "state.db"
    account = load_or_seed(path)
    assert account.document() == demo_account().document()
    assert read_state(path).document() == demo_account().document()


def test_save_then_load_keeps_everything_legacy_damage_and_extra_fields_included(
    tmp_path: Path,
) -> None:
    doc = minimal()
    doc["users"][0]["x_custom"] = {"kept": True}
    doc["users"].append({"id": 2, "name": "Bo", "email": "bo@example.com", "extension": "42"})
    doc["users"].append({"id": 3, "name": "Cy", "email": "cy@example.com", "extension": "42"})
    path = tmp_path / "state.db"
    save_state(path, SandboxAccount.from_document(doc))
    loaded = read_state(path).document()
    assert loaded["users"][0]["x_custom"] == {"kept": True}
    assert [u["extension"] for u in loaded["users"]] == ["042", "42", "42"]
    assert loaded["company"] == {"name": "Tiny", "users_count": 3, "numbers_count": 1}


def test_missing_optional_fields_get_the_api_defaults() -> None:
    user = SandboxAccount.from_document(minimal()).users()[0]
    assert user["available"] is True
    assert user["availability_status"] == "available"
    assert user["outgoing_only"] is False
    assert list(user)[:3] == ["id", "name", "email"]  # the API's field order


def test_membership_comes_from_the_distributions_not_a_users_v1_numbers() -> None:
    doc = minimal()
    doc["users"][0]["numbers"] = [{"id": 12345, "name": "stale", "digits": "?"}]
    account = SandboxAccount.from_document(doc)
    assert "numbers" not in account.users()[0]
    assert [n["id"] for n in account.numbers_of(1)] == [9]


def test_a_users_teams_and_numbers_are_the_records_that_list_them() -> None:
    account = generate_account(300, seed=2, numbers=7)
    for user in account.users():
        uid = user["id"]
        assert account.teams_of(uid) == [t for t in account.teams() if uid in t["users"]]
        assert account.numbers_of(uid) == [
            n for n in account.numbers() if {"id": uid} in n["users"]
        ]
    assert account.teams_of(1) == [] == account.numbers_of(1)  # nobody


def test_save_replaces_the_content_and_closes_the_database(tmp_path: Path) -> None:
    path = tmp_path / "dir" / "state.db"
    save_state(path, demo_account())
    save_state(path, generate_account(3))
    assert os.listdir(path.parent) == ["state.db"]  # no -wal/-shm left: every connection closed
    assert read_state(path).document() == generate_account(3).document()


def test_a_failed_save_keeps_the_old_content(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aircall_ext.sandbox import store

    path = tmp_path / "state.db"
    save_state(path, demo_account())
    real_fill = store._fill

    def fill_then_fail(conn: Any, account: SandboxAccount) -> None:
        real_fill(conn, account)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store, "_fill", fill_then_fail)
    with pytest.raises(OSError, match="No space left"):
        save_state(path, generate_account(3))
    assert read_state(path).document() == demo_account().document()


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{", "not valid JSON (line 1"),
        ("[]", "expected a JSON object"),
        (json.dumps(minimal(users={})), '"users" must be a list'),
        (json.dumps(minimal(users=[{"name": "x"}])), 'users[0]: "id" must be a positive integer'),
        (json.dumps(minimal(users=[{"id": 1, "name": "x"}])), 'users[0]: "email" is missing'),
        (json.dumps(minimal(users=[{"id": True, "name": "x", "email": "e"}])), '"id" must be'),
        (
            json.dumps(minimal(users=[{"id": 1, "name": "x", "email": "e", "extension": 101}])),
            "users[0].extension: unexpected int",
        ),
        (
            json.dumps(
                minimal(users=[{"id": 1, "name": "x", "email": "e", "availability_status": "?"}])
            ),
            "users[0].availability_status: must be one of",
        ),
        (
            json.dumps(minimal(users=[{"id": 1, "name": "a", "email": "a"}] * 2, numbers=[])),
            "users[1]: duplicate id 1",
        ),
        (
            json.dumps(
                minimal(numbers=[{"id": 9, "name": "M", "digits": "1", "users": [{"id": 5}]}])
            ),
            "numbers[0].users[0]: no user has id 5",
        ),
        (
            json.dumps(
                minimal(numbers=[{"id": 9, "name": "M", "digits": "1", "users": [{"id": 1}] * 2}])
            ),
            "numbers[0].users[1]: user 1 is listed twice",
        ),
        (json.dumps(minimal(company=[])), '"company" must be an object'),
    ],
)
def test_an_invalid_state_document_is_one_line_naming_the_problem(
    content: str, problem: str
) -> None:
    with pytest.raises(StateInvalid) as caught:
        parse_state(content)
    assert problem in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_json_state_file_at_the_database_path_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_text(json.dumps(minimal()), encoding="utf-8")
    before = path.read_bytes()
    with pytest.raises(ConfigError) as caught:
        read_state(path)
    assert str(path) in str(caught.value) and "JSON document" in str(caught.value)
    assert caught.value.hint and f"sandbox reset --from {path}" in caught.value.hint
    assert path.read_bytes() == before


def test_an_unreadable_state_path_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read sandbox state"):
        read_state(tmp_path)  # a directory


def test_reading_a_missing_database_does_not_create_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no sandbox database"):
        read_state(tmp_path / "none.db")
    assert not (tmp_path / "none.db").exists()


def test_validation_errors_are_value_errors_for_other_callers() -> None:
    with pytest.raises(StateInvalid):
        SandboxAccount.from_document({"users": "nope"})


# -- the demo account ---------------------------------------------------------------------


def test_the_demo_shows_every_feature() -> None:
    account = demo_account()
    users = [User.model_validate(u) for u in account.users()]
    numbers = [Number.model_validate(n) for n in account.numbers()]
    extensions = [u.extension for u in users if u.extension is not None]
    assert 10 <= len(users) <= 20
    assert any(extensions.count(e) > 1 for e in extensions), "a collision"
    assert any(u.outgoing_only and u.extension for u in users), "a dead extension"
    assert any(u.extension is None for u in users), "a user without extension"
    assert any(u.availability_status == "unavailable" and u.available for u in users)
    assert any(not u.available and u.availability_status != "unavailable" for u in users)
    problems = [parse_extension(e) for e in extensions]
    assert any(isinstance(p, ExtensionProblem) for p in problems), "format damage"
    assert "007" in extensions
    assert sorted(n.routing for n in numbers) == ["legacy-classic", "legacy-ivr", "smartflows"]
    assert all(n.users for n in numbers), "every number has a distribution"
    classic = next(n for n in numbers if n.routing == "legacy-classic")
    assert len(classic.users) < len(users), "someone is outside the classic distribution"


def test_demo_emails_are_unique_and_reserved_for_examples() -> None:
    emails = [u["email"] for u in demo_account().users()]
    assert len(set(emails)) == len(emails)
    assert all(e.endswith("@example.com") for e in emails)


# -- the generator ------------------------------------------------------------------------


def test_the_generator_is_deterministic() -> None:
    assert generate_account(50, seed=4).document() == generate_account(50, seed=4).document()
    assert generate_account(50, seed=4).document() != generate_account(50, seed=5).document()


@pytest.mark.parametrize("size", [0, 1, 900, 1000])
def test_generated_extensions_are_valid_and_unique(size: int) -> None:
    account = generate_account(size)
    extensions = [u["extension"] for u in account.users()]
    assert len(extensions) == size
    assert all(isinstance(e, str) and parse_extension(e) == e for e in extensions)
    assert len(set(extensions)) == size


def test_past_1000_users_the_rest_have_no_extension() -> None:
    extensions = [u["extension"] for u in generate_account(1005).users()]
    assert sum(e is None for e in extensions) == 5
    assert len({e for e in extensions if e}) == 1000


def test_generated_numbers_cycle_the_routing_modes() -> None:
    numbers = [Number.model_validate(n) for n in generate_account(30, numbers=4).numbers()]
    assert [n.routing for n in numbers] == [
        "smartflows",
        "legacy-classic",
        "legacy-ivr",
        "smartflows",
    ]
    assert all(0 < len(n.users) < 30 for n in numbers)


# -- the in-process entry point -----------------------------------------------------------


def inprocess(path: Path | None = None) -> httpx.Client:
    app = build_inprocess_app(path)
    return httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://sandbox.invalid")


def test_inprocess_app_persists_every_write(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    http = inprocess(path)
    response = http.put("/v2/users/481002", json={"extension": "150"})
    assert response.status_code == 200
    assert "x-aircallapi-limit" not in response.headers  # no rate limit in-process
    stored = read_state(path).user(481002)
    assert stored is not None and stored["extension"] == "150"
    again = inprocess(path).get("/v2/users/481002").json()["user"]
    assert again["extension"] == "150"


def test_inprocess_app_uses_the_configured_state_path() -> None:
    path = default_state_path()  # AIRCALL_EXT_SANDBOX_STATE from the isolation fixture
    assert not path.exists()
    assert inprocess().get("/v1/company").status_code == 200
    assert path.exists()


def test_inprocess_app_refuses_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_text('{"users": 3}', encoding="utf-8")
    with pytest.raises(ConfigError, match="not a sandbox database"):
        build_inprocess_app(path)
    assert path.read_text(encoding="utf-8") == '{"users": 3}'


def test_inprocess_app_sees_writes_made_through_another_app(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    first, second = inprocess(path), inprocess(path)
    assert second.get("/v2/users/481002").json()["user"]["extension"] == "102"
    assert first.put("/v2/users/481002", json={"extension": "150"}).status_code == 200
    assert second.get("/v2/users/481002").json()["user"]["extension"] == "150"
    taken = second.put("/v2/users/481003", json={"extension": "150"})
    assert taken.status_code == 422


# -- the demo's teams against the sample numbering plan -------------------------------------


def _extensions(ranges: str | list[str]) -> set[str]:
    spans = [ranges] if isinstance(ranges, str) else ranges
    found: set[str] = set()
    for span in spans:
        low, high = span.split("-")
        found |= {f"{n:03d}" for n in range(int(low), int(high) + 1)}
    return found


def test_the_demos_teams_break_the_sample_plan_once_in_each_way() -> None:
    plan = tomllib.loads(SAMPLE_PLAN)
    account = demo_account()
    teams = {t["name"]: t for t in account.teams()}
    ranges = {name: _extensions(spans) for name, spans in plan["teams"].items()}
    reserved = set(plan["reserved"])
    held = {u["id"]: u.get("extension") for u in account.users()}

    def allowed(user_id: int) -> set[str]:
        mine = [ranges[t["name"]] for t in account.teams_of(user_id) if t["name"] in ranges]
        return (set().union(*mine) if mine else _extensions(plan["default"])) - reserved

    in_teams = {uid for t in account.teams() for uid in t["users"]}
    out_of_range = {uid for uid in in_teams if held[uid] not in allowed(uid)}
    assert out_of_range == {481017}  # Tariq: Sales, on 501
    assert {uid for uid, ext in held.items() if ext in reserved} == {481015}  # Omar on 100
    assert set(plan["teams"]) - set(teams) == {"Billing"}
    full = {name for name, exts in ranges.items() if exts <= set(held.values())}
    assert full == {"Reception"}
    assert [u for u in held if len(account.teams_of(u)) > 1] == [481014]  # Noor
    assert held[481014] in allowed(481014)
    assert len(held) - len(in_teams) == 13  # the first twelve and Omar: the default range


def test_the_sample_plan_in_the_docs_is_the_demos() -> None:
    page = (Path(__file__).parents[2] / "docs" / "sandbox.md").read_text(encoding="utf-8")
    assert f"```toml\n{SAMPLE_PLAN}```" in page
