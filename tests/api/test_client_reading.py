"""The client's fast paths read answers and links exactly as the careful paths do: pydantic's
JSON parser, with the ``json`` module for whatever it refuses, and next-page links read
without URL parsing when nothing in them could be resolved."""

from __future__ import annotations

import json

import httpx
import pytest
import respx
from hypothesis import given
from hypothesis import strategies as st

from aircall_ext.api.client import ApiClient
from aircall_ext.errors import ApiError

BASE = "https://api.test"


def client(base: str = BASE) -> ApiClient:
    return ApiClient(base, "api-id", "token", sleep=lambda _s: None, budget=None)


def answer(body: bytes) -> httpx.Response:
    return httpx.Response(200, content=body, headers={"Content-Type": "application/json"})


@pytest.mark.parametrize(
    ("body", "name", "extension"),
    [
        # A byte order mark, which json accepts and pydantic's parser does not.
        (b'\xef\xbb\xbf{"user": {"id": 7, "name": "Ann"}}', "Ann", None),
        # A lone surrogate escape: json keeps it, pydantic's parser refuses the body.
        (b'{"user": {"id": 7, "name": "\\ud800"}}', "\ud800", None),
        # Nesting deeper than pydantic's parser goes, well within json's.
        (b'{"user": {"id": 7, "extension": ' + b"[" * 300 + b"]" * 300 + b"}}", None, "[" * 300),
    ],
)
@respx.mock
def test_a_body_pydantics_parser_refuses_is_read_as_json_reads_it(
    body: bytes, name: str | None, extension: str | None
) -> None:
    respx.get(f"{BASE}/v2/users/7").mock(return_value=answer(body))
    user = client().get_user(7)
    assert user.id == 7
    assert user.name == name
    assert (user.extension or "").startswith(extension or "")


@respx.mock
def test_a_page_reads_the_same_through_either_parser() -> None:
    page = {
        "users": [
            {"id": 1, "extension": 7, "name": "A", "available": 1},
            {"id": "2", "extension": 1e2, "email": "b@example.com", "extra": {"x": [1]}},
            {"id": 3.0, "extension": {"b": 1, "a": [1, 2]}, "outgoing_only": "true"},
        ],
        "meta": {"count": 3, "total": 3, "next_page_link": None},
    }
    text = json.dumps(page).encode()
    respx.get(f"{BASE}/v2/users").mock(side_effect=[answer(text), answer(b"\xef\xbb\xbf" + text)])
    fast, careful = client().list_users(), client().list_users()
    assert fast.items == careful.items
    assert [u.extension for u in fast] == ["7", "100.0", '{"b": 1, "a": [1, 2]}']


@respx.mock
def test_a_body_neither_parser_reads_is_still_said_to_be_no_json() -> None:
    respx.get(f"{BASE}/v2/users/7").mock(return_value=answer(b'{"user": {"id": 7,}}'))
    with pytest.raises(ApiError, match=r"GET /v2/users/7: HTTP 200 body is not JSON$"):
        client().get_user(7)


@respx.mock
def test_a_wrong_type_still_names_its_field_when_the_body_took_the_careful_path() -> None:
    respx.get(f"{BASE}/v2/users/7").mock(
        return_value=answer(b'\xef\xbb\xbf{"user": {"id": "seven"}}')
    )
    with pytest.raises(ApiError, match=r"from GET /v2/users/7: user\.id: Input should be"):
        client().get_user(7)


PLAIN = st.text("abcXYZ019_-", min_size=1, max_size=8)
ODD = st.sampled_from(["", "/", "//", "..", "./", "%2F", "%41", "+", " ", "é", "#x", ":", "@", "?"])


@st.composite
def links(draw: st.DrawFn, root: str) -> str:
    """Links a server might send under ``root``: half of them plain, the others with what
    resolving a URL changes (another scheme or case, dot segments, escapes, a fragment)."""
    odd = draw(st.booleans())
    part = PLAIN | ODD if odd else PLAIN
    if odd:
        root = draw(st.sampled_from([root, root.upper(), root.replace("https", "http"), ""]))
    path = "/".join(draw(st.lists(part, min_size=1, max_size=4)))
    words = draw(st.lists(st.tuples(PLAIN, part), max_size=3))
    query = "&".join(f"{key}={value}" for key, value in words)
    return f"{root}{path}?{query}" if not odd or query else f"{root}{path}"


@pytest.mark.parametrize("base", [BASE, f"{BASE}/api"])
@given(data=st.data())
def test_a_next_page_link_is_read_as_resolving_it_reads_it(base: str, data: st.DataObject) -> None:
    api = client(base)
    link = data.draw(links(base.rstrip("/") + "/"))
    assert api._on_our_host(link) == api._joined(link)


def test_the_live_next_page_link_is_read_without_resolving_it() -> None:
    api = client()
    link = f"{BASE}/v2/users?page=2&per_page=50"
    assert api._on_our_host(link) == ("v2/users", {"page": "2", "per_page": "50"})
    assert api._on_our_host(link) == api._joined(link)
