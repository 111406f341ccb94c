"""The completion cache keeps what it last read or wrote, and never serves it once the file
holds anything else (another process replaced it, or a person edited it)."""

from __future__ import annotations

import json

from aircall_ext import completion_cache
from aircall_ext.api.models import Team, User


def users(*ids: int) -> list[User]:
    return [User(id=i, email=f"u{i}@example.com", extension=f"{i:03d}") for i in ids]


def test_a_cache_replaced_by_another_process_is_read_again_even_at_the_same_size() -> None:
    completion_cache.remember(users=users(1))
    assert [u["id"] for u in completion_cache.cached_users()] == [1]
    path = completion_cache.cache_path()
    text = path.read_text(encoding="utf-8")
    other = text.replace('"id":1', '"id":2').replace("u1@", "u2@").replace('"001"', '"002"')
    assert len(other) == len(text) and other != text
    path.write_text(other, encoding="utf-8")  # in place, within the same clock tick maybe
    assert [u["id"] for u in completion_cache.cached_users()] == [2]


def test_what_a_caller_does_to_a_listing_never_reaches_the_next_one() -> None:
    completion_cache.remember(users=users(1, 2))
    completion_cache.cached_users().clear()
    assert [u["id"] for u in completion_cache.cached_users()] == [1, 2]


def test_users_then_teams_keep_both_as_the_file_says() -> None:
    completion_cache.remember(users=users(1, 2))
    completion_cache.remember(teams=[Team(id=7, name="Sales")])
    on_disk = json.loads(completion_cache.cache_path().read_text(encoding="utf-8"))
    assert [u["id"] for u in on_disk["users"]] == [1, 2]
    assert on_disk["teams"] == [{"id": 7, "name": "Sales"}]
    assert completion_cache.cached_teams() == on_disk["teams"]


def test_a_deleted_cache_reads_as_empty() -> None:
    completion_cache.remember(users=users(1))
    completion_cache.cache_path().unlink()
    assert completion_cache.cached_users() == []
