"""The client against responses in the live API's shapes (users on /v2, numbers and teams
on /v1).

The fixtures in tests/fixtures/live are written from the captured live shapes: pages with
full ``meta`` and absolute links, and pages without the link keys; the 400 past the
10,000-record cap and the 400 of a uniqueness refusal (its shape is live, its sentence
ours); 401 and 403 bodies; number listing items without ``users`` or
``flow_editor_enabled`` (``numbers_page_v1_live.json`` has exactly the live key set;
``numbers_page_v1.json`` adds the flags, absent, null and set, to test the assumptions); a
company without ``id``; teams whose members carry no extension; and users with every field,
fields absent, null, of an unexpected type, or extra.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from aircall_ext.api.client import LISTING_CAP, ApiClient
from aircall_ext.api.models import Number, User
from aircall_ext.errors import ApiError, ConfigError, NotFound, Unprocessable
from tests.conftest import RunCli
from tests.scenes import env_credentials

BASE = "https://api.live.test"
LIVE = Path(__file__).parent.parent / "fixtures" / "live"
# The key set of a live number listing item, as captured.
LIVE_NUMBER_KEYS = {
    "id", "direct_link", "name", "digits", "country", "time_zone", "open",
    "availability_status", "is_ivr", "live_recording_activated", "priority", "messages",
    "created_at",
}  # fmt: skip


def fixture(name: str) -> Any:
    return json.loads((LIVE / name).read_text(encoding="utf-8"))


def client(warnings: list[str] | None = None) -> ApiClient:
    return ApiClient(
        BASE,
        "id",
        "token",
        sleep=lambda _s: None,
        warn=warnings.append if warnings is not None else None,
    )


def v2_user(user_id: int, extension: str | None) -> dict[str, Any]:
    """A v2 listing item: the live field set, no ``outgoing_only``, no ``numbers``."""
    user = dict(fixture("users_page_v2.json")["users"][0])
    user.update(id=user_id, email=f"user{user_id}@example.com", extension=extension)
    return user


class LiveUsers:
    """``/v2/users`` as the live API pages it: full ``meta`` with absolute links on the
    request's host, ``per_page`` clamped (to 50 live), a page reaching past 10,000 records
    refused with the live 400. ``total`` overrides the count ``meta`` reports; ``between``
    runs after a page is served, before the next is asked for (someone else's change)."""

    def __init__(
        self,
        users: list[dict[str, Any]],
        *,
        total: int | None = None,
        clamp: int = 50,
        link_host: str | None = None,
        link_extra: str = "",
    ) -> None:
        self.users = users
        self.total = total
        self.clamp = clamp
        self.link_host = link_host
        self.link_extra = link_extra
        self.between: dict[int, Callable[[], None]] = {}
        self.served: list[tuple[int, int]] = []  # (page, per_page) of every answer

    def __call__(self, request: httpx.Request) -> httpx.Response:
        params = request.url.params
        page = int(params.get("page", "1"))
        per_page = min(int(params.get("per_page", "20")), self.clamp)
        self.served.append((page, per_page))
        if page * per_page > LISTING_CAP:
            return httpx.Response(400, json=fixture("page_out_of_bounds_400.json"))
        chunk = self.users[(page - 1) * per_page : page * per_page]
        origin = self.link_host or f"{request.url.scheme}://{request.url.host}"

        def link(number: int) -> str:
            query = f"page={number}&per_page={per_page}{self.link_extra}"
            return f"{origin}{request.url.path}?{query}"

        meta = {
            "count": len(chunk),
            "total": len(self.users) if self.total is None else self.total,
            "current_page": page,
            "per_page": per_page,
            "next_page_link": link(page + 1) if page * per_page < len(self.users) else None,
            "previous_page_link": link(page - 1) if page > 1 else None,
        }
        answer = httpx.Response(200, json={"users": chunk, "meta": meta})
        if (change := self.between.pop(page, None)) is not None:
            change()
        return answer


def numbered(count: int) -> list[dict[str, Any]]:
    """Users 1..count holding 100, 101, ... in order."""
    return [v2_user(i, f"{99 + i:03d}") for i in range(1, count + 1)]


def v2_pages(users: list[dict[str, Any]]) -> Any:
    """A respx side effect serving ``users`` as /v2/users does: meta without links."""

    def answer(request: httpx.Request) -> httpx.Response:
        page, per_page = int(request.url.params["page"]), int(request.url.params["per_page"])
        chunk = users[(page - 1) * per_page : page * per_page]
        meta = {"count": len(chunk), "total": len(users), "current_page": page}
        return httpx.Response(200, json={"users": chunk, "meta": meta})

    return answer


# -- reading the shapes -------------------------------------------------------------------


@respx.mock
def test_a_user_with_every_live_field_and_extras_is_read() -> None:
    respx.get(f"{BASE}/v2/users/1209384").respond(json=fixture("user_full.json"))
    user = client().get_user(1209384)
    assert (user.extension, user.availability_status, user.is_unavailable) == (
        "001",
        "custom",
        False,
    )
    assert user.outgoing_only is None  # the live API does not send this tool's field
    assert (user.default_number_id, user.time_zone) == (884201, "Europe/Paris")


@respx.mock
def test_absent_null_and_integer_extensions_in_a_v2_page() -> None:
    route = respx.get(f"{BASE}/v2/users").respond(json=fixture("users_page_v2.json"))
    users = {u.id: u for u in client().list_users()}
    assert route.call_count == 1  # meta.total reached: no second request
    assert users[1209385].extension is None  # key absent
    assert users[1209386].extension is None  # null
    assert users[1209387].extension == "7"  # a number: read as damaged text, flagged later
    assert users[1209385].is_unavailable  # available: false (working hours)
    assert users[1209386].is_unavailable and users[1209386].name is None


@respx.mock
def test_number_listing_without_users_or_flags_never_breaks_and_says_what_is_assumed() -> None:
    respx.get(f"{BASE}/v1/numbers").respond(json=fixture("numbers_page_v1.json"))
    numbers = {n.id: n for n in client().list_numbers()}
    assert all(n.users is None for n in numbers.values())
    assert (numbers[884201].routing, numbers[884201].routing_assumed) == ("smartflows", True)
    assert (numbers[884202].routing, numbers[884202].routing_assumed) == ("legacy-classic", True)
    assert (numbers[884203].routing, numbers[884203].routing_assumed) == ("smartflows", True)
    assert "is_ivr" in (numbers[884202].routing_assumption or "")


@respx.mock
def test_a_number_detail_nests_full_users() -> None:
    respx.get(f"{BASE}/v1/numbers/884201").respond(json=fixture("number_detail_v1.json"))
    number = client().get_number(884201)
    assert (number.routing, number.routing_assumed) == ("smartflows", False)
    assert [(u.id, u.extension) for u in number.distribution] == [(1209384, "001")]


def test_known_routing_flags_are_not_assumed() -> None:
    legacy_ivr = Number(id=1, flow_editor_enabled=False, is_ivr=True)
    assert (legacy_ivr.routing, legacy_ivr.routing_assumed) == ("legacy-ivr", False)
    assert Number(id=2, flow_editor_enabled=True, is_ivr=None).routing_assumption is None


# -- paging -------------------------------------------------------------------------------


@respx.mock
def test_123_users_on_v2_pages_without_next_page_link_are_read_whole() -> None:
    users = [v2_user(i, f"{i % 1000:03d}") for i in range(1, 124)]
    route = respx.get(f"{BASE}/v2/users").mock(side_effect=v2_pages(users))
    assert [u.id for u in client().list_users()] == list(range(1, 124))
    assert [r.request.url.params["page"] for r in route.calls] == ["1", "2", "3"]


@pytest.mark.parametrize(("count", "requests"), [(0, 1), (60, 2), (100, 3)])
@respx.mock
def test_without_meta_a_full_page_means_read_on(count: int, requests: int) -> None:
    users = [v2_user(i, None) for i in range(1, count + 1)]

    def answer(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        return httpx.Response(200, json={"users": users[(page - 1) * 50 : page * 50]})

    route = respx.get(f"{BASE}/v2/users").mock(side_effect=answer)
    assert len(client().list_users()) == count
    assert route.call_count == requests


@respx.mock
def test_next_page_link_sent_as_null_ends_the_listing() -> None:
    users = [v2_user(i, None) for i in range(1, 51)]
    meta = {"count": 50, "current_page": 1, "next_page_link": None}
    route = respx.get(f"{BASE}/v2/users").respond(json={"users": users, "meta": meta})
    assert len(client().list_users()) == 50
    assert route.call_count == 1


@respx.mock
def test_a_server_that_repeats_a_page_is_an_error_not_an_endless_loop() -> None:
    page = {"users": [v2_user(i, None) for i in range(1, 51)], "meta": {"total": 500}}
    route = respx.get(f"{BASE}/v2/users").respond(json=page)
    with pytest.raises(ApiError, match="page 2 repeats records already read"):
        client().list_users()
    assert route.call_count == 2


@respx.mock
def test_a_listing_that_ends_short_of_its_total_says_so() -> None:
    users = [v2_user(i, None) for i in range(1, 51)]
    answers = iter(
        [
            httpx.Response(200, json={"users": users, "meta": {"total": 70}}),
            httpx.Response(200, json={"users": [], "meta": {"total": 70}}),
        ]
    )
    respx.get(f"{BASE}/v2/users").mock(side_effect=lambda _r: next(answers))
    listing = client().list_users()
    assert len(listing) == 50
    assert listing.incomplete == "the API reported 70 users but listed 50"
    assert not listing.capped


@respx.mock
def test_a_server_that_pages_by_20_is_read_on_by_its_total() -> None:
    users = [v2_user(i, None) for i in range(1, 46)]

    def answer(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        chunk = users[(page - 1) * 20 : page * 20]  # ignores per_page=50
        return httpx.Response(200, json={"users": chunk, "meta": {"total": 45}})

    route = respx.get(f"{BASE}/v2/users").mock(side_effect=answer)
    assert len(client().list_users()) == 45
    assert route.call_count == 3


@respx.mock
def test_live_pages_are_read_by_their_next_page_link() -> None:
    live = LiveUsers(numbered(120), link_extra="&cursor=opaque")
    route = respx.get(f"{BASE}/v2/users").mock(side_effect=live)
    listing = client().list_users()
    assert [u.id for u in listing] == list(range(1, 121))
    assert listing.incomplete is None
    sent = [dict(c.request.url.params) for c in route.calls]
    assert sent == [
        {"page": "1", "per_page": "50"},
        {"page": "2", "per_page": "50", "cursor": "opaque"},
        {"page": "3", "per_page": "50", "cursor": "opaque"},
    ]


@respx.mock
def test_the_last_page_of_the_live_shape_ends_the_listing() -> None:
    last = fixture("users_page_v2_full_meta.json")  # page 2 of 52 users
    first = LiveUsers(numbered(52))  # serves page 1 only

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.params["page"] == "2":
            return httpx.Response(200, json=last)
        return first(request)

    route = respx.get(f"{BASE}/v2/users").mock(side_effect=answer)
    listing = client().list_users()
    assert len(listing) == 52 and listing.incomplete is None
    assert [u.extension for u in listing][-2:] == ["151", "152"]
    assert route.call_count == 2


@pytest.mark.parametrize("elsewhere", ["https://elsewhere.test", "http://api.live.test"])
@respx.mock(assert_all_called=False)
def test_a_next_page_link_off_our_host_is_never_followed(
    respx_mock: respx.MockRouter, elsewhere: str
) -> None:
    """The credentials go with every request: a link to another host or scheme is
    replaced by the page number."""
    live = LiveUsers(numbered(120), link_host=elsewhere, link_extra="&cursor=opaque")
    ours = respx_mock.get(f"{BASE}/v2/users").mock(side_effect=live)
    theirs = respx_mock.route(url__startswith=elsewhere).respond(500)
    assert len(client().list_users()) == 120
    assert not theirs.called
    assert [dict(c.request.url.params) for c in ours.calls][1:] == [
        {"page": "2", "per_page": "50"},
        {"page": "3", "per_page": "50"},
    ]


@respx.mock
def test_a_server_that_clamps_per_page_is_paged_by_the_size_its_meta_says() -> None:
    users = numbered(45)

    def answer(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        chunk = users[(page - 1) * 20 : page * 20]
        meta = {"count": len(chunk), "current_page": page, "per_page": 20}  # no total, no links
        return httpx.Response(200, json={"users": chunk, "meta": meta})

    route = respx.get(f"{BASE}/v2/users").mock(side_effect=answer)
    listing = client().list_users()
    assert len(listing) == 45 and listing.incomplete is None
    assert route.call_count == 3  # 20, 20, then a short page of 5


@pytest.mark.parametrize(("clamp", "pages"), [(50, 200), (40, 250)])
@respx.mock
def test_a_listing_never_asks_past_10000_records_and_says_it_was_capped(
    clamp: int, pages: int
) -> None:
    live = LiveUsers(numbered(LISTING_CAP + 50), clamp=clamp)
    respx.get(f"{BASE}/v2/users").mock(side_effect=live)
    listing = client().list_users()
    assert len(listing) == LISTING_CAP
    assert max(page * size for page, size in live.served) == LISTING_CAP  # never a 400
    assert len(live.served) == pages
    assert listing.capped
    assert listing.incomplete == (
        "the API lists at most 10,000 users, and this account has more (10,050)"
    )


@respx.mock
def test_exactly_10000_users_are_a_whole_listing() -> None:
    live = LiveUsers(numbered(LISTING_CAP))
    respx.get(f"{BASE}/v2/users").mock(side_effect=live)
    listing = client().list_users()
    assert len(listing) == LISTING_CAP and listing.incomplete is None and not listing.capped


@respx.mock
def test_a_user_leaving_while_pages_are_read_makes_the_read_incomplete() -> None:
    """User 1 leaves after page 1: everyone after shifts one place, so user 51, who never
    left, is on no page at all. Only the changing total tells."""
    live = LiveUsers(numbered(120))
    live.between[1] = lambda: live.users.pop(0)
    respx.get(f"{BASE}/v2/users").mock(side_effect=live)
    listing = client().list_users()
    assert 51 not in {u.id for u in listing}
    assert listing.incomplete == (
        "the API's count of users changed while its pages were read (120, then 119): "
        "users were added or removed meanwhile"
    )


@respx.mock
def test_more_users_than_the_total_makes_the_read_incomplete() -> None:
    """A total lower than the users really there: the links still lead to every page."""
    respx.get(f"{BASE}/v2/users").mock(side_effect=LiveUsers(numbered(120), total=100))
    listing = client().list_users()
    assert len(listing) == 120
    assert listing.incomplete == "the API reported 100 users but listed 120"


# -- errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (403, "forbidden_403.json", "the API ID and token do not match (HTTP 403)"),
        (401, "unauthorized_401.json", "no credentials were sent (HTTP 401)"),
    ],
)
@respx.mock
def test_refused_credentials_say_which_refusal_it_is(status: int, body: str, message: str) -> None:
    respx.get(f"{BASE}/v1/company").respond(status, json=fixture(body))
    with pytest.raises(ConfigError) as caught:
        client().get_company()
    assert caught.value.message == message
    assert caught.value.exit_code == 3
    assert caught.value.hint == (
        "check AIRCALL_API_ID/AIRCALL_API_TOKEN or run `aircall-ext auth login`"
    )


@respx.mock
def test_the_uniqueness_refusal_shows_the_apis_sentence_not_its_status_words() -> None:
    respx.put(f"{BASE}/v2/users/7").respond(400, json=fixture("uniqueness_400.json"))
    with pytest.raises(Unprocessable) as caught:
        client().set_extension(7, "150")
    sentence = "Extension 150 is already used by another user of this company"
    assert caught.value.reason == sentence
    assert caught.value.message == f"the API refused PUT /v2/users/7 (HTTP 400): {sentence}"
    assert "BAD_REQUEST" not in caught.value.message and "Bad Request" not in caught.value.message
    assert caught.value.exit_code == 1


@respx.mock
def test_the_out_of_bounds_400_of_a_listing_shows_its_sentence() -> None:
    respx.get(f"{BASE}/v2/users").respond(400, json=fixture("page_out_of_bounds_400.json"))
    with pytest.raises(ApiError) as caught:
        client().list_users()
    assert caught.value.message == (
        "GET /v2/users failed: HTTP 400: Your query is limited to 10k results and pagination "
        "is out of bound, please use timestamps or other filters"
    )
    assert caught.value.exit_code == 4


@respx.mock
def test_a_bare_message_body_is_shown_as_it_is() -> None:
    respx.get(f"{BASE}/v1/numbers/9").respond(500, json=fixture("forbidden_403.json"))
    with pytest.raises(ApiError, match=r"^GET /v1/numbers/9 failed: HTTP 500: Forbidden$"):
        client().get_number(9)


@pytest.mark.parametrize("url", [BASE, f"{BASE}/", f"{BASE}/v1", f"{BASE}/v2/", f"{BASE}/v1/"])
@respx.mock
def test_a_base_url_ending_in_a_version_names_the_api_root(url: str) -> None:
    route = respx.get(f"{BASE}/v2/users").respond(json={"users": [], "meta": {"total": 0}})
    ApiClient(url, "id", "token").list_users()
    assert route.called


# -- the other live shapes ---------------------------------------------------------------


@respx.mock
def test_the_company_has_no_id() -> None:
    respx.get(f"{BASE}/v1/company").respond(json=fixture("company_v1.json"))
    company = client().get_company()
    assert (company.name, company.users_count, company.numbers_count) == (
        "Dupont & Walker SAS",
        52,
        3,
    )


@respx.mock
def test_number_listing_items_in_the_live_key_set_are_read_without_users_or_flags() -> None:
    page = fixture("numbers_page_v1_live.json")
    assert all(set(item) == LIVE_NUMBER_KEYS for item in page["numbers"])
    respx.get(f"{BASE}/v1/numbers").respond(json=page)
    numbers = list(client().list_numbers())
    assert [(n.id, n.users, n.flow_editor_enabled) for n in numbers] == [
        (884201, None, None),
        (884203, None, None),
    ]


@respx.mock
def test_a_users_numbers_are_a_paged_listing_of_number_objects() -> None:
    route = respx.get(f"{BASE}/v2/users/1209384/numbers").respond(
        json=fixture("numbers_page_v1_live.json")
    )
    listing = client().list_user_numbers(1209384)
    assert [(n.id, n.name, n.digits) for n in listing] == [
        (884201, "Support FR", "+33 1 76 36 06 95"),
        (884203, "Sales UK", "+44 20 7946 0321"),
    ]
    assert route.calls[0].request.url.params["per_page"] == "50"


@respx.mock
def test_a_user_is_read_by_email_in_one_request() -> None:
    route = respx.get(f"{BASE}/v2/users/madeleine.dupont@example.com").respond(
        json=fixture("user_full.json")
    )
    user = client().get_user_by_email("madeleine.dupont@example.com")
    assert user.id == 1209384
    assert route.calls[0].request.url.raw_path == b"/v2/users/madeleine.dupont%40example.com"


@respx.mock
def test_an_email_nobody_has_is_not_found() -> None:
    respx.get(url__startswith=f"{BASE}/v2/users/").respond(404, json={"message": "Not Found"})
    with pytest.raises(NotFound):
        client().get_user_by_email("nobody@example.com")


@respx.mock
def test_teams_are_listed_with_members_that_carry_no_extension() -> None:
    route = respx.get(f"{BASE}/v1/teams").respond(json=fixture("teams_page_v1.json"))
    listing = client().list_teams()
    assert listing.incomplete is None and route.call_count == 1
    support, sales = listing
    assert (support.id, support.name, sales.name) == (31, "Support", "Sales")
    assert [(m.id, m.email) for m in support.members] == [
        (1209384, "madeleine.dupont@example.com"),
        (1209385, "tom.walker@example.com"),
    ]
    assert sales.members == () and sales.users == ()


@respx.mock
def test_one_team_is_read_and_absent_or_null_members_are_not_an_error() -> None:
    respx.get(f"{BASE}/v1/teams/31").respond(json=fixture("team_v1.json"))
    team = client().get_team(31)
    assert [m.name for m in team.members] == ["Tom Walker"]
    for users in ({}, {"users": None}):
        respx.get(f"{BASE}/v1/teams/33").respond(json={"team": {"id": 33, **users}})
        other = client().get_team(33)
        assert other.users is None and other.members == ()


# -- every command over the live shapes ---------------------------------------------------


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Credentials and the base URL in the environment; a client that never waits."""
    env_credentials(monkeypatch, "live-id", "live-token", base_url=BASE)
    quiet = functools.partial(ApiClient, sleep=lambda _s: None)
    monkeypatch.setattr("aircall_ext.services.session.ApiClient", quiet)


@pytest.fixture
def live(credentials: None) -> Iterator[respx.MockRouter]:
    """An account served in the live shapes."""
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        users = fixture("users_page_v2.json")["users"]
        mock.get("/v2/users").mock(side_effect=v2_pages(users))
        mock.get("/v1/numbers").respond(json=fixture("numbers_page_v1.json"))
        detail = fixture("number_detail_v1.json")
        mock.get("/v1/numbers/884201").respond(json=detail)
        madeleine = fixture("user_full.json")
        mock.get("/v2/users/madeleine.dupont@example.com").respond(json=madeleine)
        mock.get("/v2/users/1209384").respond(json=madeleine)
        mock.get("/v2/users/1209384/numbers").respond(json=fixture("numbers_page_v1_live.json"))
        for other in (884202, 884203):
            number = next(n for n in fixture("numbers_page_v1.json")["numbers"] if n["id"] == other)
            mock.get(f"/v1/numbers/{other}").respond(json={"number": {**number, "users": []}})
        yield mock


def test_validate_reads_a_123_user_account_whose_collision_spans_pages_1_and_3(
    run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_credentials(monkeypatch, "live-id", "live-token", base_url=BASE)
    users = [v2_user(i, f"{i:03d}") for i in range(1, 124)]
    users[110]["extension"] = "007"  # user 111, on page 3, collides with user 7 on page 1
    with respx.mock(base_url=BASE) as mock:
        route = mock.get("/v2/users").mock(side_effect=v2_pages(users))
        result = run_cli("-o", "json", "validate")
    assert result.exit_code == 1, result.stderr
    findings = json.loads(result.stdout)["findings"]
    dup = [(f["user_id"], f["extension"]) for f in findings if f["code"] == "duplicate-extension"]
    assert dup == [(7, "007"), (111, "007")]
    assert [f["code"] for f in findings if f["severity"] == "info"] == ["outgoing-only-unknown"]
    assert route.call_count == 3


def test_list_and_show_read_live_users(run_cli: RunCli, live: respx.MockRouter) -> None:
    listed = run_cli("-o", "json", "list")
    assert listed.exit_code == 0, listed.stderr
    users = {u["id"]: u for u in json.loads(listed.stdout)["users"]}
    assert users[1209387]["extension"] == "7"
    assert users[1209384]["outgoing_only"] is None  # unknown, never a silent "no"
    table = run_cli("list")
    assert "unknown" in table.stdout
    shown = run_cli("show", "madeleine.dupont@example.com")
    assert shown.exit_code == 0 and "Europe/Paris" in shown.stdout


def test_show_reads_one_user_and_their_numbers(run_cli: RunCli, live: respx.MockRouter) -> None:
    for ref in ("madeleine.dupont@example.com", "1209384"):
        before = len(live.calls)
        result = run_cli("-o", "json", "show", ref)
        assert result.exit_code == 0, result.stderr
        doc = json.loads(result.stdout)["user"]
        assert doc["id"] == 1209384 and doc["extension"] == "001"
        assert doc["numbers"] == [
            {"id": 884201, "name": "Support FR", "digits": "+33 1 76 36 06 95"},
            {"id": 884203, "name": "Sales UK", "digits": "+44 20 7946 0321"},
        ]
        paths = [c.request.url.raw_path.split(b"?")[0] for c in live.calls[before:]]
        user_path = ref.replace("@", "%40").encode()
        assert paths == [b"/v2/users/" + user_path, b"/v2/users/1209384/numbers"]
    table = run_cli("show", "1209384").stdout
    numbers_row = next(line for line in table.splitlines() if line.startswith("numbers"))
    assert "Support FR (+33 1 76 36 06 95), Sales UK (+44 20 7946 0321)" in numbers_row


def test_show_of_an_unknown_email_is_no_user_and_costs_one_request(
    run_cli: RunCli, live: respx.MockRouter
) -> None:
    live.get("/v2/users/nobody@example.com").respond(404, json={"message": "Not Found"})
    result = run_cli("show", "nobody@example.com")
    assert result.exit_code == 2
    assert "no user matches 'nobody@example.com'" in result.stderr
    assert [c.request.url.raw_path for c in live.calls] == [b"/v2/users/nobody%40example.com"]


# -- deciding from the whole account ------------------------------------------------------


@pytest.fixture
def account_api(credentials: None) -> Iterator[tuple[respx.MockRouter, LiveUsers]]:
    """120 users holding 100..219, served as the live API pages them; no write expected."""
    live = LiveUsers(numbered(120))
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        mock.get("/v2/users").mock(side_effect=live)
        mock.put(url__regex=r"/v2/users/\d+$").respond(500)
        yield mock, live


def puts(mock: respx.MockRouter) -> int:
    return sum(1 for call in mock.calls if call.request.method == "PUT")


@pytest.mark.parametrize(
    "args",
    [
        ["validate"],
        ["next-free"],
        ["assign", "1", "300"],
        ["import", "users.csv", "--yes"],
        ["diff", "users.csv"],
        ["validate", "users.csv"],
        ["dial", "884201", "101", "--stage", "ivr"],
    ],
)
def test_a_total_lower_than_the_users_there_stops_every_decision_before_any_write(
    run_cli: RunCli,
    account_api: tuple[respx.MockRouter, LiveUsers],
    args: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Tried against a stand-in: ``validate`` audited "100 of 100 users" of 120 and
    ``next-free`` offered an extension a user holds. Read twice, then exit 4."""
    mock, live = account_api
    live.total = 100
    mock.get("/v1/numbers").respond(json=fixture("numbers_page_v1_live.json"))
    monkeypatch.chdir(tmp_path)
    Path("users.csv").write_text("user_id,extension\n1,300\n", encoding="utf-8")
    result = run_cli(*args)
    assert result.exit_code == 4, result.stdout + result.stderr
    assert result.stderr.strip().splitlines() == [
        "aircall-ext: error: the account could not be read whole, so nothing was decided: "
        "the API reported 100 users but listed 120 (run the command again once the account "
        "is quiet)"
    ]
    assert len(live.served) == 6  # three pages, read twice
    assert puts(mock) == 0
    assert not list(tmp_path.rglob("*.jsonl"))  # no journal: the import never started


def test_a_read_that_adds_up_the_second_time_is_decided_on(
    run_cli: RunCli, account_api: tuple[respx.MockRouter, LiveUsers]
) -> None:
    """User 1 (holding 100) leaves while page 1 is read: user 51 (holding 150) is on no
    page. Trusted, that read offered 150, which user 51 holds; the second read is whole."""
    _mock, live = account_api
    live.between[1] = lambda: live.users.pop(0)
    result = run_cli("-o", "json", "next-free", "--count", "2")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {"free": ["100", "220"]}
    assert len(live.served) == 6


def test_the_cap_is_said_in_the_words_of_the_api_limit_and_not_read_twice(
    run_cli: RunCli, account_api: tuple[respx.MockRouter, LiveUsers]
) -> None:
    _mock, live = account_api
    live.users = numbered(LISTING_CAP + 1)
    result = run_cli("validate")
    assert result.exit_code == 4
    assert (
        "nothing was decided: the API lists at most 10,000 users, and this account has more "
        "(10,001)" in result.stderr
    )
    assert len(live.served) == LISTING_CAP // 50


@pytest.mark.parametrize("args", [["-o", "json", "list"], ["export"]])
def test_list_and_export_warn_and_go_on(
    run_cli: RunCli, account_api: tuple[respx.MockRouter, LiveUsers], args: list[str]
) -> None:
    _mock, live = account_api
    live.total = 100
    result = run_cli(*args)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == (
        "warning: the API reported 100 users but listed 120, so some users may be missing; "
        "run it again\n"
    )
    assert len(live.served) == 3  # read once
    assert "219" in result.stdout  # every user read is shown


# -- credentials ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "login"),
    [
        ([], "aircall-ext auth login"),
        (["--profile", "work"], "aircall-ext --profile work auth login"),
        (
            ["--profile", "work", "--base-url", BASE],
            f"aircall-ext --profile work --base-url {BASE} auth login",
        ),
    ],
)
@respx.mock
def test_refused_credentials_suggest_logging_in_to_the_same_profile(
    run_cli: RunCli, credentials: None, options: list[str], login: str
) -> None:
    respx.get(f"{BASE}/v2/users").respond(403, json=fixture("forbidden_403.json"))
    result = run_cli(*options, "list")
    assert result.exit_code == 3
    assert result.stderr == (
        "aircall-ext: error: the API ID and token do not match (HTTP 403) (check "
        f"AIRCALL_API_ID/AIRCALL_API_TOKEN or run `{login}`)\n"
    )


def test_numbers_reads_each_incomplete_number_once(run_cli: RunCli, live: respx.MockRouter) -> None:
    result = run_cli("-o", "json", "numbers")
    assert result.exit_code == 0, result.stderr
    docs = {n["id"]: n for n in json.loads(result.stdout)["numbers"]}
    assert docs[884201] == {
        "id": 884201,
        "name": "Support FR",
        "digits": "+33 1 76 36 06 95",
        "routing": "smartflows",
        "routing_assumed": False,
        "distribution_size": 1,
    }
    assert docs[884202]["routing_assumed"] and docs[884202]["routing"] == "legacy-classic"
    details = [c.request.url.path for c in live.calls if c.request.url.path.count("/") == 3]
    assert sorted(details) == [f"/v1/numbers/{i}" for i in (884201, 884202, 884203)]
    assert "number 884203: routing assumed" in result.stderr
    assert "(assumed)" in run_cli("numbers").stdout


def test_numbers_warns_when_its_listing_does_not_add_up(
    run_cli: RunCli, live: respx.MockRouter
) -> None:
    page = fixture("numbers_page_v1_live.json")
    live.get("/v1/numbers").respond(json={**page, "meta": {**page["meta"], "total": 3}})
    result = run_cli("-o", "json", "numbers")
    assert result.exit_code == 0, result.stderr
    assert len(json.loads(result.stdout)["numbers"]) == 2
    assert (
        "warning: the API reported 3 numbers but listed 2, so some numbers may be missing; "
        "run it again" in result.stderr
    )


def test_dial_reads_the_dialed_numbers_distribution(
    run_cli: RunCli, live: respx.MockRouter
) -> None:
    result = run_cli("-o", "json", "dial", "Support FR", "001", "--stage", "ivr")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["outcome"] == "rings-user" and doc["routing_assumed"] is False
    assert doc["missed_call_notified"][0]["id"] == 1209384
    outgoing = next(c for c in doc["trace"] if c["check"] == "outgoing-only")
    assert "does not report" in outgoing["detail"]
    details = [c.request.url.path for c in live.calls if c.request.url.path.count("/") == 3]
    assert details == ["/v1/numbers/884201"]


def test_dial_trace_says_when_routing_is_assumed(run_cli: RunCli, live: respx.MockRouter) -> None:
    result = run_cli("-o", "json", "dial", "Sales UK", "001", "--stage", "ivr")
    doc = json.loads(result.stdout)
    assert doc["routing_assumed"] is True
    stage = next(c for c in doc["trace"] if c["check"] == "stage")
    assert stage["detail"].startswith("Routing assumed: the API did not say whether Smartflows")


def test_us_national_digits_name_a_us_number(run_cli: RunCli, live: respx.MockRouter) -> None:
    result = run_cli("-o", "json", "dial", "415 555 0142", "001", "--stage", "welcome")
    assert json.loads(result.stdout)["number"]["id"] == 884202


def test_export_and_diff_over_live_users(
    run_cli: RunCli, live: respx.MockRouter, tmp_path: Path
) -> None:
    exported = run_cli("export")
    assert exported.exit_code == 0, exported.stderr
    lines = exported.stdout.splitlines()
    assert lines[0] == "user_id,email,name,extension"
    assert "1209384,madeleine.dupont@example.com,Madeleine Dupont,001" in lines
    desired = tmp_path / "desired.csv"
    desired.write_text("user_id,extension\n1209384,001\n", encoding="utf-8")
    assert run_cli("diff", str(desired)).exit_code == 0


def test_a_user_model_ignores_the_v1_numbers_field() -> None:
    user = User.model_validate({"id": 1, "numbers": [{"id": 2}], "extension": "101"})
    assert user.extension == "101" and not hasattr(user, "numbers")
