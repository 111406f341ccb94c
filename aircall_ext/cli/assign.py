"""``assign`` (one extension, safely) and ``next-free`` (free extensions, lowest first)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from aircall_ext.cli.completers import complete_teams, complete_users
from aircall_ext.cli.context import AppContext, numbering_option, output_option, with_app
from aircall_ext.cli.render import user_doc
from aircall_ext.columns import Columns
from aircall_ext.core.extensions import extension_argument
from aircall_ext.errors import UsageError

if TYPE_CHECKING:
    from aircall_ext.api.models import User
    from aircall_ext.core.assign import AssignPlan
    from aircall_ext.core.freeext import ExtensionRange
    from aircall_ext.core.numbering import NumberingPlan

STEP_COLUMNS = Columns.of("step", ("user_id", "user"), "email", "from", "to")


@click.command("assign")
@output_option
@click.argument("user", metavar="USER", shell_complete=complete_users)
@click.argument("extension", metavar="EXT", required=False)
@click.option(
    "--swap",
    is_flag=True,
    help="If EXT is taken, exchange extensions with its holder (3 writes, never a collision).",
)
@click.option(
    "--next",
    "next_free_ext",
    is_flag=True,
    help=(
        "Instead of EXT: the lowest free extension USER may hold (with a numbering plan, in "
        "their team's ranges, never a reserved one); exit 1 naming the team when none is free."
    ),
)
@click.option("--dry-run", is_flag=True, help="Say what would be written, and write nothing.")
@numbering_option
@with_app
def assign(
    app: AppContext,
    user: str,
    extension: str | None,
    swap: bool,
    next_free_ext: bool,
    dry_run: bool,
) -> None:
    """Give USER the extension EXT, refusing to make two users share one.

    USER is a user id (42), an email, or ext:NNN (the current holder of NNN). EXT is exactly
    three digits: 007 is not 7. A taken EXT is refused and its holder named, unless --swap:
    the holder is parked on the lowest free extension, USER takes EXT, and the holder takes
    USER's old extension (with a numbering plan in effect, never on one it reserves). An EXT
    that another user's damaged value stands for (42 for 042) is refused too, naming the
    repair. Assigning the current value sends nothing.

    --next picks EXT: the lowest extension nobody else holds that USER may hold under the
    numbering plan (their teams' ranges, else the plan's default, never a reserved one;
    without a plan, the first that next-free offers). USER's own extension counts as free,
    so a user already on it keeps it.

    Exit 0 when done (or nothing to do), 1 when refused or rejected by the API (or --next
    finds nothing free), 2 for a bad EXT or a USER that names nobody (or several users).
    """
    from aircall_ext.core.account import damaged_match_note, parse_user_ref
    from aircall_ext.services.assign import apply_plan, prepare_assign

    ref = parse_user_ref(user)
    if next_free_ext:
        _check_next(extension, swap)
        from aircall_ext.services.numbering import prepare_next

        numbering = app.plan()
        client = app.client()
        plan = prepare_next(client, ref, numbering)
        wanted = plan.to
    elif extension is None:
        raise UsageError("give EXT, or --next for the lowest free extension USER may hold")
    else:
        wanted = _parse_ext(extension)
        reserved = app.never_park() if swap else frozenset()
        client = app.client()
        plan = prepare_assign(client, ref, wanted, swap=swap, never_park=reserved)
    if note := damaged_match_note(ref, plan.user, assigning=wanted):
        app.warn(note)
    for warning in plan.warnings:
        app.warn(warning)
    result = plan.user
    if plan.steps and not dry_run:
        result = apply_plan(client, plan)
    elif plan.steps:
        result = plan.user.model_copy(update={"extension": plan.to})
    app.say(_summary(plan, dry_run))
    _emit_plan(app, plan, result, dry_run)


def _parse_ext(text: str) -> str:
    return extension_argument(text, "EXT")


def _check_next(extension: str | None, swap: bool) -> None:
    if extension is not None:
        raise UsageError(
            f"give EXT ({extension}) or --next, not both",
            hint="--next chooses the extension itself",
        )
    if swap:
        raise UsageError("--swap takes EXT from its holder; --next only picks a free extension")


def _summary(plan: AssignPlan, dry_run: bool) -> str:
    """One line for people: what was (or would be) done."""
    from aircall_ext.core.findings import who

    name = who(plan.user)
    if not plan.steps:
        return f"{name} already has extension {plan.to}: nothing to do"
    verb = "would " if dry_run else ""
    was = f" (was {plan.from_})" if plan.from_ is not None else ""
    if plan.holder is None:
        return f"{verb}{'assign' if dry_run else 'assigned'} {plan.to} to {name}{was}"
    swapped = "swap" if dry_run else "swapped"
    return (
        f"{verb}{swapped} extensions: {name} {plan.from_} -> {plan.to}, {who(plan.holder)} "
        f"{plan.to} -> {plan.from_} (parked on {plan.parking} in between)"
    )


def _emit_plan(app: AppContext, plan: AssignPlan, result: User, dry_run: bool) -> None:
    steps = [
        {"user_id": s.user_id, "email": plan.user_of(s).email, "from": s.from_ext, "to": s.to_ext}
        for s in plan.steps
    ]
    holder = plan.holder
    doc: dict[str, Any] = {
        "user": user_doc(result),
        "from": plan.from_,
        "to": plan.to,
        "changed": bool(steps),
        "swapped_with": None
        if holder is None
        else {"id": holder.id, "email": holder.email, "from": plan.to, "to": plan.from_},
        "steps": steps,
        "dry_run": dry_run,
    }
    rows = [{"step": i, **step} for i, step in enumerate(steps, start=1)]
    if rows or app.output != "table":  # a no-op is told on stderr; no empty table
        app.emit(doc, rows, STEP_COLUMNS)


def _parse_range(
    _ctx: click.Context, _param: click.Parameter, value: str | None
) -> ExtensionRange | None:
    if value is None:
        return None
    from aircall_ext.core.freeext import parse_range

    try:
        return parse_range(value)
    except ValueError as err:
        raise click.BadParameter(str(err)) from None


FREE_COLUMNS = Columns.of("extension")


@click.command("next-free")
@output_option
@click.option(
    "--count",
    metavar="N",
    type=click.IntRange(1, 1000),
    default=1,
    show_default=True,
    help="How many free extensions to list.",
)
@click.option(
    "--range",
    "extension_range",
    metavar="A-B",
    callback=_parse_range,
    help="Only extensions from A to B inclusive, e.g. 200-299 [default: 100-999, then 000-099].",
)
@click.option(
    "--team",
    metavar="NAME",
    shell_complete=complete_teams,
    help="Only the ranges the numbering plan gives team NAME (needs a plan).",
)
@numbering_option
@with_app
def next_free(
    app: AppContext, count: int, extension_range: ExtensionRange | None, team: str | None
) -> None:
    """List the lowest free extensions, in order.

    Without --range, 100-999 come first and 000-099 last. An extension whose holder has a
    damaged value (7 standing for 007) is not offered.

    With a numbering plan, reserved extensions are never offered, and without --range or
    --team the plan's default ranges are searched (users in no team get those).

    Exit 0 when N were found; 1 when fewer are free (those are still printed).
    """
    from aircall_ext.core.freeext import DEFAULT_ORDER
    from aircall_ext.services.assign import find_free

    if team is not None and extension_range is not None:
        raise UsageError("give --team or --range, not both")
    plan = app.require_plan("--team") if team is not None else app.plan()
    if plan is not None and extension_range is None:
        from aircall_ext.services.numbering import free_in_plan

        free = free_in_plan(app.client(), plan, team, count)
        where = _plan_where(plan, plan.team_named(team) if team is not None else None)
    else:
        candidates = extension_range.candidates() if extension_range else DEFAULT_ORDER
        if plan is not None:
            candidates = tuple(e for e in candidates if e not in plan.reserved)
        free = find_free(app.client(), count, candidates)
        where = f"in {extension_range}" if extension_range else "in the account"
    app.emit(
        {"free": free},
        [{"extension": e} for e in free],
        FREE_COLUMNS,
        empty=f"no free extension {where}",
    )
    if free and len(free) < count:
        app.warn(f"only {len(free)} of the {count} requested are free {where}")
    app.exit(1 if len(free) < count else 0)


def _plan_where(plan: NumberingPlan, team: str | None) -> str:
    """``for team Sales in 200-299``; ``in the default range 100-199``."""
    if team is None:
        allowance = plan.allowance(())
        if allowance.ranges is None:
            return "outside the plan's reserved extensions"
        return f"in {allowance.ranges_text}"
    return f"for team {team} in {plan.allowance((team,)).ranges_text}"
