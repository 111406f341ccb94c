"""The account a run is configured for: the one identity journals, plans and the rate-limit
memory record."""

from __future__ import annotations

import json

from aircall_ext.core.identity import fingerprint
from aircall_ext.services.identity import account_identity
from aircall_ext.services.ratelimits import AccountRateLimit


def test_identity_names_the_host_but_not_the_api_id() -> None:
    identity = account_identity("http://127.0.0.1:8123/v1", "my-api-id", sandbox=False)
    assert identity.host == "127.0.0.1:8123"
    assert "my-api-id" not in json.dumps(identity.to_json())
    other = account_identity("http://127.0.0.1:8123/v1", "other-id", sandbox=False)
    assert not other.same_as(identity)
    assert account_identity("https://api.aircall.io", None, sandbox=False).api_id_sha256 is None


def test_the_rate_limit_memory_keys_an_account_by_the_same_fingerprint() -> None:
    memory = AccountRateLimit.of("https://api.aircall.io", "my-api-id", lambda _m: None)
    identity = account_identity("https://api.aircall.io", "my-api-id", sandbox=False)
    assert identity.api_id_sha256 == fingerprint("my-api-id")
    assert memory.key == f"api.aircall.io {fingerprint('my-api-id')}"
