"""The one HTTP client of a run: auth, timeouts, pagination, pacing, retries, error mapping.

Everything that talks to the routing management API goes through :class:`ApiClient`, so
timeouts, pacing to the request budget and retries live in one loop
(:meth:`ApiClient._send`). Time is injected (``sleep``, ``clock``, ``random``) so tests never wait.
"""

from __future__ import annotations

import random as _random
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from aircall_ext import __version__
from aircall_ext.api.models import (
    Company,
    CompanyEnvelope,
    Meta,
    Number,
    NumberEnvelope,
    NumbersPage,
    User,
    UserEnvelope,
    UsersPage,
)
from aircall_ext.api.ratelimit import (
    DEFAULT_BUDGET,
    LIMIT_HEADER,
    MAX_WAIT,
    RETRY_AFTER_HEADER,
    AccountMemory,
    Budget,
    Pacer,
    parse_int,
    parse_retry_after,
)
from aircall_ext.errors import ApiError, ConfigError, NotFound, Unprocessable
from aircall_ext.loopback import is_loopback
from aircall_ext.names import APP_NAME, DEFAULT_BASE_URL, ENV_API_ID, ENV_API_TOKEN

# Versions live in the paths: users moved to /v2 when /v1/users was retired; numbers and
# company stay on /v1.
USERS = "v2/users"
NUMBERS = "v1/numbers"
COMPANY = "v1/company"
# A configured URL ending in one of these (older profiles and docs) names the API root.
VERSION_SEGMENTS = ("/v1", "/v2")
PER_PAGE = 50
LISTING_CAP = 10_000
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)

MAX_ATTEMPTS = 5  # per request, for 5xx and network errors
# A server that accepts and never answers costs a read timeout per try: two tries, not five,
# keep such a run bounded (about a minute), and a notice says what is awaited meanwhile.
MAX_TIMEOUTS = 2
SLOW_NOTICE_AFTER = 5.0
MAX_RATE_LIMITED = 20  # 429s tolerated per request: another client may hold the budget
BACKOFF_BASE = 0.5
BACKOFF_CAP = 20.0

# Safe to repeat: a PUT of an extension sets the same value twice.
IDEMPOTENT = frozenset({"GET", "PUT", "HEAD", "OPTIONS"})
# Failures after which a repeated request may succeed.
RETRYABLE_ERRORS = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)

# What json.loads raises on a body it cannot use: malformed or undecodable (ValueError,
# JSONDecodeError), an integer past Python's digit limit (ValueError), or nesting deeper
# than the interpreter's recursion limit (RecursionError).
UNPARSABLE = (ValueError, RecursionError)

ModelT = TypeVar("ModelT", bound=BaseModel)
Log = Callable[[str], None]


class Cancellable(Protocol):
    def cancel(self) -> None: ...


StartTimer = Callable[[float, Callable[[], None]], Cancellable]


def _thread_timer(seconds: float, action: Callable[[], None]) -> Cancellable:
    timer = threading.Timer(seconds, action)
    timer.daemon = True
    timer.start()
    return timer


def _ignore(_message: str) -> None:
    return None


def check_base_url(base_url: str, *, allow_http: bool = False) -> httpx.URL:
    """The API root: HTTPS, or plain HTTP to a loopback host only; a version suffix dropped."""
    try:
        url = httpx.URL(base_url.strip())
    except (httpx.InvalidURL, TypeError, ValueError) as err:
        raise ConfigError(f"invalid base URL {base_url!r}: {err}") from None
    if url.scheme not in {"http", "https"} or not url.host:
        raise ConfigError(
            f"invalid base URL {base_url!r}: expected https://HOST/PATH",
            hint=f"the default is {DEFAULT_BASE_URL}",
        )
    if url.scheme == "http" and not (allow_http or is_loopback(url.host)):
        raise ConfigError(
            f"refusing plain http:// to {url.host}: credentials would cross the network "
            "unencrypted",
            hint="use https://, or http:// only for localhost/127.0.0.1/::1",
        )
    path = url.path.rstrip("/")
    if path.endswith(VERSION_SEGMENTS):
        path = path[: -len("/v1")]
    return url.copy_with(path=path + "/", query=None, fragment=None)


class ApiClient:
    """Client of the routing management API: users on /v2, numbers and company on /v1."""

    def __init__(
        self,
        base_url: str,
        api_id: str,
        api_token: str,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        allow_http: bool = False,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        random: Callable[[], float] = _random.random,
        log: Log | None = None,
        warn: Log | None = None,
        log_headers: bool = False,
        start_timer: StartTimer = _thread_timer,
        budget: Budget | None = DEFAULT_BUDGET,
        memory: AccountMemory | None = None,
    ) -> None:
        """``budget`` None: no pacing of its own (a server without a limit). ``memory``
        shares the account's rate-limit state with other runs: the limit a 429 reported
        (it caps the budget), a block in force, and the requests they sent lately."""
        url = check_base_url(base_url, allow_http=allow_http)
        self._http = httpx.Client(
            base_url=str(url),
            auth=httpx.BasicAuth(api_id, api_token),
            timeout=timeout,
            transport=transport,
            headers={"User-Agent": f"{APP_NAME}/{__version__}", "Accept": "application/json"},
            follow_redirects=False,  # a redirect must not carry the credentials elsewhere
        )
        self._sleep = sleep
        self._clock = clock
        self._random = random
        self._log = log or _ignore
        self._warn = warn or _ignore
        self._log_headers = log_headers
        self._start_timer = start_timer
        self._read_timeout = self._http.timeout.read
        self._memory = memory
        recalled = memory.recall() if memory is not None else None
        self.pacer = Pacer(budget, recalled.limit if recalled is not None else None)
        if recalled is not None:
            self.pacer.block(recalled.blocked_until)
        self.request_count = 0
        # Called with the number of seconds about to be spent waiting for the rate limit.
        self.on_wait: Callable[[float], None] | None = None

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- endpoints --------------------------------------------------------------------
    def get_company(self) -> Company:
        return self._get_model(COMPANY, CompanyEnvelope).company

    def list_users(self) -> list[User]:
        users: list[User] = self._pages(USERS, UsersPage)
        return users

    def get_user(self, user_id: int) -> User:
        return self._get_model(f"{USERS}/{user_id}", UserEnvelope).user

    def set_extension(self, user_id: int, extension: str) -> User:
        path = f"{USERS}/{user_id}"
        data = self._send("PUT", path, body={"extension": extension})
        return self._parse(data, UserEnvelope, "PUT", path).user

    def list_numbers(self) -> list[Number]:
        numbers: list[Number] = self._pages(NUMBERS, NumbersPage)
        return numbers

    def get_number(self, number_id: int) -> Number:
        return self._get_model(f"{NUMBERS}/{number_id}", NumberEnvelope).number

    # -- plumbing ---------------------------------------------------------------------
    def _get_model(self, path: str, model: type[ModelT]) -> ModelT:
        return self._parse(self._send("GET", path), model, "GET", path)

    def _pages(self, path: str, model: type[UsersPage] | type[NumbersPage]) -> list[Any]:
        """Every item of a listing, ``per_page=50``, reading on while there may be more.

        Paging stops at an empty page, at ``next_page_link`` sent and null, once
        ``meta.total`` items are read, or, without a total, at a short page. Items
        seen on an earlier page are dropped (records shift while we page), and a page made
        only of them means the server repeats itself: an error, never an endless loop.
        """
        items: list[Any] = []
        seen: set[int] = set()
        total: int | None = None
        for page_no in range(1, LISTING_CAP // PER_PAGE + 1):
            params = {"page": page_no, "per_page": PER_PAGE}
            page = self._parse(self._send("GET", path, params=params), model, "GET", path)
            batch = page.users if isinstance(page, UsersPage) else page.numbers
            fresh = [item for item in batch if item.id not in seen]
            if batch and not fresh:
                raise ApiError(
                    f"GET /{path}: page {page_no} repeats records already read; "
                    "stopped instead of paging forever",
                    hint="the API's paging looks broken; try again later",
                )
            items.extend(fresh)
            seen.update(item.id for item in fresh)
            meta = page.meta
            total = meta.total if meta is not None and meta.total is not None else total
            if not _may_have_more(len(batch), len(items), meta):
                break
        self._warn_if_short(path, len(items), total)
        return items

    def _warn_if_short(self, path: str, read: int, total: int | None) -> None:
        what = path.rsplit("/", 1)[-1]
        if read >= LISTING_CAP:
            shown = (
                f"the account has {total:,}, so {total - read:,} were not read"
                if total and total > read
                else "the account may have more"
            )
            self._warn(
                f"the API lists at most {LISTING_CAP:,} {what}; {shown} and results are incomplete"
            )
        elif total is not None and read < total:
            self._warn(
                f"the API listed {read:,} {what} but reported {total:,}: results may be "
                "incomplete (records may have been removed while paging); run it again"
            )

    def _parse(self, data: Any, model: type[ModelT], method: str, path: str) -> ModelT:
        try:
            return model.model_validate(data)
        except ValidationError as err:
            first = err.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "body"
            raise ApiError(
                f"unexpected response from {method} /{path}: {where}: {first['msg']}",
                hint="is the base URL right?",
            ) from None

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
    ) -> Any:
        """One logical request: paced, retried while it is safe, mapped to our errors."""
        failures = 0
        timeouts = 0
        limited = 0
        while True:
            self._pace(f"{method} /{path}")
            try:
                response = self._exchange(method, path, params, body)
            except RETRYABLE_ERRORS as err:
                failures += 1
                reason = _describe_network_error(err)
                if isinstance(err, httpx.TimeoutException):
                    timeouts += 1
                    if timeouts < MAX_TIMEOUTS:
                        self._warn(f"{method} /{path}: {reason}; trying once more")
                exhausted = failures >= MAX_ATTEMPTS or timeouts >= MAX_TIMEOUTS
                if method not in IDEMPOTENT or exhausted:
                    raise ApiError(
                        f"{method} /{path} failed: {reason}",
                        hint="check the network and the base URL, then run the command again",
                    ) from None
                self._backoff(failures, f"{method} /{path}: {reason}")
                continue
            except httpx.HTTPError as err:
                raise ApiError(f"{method} /{path} failed: {err}") from None
            status = response.status_code
            if status == 429 and limited < MAX_RATE_LIMITED:
                limited += 1
                self._wait_rate_limited(response, f"{method} /{path}")
                continue
            if status >= 500 and method in IDEMPOTENT and failures + 1 < MAX_ATTEMPTS:
                failures += 1
                self._backoff(failures, f"{method} /{path}: HTTP {status}")
                continue
            return self._result(method, path, response)

    def _exchange(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None,
        body: dict[str, Any] | None,
    ) -> httpx.Response:
        self.request_count += 1
        started = self._clock()
        self._share(started)  # should this run die now, the next one knows it was sent
        notice = self._start_timer(SLOW_NOTICE_AFTER, lambda: self._slow_notice(method, path))
        try:
            response = self._http.request(method, path, params=params, json=body)
        finally:
            notice.cancel()
            answered = self._clock()
            self.pacer.sent(answered)  # counted, answered or not: it may have arrived
            self._share(answered)
        finished = self._clock()
        if response.status_code != 429:  # a refusal's headers are read where it is handled
            self.pacer.observe(response.headers, finished)
        elapsed = (finished - started) * 1000
        sent = response.request  # as sent, auth header included: logged redacted
        target = sent.url.raw_path.decode()
        self._log(f"{method} {target} -> {response.status_code} ({elapsed:.0f} ms)")
        if self._log_headers:
            self._log(f"  > {_safe_headers(sent.headers)}")
            self._log(f"  < {_safe_headers(response.headers)}")
        return response

    def _slow_notice(self, method: str, path: str) -> None:
        limit = f" (giving up after {self._read_timeout:.0f} s)" if self._read_timeout else ""
        self._warn(f"still waiting for the API to answer {method} /{path}{limit}")

    def _result(self, method: str, path: str, response: httpx.Response) -> Any:
        status = response.status_code
        if 200 <= status < 300:
            try:
                return response.json()
            except UNPARSABLE:
                raise ApiError(
                    f"unexpected response from {method} /{path}: HTTP {status} body is not JSON",
                    status=status,
                    hint="is the base URL right?",
                ) from None
        text = _error_text(response)
        if status in {401, 403}:
            raise ConfigError(
                f"the API refused the credentials (HTTP {status}): {text}",
                hint=f"check {ENV_API_ID}/{ENV_API_TOKEN} or run `{APP_NAME} auth login`",
            )
        if status == 404 and path.rsplit("/", 1)[-1].isdigit() and _api_error_body(response):
            raise NotFound(f"not found: {method} /{path}: {text}", status=status)
        if status in {404, 405, 410}:
            # An endpoint, not one record, is missing: the URL or the API moved.
            raise ApiError(
                f"{method} /{path}: the API has no such endpoint (HTTP {status}): {text}",
                status=status,
                hint=f"is the base URL right? It should be the API root, like {DEFAULT_BASE_URL}",
            )
        if status == 422:
            raise Unprocessable(f"the API rejected {method} /{path}: {text}", status=status)
        if status == 429:
            raise ApiError(
                f"{method} /{path}: still rate limited (HTTP 429): {text}", status=status
            )
        raise ApiError(f"{method} /{path} failed: HTTP {status}: {text}", status=status)

    # -- waiting ----------------------------------------------------------------------
    def _pace(self, what: str) -> None:
        """Hold the request back until the budget allows it and the server would take it."""
        now = self._clock()
        server = self.pacer.server_delay(now)
        if server > MAX_WAIT:
            raise ApiError(
                f"{what}: the API's rate limit is spent for another {server:,.0f} s, more than "
                f"the {MAX_WAIT:.0f} s this tool waits at once",
                status=429,
                hint="the account's API budget is exhausted; run the command again later",
            )
        others = self._memory.others(now - self.pacer.seconds) if self._memory else []
        delay = max(server, self.pacer.budget_delay(now, others))
        if delay > 0:
            self._log(f"waiting {delay:.1f} s for the request budget ({self.pacer.budget})")
            self._wait(delay)

    def _wait_rate_limited(self, response: httpx.Response, what: str) -> None:
        """Nothing more is sent until the block ends; the limit it reports is kept."""
        now = self._clock()
        headers = response.headers
        delay = parse_retry_after(headers.get(RETRY_AFTER_HEADER), now)
        if delay is None:
            delay = self.pacer.reset_after(headers, now)
        if delay is None:
            delay = min(self.pacer.seconds, MAX_WAIT)  # nothing said: one window
        if delay > MAX_WAIT:
            raise ApiError(
                f"{what}: rate limited (HTTP 429) and asked to wait {delay:,.0f} s, more than "
                f"the {MAX_WAIT:.0f} s this tool waits at once",
                status=429,
                hint="the account's API budget is exhausted; run the command again later",
            )
        self._log(f"rate limited (HTTP 429): waiting {delay:.1f} s")
        self.pacer.block(now + delay)
        limit = parse_int(headers.get(LIMIT_HEADER))
        lowered = limit is not None and self.pacer.lower(limit)
        if self._memory is not None:
            self._memory.remember(self.pacer.limit if lowered else None, now + delay)
        if lowered:
            remembered = "; remembered for this account" if self._memory is not None else ""
            self._warn(
                f"the API limited us to {limit} requests (HTTP 429): pacing at "
                f"{self.pacer.budget} from now on{remembered}"
            )

    def _share(self, at: float) -> None:
        if self._memory is not None:
            self._memory.record(self.request_count, at, forget_before=at - self.pacer.seconds)

    def _backoff(self, failures: int, reason: str) -> None:
        """Capped exponential backoff with jitter, so retrying clients don't stampede."""
        ceiling = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (failures - 1))
        delay = ceiling / 2 + self._random() * ceiling / 2
        self._log(f"{reason}; retrying in {delay:.1f} s (attempt {failures + 1}/{MAX_ATTEMPTS})")
        self._sleep(delay)

    def _wait(self, seconds: float) -> None:
        if self.on_wait is not None:
            self.on_wait(seconds)
        self._sleep(seconds)


def _may_have_more(count: int, read: int, meta: Meta | None) -> bool:
    """Whether to read the next page: no single missing signal may end a listing early."""
    if count == 0 or (meta is not None and meta.says_last_page):
        return False
    if meta is not None and meta.total is not None:
        return read < meta.total
    if meta is not None and meta.next_page_link:
        return True
    return count >= PER_PAGE


def _api_error_body(response: httpx.Response) -> bool:
    """The API's own error document: a 404 without one comes from a wrong URL, not the API."""
    try:
        data = response.json()
    except UNPARSABLE:
        return False
    return isinstance(data, dict) and bool(data.get("error") or data.get("message"))


def _error_text(response: httpx.Response) -> str:
    """The API's own words: ``error`` and ``troubleshoot``, or a gateway's ``message``."""
    try:
        data = response.json()
    except UNPARSABLE:
        data = None
    if isinstance(data, dict):
        parts = [str(data[k]).strip() for k in ("error", "message", "troubleshoot") if data.get(k)]
        parts = [part.rstrip(".:;,") for part in parts if part]
        if parts:
            return " ".join(": ".join(parts).split())[:300]
    return response.reason_phrase or "no details"


def _describe_network_error(err: httpx.HTTPError) -> str:
    if isinstance(err, httpx.TimeoutException):
        return f"timed out ({type(err).__name__})"
    if isinstance(err, httpx.RemoteProtocolError):
        return "the server closed the connection without a response"
    return f"network error: {err}" if str(err) else f"network error ({type(err).__name__})"


def _safe_headers(headers: httpx.Headers) -> str:
    """Headers for ``-vv`` logs, with every secret redacted."""
    redacted = {"authorization", "cookie", "set-cookie", "proxy-authorization"}
    return ", ".join(
        f"{name}: {'<redacted>' if name.lower() in redacted else value}"
        for name, value in headers.items()
    )
