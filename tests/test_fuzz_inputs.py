"""Input fuzzing: whatever the user types or the API answers, the CLI fails cleanly.

Three sources of hostile input, each driven by hypothesis through the real entry point
(``run_cli``: exit-code mapping included):

- CSV bytes (``validate -``, ``diff -``, ``import - --dry-run``, ``dial --batch -``)
  against the in-process sandbox's demo account;
- command-line arguments (USER, EXT, NUMBER, DIGITS, stages, ranges, counts);
- API responses (respx): missing fields, wrong types, huge numbers, HTML error pages with
  200 and 5xx, truncated JSON, empty bodies, nesting deeper than the parser's recursion.

The invariant, everywhere: the exit code is a documented one (0 to 5), there is never a
traceback or an "internal error", and a failure is exactly one ``aircall-ext: error:`` line
(its hint on the same line), as the last line of stderr. ``-o json`` on success is exactly
one JSON document. Example counts: ``EXAMPLES`` per property (default 200; override with
``AIRCALL_EXT_FUZZ_EXAMPLES``); see them with ``--hypothesis-show-statistics``.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
from typing import Any

import httpx
import pytest
import respx
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context

from aircall_ext.api.client import ApiClient
from tests.conftest import CliResult, RunCli
from tests.scenes import env_credentials

EXAMPLES = int(os.environ.get("AIRCALL_EXT_FUZZ_EXAMPLES", "200"))
DOCUMENTED_EXIT_CODES = {0, 1, 2, 3, 4, 5}
ERROR_PREFIX = "aircall-ext: error: "
BASE = "https://api.test"

FUZZ = settings(
    max_examples=EXAMPLES,
    # run_cli and the isolation fixture are per test, not per example: that is intended,
    # the examples share one temp config dir and one sandbox state file.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def assert_clean(result: CliResult, args: list[str]) -> None:
    """The contract for any input: documented exit code, no traceback, one error line."""
    where = f"args={args!r} exit={result.exit_code}\nstderr={result.stderr!r}"
    if currently_in_test_context():
        event(f"exit {result.exit_code}")  # the spread shows with --hypothesis-show-statistics
    assert result.exit_code in DOCUMENTED_EXIT_CODES, where
    for stream in (result.stdout, result.stderr):
        assert "Traceback (most recent call last)" not in stream, where
    assert "internal error" not in result.stderr, where
    lines = result.stderr.splitlines()
    if (
        result.exit_code == 2
        and result.stderr.startswith("Usage:")
        and "\nCommands:\n" in result.stderr
    ):
        return  # a group run without a command shows its help, as Click does
    errors = [line for line in lines if line.startswith(ERROR_PREFIX)]
    if result.exit_code in {2, 3, 4, 5}:
        assert len(errors) == 1, where
        assert lines[-1] == errors[0], where  # nothing after the message (no usage block)
        assert len(errors[0]) > len(ERROR_PREFIX), where
    elif result.exit_code == 0:
        assert errors == [], where
    else:
        assert len(errors) <= 1, where
    assert not any(line.startswith(("Usage:", "Try '", "Error:")) for line in lines), where


def assert_json_document(result: CliResult, args: list[str]) -> None:
    if "json" in args and result.exit_code == 0 and result.stdout.strip():
        json.loads(result.stdout)  # exactly one document: extra data would raise


# -- CSV bytes ------------------------------------------------------------------------------

DEMO_IDS = [str(n) for n in range(481001, 481013)]
DEMO_EMAILS = ["amelia.hart@example.com", "BRUNO.KELLER@example.com", "grace.liu@example.com"]
HEADERS = [
    "user_id,email,extension",
    "User_ID ; Email ; Extension",
    "email\textension",
    "id,ext",
    "extension",
    "user_id,extension,extension",
    "user_id,email,extension,notes",
    "",
    '"user_id","email","extension"',
    "\x00user_id,extension",
    "number,digits,stage,api_transfer,expect",
    "digits;number;stage",
]
CELLS = st.one_of(
    st.sampled_from(DEMO_IDS + DEMO_EMAILS),
    st.sampled_from(
        [
            "101",
            "007",
            "7",
            "07",
            "101.0",
            "1.01E+02",
            '="007"',
            "",
            " 102 ",
            "\u0661\u0660\u0661",
            "-1",
        ]
    ),
    st.sampled_from(["=cmd|' /C calc'!A0", '"', '""', "a,b", "\r", "\n", "999999999999999999999"]),
    st.sampled_from(["912001", "Support", "+1 415-555-0142", "ivr", "welcome", "ringing"]),
    st.sampled_from(["true", "false", "yes", "1", "rings-user", "api-transfer", "nope"]),
    st.text(max_size=8),
)
DELIMITERS = st.sampled_from([",", ";", "\t", "|"])
ENCODINGS = st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16", "latin-1"])


@st.composite
def csv_bytes(draw: st.DrawFn) -> bytes:
    """Mostly CSV-shaped input with spreadsheet damage; sometimes raw bytes."""
    shape = draw(st.integers(0, 9))
    if shape == 0:
        return draw(st.binary(max_size=200))
    delimiter = draw(DELIMITERS)
    if shape < 5:  # well formed, with the odd damaged cell: gets past the header checks
        header = "user_id,extension".replace(",", delimiter)
        ids = st.sampled_from(DEMO_IDS)
        extensions = st.one_of(st.from_regex(r"\A[0-9]{3}\Z"), CELLS)
        rows = draw(st.lists(st.tuples(ids, extensions).map(list), max_size=8))
    else:
        header = draw(st.sampled_from(HEADERS)).replace(",", delimiter)
        rows = draw(st.lists(st.lists(CELLS, min_size=0, max_size=4), max_size=8))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    text = newline.join([header, *(delimiter.join(row) for row in rows)])
    if draw(st.booleans()):
        text += newline
    return text.encode(draw(ENCODINGS), errors="replace")


CSV_COMMANDS = [
    ["validate", "-"],
    ["-o", "json", "validate", "-"],
    ["diff", "-"],
    ["-o", "csv", "diff", "-"],
    ["import", "-", "--dry-run"],
    ["-o", "json", "import", "-", "--dry-run"],
    ["import", "-", "--dry-run", "--strict"],
    ["dial", "--batch", "-"],
    ["-o", "json", "dial", "--batch", "-"],
]


@FUZZ
@given(data=csv_bytes(), command=st.sampled_from(CSV_COMMANDS))
def test_any_csv_bytes_fail_cleanly(run_cli: RunCli, data: bytes, command: list[str]) -> None:
    args = ["--sandbox", *command]
    result = run_cli(*args, input=data)
    assert_clean(result, args)
    assert_json_document(result, args)


def test_an_import_without_yes_never_writes_from_a_pipe(run_cli: RunCli) -> None:
    """The fuzzed imports above are dry runs; a real one from stdin must still refuse."""
    before = run_cli("--sandbox", "-o", "json", "list").stdout
    result = run_cli("--sandbox", "import", "-", input=b"user_id,extension\n481001,150\n")
    assert result.exit_code == 2
    assert_clean(result, ["import", "-"])
    assert run_cli("--sandbox", "-o", "json", "list").stdout == before


# -- command-line arguments -----------------------------------------------------------------

# A real argv cannot hold NUL (execve takes C strings), so the fuzzed words never do.
WORDS = st.one_of(
    st.text(st.characters(blacklist_characters="\x00"), max_size=12),
    st.sampled_from(
        [
            "481001",
            "481007",
            "0",
            "-1",
            "99999999999999999999999",
            "1e3",
            "ext:101",
            "ext:7",
            "ext:",
            "ext:007",
            "EXT:104",
            "amelia.hart@example.com",
            "@",
            "a@b",
            "007",
            "7",
            "101.0",
            '="007"',
            "\u0661\u0660\u0661",
            "\uff11\uff10\uff11",
            "912001",
            "Support",
            "+33 1 76 36 06 95",
            "0033176360695",
            "welcome",
            "IVR",
            "ringing",
            "100-199",
            "199-100",
            "1-2",
            "000-999",
            "--",
            "-",
            "",
            " ",
        ]
    ),
)


def slot(*valid: str) -> st.SearchStrategy[str]:
    """Mostly plausible values for one argument, sometimes anything at all."""
    return st.one_of(st.sampled_from(valid), st.sampled_from(valid), WORDS)


USERS = slot("481001", "481007", "481010", "ext:101", "ext:104", "amelia.hart@example.com")
EXTS = slot("150", "007", "101", "104", "999", "000")
NUMBERS = slot("912001", "912002", "Support", "+44 20 7946 0321", "0033176360695")
STAGES = slot("welcome", "ivr", "audio", "waiting", "ringing", "IVR")
RANGES = slot("100-199", "000-099", "200-200", "990-999")
COUNTS = slot("1", "5", "1000", "1001")
OUTCOMES = slot("rings-user", "user-unavailable", "extension-does-not-exist")


@st.composite
def argv(draw: st.DrawFn) -> list[str]:
    kind = draw(st.sampled_from(["show", "assign", "dial", "next-free", "list", "validate"]))
    if kind == "show":
        return ["show", draw(USERS)]
    if kind == "assign":
        flags = draw(st.lists(st.sampled_from(["--swap", "--dry-run"]), unique=True))
        return ["assign", draw(USERS), draw(EXTS), *flags, "--dry-run"]
    if kind == "dial":
        args = ["dial", draw(NUMBERS), draw(EXTS), "--stage", draw(STAGES)]
        if draw(st.booleans()):
            args.append("--api-transfer")
        if draw(st.booleans()):
            args += ["--expect", draw(OUTCOMES)]
        return args
    if kind == "next-free":
        return ["next-free", "--range", draw(RANGES), "--count", draw(COUNTS)]
    if kind == "list":
        return ["list", "--extension", draw(EXTS)]
    return ["validate", draw(WORDS)]


@FUZZ
@given(args=argv(), fmt=st.sampled_from([[], ["-o", "json"], ["-o", "csv"]]))
@example(args=["validate", "\ud800"], fmt=[])
@example(args=["dial", "912001", "\udcff", "--stage", "welcome"], fmt=["-o", "json"])
def test_any_arguments_fail_cleanly(run_cli: RunCli, args: list[str], fmt: list[str]) -> None:
    full = ["--sandbox", *fmt, *args]
    result = run_cli(*full)
    assert_clean(result, full)
    assert_json_document(result, full)


@FUZZ
@given(words=st.lists(WORDS, max_size=5))
def test_any_argv_at_all_fails_cleanly(run_cli: RunCli, words: list[str]) -> None:
    full = ["--sandbox", *words]
    assert_clean(run_cli(*full), full)


@pytest.mark.parametrize(
    "args",
    [
        ["validate", "\ud800"],  # what hypothesis found: a surrogate no argv byte maps to
        ["-o", "json", "dial", "912001", "\udcff", "--stage", "welcome"],  # argv byte 0xff
        ["show", "caf\udce9"],
    ],
)
def test_an_argument_that_is_not_text_is_a_usage_error(run_cli: RunCli, args: list[str]) -> None:
    full = ["--sandbox", *args]
    result = run_cli(*full)
    assert (result.exit_code, result.stdout) == (2, "")
    assert_clean(result, full)
    assert "is not valid UTF-8 text" in result.stderr


def test_a_non_utf8_argv_byte_is_named_as_the_byte_typed() -> None:
    """Through a real process: the kernel hands over bytes, Python decodes them itself."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "aircall_ext", "--sandbox", "show", b"caf\xe9"],
        capture_output=True,
        env={**os.environ, "LC_ALL": "C.UTF-8"},
    )
    assert done.returncode == 2
    assert done.stderr.decode() == (
        "aircall-ext: error: argument 3 (caf\\xe9) is not valid UTF-8 text "
        "(type it in UTF-8; for a file with such a name, pipe it in with `-`)\n"
    )


def test_usage_errors_are_one_line_with_a_help_hint(run_cli: RunCli) -> None:
    for args in (["show"], ["list", "--bogus"], ["next-free", "--count", "x"], ["nope"]):
        result = run_cli("--sandbox", *args)
        assert result.exit_code == 2
        assert_clean(result, args)
        assert "-h" in result.stderr or "--help" in result.stderr


# -- API responses --------------------------------------------------------------------------

USER = {
    "id": 481001,
    "name": "Amelia Hart",
    "email": "amelia.hart@example.com",
    "available": True,
    "availability_status": "available",
    "extension": "101",
    "outgoing_only": False,
    "numbers": [{"id": 912001, "name": "Support", "digits": "+33 1 76 36 06 95"}],
}
NUMBER = {
    "id": 912001,
    "name": "Support",
    "digits": "+33 1 76 36 06 95",
    "flow_editor_enabled": True,
    "is_ivr": False,
    "users": [{"id": 481001, "name": "Amelia Hart", "email": "amelia.hart@example.com"}],
}
META = {
    "count": 1,
    "total": 1,
    "current_page": 1,
    "per_page": 50,
    "next_page_link": None,
    "previous_page_link": None,
}
# One body that answers every endpoint, so any request can meet any mutation of it.
UNIVERSAL: dict[str, Any] = {
    "company": {"name": "Acme", "users_count": 1, "numbers_count": 1},
    "users": [USER],
    "numbers": [NUMBER],
    "meta": META,
    "user": USER,
    "number": NUMBER,
}
WEIRD_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=6),
    st.just([]),
    st.just({}),
    st.just([None]),
    st.just({"id": "x"}),
)


def paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found: list[tuple[Any, ...]] = [prefix] if prefix else []
    if isinstance(doc, dict):
        for key, value in doc.items():
            found += paths(value, (*prefix, key))
    elif isinstance(doc, list):
        for index, value in enumerate(doc):
            found += paths(value, (*prefix, index))
    return found


ALL_PATHS = paths(UNIVERSAL)


def mutate(doc: Any, path: tuple[Any, ...], value: Any, delete: bool) -> Any:
    copy = json.loads(json.dumps(doc))
    node = copy
    for key in path[:-1]:
        node = node[key]
    if delete and isinstance(node, dict):
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return copy


@st.composite
def json_bodies(draw: st.DrawFn) -> bytes:
    doc: Any = UNIVERSAL
    for _ in range(draw(st.integers(0, 3))):
        path = draw(st.sampled_from(ALL_PATHS))
        value, delete = draw(WEIRD_VALUES), draw(st.booleans())
        with contextlib.suppress(KeyError, IndexError, TypeError):  # an earlier one removed it
            doc = mutate(doc, path, value, delete)
    return json.dumps(doc).encode()


HTML_PAGE = (
    b"<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>"
)
BODIES = st.one_of(
    json_bodies(),
    json_bodies().flatmap(lambda b: st.integers(0, len(b)).map(lambda n: b[:n])),  # truncated
    st.just(HTML_PAGE),
    st.just(b""),
    st.sampled_from(
        [
            b"null",
            b"[]",
            b"42",
            b'"ok"',
            b"{}",
            b'{"error": 42}',
            b'{"message": "upstream timed out"}',
            b'{"error": "x", "troubleshoot": null}',
            b"1e999",
            b'{"users": [], "meta": {"next_page_link": "' + BASE.encode() + b'/v2/users?page=2"}}',
            b"9" * 5000,  # past Python's int-parsing digit limit
            b"[" * 5000 + b"]" * 5000,  # deeper than the parser's recursion limit
            b'{"user": ' * 3000 + b"null" + b"}" * 3000,
            b"\xff\xfe\x00garbage",
            '{"error": "caf\u00e9 \u2603"}'.encode(),
        ]
    ),
    st.binary(max_size=64),
)
STATUSES = st.sampled_from([200, 200, 200, 201, 204, 301, 400, 401, 403, 404, 422, 429, 500, 503])
HEADER_VALUES = st.one_of(
    st.none(), st.sampled_from(["0", "1", "-5", "abc", "1e3", "99999999999999999999", "1.5", ""])
)


@st.composite
def responses(draw: st.DrawFn) -> httpx.Response:
    headers = {"Content-Type": draw(st.sampled_from(["application/json", "text/html", "x"]))}
    for name in ("X-AircallApi-Limit", "X-AircallApi-Remaining", "X-AircallApi-Reset"):
        value = draw(HEADER_VALUES)
        if value is not None:
            headers[name] = value
    retry_after = draw(st.one_of(st.none(), st.sampled_from(["1", "x", "Wed, 21 Oct 2015"])))
    if retry_after is not None:
        headers["Retry-After"] = retry_after
    return httpx.Response(draw(STATUSES), content=draw(BODIES), headers=headers)


API_COMMANDS = [
    ["list"],
    ["-o", "json", "list"],
    ["show", "481001"],
    ["show", "amelia.hart@example.com"],
    ["numbers"],
    ["-o", "json", "numbers"],
    ["validate"],
    ["assign", "481001", "150"],
    ["assign", "481001", "102", "--swap"],
    ["next-free"],
    ["export"],
    ["dial", "912001", "101", "--stage", "ivr"],
    ["auth", "status"],
]
TERMINAL = httpx.Response(
    200, json={**UNIVERSAL, "users": [], "numbers": [], "meta": META}
)  # once the drawn answers run out: an empty, valid last page


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Credentials in the environment, and a client that records its waits instead of
    sleeping (retries and rate-limit pauses cost no real time)."""
    env_credentials(monkeypatch, "fuzz-id", "fuzz-token", base_url=BASE)
    waits: list[float] = []
    client = functools.partial(ApiClient, sleep=waits.append)
    monkeypatch.setattr("aircall_ext.services.session.ApiClient", client)
    return waits


@FUZZ
@given(answers=st.lists(responses(), min_size=1, max_size=4), command=st.sampled_from(API_COMMANDS))
def test_any_api_response_fails_cleanly(
    run_cli: RunCli, api: list[float], answers: list[httpx.Response], command: list[str]
) -> None:
    queue = list(answers)

    def answer(_request: httpx.Request) -> httpx.Response:
        return queue.pop(0) if queue else TERMINAL

    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        mock.route().mock(side_effect=answer)
        result = run_cli(*command)
    assert_clean(result, command)
    assert_json_document(result, command)
    assert "fuzz-token" not in result.stdout + result.stderr


@pytest.mark.parametrize(
    "body",
    [b"9" * 5000, b"[" * 5000 + b"]" * 5000, HTML_PAGE, b"", b'{"users": [{"id": "x"}]}'],
    ids=["digits", "deep", "html", "empty", "wrong-type"],
)
@pytest.mark.parametrize("status", [200, 500])
def test_unusable_bodies_are_exit_4_naming_the_request(
    run_cli: RunCli, api: list[float], body: bytes, status: int
) -> None:
    with respx.mock(base_url=BASE) as mock:
        mock.get("/v2/users").mock(return_value=httpx.Response(status, content=body))
        result = run_cli("list")
    assert result.exit_code == 4, result.stderr
    assert_clean(result, ["list"])
    assert "GET /v2/users" in result.stderr
