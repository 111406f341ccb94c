"""``list``, ``show`` and ``numbers``: read-only views of the account."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from aircall_ext.cli.completers import complete_teams, complete_users
from aircall_ext.cli.context import AppContext, output_option, with_app
from aircall_ext.cli.render import (
    FIELDS,
    NUMBER_COLUMNS,
    USER_COLUMNS,
    incomplete_note,
    number_doc,
    number_label,
    number_row,
    pick,
    user_doc,
    user_number_doc,
    user_row,
)
from aircall_ext.core.extensions import extension_argument

if TYPE_CHECKING:
    from aircall_ext.api.models import User
    from aircall_ext.core.account import Account


@click.command("list")
@output_option
@click.option("--extension", "extension", metavar="EXT", help="Only the holder(s) of EXT.")
@click.option(
    "--missing", is_flag=True, help="Only users without an extension (none, or blank text)."
)
@click.option("--outgoing-only", is_flag=True, help="Only outgoing-only users (dead extensions).")
@click.option(
    "--duplicates",
    is_flag=True,
    help="Only users sharing a valid extension with another (a collision, as validate says).",
)
@click.option(
    "--team",
    metavar="NAME",
    shell_complete=complete_teams,
    help="Only the members of the account's team NAME (exact name; reads the teams).",
)
@with_app
def list_users(
    app: AppContext,
    extension: str | None,
    missing: bool,
    outgoing_only: bool,
    duplicates: bool,
    team: str | None,
) -> None:
    """List users with extension, availability and outgoing-only flag, sorted by extension.

    Filters combine: --missing --outgoing-only lists outgoing-only users without extension.
    --team needs no numbering plan: it lists the account's team as the API has it."""
    from aircall_ext.services.users import load_account

    wanted = None if extension is None else extension_argument(extension, "--extension")
    account = load_account(app.client(), whole=False)
    if account.incomplete:
        app.warn(incomplete_note(account.incomplete, "users"))
    users = account.users_by_extension()
    if team is not None:
        users = _team_only(app, team, users, account)
    if wanted is not None:
        users = [u for u in users if u.extension == wanted]
    if missing:
        without = {u.id for u in account.missing()}
        users = [u for u in users if u.id in without]
    if outgoing_only:
        silent = sum(1 for u in users if u.outgoing_only is None)
        if silent:
            app.warn(
                f"the API does not report outgoing-only access for {silent} users: "
                "they are not listed"
            )
        users = [u for u in users if u.outgoing_only]
    if duplicates:
        colliding = {u.id for holders in account.collisions().values() for u in holders}
        users = [u for u in users if u.id in colliding]
    app.emit(
        {"users": [user_doc(u) for u in users]},
        [user_row(u) for u in users],
        USER_COLUMNS,
        empty="no users match" if account.users else "the account has no users",
    )


def _team_only(app: AppContext, team: str, users: list[User], account: Account) -> list[User]:
    from aircall_ext.services.numbering import team_members

    found = team_members(app.client(), team, account)
    if found.incomplete:
        app.warn(incomplete_note(found.incomplete, "teams"))
    members = {u.id for u in found.users}
    return [u for u in users if u.id in members]


@click.command("show")
@output_option
@click.argument("user", metavar="USER", shell_complete=complete_users)
@with_app
def show_user(app: AppContext, user: str) -> None:
    """Show one user. USER is an id (42), an email, or ext:NNN (ext:101).

    With the numbers the user is assigned to (listed under "numbers" in JSON)."""
    from aircall_ext.core.account import damaged_match_note, parse_user_ref
    from aircall_ext.services.users import user_with_numbers

    found, numbers = user_with_numbers(app.client(), user)
    if note := damaged_match_note(parse_user_ref(user), found):
        app.warn(note)
    if numbers.incomplete:
        app.warn(incomplete_note(numbers.incomplete, "numbers"))
    fields = {
        **user_row(found),
        **pick(found, ("default_number_id", "time_zone", "language")),
        "numbers": ", ".join(number_label(n) for n in numbers) or "none",
    }
    rows = [{"field": key, "value": value} for key, value in fields.items()]
    doc = {**found.model_dump(mode="json"), "numbers": [user_number_doc(n) for n in numbers]}
    app.emit({"user": doc}, rows, FIELDS)


@click.command("numbers")
@output_option
@with_app
def list_numbers(app: AppContext) -> None:
    """List the account's numbers with routing mode and call-distribution size.

    Routing: smartflows (extensions reach anyone, during IVR/audio/waiting music),
    legacy-classic (welcome message only, distribution users only), legacy-ivr
    (welcome or IVR message, anyone).
    """
    from aircall_ext.services.users import list_numbers_in_full

    numbers = list_numbers_in_full(app.client())
    if numbers.incomplete:
        app.warn(incomplete_note(numbers.incomplete, "numbers"))
    assumed = [n for n in numbers if n.routing_assumption is not None]
    for number in assumed:
        app.warn(f"number {number.id}: routing assumed: {number.routing_assumption}")
    rows = [number_row(n) for n in numbers]
    app.emit(
        {"numbers": [number_doc(n) for n in numbers]},
        rows,
        NUMBER_COLUMNS,
        empty="no numbers",
    )
