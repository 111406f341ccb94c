"""The one HTTP client of a run: auth, timeouts, pagination, pacing, retries, error mapping.

Everything that talks to the routing management API goes through :class:`ApiClient`, so
timeouts, pacing to the request budget and retries live in one loop
(:meth:`ApiClient._send`). Time is injected (``sleep``, ``clock``, ``random``) so tests never wait.
"""

from __future__ import annotations

import random as _random
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Generic, Protocol, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ValidationError

from aircall_ext import __version__
from aircall_ext.api.alarms import ALARMS
from aircall_ext.api.models import (
    Company,
    CompanyEnvelope,
    Meta,
    Number,
    NumberEnvelope,
    NumbersPage,
    Page,
    Team,
    TeamEnvelope,
    TeamsPage,
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
from aircall_ext.errors import ApiError, ConfigError, NotFound, Remedy, Unprocessable
from aircall_ext.loopback import is_loopback
from aircall_ext.names import APP_NAME, DEFAULT_BASE_URL, ENV_API_ID, ENV_API_TOKEN

# Versions live in the paths: users moved to /v2 when /v1/users was retired; numbers,
# teams and company stay on /v1.
USERS = "v2/users"
NUMBERS = "v1/numbers"
TEAMS = "v1/teams"
COMPANY = "v1/company"
# A configured URL ending in one of these (older profiles and docs) names the API root.
VERSION_SEGMENTS = ("/v1", "/v2")
PER_PAGE = 50
# The API lists no record past the 10,000th: a page reaching beyond (page * per_page over
# the cap) is answered 400, whatever the total. Such a page is never asked for.
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

# Where the API puts the sentence to show, best first; ``troubleshoot`` may add advice.
SENTENCE_KEYS = ("errors", "message", "error")
# What a refused request says about the credentials (live: a wrong pair is 403, none 401).
CREDENTIAL_ERRORS = {
    401: "no credentials were sent",
    403: "the API ID and token do not match",
}

# What json.loads raises on a body it cannot use: malformed or undecodable (ValueError,
# JSONDecodeError), an integer past Python's digit limit (ValueError), or nesting deeper
# than the interpreter's recursion limit (RecursionError).
UNPARSABLE = (ValueError, RecursionError)

ModelT = TypeVar("ModelT", bound=BaseModel)
ItemT = TypeVar("ItemT")
Log = Callable[[str], None]


@dataclass(frozen=True)
class Listing(Generic[ItemT]):
    """Every record a listing gave, and whether its pages added up.

    ``incomplete`` says why the records may not be all there are (``None``: they are):
    the total changed between pages, more or fewer records came than the total, or the
    API's 10,000-record cap was reached (``capped``, which reading again cannot change).
    """

    items: tuple[ItemT, ...]
    incomplete: str | None = None
    capped: bool = False

    def __iter__(self) -> Iterator[ItemT]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


class Cancellable(Protocol):
    def cancel(self) -> None: ...


StartTimer = Callable[[float, Callable[[], None]], Cancellable]


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
        start_timer: StartTimer = ALARMS.start,
        budget: Budget | None = DEFAULT_BUDGET,
        memory: AccountMemory | None = None,
    ) -> None:
        """``budget`` None: no pacing of its own (a server without a limit). ``memory``
        shares the account's rate-limit state with other runs: the limit a 429 reported
        (it caps the budget), a block in force, and the requests they sent lately."""
        url = check_base_url(base_url, allow_http=allow_http)
        self._base = url
        self._base_text = str(url)
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
        # No block is written further ahead than MAX_WAIT: a later one is damage or a clock
        # set back, and is ignored (were the account really blocked, its 429 says so).
        if recalled is not None and recalled.blocked_until <= clock() + MAX_WAIT:
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

    def list_users(self) -> Listing[User]:
        users: Listing[User] = self._pages(USERS, UsersPage)
        return users

    def get_user(self, user_id: int) -> User:
        return self._get_model(f"{USERS}/{user_id}", UserEnvelope).user

    def get_user_by_email(self, email: str) -> User:
        """One request instead of a listing: the API takes an email where an id goes."""
        return self._get_model(f"{USERS}/{quote(email, safe='')}", UserEnvelope).user

    def list_user_numbers(self, user_id: int) -> Listing[Number]:
        """The numbers the user is assigned to."""
        numbers: Listing[Number] = self._pages(f"{USERS}/{user_id}/numbers", NumbersPage)
        return numbers

    def set_extension(self, user_id: int, extension: str) -> User:
        path = f"{USERS}/{user_id}"
        answer = self._send("PUT", path, body={"extension": extension})
        return self._parse(answer, UserEnvelope, "PUT", path).user

    def list_numbers(self) -> Listing[Number]:
        numbers: Listing[Number] = self._pages(NUMBERS, NumbersPage)
        return numbers

    def get_number(self, number_id: int) -> Number:
        return self._get_model(f"{NUMBERS}/{number_id}", NumberEnvelope).number

    def list_teams(self) -> Listing[Team]:
        teams: Listing[Team] = self._pages(TEAMS, TeamsPage)
        return teams

    def get_team(self, team_id: int) -> Team:
        return self._get_model(f"{TEAMS}/{team_id}", TeamEnvelope).team

    # -- plumbing ---------------------------------------------------------------------
    def _get_model(self, path: str, model: type[ModelT]) -> ModelT:
        return self._parse(self._send("GET", path), model, "GET", path)

    def _pages(self, path: str, model: type[Page]) -> Listing[Any]:
        """Every item of a listing, ``per_page=50``, reading on while there may be more.

        The server's ``next_page_link`` is followed when it sends one on our own host (never
        elsewhere: the credentials go with it); else pages are counted. Items seen on an
        earlier page are dropped (records shift while we page), and a page made only of them
        means the server repeats itself: an error, never an endless loop. Whether the pages
        added up is the listing's to say (:class:`Listing`), and the caller's to judge.
        """
        items: list[Any] = []
        seen: set[int] = set()
        totals: list[int] = []
        page_no, target, params = 1, path, {"page": 1, "per_page": PER_PAGE}
        capped = False
        while True:
            page = self._parse(self._send("GET", target, params=params), model, "GET", path)
            batch = page.items
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
            if meta is not None and meta.total is not None:
                totals.append(meta.total)
            if not _may_have_more(len(batch), len(items), meta):
                break
            page_no += 1
            if page_no * _page_size(meta) > LISTING_CAP:
                capped = True
                break
            target, params = self._next_page(path, page_no, meta)
        what = path.rsplit("/", 1)[-1]
        return Listing(tuple(items), _incompleteness(what, len(items), totals, capped), capped)

    def _next_page(self, path: str, page_no: int, meta: Meta | None) -> tuple[str, dict[str, Any]]:
        """The server's link to the next page when it stays on our host, else page ``page_no``."""
        link = meta.next_page_link if meta is not None else None
        if link:
            followed = self._on_our_host(link)
            if followed is not None:
                return followed
            self._log(f"GET /{path}: not following next_page_link off {self._base.host}: {link}")
        return path, {"page": page_no, "per_page": PER_PAGE}

    def _on_our_host(self, link: str) -> tuple[str, dict[str, Any]] | None:
        """``link`` as a path under the base URL and its query, or ``None`` when it leads
        anywhere else (another scheme, host or port, or outside the API root)."""
        plain = _plain_link(link, self._base_text)
        if plain is not None:
            return plain
        return self._joined(link)

    def _joined(self, link: str) -> tuple[str, dict[str, Any]] | None:
        """:meth:`_on_our_host` for any link, resolved as a browser would."""
        try:
            url = self._base.join(link)
        except (httpx.InvalidURL, TypeError, ValueError):
            return None
        base = self._base
        if (url.scheme, url.host, url.port) != (base.scheme, base.host, base.port):
            return None
        if not url.path.startswith(base.path) or url.path == base.path:
            return None
        return url.path[len(base.path) :], dict(url.params.items())

    def _parse(
        self, response: httpx.Response, model: type[ModelT], method: str, path: str
    ) -> ModelT:
        """The answer's body as ``model``. Pydantic's own JSON parser reads it in one pass
        (half the time of ``json`` then validation on a page of 50 users); it is stricter in a
        few corners (a byte order mark, a lone surrogate, deep nesting), so any body it
        refuses is judged the slower way, which also words every error."""
        try:
            return model.model_validate_json(response.content)
        except ValidationError:
            pass
        data = _json_body(response, method, path)
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
    ) -> httpx.Response:
        """One logical request: paced, retried while it is safe, mapped to our errors; the
        answer when it is a success (2xx)."""
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
        if response.status_code != 429:  # a refusal's headers are read where it is handled
            self.pacer.observe(response.headers, answered)
        elapsed = (answered - started) * 1000
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

    def _result(self, method: str, path: str, response: httpx.Response) -> httpx.Response:
        status = response.status_code
        if 200 <= status < 300:
            return response
        text = _error_text(response)
        if status in CREDENTIAL_ERRORS:
            raise ConfigError(
                f"{CREDENTIAL_ERRORS[status]} (HTTP {status})",
                hint=(f"check {ENV_API_ID}/{ENV_API_TOKEN} or run ", Remedy("auth", "login")),
            )
        if status == 404 and _names_a_record(path) and _api_error_body(response):
            raise NotFound(f"not found: {method} /{path}: {text}", status=status, reason=text)
        if status in {404, 405, 410}:
            # An endpoint, not one record, is missing: the URL or the API moved.
            raise ApiError(
                f"{method} /{path}: the API has no such endpoint (HTTP {status}): {text}",
                status=status,
                hint=f"is the base URL right? It should be the API root, like {DEFAULT_BASE_URL}",
            )
        if status == 422 or (status == 400 and method == "PUT"):
            raise Unprocessable(
                f"the API refused {method} /{path} (HTTP {status}): {text}",
                status=status,
                reason=text,
            )
        if status == 429:
            raise ApiError(
                f"{method} /{path}: still rate limited (HTTP 429): {text}", status=status
            )
        raise ApiError(
            f"{method} /{path} failed: HTTP {status}: {text}", status=status, reason=text
        )

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


# A next-page link as servers write it: the API root, a path and a query of plain words.
# Nothing in it can be normalised, escaped or resolved, so it is read without parsing a URL
# (two URL parses per page are a tenth of a listing's time in-process).
_PLAIN_LINK = re.compile(r"([A-Za-z0-9_/-]+)\?([A-Za-z0-9_=&]*)")


def _plain_link(link: str, base: str) -> tuple[str, dict[str, Any]] | None:
    """``link``'s path under ``base`` and its query when it is plain (see above), else
    ``None`` (it may still lead under ``base``: resolve it to know)."""
    if not link.startswith(base):
        return None
    plain = _PLAIN_LINK.fullmatch(link, len(base))
    if plain is None:
        return None
    return plain[1], dict(httpx.QueryParams(plain[2]).items())


def _may_have_more(count: int, read: int, meta: Meta | None) -> bool:
    """Whether to read the next page: no single missing signal may end a listing early.

    A server that sends links says with them whether there is more (a link past a total
    that is too low is followed: the surplus shows the total wrong). Without links, the
    total decides, but a page short of the server's own page size is the last; without
    a total either, a short page is (short of ``meta.per_page``, else of what was asked).
    """
    if count == 0:
        return False
    if meta is None:
        return count >= PER_PAGE
    if meta.sends_links:
        return meta.next_page_link is not None
    if meta.per_page is not None and count < meta.per_page:
        return False
    if meta.total is not None:
        return read < meta.total
    return count >= _page_size(meta)


def _page_size(meta: Meta | None) -> int:
    """The records per page the server serves: it clamps ``per_page`` and says so in meta."""
    if meta is not None and meta.per_page is not None and meta.per_page > 0:
        return meta.per_page
    return PER_PAGE


def _incompleteness(what: str, read: int, totals: list[int], capped: bool) -> str | None:
    """Why a listing of ``read`` records may not be all there are, or ``None`` if it is."""
    total = totals[-1] if totals else None
    if capped:
        known = f" ({total:,})" if total is not None and total > read else ""
        return f"the API lists at most {LISTING_CAP:,} {what}, and this account has more{known}"
    if len(set(totals)) > 1:
        changes = ", then ".join(f"{n:,}" for n in dict.fromkeys(totals))
        return (
            f"the API's count of {what} changed while its pages were read ({changes}): "
            f"{what} were added or removed meanwhile"
        )
    if total is not None and read != total:
        return f"the API reported {total:,} {what} but listed {read:,}"
    return None


def _json_body(response: httpx.Response, method: str, path: str) -> Any:
    try:
        return response.json()
    except UNPARSABLE:
        raise ApiError(
            f"unexpected response from {method} /{path}: HTTP {response.status_code} body is "
            "not JSON",
            status=response.status_code,
            hint="is the base URL right?",
        ) from None


def _names_a_record(path: str) -> bool:
    """``v2/users/42``, ``v2/users/ann%40example.com``, ``v2/users/42/numbers``: a 404
    there is about that record. A 404 on ``v2/users`` means the endpoint is missing."""
    parts = path.split("/")
    return len(parts) >= 3 and bool(parts[2])


def _api_error_body(response: httpx.Response) -> bool:
    """The API's own error document: a 404 without one comes from a wrong URL, not the API."""
    try:
        data = response.json()
    except UNPARSABLE:
        return False
    return isinstance(data, dict) and any(data.get(key) for key in SENTENCE_KEYS)


def _error_text(response: httpx.Response) -> str:
    """The API's own sentence: ``errors``, else ``message``, else ``error``, with
    ``troubleshoot`` after it when that adds something. Status words standing in for a
    sentence (``BAD_REQUEST``, ``Forbidden``) are skipped when a real sentence exists."""
    try:
        data = response.json()
    except UNPARSABLE:
        data = None
    if isinstance(data, dict):
        said = [text for key in SENTENCE_KEYS if (text := _words(data.get(key)))]
        sentences = [text for text in said if not _placeholder(text)]
        parts = sentences[:1] or said[:1]
        advice = _words(data.get("troubleshoot"))
        if advice and not _placeholder(advice) and advice not in parts:
            parts.append(advice)
        if parts:
            return ": ".join(part.rstrip(".:;,") for part in parts)[:300]
    return response.reason_phrase or "no details"


def _words(value: Any, depth: int = 0) -> str | None:
    """Text from an error field: a string, or a list or object of them (``errors`` may be
    ``{"extension": ["is taken"]}``), on one line."""
    if isinstance(value, str):
        text = " ".join(value.split())
    elif isinstance(value, list) and depth < 3:
        text = "; ".join(filter(None, (_words(item, depth + 1) for item in value)))
    elif isinstance(value, dict) and depth < 3:
        text = "; ".join(
            f"{key}: {words}" for key, item in value.items() if (words := _words(item, depth + 1))
        )
    else:
        return None
    return text or None


def _placeholder(text: str) -> bool:
    """A status word where a sentence should be: ``BAD_REQUEST``, ``Not Found``, ``error``."""
    return _normalized(text) in PLACEHOLDERS


def _normalized(text: str) -> str:
    return " ".join(re.sub(r"[\W_]+", " ", text).split()).casefold()


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


# Status words standing in for a sentence: every HTTP reason phrase (``BAD_REQUEST`` is
# "Bad Request" in capitals), and a bare "error".
PLACEHOLDERS = frozenset({_normalized(status.phrase) for status in HTTPStatus} | {"error"})
