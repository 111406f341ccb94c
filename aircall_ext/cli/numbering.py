"""``renumber`` and ``map``: the account against its numbering plan."""

from __future__ import annotations

import sys
from collections import Counter
from typing import TYPE_CHECKING, Any

import click

from aircall_ext import output
from aircall_ext.cli.completers import complete_teams
from aircall_ext.cli.context import AppContext, numbering_option, output_option, with_app
from aircall_ext.columns import Columns
from aircall_ext.core.findings import plural
from aircall_ext.errors import Refused, Remedy

if TYPE_CHECKING:
    from aircall_ext.core.extmap import ExtensionMap, Kind, MapLine
    from aircall_ext.core.renumber import Renumbering

SHOWN_UNPLACED = 5  # unplaceable users named on stderr; -o json lists every one

# How a map cell looks on a terminal; "free", gaps and labels stay plain.
COLOURS: dict[str, dict[str, Any]] = {
    "held": {"fg": "green"},
    "breaking": {"fg": "red", "bold": True},
    "shared": {"fg": "magenta", "bold": True},
    "reserved": {"fg": "yellow"},
}


@click.command("renumber")
@output_option
@numbering_option
@with_app
def renumber(app: AppContext) -> None:
    """Print the CSV that moves every user who breaks the numbering plan (for `import`).

    Every user who breaks the plan (outside their team's ranges, on a reserved
    extension, without one, or a later holder of a shared one) goes to the lowest free
    extension they may hold; everyone else stays where they are. Deterministic, and never
    two users on one extension. The CSV lists only the users who move, in the columns
    `export` writes (user_id,email,name,extension), whatever -o says but json.

    Apply it with the importer (see the examples), which orders the writes so that no two
    users ever share an extension (swaps go through a free extension, never a reserved one).
    When nobody breaks the plan it says so on stderr and prints nothing at all (an empty
    file, which import refuses: guard the import with `test -s moves.csv`). -o json:
    {"moves": [{"user_id", "email", "name", "from", "to", "reason"}], "unplaced": [...],
    "summary": {"moved", "unplaced"}}.

    Exit 0 when every user who breaks the plan has a place (or none does); 1 when some
    cannot be placed: their ranges are full. They are named on stderr, the others printed.

    \b
    Examples:
      aircall-ext --numbering plan.toml renumber > moves.csv
      aircall-ext --numbering plan.toml import moves.csv --dry-run
      aircall-ext --numbering plan.toml -o json renumber
    """
    from aircall_ext.services.numbering import renumbering

    plan = app.require_plan("renumber")
    result = renumbering(app.client(), plan)
    if app.output == "json":
        app.out(output.render_json(_renumber_doc(result)), nl=False)
    elif result.moves:
        from aircall_ext.core.renumber import ROW_COLUMNS

        app.out(output.render_csv(result.rows(), ROW_COLUMNS), nl=False)
    _say_renumbering(app, result, plan.source)
    if result.unplaced:
        raise Refused(
            f"{plural(len(result.unplaced), 'user')} cannot be placed: "
            f"their ranges have no free extension",
            hint=("see them with ", Remedy("map"), ", then widen a range in the plan"),
        )


def _renumber_doc(result: Renumbering) -> dict[str, Any]:
    return {
        "moves": [
            {
                "user_id": m.user.id,
                "email": m.user.email,
                "name": m.user.name,
                "from": m.from_ext,
                "to": m.to_ext,
                "reason": m.breach,
            }
            for m in result.moves
        ],
        "unplaced": [
            {
                "user_id": u.user.id,
                "email": u.user.email,
                "name": u.user.name,
                "extension": u.user.extension,
                "teams": list(u.teams),
                "reason": u.breach,
                "message": u.message,
            }
            for u in result.unplaced
        ],
        "summary": {"moved": len(result.moves), "unplaced": len(result.unplaced)},
    }


def _say_renumbering(app: AppContext, result: Renumbering, source: str) -> None:
    if not result.moves and not result.unplaced:
        app.say(f"nothing to renumber: every user keeps to the plan {source}")
        return
    if result.moves:
        reasons = Counter(m.breach for m in result.moves)
        why = ", ".join(f"{n} {reason}" for reason, n in sorted(reasons.items()))
        app.say(f"{plural(len(result.moves), 'user')} move to keep to the plan ({why})")
    for unplaced in result.unplaced[:SHOWN_UNPLACED]:
        app.warn(f"cannot place {unplaced.message}")
    more = len(result.unplaced) - SHOWN_UNPLACED
    if more > 0:
        app.warn(f"... and {more} more who cannot be placed (-o json lists every one)")


RANGE_COLUMNS = Columns.of("team", "range", "size", "held", "free", "breaking", "reserved")


@click.command("map")
@output_option
@click.option(
    "--team",
    metavar="NAME",
    shell_complete=complete_teams,
    help="Only the ranges the numbering plan gives team NAME.",
)
@numbering_option
@with_app
def map_command(app: AppContext, team: str | None) -> None:
    """Draw the extension space against the numbering plan: who holds what, what breaks it.

    One line per fifty extensions, for every hundred in use or in the plan, one character
    per extension: . free, # held, ! held against the plan (outside its holder's ranges,
    reserved, or claimed by a damaged value such as 42 for 042), x shared, r reserved and
    free; with --team, blank outside that team's ranges. Each line ends with the plan
    ranges it crosses. Colour on a terminal, none under NO_COLOR or in a pipe.

    -o json: {"ranges": [{"team", "range", "size", "held", "free", "breaking", "reserved"}]},
    one entry per plan range (team null for the default); -o csv: the same as rows.

    \b
    Examples:
      aircall-ext --numbering plan.toml map
      aircall-ext --numbering plan.toml map --team Sales
    """
    from aircall_ext.services.numbering import extension_map

    plan = app.require_plan("map")
    picture = extension_map(app.client(), plan, team)
    if app.output in ("json", "csv"):
        doc = picture.to_json()
        app.emit(doc, doc["ranges"], RANGE_COLUMNS)
        return
    if not picture.lines:
        app.say("nothing to map: no extension is held and the plan has no range")
        return
    _draw(app, picture, team)


def _draw(app: AppContext, picture: ExtensionMap, team: str | None) -> None:
    from aircall_ext.core.extmap import LEGEND, MapLine, Segment

    colour = output.use_color(sys.stdout)
    legend = LEGEND
    if team is not None:
        legend = MapLine((*LEGEND.segments, Segment("  (blank) not the team's", "text")))
    for line in (*picture.lines, legend):
        app.out(_painted(line, colour), color=colour)


def _painted(line: MapLine, colour: bool) -> str:
    """The line, coloured or not; blank cells at its end (outside a team) not written."""
    if not colour:
        return line.text.rstrip()
    return "".join(_paint(s.text, s.kind) for s in line.segments).rstrip()


def _paint(text: str, kind: Kind) -> str:
    style = COLOURS.get(kind)
    return click.style(text, **style) if style else text
