"""Numbering plans against the account: the I/O around the pure rules of ``core/numbering``.

The plan file is read here (its text handed to :func:`parse_plan`), and the account's teams
are read only by the use-cases that judge users by their teams: one more listing, ⌈T/50⌉
requests, read whole like the users (an incomplete read decides nothing).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from aircall_ext.api.client import ApiClient
from aircall_ext.api.models import Team, User
from aircall_ext.completion_cache import remember
from aircall_ext.core.account import Account, UserRef, find_user
from aircall_ext.core.assign import AssignPlan, plan_assign
from aircall_ext.core.audit import audit_account
from aircall_ext.core.extmap import ExtensionMap, build_map
from aircall_ext.core.findings import Finding, sort_findings, who
from aircall_ext.core.numbering import (
    AppliedPlan,
    NumberingPlan,
    lowest_free_for,
    next_free,
    nfc,
    parse_plan,
)
from aircall_ext.core.numbering_checks import offline_findings, plan_findings, target_findings
from aircall_ext.core.renumber import Renumbering, renumber
from aircall_ext.errors import Refused, Remedy, UsageError
from aircall_ext.services.csvcheck import check_source, read_source
from aircall_ext.services.users import load_account, read_listing

# An empty plan: nobody constrained, nothing reserved (``assign --next`` without a plan).
NO_PLAN = "no plan"


def read_plan(path: Path, shown: str) -> NumberingPlan:
    """The plan in the file at ``path`` (``shown``: how messages name it). An unreadable
    file, or one that is not UTF-8 text, is a usage error (exit 2) naming it."""
    try:
        data = path.read_bytes()
    except OSError as err:
        raise UsageError(
            f"cannot read the numbering plan {shown}: {err.strerror or err}",
            hint="give a plan file with --numbering FILE, or fix the path",
        ) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise UsageError(
            f"{shown}: the numbering plan is not UTF-8 text (byte {err.start + 1})",
            hint="save it as UTF-8, as TOML requires",
        ) from None
    return parse_plan(text, shown)


def empty_plan() -> NumberingPlan:
    return parse_plan("", NO_PLAN)


# -- the account's teams ----------------------------------------------------------------


def read_teams(client: ApiClient, wanted: Sequence[str] | None = None) -> list[Team]:
    """Every team with its members: ⌈T/50⌉ GETs, read whole (an incomplete read is exit 4).
    A listing item that came without its members is read on its own (one GET), for the
    teams ``wanted`` names (NFC; None: every team)."""
    return _with_members(client, read_listing(client.list_teams), wanted)


def _with_members(
    client: ApiClient, teams: Iterable[Team], wanted: Sequence[str] | None
) -> list[Team]:
    listed = list(teams)
    remember(teams=listed)  # for shell completion of --team
    names = None if wanted is None else {nfc(name) for name in wanted}
    return [
        with_members(client, team) if names is None or nfc(team.name or "") in names else team
        for team in listed
    ]


def with_members(client: ApiClient, team: Team) -> Team:
    """``team`` with its members: listings carry them, but one without is read (one GET)."""
    return team if team.users is not None else client.get_team(team.id)


def membership(teams: Sequence[Team]) -> list[tuple[str, tuple[int, ...]]]:
    """Teams as a plan applies them: each name and its members' user ids."""
    return [(team.name or "", tuple(m.id for m in team.members)) for team in teams]


def apply_plan(client: ApiClient, plan: NumberingPlan) -> AppliedPlan:
    """The plan and the account's team membership (⌈T/50⌉ GETs)."""
    return AppliedPlan(plan, membership(read_teams(client, list(plan.teams))))


@dataclass(frozen=True)
class PlannedAccount:
    """The account read whole, and the plan applied to its teams."""

    account: Account
    applied: AppliedPlan


def read_planned(client: ApiClient, plan: NumberingPlan) -> PlannedAccount:
    """Users, then teams: ⌈U/50⌉ + ⌈T/50⌉ GETs."""
    account = load_account(client)
    return PlannedAccount(account, apply_plan(client, plan))


# -- validate ---------------------------------------------------------------------------


def audit_with_plan(client: ApiClient, plan: NumberingPlan) -> list[Finding]:
    """``validate`` with a plan: the audit and the plan's findings."""
    planned = read_planned(client, plan)
    found = audit_account(planned.account) + plan_findings(planned.applied, planned.account)
    return sort_findings(found)


def validate_file_with_plan(client: ApiClient, path: str, plan: NumberingPlan) -> list[Finding]:
    """``validate FILE`` with a plan: the file against the account, and each row's target
    against the plan. A file without a usable row reads neither users nor teams."""
    checked = check_source(client, read_source(path))
    found = list(checked.desired.findings)
    if checked.desired.rows:
        applied = apply_plan(client, plan)
        found += target_findings(
            applied,
            checked.desired.rows,
            source=checked.csv_file.source,
            column=checked.csv_file.columns.get("extension"),
        )
    return sort_findings(found)


def validate_offline(path: str, plan: NumberingPlan | None) -> list[Finding]:
    """``validate FILE --offline``: the file alone (and the plan), no account, no request."""
    return offline_findings(read_source(path).parse(), plan)


# -- handing out and moving extensions ---------------------------------------------------


def free_in_plan(client: ApiClient, plan: NumberingPlan, team: str | None, count: int) -> list[str]:
    """``next-free`` with a plan: the lowest free of a team's ranges (None: the default's).
    Membership does not matter here, so teams are not read: ⌈U/50⌉ GETs."""
    if team is not None:
        plan.team_named(team)  # an unknown name is refused before the account is read
    return next_free(plan, load_account(client), team, count)


def prepare_next(client: ApiClient, ref: UserRef, plan: NumberingPlan | None) -> AssignPlan:
    """``assign USER --next``: USER's lowest free extension, planned as any assignment.
    Without a plan every extension is allowed (``next-free``'s order) and no team is read;
    none free is refused (exit 1), naming USER's teams and ranges."""
    account = load_account(client)
    user = find_user(account, ref)
    applied = AppliedPlan(empty_plan(), ()) if plan is None else apply_plan(client, plan)
    extension = lowest_free_for(applied, account, user)
    if extension is None:
        allowance = applied.allowance_for(user.id)
        where = "in the account" if allowance.ranges is None else f"in {allowance.ranges_text}"
        see = Remedy("map") if plan is not None else Remedy("list")
        raise Refused(
            f"no free extension for {who(user)} ({allowance.who}): none is free {where}",
            hint=("see which ones are held with ", see),
        )
    return plan_assign(account, user, extension, swap=False)


def renumbering(client: ApiClient, plan: NumberingPlan) -> Renumbering:
    """The moves that make the account keep to the plan: ⌈U/50⌉ + ⌈T/50⌉ GETs."""
    planned = read_planned(client, plan)
    return renumber(planned.applied, planned.account)


def extension_map(client: ApiClient, plan: NumberingPlan, team: str | None) -> ExtensionMap:
    """The map of the account under the plan (``team``: that team's ranges only)."""
    if team is not None:
        plan.team_named(team)  # an unknown name is refused before the account is read
    planned = read_planned(client, plan)
    return build_map(planned.applied, planned.account, team)


# -- one team's members -----------------------------------------------------------------


@dataclass(frozen=True)
class TeamMembers:
    name: str  # as the account spells it
    users: list[User]  # in the account's order
    incomplete: str | None  # why the teams listing did not add up (shown, not refused)


def team_members(client: ApiClient, name: str, account: Account) -> TeamMembers:
    """The users of the account team ``name`` (matched after Unicode NFC; two teams of one
    name add up): ⌈T/50⌉ GETs. Like ``list`` itself, a listing that does not add up is
    shown with its reason rather than refused. An unknown name is a usage error listing
    the account's teams."""
    listing = read_listing(client.list_teams, whole=False)
    wanted = nfc(name)
    teams = _with_members(client, listing, [name])
    matched = [t for t in teams if nfc(t.name or "") == wanted]
    if not matched:
        raise _unknown_team(name, [t.name for t in teams])
    ids = {m.id for team in matched for m in team.members}
    members = [u for u in account.users if u.id in ids]
    return TeamMembers(matched[0].name or name, members, listing.incomplete)


def _unknown_team(name: str, names: Sequence[str | None]) -> UsageError:
    known = sorted({n for n in names if n})
    if not known:
        return UsageError(f"no team {name!r}: the account has no teams")
    close = difflib.get_close_matches(nfc(name), [nfc(n) for n in known], n=1)
    also = f"; did you mean {close[0]!r}?" if close else ""
    return UsageError(
        f"no team {name!r} in the account{also} (its teams: {', '.join(known)})",
        hint="names match exactly, case included",
    )
