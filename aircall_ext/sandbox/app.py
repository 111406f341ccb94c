"""The sandbox WSGI app: Aircall's live routing management API over the sandbox store.

The same app runs in-process behind ``httpx.WSGITransport`` (``--sandbox``: no auth, no
rate limit, no faults) and over real HTTP (``sandbox serve``). Every request runs in one
store transaction; a PUT's is a serialised write transaction, so its read-check-write of the
uniqueness rule holds however many clients and processes write at once, and it is committed
before the response is sent.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote

from aircall_ext.names import APP_NAME
from aircall_ext.sandbox.faults import (
    DEFAULT_SLOW_SECONDS,
    FAULT_RETRY_AFTER,
    ConnectionDropped,
    FaultInjector,
)
from aircall_ext.sandbox.ratelimit import (
    Decision,
    FixedWindowLimiter,
    RateHeaders,
    RateLimit,
    ResetUnit,
)
from aircall_ext.sandbox.state import (
    NUMBER_FIELDS,
    USER_FIELDS,
    JsonObject,
    SandboxAccount,
    ordered,
)
from aircall_ext.sandbox.store import Account, Backend, MemoryStore, StoreError

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIEnvironment

DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 50  # a larger per_page is clamped to this, as live
LISTING_CAP = 10_000  # page * per_page beyond it is refused, as live, whatever the total
MAX_BODY = 64 * 1024
EXTENSION = re.compile(r"[0-9]{3}")
REALM = f'Basic realm="{APP_NAME} sandbox"'
# The live API's refusal of a page beyond the cap, word for word.
OUT_OF_BOUND: JsonObject = {
    "error": "Bad Request",
    "data": None,
    "message": "BAD_REQUEST",
    "errors": "Your query is limited to 10k results and pagination is out of bound, "
    "please use timestamps or other filters.",
    "troubleshoot": "BAD_REQUEST",
    "success": False,
}
# A team member as the live API nests it: a user without extension, status details or state.
MEMBER_FIELDS = (
    "id",
    "direct_link",
    "name",
    "email",
    "availability_status",
    "default_number_id",
    "created_at",
    "time_zone",
    "language",
    "wrap_up_time",
)


@dataclass(frozen=True)
class AppliedWrite:
    """One extension change the sandbox applied: the audit trail of ``--write-log``."""

    user_id: int
    previous: str | None
    extension: str
    ts: float

    def as_json(self) -> JsonObject:
        return {"user_id": self.user_id, "from": self.previous, "to": self.extension, "ts": self.ts}


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # e.g. "/v2/users/12", without a trailing slash
    query: dict[str, list[str]]
    body: bytes
    base_url: str  # absolute URL of the API root as the client reached it
    authorization: str | None
    too_large: bool = False

    @classmethod
    def from_environ(cls, environ: WSGIEnvironment) -> Request:
        path = environ.get("PATH_INFO") or "/"
        if path != "/" and path.endswith("/"):
            path = path[:-1]
        length = _content_length(environ)
        too_large = length > MAX_BODY
        body = environ["wsgi.input"].read(length) if 0 < length <= MAX_BODY else b""
        return cls(
            method=str(environ.get("REQUEST_METHOD", "GET")).upper(),
            path=path,
            query=parse_qs(environ.get("QUERY_STRING", "")),
            body=body,
            base_url=_base_url(environ),
            authorization=environ.get("HTTP_AUTHORIZATION"),
            too_large=too_large,
        )


def _content_length(environ: WSGIEnvironment) -> int:
    try:
        return max(0, int(environ.get("CONTENT_LENGTH") or 0))
    except ValueError:
        return 0


def _base_url(environ: WSGIEnvironment) -> str:
    """Links must point where the client came from: whatever host and port it used."""
    host = environ.get("HTTP_HOST")
    if not host:
        host = environ.get("SERVER_NAME", "localhost")
        port = str(environ.get("SERVER_PORT", ""))
        scheme_port = "443" if environ.get("wsgi.url_scheme") == "https" else "80"
        if port and port != scheme_port:
            host = f"{host}:{port}"
    script = quote(environ.get("SCRIPT_NAME", "").rstrip("/"))
    return f"{environ.get('wsgi.url_scheme', 'http')}://{host}{script}"


@dataclass
class Response:
    status: int
    body: JsonObject
    headers: list[tuple[str, str]] = field(default_factory=list)


def phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def error(status: int, message: str, troubleshoot: str, **headers: str) -> Response:
    """The API's error shape; keyword headers use ``_`` for ``-`` (``Retry_After``)."""
    extra = [(name.replace("_", "-"), value) for name, value in headers.items()]
    return Response(status, {"error": message, "troubleshoot": troubleshoot}, extra)


Handler = Callable[[Request, str | None], Response]


class SandboxApp:
    """WSGI callable. ``credentials=None`` skips auth (in-process use).

    ``account`` is a :class:`~aircall_ext.sandbox.store.Store` (the database) or an in-memory
    :class:`SandboxAccount`. ``on_write`` runs after each applied change is committed (log
    it); if it raises, the exception propagates but the change stays. ``on_slow`` hears
    ``METHOD /path`` of each request a slow fault holds, when it arrives: the one moment a
    client's request is known to be on the server and not yet answered.
    """

    def __init__(
        self,
        account: SandboxAccount | Backend,
        *,
        credentials: tuple[str, str] | None = None,
        rate_limit: RateLimit | None = None,
        reset_unit: ResetUnit = "s",
        rate_headers: RateHeaders = "on-429",
        block_seconds: float | None = None,
        faults: FaultInjector | None = None,
        slow_seconds: float = DEFAULT_SLOW_SECONDS,
        on_write: Callable[[AppliedWrite], None] | None = None,
        on_slow: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._store: Backend = (
            MemoryStore(account) if isinstance(account, SandboxAccount) else account
        )
        self._account: Account = self._store.account
        self._credentials = credentials
        self._limiter = (
            FixedWindowLimiter(rate_limit, clock, block_seconds=block_seconds)
            if rate_limit
            else None
        )
        self._reset_unit = reset_unit
        self._rate_headers = rate_headers
        self._faults = faults
        self._slow_seconds = slow_seconds
        self._on_write = on_write
        self._on_slow = on_slow
        self._clock = clock
        self._sleep = sleep
        self._pending = threading.local()  # the writes of this thread's transaction
        self._routes: list[tuple[re.Pattern[str], dict[str, Handler]]] = [
            (re.compile(r"/v1/company"), {"GET": self._get_company}),
            (re.compile(r"/v1/ping"), {"GET": _ping}),
            (re.compile(r"/v2/users"), {"GET": self._list_users}),
            (re.compile(r"/v2/users/([^/]+)"), {"GET": self._get_user, "PUT": self._put_user}),
            (re.compile(r"/v2/users/([^/]+)/numbers"), {"GET": self._list_user_numbers}),
            (re.compile(r"/v1/numbers"), {"GET": self._list_numbers}),
            (re.compile(r"/v1/numbers/([^/]+)"), {"GET": self._get_number}),
            (re.compile(r"/v1/teams"), {"GET": self._list_teams}),
            (re.compile(r"/v1/teams/([^/]+)"), {"GET": self._get_team}),
            (re.compile(r"/v1/users(?:/.*)?"), {"GET": _retired, "PUT": _retired}),
        ]

    def document(self) -> JsonObject:
        """A consistent snapshot of the account in the state-file format."""
        return self._store.document()

    # -- WSGI -------------------------------------------------------------------------
    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        response = self.handle(Request.from_environ(environ))
        body = json.dumps(response.body, ensure_ascii=False).encode("utf-8")
        headers = [
            ("Content-Type", "application/json; charset=utf-8"),
            ("Content-Length", str(len(body))),
            *response.headers,
        ]
        start_response(f"{response.status} {phrase(response.status)}", headers)
        return [body]

    def handle(self, request: Request) -> Response:
        """Rate limit, then faults, then the API proper. The rate-limit headers go on the
        429s, as live, or on every answer with ``rate_headers="always"``."""
        limit_headers: list[tuple[str, str]] = []
        if self._limiter is not None:
            decision = self._limiter.hit()
            if not decision.allowed:
                return self._too_many(decision)
            if self._rate_headers == "always":
                limit_headers = decision.headers(self._reset_unit)
        fault = self._faults.draw(request.method) if self._faults is not None else None
        if fault is not None and fault.kind == "status":
            response = self._injected(fault.status)
            if fault.status == 429 and not limit_headers:
                limit_headers = self._spent_headers(FAULT_RETRY_AFTER)
        else:
            if fault is not None and fault.kind == "slow":
                if self._on_slow is not None:
                    self._on_slow(f"{request.method} {request.path}")
                self._sleep(self._slow_seconds)
            if fault is not None and fault.kind == "reset" and fault.phase == "before":
                raise ConnectionDropped("before")
            response = self._dispatch(request)
            if fault is not None and fault.kind == "reset":
                raise ConnectionDropped("after")  # a write, if any, is already applied
        response.headers += limit_headers
        return response

    def _too_many(self, decision: Decision) -> Response:
        assert self._limiter is not None
        limit = self._limiter.limit
        response = error(
            429,
            "Too Many Requests",
            f"The rate limit is {limit.requests} requests per {limit.seconds:g} seconds and it "
            "was exceeded: every request is refused until the X-AircallApi-Reset time.",
            Retry_After=str(decision.retry_after),
        )
        response.headers += decision.headers(self._reset_unit)
        return response

    def _spent_headers(self, seconds: int) -> list[tuple[str, str]]:
        """The headers of a 429 as if another client had spent the budget for ``seconds``."""
        if self._limiter is None:
            return []
        reset_at = self._clock() + seconds
        spent = Decision(False, self._limiter.limit.requests, 0, reset_at, seconds)
        return spent.headers(self._reset_unit)

    @staticmethod
    def _injected(status: int) -> Response:
        if status == 429:
            return error(
                429,
                "Too Many Requests",
                "Injected by the sandbox's fault injection; retry after Retry-After seconds.",
                Retry_After=str(FAULT_RETRY_AFTER),
            )
        return error(
            status,
            phrase(status),
            "Injected by the sandbox's fault injection; retrying is expected to succeed.",
        )

    # -- routing ----------------------------------------------------------------------
    def _dispatch(self, request: Request) -> Response:
        # As live: no credentials is 401, credentials that do not match are 403.
        if self._credentials is not None and not request.authorization:
            return Response(401, {"message": "Unauthorized"}, [("WWW-Authenticate", REALM)])
        if not self._authorized(request.authorization):
            return Response(403, {"message": "Forbidden"})
        if request.too_large:
            return error(400, "Bad Request", f"The request body exceeds {MAX_BODY} bytes.")
        for pattern, methods in self._routes:
            match = pattern.fullmatch(request.path)
            if match is None:
                continue
            handler = methods.get(request.method)
            if handler is None:
                return error(
                    405,
                    "Method Not Allowed",
                    f"{request.path} accepts {', '.join(methods)}.",
                    Allow=", ".join(methods),
                )
            return self._transact(request, handler, match.group(1) if match.groups() else None)
        return error(404, "Not Found", "No such endpoint; see the API reference (openapi.yaml).")

    def _transact(self, request: Request, handler: Handler, arg: str | None) -> Response:
        """Run ``handler`` in one transaction; report its writes once they are committed.

        A database that retrying cannot help (``StoreUnusable``: damaged, read-only) is not
        answered: the error propagates, so ``--sandbox`` stops with it and ``sandbox serve``
        answers 500 naming it."""
        writes: list[AppliedWrite] = []
        self._pending.writes = writes
        try:
            with self._store.transaction(write=request.method == "PUT"):
                response = handler(request, arg)
        except StoreError as err:
            return error(
                503,
                "Service Unavailable",
                f"The sandbox database failed ({err}); nothing was changed, retrying is safe.",
            )
        finally:
            self._pending.writes = None
        if self._on_write is not None:
            for write in writes:
                self._on_write(write)
        return response

    def _authorized(self, header: str | None) -> bool:
        if self._credentials is None:
            return True
        scheme, _, encoded = (header or "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True)
        except (binascii.Error, ValueError):
            return False
        api_id, sep, token = decoded.partition(b":")
        expected_id, expected_token = (c.encode("utf-8") for c in self._credentials)
        # Compare both, always: no early exit that times which part was wrong.
        ok_id = hmac.compare_digest(api_id, expected_id)
        ok_token = hmac.compare_digest(token, expected_token)
        return bool(sep) and ok_id and ok_token

    # -- endpoints (called inside a transaction) --------------------------------------
    def _get_company(self, request: Request, _arg: str | None) -> Response:
        return Response(200, {"company": self._account.company_document()})

    def _list_users(self, request: Request, _arg: str | None) -> Response:
        users = self._account.users()
        return paginate(request, "users", users, partial(_user, base_url=request.base_url))

    def _list_numbers(self, request: Request, _arg: str | None) -> Response:
        numbers = self._account.numbers()
        return paginate(request, "numbers", numbers, partial(_number, base_url=request.base_url))

    def _list_user_numbers(self, request: Request, arg: str | None) -> Response:
        user = self._find_user(arg)
        if user is None:
            return _no_user(arg)
        numbers = self._account.numbers_of(user["id"])
        return paginate(request, "numbers", numbers, partial(_number, base_url=request.base_url))

    def _list_teams(self, request: Request, _arg: str | None) -> Response:
        teams = self._account.teams()
        return paginate(request, "teams", teams, partial(self._team, base_url=request.base_url))

    def _get_team(self, request: Request, arg: str | None) -> Response:
        team_id = _object_id(arg)
        team = self._account.team(team_id) if team_id is not None else None
        if team is None:
            return error(404, "Not Found", f"No team has id {arg}.")
        return Response(200, {"team": self._team(team, request.base_url)})

    def _team(self, team: JsonObject, base_url: str) -> JsonObject:
        return {
            "id": team["id"],
            "name": team["name"],
            "direct_link": f"{base_url}/v1/teams/{team['id']}",
            "created_at": team["created_at"],
            "users": [_member(user, base_url) for user in self._account.members(team)],
        }

    def _get_number(self, request: Request, arg: str | None) -> Response:
        number_id = _object_id(arg)
        number = self._account.number(number_id) if number_id is not None else None
        if number is None:
            return error(404, "Not Found", f"No number has id {arg}.")
        users = [_user(u, request.base_url) for u in self._account.distribution(number)]
        return Response(200, {"number": _number(number, request.base_url, users)})

    def _find_user(self, arg: str | None) -> JsonObject | None:
        """The user a path names: by id, or (as live) by email."""
        user_id = _object_id(arg)
        if user_id is not None:
            return self._account.user(user_id)
        if arg and "@" in arg:
            return self._account.user_by_email(arg)
        return None

    def _get_user(self, request: Request, arg: str | None) -> Response:
        user = self._find_user(arg)
        if user is None:
            return _no_user(arg)
        return Response(200, {"user": _user(user, request.base_url)})

    def _put_user(self, request: Request, arg: str | None) -> Response:
        user = self._find_user(arg)
        if user is None:
            return _no_user(arg)
        user_id: int = user["id"]
        payload = _json_object(request.body)
        if payload is None:
            return error(400, "Bad Request", 'Send a JSON object such as {"extension": "101"}.')
        # Other fields may ride along (a client sending a whole user back): they are not the
        # sandbox's business and are ignored; without "extension" the user is unchanged.
        if "extension" in payload:
            extension = payload["extension"]
            problem = _extension_problem(extension)
            if problem is not None:
                return problem
            assert isinstance(extension, str)
            if extension != user.get("extension"):
                refused = self._taken(user_id, extension)
                if refused is not None:
                    return refused
                self._apply(user_id, extension)
        return Response(200, {"user": _user(user, request.base_url)})

    def _taken(self, user_id: int, extension: str) -> Response | None:
        holders = [h for h in self._account.holders(extension) if h["id"] != user_id]
        if not holders:
            return None
        named = "; ".join(f"{h['name']} <{h['email']}> (user {h['id']})" for h in holders)
        return error(
            422,
            f"Extension {extension} is already assigned to {named}",
            "Extensions are unique: move the holder to another extension first.",
        )

    def _apply(self, user_id: int, extension: str) -> None:
        previous = self._account.set_extension(user_id, extension)
        self._pending.writes.append(AppliedWrite(user_id, previous, extension, self._clock()))


def _user(user: JsonObject, base_url: str) -> JsonObject:
    """A v2 user as served: fields in the live order, ``direct_link`` on the client's host.
    A stored user without ``extension`` or ``substatus`` is served without it, as live."""
    return _render(user, USER_FIELDS, f"{base_url}/v2/users/{user['id']}")


def _number(number: JsonObject, base_url: str, users: list[JsonObject] | None = None) -> JsonObject:
    """A v1 number as served. Listing items carry neither ``users`` nor
    ``flow_editor_enabled`` (as live); the detail read has the routing flag as stored and
    nests the call distribution as full user objects."""
    served = _render(number, NUMBER_FIELDS, f"{base_url}/v1/numbers/{number['id']}")
    if users is None:
        del served["users"]
        served.pop("flow_editor_enabled", None)
        return served
    served["users"] = users
    return served


def _member(user: JsonObject, base_url: str) -> JsonObject:
    """A team member as live: a few user fields, no extension."""
    member = {key: user.get(key) for key in MEMBER_FIELDS}
    member["direct_link"] = f"{base_url}/v2/users/{user['id']}"
    return member


def _render(record: JsonObject, fields: tuple[str, ...], direct_link: str) -> JsonObject:
    # A shallow copy is enough: writes replace top-level values, never nested ones.
    return ordered({**record, "direct_link": direct_link}, (fields[0], "direct_link", *fields))


def _ping(_request: Request, _arg: str | None) -> Response:
    return Response(200, {"ping": "pong"})


def _retired(_request: Request, _arg: str | None) -> Response:
    """The live API retired the v1 user routes; a client still on them must hear why."""
    return error(
        410,
        "Gone: /v1/users was retired on 2026-09-30",
        "Use /v2/users and /v2/users/{id} instead.",
    )


def _no_user(arg: str | None) -> Response:
    return error(404, "Not Found", f"No user has id {arg}.")


def _object_id(text: str | None) -> int | None:
    if text is None or not (text.isascii() and text.isdigit()) or len(text) > 18:
        return None
    return int(text)


def _json_object(body: bytes) -> dict[str, Any] | None:
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    return payload if isinstance(payload, dict) else None


def _extension_problem(value: object) -> Response | None:
    """Only three ASCII digits as a JSON string: 101 (a number) would lose 007's zeros."""
    if isinstance(value, str) and EXTENSION.fullmatch(value):
        return None
    got = json.dumps(value, ensure_ascii=False)
    return error(
        422,
        f"Invalid extension: expected three digits as a JSON string, got {got}",
        'An extension is exactly three digits 0-9 sent as text, e.g. "101" or "007".',
    )


def paginate(
    request: Request,
    key: str,
    items: Sequence[JsonObject],
    render: Callable[[JsonObject], JsonObject],
) -> Response:
    """One page of ``items`` with the live ``meta``: counts, the page size used, and absolute
    links on the client's host, null at either end.

    ``per_page`` above 50 is clamped to 50 and a page reaching past 10,000 records is the
    live 400, whatever the total. A ``page`` or ``per_page`` that is not a positive integer
    counts as absent (page 1, 20 per page): the live API is lenient, and what it does with
    such values is not on record. No link leads to a page that would be refused.
    """
    page = _positive_param(request, "page", 1)
    per_page = min(_positive_param(request, "per_page", DEFAULT_PER_PAGE), MAX_PER_PAGE)
    if page * per_page > LISTING_CAP:
        return Response(400, dict(OUT_OF_BOUND))
    total = len(items)
    start = (page - 1) * per_page
    end = min(start + per_page, total)
    chunk = items[start:end] if start < total else []

    def link(number: int) -> str:
        path = quote(request.path, safe="/@+")  # the path arrives decoded: an email, say
        return f"{request.base_url}{path}?page={number}&per_page={per_page}"

    more = end < total and (page + 1) * per_page <= LISTING_CAP
    meta: JsonObject = {
        "count": len(chunk),
        "total": total,
        "current_page": page,
        "per_page": per_page,
        "next_page_link": link(page + 1) if more else None,
        "previous_page_link": link(page - 1) if page > 1 else None,
    }
    return Response(200, {key: [render(item) for item in chunk], "meta": meta})


_HUGE = 10**12  # any page or page size this long is past every cap


def _positive_param(request: Request, name: str, default: int) -> int:
    """The last value of a query parameter as a positive integer, else ``default``."""
    values = request.query.get(name)
    digits = values[-1].strip() if values else ""
    if not (digits.isascii() and digits.isdigit()):
        return default
    digits = digits.lstrip("0")
    if not digits:
        return default
    return _HUGE if len(digits) > 12 else int(digits)
