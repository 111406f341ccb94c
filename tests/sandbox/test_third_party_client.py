"""A third-party client walks the sandbox as it walks the live API.

``aircall-api`` (PyPI; a Python client of Aircall's public API) reads one page per call and
leaves paging to its caller: ``Page.has_next`` is true while ``meta.next_page_link`` is
set, and its documented loop asks again for ``page=meta.current_page + 1``. It never
follows the link itself, and it refuses a ``per_page`` outside 1-50 before sending
anything. Against a sandbox that sent no links, that loop stopped after page one.

The first test pages exactly that way through the WSGI app, so it runs everywhere. The
second drives the real library against a real ``sandbox serve`` socket when it is
installed (it is not a dependency of this project; it declares Python 3.13 but runs on
3.11: ``pip install --ignore-requires-python aircall-api``).
"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from aircall_ext.sandbox.app import SandboxApp
from aircall_ext.sandbox.demo import generate_account
from aircall_ext.sandbox.server import AccessLog, SandboxServer

USERS = 1234
CREDENTIALS = ("api-id", "api-token")
# What aircall-api's models require of a v2 user and of a number (their fields without a
# default); a page whose items lack one of them fails to parse there.
USER_REQUIRED = {
    "id", "direct_link", "name", "email", "created_at", "available", "availability_status",
    "wrap_up_time",
}  # fmt: skip
NUMBER_REQUIRED = {
    "id", "direct_link", "name", "digits", "created_at", "country", "time_zone",
    "live_recording_activated",
}  # fmt: skip


class LikeAircallApi:
    """The paging of aircall-api's ``UserV2Resource``, over httpx."""

    def __init__(self, http: httpx.Client) -> None:
        self.http = http
        self.requests = 0

    def _list(self, path: str, key: str, page: int, per_page: int) -> tuple[list[Any], Any]:
        assert 1 <= per_page <= 50  # the library's own check, before any request
        self.requests += 1
        body = self.http.get(path, params={"page": page, "per_page": per_page})
        body.raise_for_status()
        data = body.json()
        return data.get(key) or [], data.get("meta")

    def list_users(self, page: int = 1, per_page: int = 20) -> tuple[list[Any], Any]:
        return self._list("/v2/users", "users", page, per_page)

    def get_numbers(self, user_id: int, page: int = 1, per_page: int = 20) -> tuple[list[Any], Any]:
        return self._list(f"/v2/users/{user_id}/numbers", "numbers", page, per_page)


def has_next(meta: Any) -> bool:
    return bool(meta and meta.get("next_page_link"))


def walk_users(client: LikeAircallApi, per_page: int) -> list[Any]:
    users, meta = client.list_users(per_page=per_page)
    walked = list(users)
    while has_next(meta):
        users, meta = client.list_users(page=meta["current_page"] + 1, per_page=per_page)
        walked += users
    return walked


@pytest.mark.parametrize("per_page", [50, 20])
def test_a_client_paging_like_aircall_api_reaches_the_last_user(per_page: int) -> None:
    account = generate_account(USERS, seed=2)
    app = SandboxApp(account, credentials=CREDENTIALS)
    with httpx.Client(
        transport=httpx.WSGITransport(app=app), base_url="https://api.aircall.io", auth=CREDENTIALS
    ) as http:
        client = LikeAircallApi(http)
        walked = walk_users(client, per_page)
        assert [u["id"] for u in walked] == [u["id"] for u in account.users()]
        assert client.requests == -(-USERS // per_page)
        assert all(set(u) >= USER_REQUIRED for u in walked)
        member = account.numbers()[0]["users"][0]["id"]
        numbers, meta = client.get_numbers(member)
        assert [n["id"] for n in numbers] == [n["id"] for n in account.numbers_of(member)]
        assert numbers and all(set(n) >= NUMBER_REQUIRED for n in numbers)
        assert not has_next(meta)


# -- the real library against a real server ------------------------------------------------


# The test extra installs it where it installs: it declares Python >= 3.13.
THIRD_PARTY_NOT_INSTALLED = (
    "aircall-api is not installed (the test extra brings it on Python 3.13 and later; on 3.11:"
    " pip install --ignore-requires-python aircall-api)"
)


@pytest.fixture
def served() -> Iterator[tuple[str, Any]]:
    """``sandbox serve`` on a free loopback port, in a thread: its URL and its account."""
    account = generate_account(USERS, seed=2)
    app = SandboxApp(account, credentials=CREDENTIALS)
    server = SandboxServer("127.0.0.1", 0, app, AccessLog(io.StringIO()))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server.url, account
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=30)


def test_the_aircall_api_library_walks_sandbox_serve_by_has_next(
    served: tuple[str, Any],
) -> None:
    aircall = pytest.importorskip("aircall", reason=THIRD_PARTY_NOT_INSTALLED)
    url, account = served
    client = aircall.AircallClient(api_id=CREDENTIALS[0], api_token=CREDENTIALS[1])
    client.base_url, client.base_url_v2 = f"{url}/v1", f"{url}/v2"
    page = client.userv2.list_users(per_page=50)
    walked = list(page)
    while page.has_next:
        page = client.userv2.list_users(page=page.meta.current_page + 1, per_page=50)
        walked += page
    assert [u.id for u in walked] == [u["id"] for u in account.users()]
    assert page.meta.total == USERS and not page.has_next
    member = account.numbers()[0]["users"][0]["id"]
    numbers = client.userv2.get_numbers(member)
    assert [n.id for n in numbers] == [n["id"] for n in account.numbers_of(member)]
    assert client.userv2.get(account.users()[-1]["email"].upper()).id == account.users()[-1]["id"]
    assert client.company.get().users_count == USERS
