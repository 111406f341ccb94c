"""``sandbox serve`` over real HTTP: what it answers, what it logs, what it commits."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx

from tests.e2e.conftest import API_ID, API_TOKEN, Serve
from tests.scenes import read_state


def test_serve_over_http_logs_each_request_and_commits_each_write(
    serve: Serve, tmp_path: Path
) -> None:
    state, writes = tmp_path / "serve.db", tmp_path / "writes.jsonl"
    server = serve("--write-log", str(writes), state=state)  # a new database: the demo
    url = server.base_url
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", url)
    with httpx.Client(base_url=url, auth=(API_ID, API_TOKEN), timeout=10) as http:
        page = http.get("/v2/users", params={"per_page": 5})
        moved = http.put("/v2/users/481002", json={"extension": "150"})
        taken = http.put("/v2/users/481003", json={"extension": "150"})
    denied = httpx.get(f"{url}/v1/company", auth=(API_ID, "wrong"), timeout=10)
    assert server.stop() == 0

    assert (page.status_code, moved.status_code, taken.status_code) == (200, 200, 422)
    assert page.json()["meta"]["next_page_link"] == f"{url}/v2/users?page=2&per_page=5"
    assert page.json()["users"][0]["direct_link"] == f"{url}/v2/users/481001"
    assert (denied.status_code, denied.json()) == (403, {"message": "Forbidden"})
    assert "x-aircallapi-limit" not in page.headers  # as live: only a 429 carries them
    assert "x-aircallapi-remaining" not in denied.headers
    access = [line for line in server.log if '"' in line and "HTTP/1.1" in line]
    expected = [
        r'"GET /v2/users\?per_page=5 HTTP/1\.1" 200 \d+$',
        r'"PUT /v2/users/481002 HTTP/1\.1" 200 \d+$',
        r'"PUT /v2/users/481003 HTTP/1\.1" 422 \d+$',
        r'"GET /v1/company HTTP/1\.1" 403 \d+$',
    ]
    assert len(access) == len(expected), server.log
    for line, pattern in zip(access, expected, strict=True):
        assert re.search(r"^127\.0\.0\.1 - - \[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d \+0000\] ", line)
        assert re.search(pattern, line), line
    assert not any(API_TOKEN in line for line in server.log)
    saved = read_state(state).document()
    assert next(u for u in saved["users"] if u["id"] == 481002)["extension"] == "150"
    logged = [json.loads(line) for line in writes.read_text().splitlines()]
    assert [(w["user_id"], w["from"], w["to"]) for w in logged] == [(481002, "102", "150")]
