"""``sandbox serve|reset|show``: run and manage the embedded reference service.

The sandbox package (a WSGI app, an HTTP server, SQLite) is imported inside the command
bodies, so ``sandbox serve --help`` and completion never pay for it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from aircall_ext.cli.context import AppContext, file_option, output_option, with_app
from aircall_ext.cli.render import NUMBER_COLUMNS, USER_COLUMNS, number_row, user_row
from aircall_ext.columns import Columns
from aircall_ext.errors import UsageError
from aircall_ext.loopback import is_loopback
from aircall_ext.names import ENV_SANDBOX_ID, ENV_SANDBOX_STATE, ENV_SANDBOX_TOKEN

if TYPE_CHECKING:
    from aircall_ext.sandbox.faults import FaultPlan
    from aircall_ext.sandbox.ratelimit import RateLimit
    from aircall_ext.sandbox.server import SandboxServer, WriteLog
    from aircall_ext.sandbox.state import SandboxAccount
    from aircall_ext.sandbox.store import Store

STATE_HELP = (
    "Sandbox database, created with the demo account when missing "
    f"[default: ${ENV_SANDBOX_STATE}, else sandbox.db in the user state dir]."
)


@click.group("sandbox")
def sandbox() -> None:
    """Run and manage the embedded sandbox account (the reference API service).

    Any command runs against it in-process with --sandbox. `sandbox serve` exposes the same
    service over HTTP on loopback for CI pipelines and end-to-end tests.
    """


def _rate_limit(_ctx: click.Context, param: click.Parameter, value: str) -> RateLimit | None:
    from aircall_ext.sandbox.ratelimit import RateLimit

    if value.strip().lower() == "off":
        return None
    try:
        return RateLimit.parse(value)
    except ValueError as err:
        raise click.BadParameter(str(err), param=param) from None


def _faults(_ctx: click.Context, param: click.Parameter, value: str | None) -> FaultPlan | None:
    from aircall_ext.sandbox.faults import FaultPlan

    if not value:
        return None
    try:
        return FaultPlan.parse(value) or None
    except ValueError as err:
        raise click.BadParameter(str(err), param=param) from None


def _state_path(state: str | None) -> Path:
    from aircall_ext.sandbox.store import default_state_path

    return Path(state).expanduser() if state else default_state_path()


F = TypeVar("F", bound=Callable[..., Any])


def _credential_option(name: str, env: str, what: str, sent_as: str) -> Callable[[F], F]:
    """A credential the served API requires of its clients: ``sandbox`` unless set."""
    return click.option(
        name,
        default="sandbox",
        show_default=True,
        envvar=env,
        help=f"{what} clients must send ({sent_as}) [env: {env}].",
    )


def _choice_option(name: str, choices: tuple[str, ...], help: str) -> Callable[[F], F]:
    """One of ``choices``; the first, the live API's way, unless told otherwise."""
    return click.option(
        name, type=click.Choice(choices), default=choices[0], show_default=True, help=help
    )


state_option = file_option("--state", metavar="PATH", help=STATE_HELP)


@sandbox.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8080,
    show_default=True,
    help="Port to listen on; 0 picks a free one (read it from the first stderr line).",
)
@state_option
@_credential_option("--api-id", ENV_SANDBOX_ID, "API ID", "Basic auth user")
@_credential_option("--api-token", ENV_SANDBOX_TOKEN, "API token", "Basic auth password")
@click.option(
    "--rate-limit",
    metavar="N/SECONDS",
    default="60/60",
    show_default=True,
    callback=_rate_limit,
    help=(
        "Allow N requests per SECONDS-long window aligned on the clock; the request over "
        "it is refused (429) and starts a block. 'off' disables it."
    ),
)
@click.option(
    "--block-seconds",
    type=click.FloatRange(min=0),
    metavar="SECONDS",
    help=(
        "After the request over the rate limit, refuse every request for this long, and "
        "at least until its window ends [default: the window's length]."
    ),
)
@_choice_option(
    "--rate-headers",
    ("on-429", "always"),
    "When to send X-AircallApi-Limit/-Remaining/-Reset: on 429s only, as the live API "
    "does, or on every answer (for clients that pace from them).",
)
@_choice_option(
    "--reset-unit",
    ("s", "ms"),
    "Unit of the X-AircallApi-Reset header (ms tests clients' millisecond support).",
)
@click.option(
    "--faults",
    metavar="SPEC",
    callback=_faults,
    help="Inject faults per request, e.g. 500:0.1,429:0.05,reset:0.02,slow:0.05 "
    "(any 5xx code; reset drops the connection; slow delays the answer).",
)
@click.option("--seed", type=int, help="Seed of the fault draws, for reproducible runs.")
@click.option(
    "--slow-seconds",
    type=click.FloatRange(min=0),
    default=1.5,
    show_default=True,
    help="Delay added by a 'slow' fault.",
)
@click.option(
    "--allow-remote",
    is_flag=True,
    help="Allow a non-loopback --host (the sandbox has demo credentials: think twice).",
)
@file_option(
    "--write-log",
    metavar="PATH",
    help="Append every applied extension change as a JSON line {user_id, from, to, ts}.",
)
@with_app
def serve(
    app: AppContext,
    host: str,
    port: int,
    state: str | None,
    api_id: str,
    api_token: str,
    rate_limit: RateLimit | None,
    block_seconds: float | None,
    rate_headers: str,
    reset_unit: str,
    faults: FaultPlan | None,
    seed: int | None,
    slow_seconds: float,
    allow_remote: bool,
    write_log: str | None,
) -> None:
    """Serve the sandbox API over HTTP until SIGINT or SIGTERM.

    Every write is committed to the database before it is answered, so other servers and
    --sandbox commands on the same database see it, and a killed server loses nothing.

    The rate limit behaves as the live API's: answers carry no X-AircallApi-* headers until
    the budget is spent; the request over it gets 429 with the headers and Retry-After, and
    so does every request until the block ends (--block-seconds).

    The first stderr line is `listening on http://HOST:PORT`; then one access-log line
    per request (Common Log Format; a dropped connection shows RESET), and a line when a
    request a slow fault holds arrives (`slow fault: holding PUT /v2/users/1 for 1.5 s`).
    """
    from aircall_ext.sandbox.app import SandboxApp
    from aircall_ext.sandbox.faults import FaultInjector
    from aircall_ext.sandbox.server import AccessLog, SandboxServer
    from aircall_ext.sandbox.store import open_store

    if not allow_remote and not is_loopback(host):
        raise UsageError(
            f"refusing to listen on non-loopback host {host}",
            hint="pass --allow-remote to expose the sandbox beyond this machine",
        )
    store = open_store(_state_path(state))
    injector = FaultInjector(faults, seed=seed) if faults else None
    writes = _open_write_log(write_log) if write_log else None
    access_log = AccessLog()
    service = SandboxApp(
        store,
        credentials=(api_id, api_token),
        rate_limit=rate_limit,
        block_seconds=block_seconds,
        rate_headers="always" if rate_headers == "always" else "on-429",
        reset_unit="ms" if reset_unit == "ms" else "s",
        faults=injector,
        slow_seconds=slow_seconds,
        on_write=writes,
        on_slow=lambda request: access_log(f"slow fault: holding {request} for {slow_seconds:g} s"),
    )
    try:
        server = SandboxServer(host, port, service, access_log)
    except OSError as err:
        raise UsageError(f"cannot listen on {host}:{port}: {err.strerror or err}") from None
    app.say(f"listening on {server.url}", always=True)  # a script reads the port there
    if not is_loopback(host):
        app.warn(f"the sandbox is reachable from the network on {host}")
    _serve_and_close(app, server, store, writes)
    if injector is not None:
        counts = ", ".join(f"{kind}: {n}" for kind, n in sorted(injector.injected.items()))
        app.say(f"faults injected: {counts or 'none'}")


def _open_write_log(name: str) -> WriteLog:
    from aircall_ext.sandbox.server import WriteLog

    try:
        return WriteLog(Path(name))
    except OSError as err:
        raise UsageError(f"cannot open write log {name}: {err.strerror or err}") from None


def _serve_and_close(
    app: AppContext, server: SandboxServer, store: Store, writes: WriteLog | None
) -> None:
    """Serve until signalled (requests in flight finish); then close the database and log."""
    from aircall_ext.sandbox.server import serve_until_signalled

    signal_name = None
    try:
        signal_name = serve_until_signalled(server)
    finally:
        store.close()
        if writes is not None:
            writes.close()
    app.say(f"stopped by {signal_name or 'shutdown'}; every write is in {store.path}")


@sandbox.command("reset")
@state_option
@file_option(
    "--from",
    "source",
    metavar="FILE",
    exists=True,
    allow_dash=True,
    help="Start from this JSON state document (validated first) instead of the demo account; "
    "- is stdin.",
)
@click.option(
    "--users",
    type=click.IntRange(0, 100_000),
    help="Start from a generated clean account of N users (unique extensions; none past 1000) "
    "and one team per 50 users (at most 20).",
)
@click.option("--seed", type=int, help="Seed for --users [default: 0]; same seed, same account.")
@with_app
def reset(
    app: AppContext, state: str | None, source: str | None, users: int | None, seed: int | None
) -> None:
    """Replace the sandbox state with the demo account, a given file or a generated account.

    The database content is replaced in one transaction; a damaged sandbox database is
    made again. A file at the state path that is not a sandbox database is never
    overwritten: import an older JSON state file with
    `sandbox reset --from OLD.json --state NEW.db`.
    """
    from aircall_ext.sandbox.demo import demo_account, generate_account
    from aircall_ext.sandbox.store import reset_database

    if source is not None and users is not None:
        raise UsageError("--from and --users cannot be combined")
    if seed is not None and users is None:
        raise UsageError("--seed only applies with --users")
    if source is not None:
        account, what = _read_source(source), source
    elif users is not None:
        account, what = (
            generate_account(users, seed=seed or 0),
            f"a generated account (seed {seed or 0})",
        )
    else:
        account, what = demo_account(), "the demo account"
    path = _state_path(state)
    damage = reset_database(path, account)
    if damage is not None:
        app.warn(f"{damage.message}; made it again")
    app.say(
        f"sandbox reset to {what}: {len(account.users())} users, "
        f"{len(account.numbers())} numbers, {len(account.teams())} teams ({path})"
    )


def _read_source(source: str) -> SandboxAccount:
    """A state file given by the user: any problem is a usage error naming the file."""
    from aircall_ext.sandbox.state import StateInvalid, parse_state

    try:
        with click.open_file(source, encoding="utf-8") as handle:
            text = handle.read()
    except UnicodeDecodeError:
        raise UsageError(f"{source}: not valid UTF-8") from None
    except OSError as err:
        raise UsageError(f"cannot read {source}: {err.strerror or err}") from None
    try:
        return parse_state(text)
    except StateInvalid as err:
        raise UsageError(f"{source}: {err}") from None


# The columns of `list`, identity first, plus the numbers whose distribution holds the user
# and the teams the user is in.
SHOW_COLUMNS = Columns.of(
    *USER_COLUMNS.only("id", "name", "email", "extension", "availability", "outgoing_only"),
    "numbers",
    "teams",
)
TEAM_COLUMNS = Columns.of("id", ("name", "team"), ("users", "members"))


@sandbox.command("show")
@output_option
@state_option
@with_app
def show(app: AppContext, state: str | None) -> None:
    """Summarise the sandbox state: users, numbers, teams (-o json: the state document).

    Reads the database directly (seeding the demo account when it is missing), so it
    shows exactly what the sandbox holds, legacy damage included.
    """
    from aircall_ext.api.models import Number, User
    from aircall_ext.sandbox.store import load_or_seed

    account = load_or_seed(_state_path(state))
    doc = account.document()
    # Rows from the API models and the row builders of `list` and `numbers`: the same
    # availability, routing and distribution as the tool's own views.
    users = [
        {
            **user_row(User.model_validate(u)),
            "numbers": [n["name"] for n in account.numbers_of(u["id"])],
            "teams": [t["name"] for t in account.teams_of(u["id"])],
        }
        for u in account.users()
    ]
    if app.output == "table":
        company = account.company_document()
        app.out(
            f"{company['name']}: {company['users_count']} users, "
            f"{company['numbers_count']} numbers, {len(account.teams())} teams\n"
        )
    app.emit(doc, users, SHOW_COLUMNS, empty="no users")
    if app.output == "table":
        app.out()
        numbers = [
            number_row(Number.model_validate({**n, "users": account.distribution(n)}))
            for n in account.numbers()
        ]
        app.emit(doc, numbers, NUMBER_COLUMNS, empty="no numbers")
        teams = [{**t, "users": len(t["users"])} for t in account.teams()]
        if teams:  # the first line counts them; an account without teams gets no table
            app.out()
            app.emit(doc, teams, TEAM_COLUMNS)
