"""assign against respx: exactly the writes promised, never a moment with two users on one."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx

from aircall_ext.api.client import ApiClient
from aircall_ext.api.models import User
from aircall_ext.core.account import UserRef
from aircall_ext.errors import ApiError, NotFound, Refused, Remedy
from aircall_ext.services.assign import apply_plan, prepare_assign
from tests.conftest import RunCli
from tests.scenes import env_credentials, team

BASE = "https://api.test"


class FakeApi:
    """Users in memory; records every PUT and whether it left two users on one extension."""

    def __init__(self, users: list[dict[str, Any]]) -> None:
        self.users = {u["id"]: dict(u) for u in users}
        self.puts: list[tuple[int, str]] = []
        self.requests: list[str] = []
        self.collided_after: list[int] = []  # indexes of PUTs after which a collision existed
        self.fail: dict[int, int] = {}  # PUT index -> HTTP status to answer instead
        self.refusal: dict[str, Any] = {"error": "Extension already taken"}  # its body
        self.meanwhile: dict[int, tuple[int, str]] = {}  # PUT index -> (user, ext) set first
        self.ignore_extension = False  # answer 200 without applying, like an API that drops it
        self.store_nothing = False  # answer 200 echoing the new value, and store nothing

    def list_users(self, request: httpx.Request) -> httpx.Response:
        self.requests.append("GET /v2/users")
        meta = {"count": len(self.users), "total": len(self.users), "next_page_link": None}
        return httpx.Response(200, json={"users": list(self.users.values()), "meta": meta})

    def get_user(self, request: httpx.Request, user_id: str) -> httpx.Response:
        self.requests.append(f"GET /v2/users/{user_id}")
        return httpx.Response(200, json={"user": self.users[int(user_id)]})

    def put_user(self, request: httpx.Request, user_id: str) -> httpx.Response:
        index = len(self.puts)
        extension = json.loads(request.content)["extension"]
        self.puts.append((int(user_id), extension))
        self.requests.append(f"PUT /v2/users/{user_id}")
        if index in self.meanwhile:
            other, taken = self.meanwhile[index]
            self.users[other]["extension"] = taken
        if index in self.fail:
            return httpx.Response(self.fail[index], json=self.refusal)
        if self.ignore_extension:
            return httpx.Response(200, json={"user": self.users[int(user_id)]})
        if self.store_nothing:
            user = {**self.users[int(user_id)], "extension": extension}
            return httpx.Response(200, json={"user": user})
        self.users[int(user_id)]["extension"] = extension
        held = Counter(u["extension"] for u in self.users.values() if u["extension"])
        if any(n > 1 for n in held.values()):
            self.collided_after.append(index)
        return httpx.Response(200, json={"user": self.users[int(user_id)]})


@pytest.fixture
def api() -> Iterator[FakeApi]:
    fake = FakeApi(team({1: "101", 2: "102", 3: None, 4: "100"}))
    with respx.mock(assert_all_called=False) as mock:
        mock.get(f"{BASE}/v2/users").mock(side_effect=fake.list_users)
        mock.put(url__regex=rf"^{BASE}/v2/users/(?P<user_id>[0-9]+)$").mock(
            side_effect=fake.put_user
        )
        mock.get(url__regex=rf"^{BASE}/v2/users/(?P<user_id>[0-9]+)$").mock(
            side_effect=fake.get_user
        )
        yield fake


@pytest.fixture
def client() -> Iterator[ApiClient]:
    def no_sleep(seconds: float) -> None:
        raise AssertionError(f"slept {seconds} s")

    with ApiClient(BASE, "id", "token", sleep=no_sleep, random=lambda: 0.5) as api_client:
        yield api_client


def assign(client: ApiClient, user_id: int, extension: str, *, swap: bool = False) -> User:
    plan = prepare_assign(client, UserRef(str(user_id), user_id=user_id), extension, swap=swap)
    return apply_plan(client, plan)


def test_plain_assign_sends_one_put_and_reads_the_user_back(
    api: FakeApi, client: ApiClient
) -> None:
    user = assign(client, 1, "150")
    assert api.requests == ["GET /v2/users", "PUT /v2/users/1", "GET /v2/users/1"]
    assert user.extension == "150"


@pytest.fixture
def live_cli(api: FakeApi, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch) -> RunCli:
    """The CLI, configured for the fake API."""
    env_credentials(monkeypatch, "id", "token", base_url=BASE)
    return run_cli


DID_NOT_HAPPEN = (
    "user 1 (ann@example.com) still has extension 101, not 150: the change did not happen"
)


@pytest.mark.parametrize(
    ("how", "message"),
    [
        # 200 with the new value echoed: only reading the user back shows the truth
        ("store_nothing", f"the API answered the write, but reading back {DID_NOT_HAPPEN}"),
        # 200 with the old value: the answer itself shows it
        (
            "ignore_extension",
            "setting 150 on user 1 (ann@example.com) failed: "
            f"the API answered the write {DID_NOT_HAPPEN}",
        ),
    ],
)
def test_a_write_that_did_not_happen_is_never_reported_as_done(
    api: FakeApi, client: ApiClient, live_cli: RunCli, how: str, message: str
) -> None:
    """The API answers 200 and stores nothing."""
    setattr(api, how, True)
    with pytest.raises(ApiError) as caught:
        assign(client, 1, "150")
    assert caught.value.message == message
    assert caught.value.exit_code == 4
    result = live_cli("assign", "1", "150")
    assert result.exit_code == 4
    assert "assigned" not in result.stderr and "the change did not happen" in result.stderr


def test_no_op_sends_no_write(api: FakeApi, client: ApiClient) -> None:
    assert assign(client, 1, "101").extension == "101"
    assert api.requests == ["GET /v2/users"]


def test_refused_assign_sends_no_put(api: FakeApi, client: ApiClient) -> None:
    with pytest.raises(Refused, match=r"held by user 2 \(bob@example.com\)"):
        assign(client, 1, "102")
    assert api.puts == []


def test_swap_sends_three_puts_and_never_collides(api: FakeApi, client: ApiClient) -> None:
    user = assign(client, 1, "102", swap=True)
    assert api.puts == [(2, "103"), (1, "102"), (2, "101")]  # 100 is taken: park on 103
    # one listing read, the three writes, the user read back once
    assert api.requests == [
        "GET /v2/users",
        *(f"PUT /v2/users/{u}" for u in (2, 1, 2)),
        "GET /v2/users/1",
    ]
    assert api.collided_after == []
    assert {i: u["extension"] for i, u in api.users.items()} == {
        1: "102",
        2: "101",
        3: None,
        4: "100",
    }
    assert user.id == 1 and user.extension == "102"


def test_swap_without_an_extension_to_give_sends_nothing(api: FakeApi, client: ApiClient) -> None:
    with pytest.raises(Refused, match="has no extension to give"):
        assign(client, 3, "101", swap=True)
    assert api.puts == []


LIVE_REFUSAL = {
    "error": "Bad Request",
    "data": None,
    "message": "BAD_REQUEST",
    "errors": "Extension 150 is already used by another user of this company.",
    "troubleshoot": "BAD_REQUEST",
    "success": False,
}


@pytest.mark.parametrize("status", [400, 422])
@pytest.mark.parametrize(
    ("meanwhile", "why", "hint"),
    [
        (
            {0: (3, "150")},  # cy takes 150 just before our write
            "extension 150 is now held by user 3 (cy@example.com)",
            ("see ", Remedy("next-free"), ", or add --swap to exchange extensions"),
        ),
        (
            {},
            "Extension 150 is already used by another user of this company",
            ("nothing was changed",),
        ),
    ],
)
def test_a_refused_write_is_explained_by_one_read_of_the_account(
    api: FakeApi,
    client: ApiClient,
    status: int,
    meanwhile: dict[int, tuple[int, str]],
    why: str,
    hint: tuple[object, ...],
) -> None:
    """A refusal is never retried nor taken at its word: one read of the account says who
    holds the extension now; when nobody does, the API's own sentence is the reason."""
    api.fail = {0: status}
    api.refusal = LIVE_REFUSAL
    api.meanwhile = meanwhile
    with pytest.raises(Refused) as caught:
        assign(client, 1, "150")
    assert caught.value.message == f"setting 150 on user 1 (ann@example.com) was refused: {why}"
    assert (caught.value.exit_code, caught.value.hint_parts) == (1, hint)
    assert api.requests == ["GET /v2/users", "PUT /v2/users/1", "GET /v2/users"]


def test_swap_stopped_after_parking_says_how_to_undo(api: FakeApi, client: ApiClient) -> None:
    api.fail = {1: 422}
    with pytest.raises(Refused, match="swap stopped after 1 of 3 writes") as caught:
        assign(client, 1, "102", swap=True)
    assert caught.value.exit_code == 1
    assert "parking extension 103" in (caught.value.hint or "")
    assert "`aircall-ext assign 2 102`" in (caught.value.hint or "")
    assert len(api.puts) == 2
    assert api.collided_after == []


def test_swap_stopped_before_last_write_says_how_to_finish(api: FakeApi, client: ApiClient) -> None:
    api.fail = {2: 404}
    with pytest.raises(NotFound, match="swap stopped after 2 of 3 writes") as caught:
        assign(client, 1, "102", swap=True)
    assert "`aircall-ext assign 2 101`" in (caught.value.hint or "")


def test_cli_dry_run_sends_no_put(api: FakeApi, live_cli: RunCli) -> None:
    result = live_cli("assign", "1", "102", "--swap", "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert api.puts == []
    result = live_cli("assign", "1", "102", "--swap")
    assert result.exit_code == 0, result.stderr
    assert len(api.puts) == 3
