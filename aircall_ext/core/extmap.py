"""The map of the extension space: a picture of who holds what against the plan.

One character per extension, one hundred per two lines of fifty (so a line fits 80
columns), in groups of ten; a ruler on top gives the offset within a line, and each line
ends with the plan ranges it crosses::

        0          10         20         30         40
    200 ##.#.!.... .......... .......... .......... ..........  Sales 200-299
    250 .......... .......... .......... .......... ..........  Sales

``.`` free, ``#`` held, ``!`` held against the plan (by a user who may not hold it, on a
reserved extension, or in a damaged form such as ``42`` for ``042``), ``x`` shared by
several users, ``r`` reserved and free. Hundreds are shown when something in them is held,
claimed, reserved or planned; with a team, only that team's hundreds, and extensions
outside its ranges are blank. Colours are the caller's: the model only says each
segment's kind.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from aircall_ext.core.account import Account
from aircall_ext.core.freeext import ALL_EXTENSIONS, ExtensionRange, damaged_claims
from aircall_ext.core.numbering import AppliedPlan, PlanRange
from aircall_ext.textwidth import display_width, fit

Kind = Literal["free", "held", "breaking", "shared", "reserved", "outside", "text"]
SYMBOLS: dict[Kind, str] = {
    "free": ".",
    "held": "#",
    "breaking": "!",
    "shared": "x",
    "reserved": "r",
    "outside": " ",
}
WIDTH = 80
LINE_SIZE = 50  # extensions per line: two lines per hundred
GROUP = 10  # a space every ten extensions, to count by eye
GUTTER = 4  # "200 "
LINE_STARTS = tuple(f"{hundred}{half}" for hundred in "0123456789" for half in ("00", "50"))
# What is left of 80 columns after the gutter, the cells, their gaps and two spaces.
LABEL_WIDTH = WIDTH - GUTTER - LINE_SIZE - (LINE_SIZE // GROUP - 1) - 2


@dataclass(frozen=True)
class Segment:
    text: str
    kind: Kind


@dataclass(frozen=True)
class MapLine:
    segments: tuple[Segment, ...]

    @property
    def text(self) -> str:
        return "".join(s.text for s in self.segments)


@dataclass(frozen=True)
class RangeUse:
    """One plan range in figures: the ``-o json`` view of the map."""

    team: str | None  # None: the default range
    range: ExtensionRange
    size: int  # extensions in the range
    held: int  # held by at least one user
    free: int  # not held, not reserved, not claimed by a damaged value: can be handed out
    breaking: int  # shown ``!`` or ``x``: held against the plan, or shared
    reserved: int  # reserved extensions in the range, held or not

    def to_json(self) -> dict[str, Any]:
        return {
            "team": self.team,
            "range": str(self.range),
            "size": self.size,
            "held": self.held,
            "free": self.free,
            "breaking": self.breaking,
            "reserved": self.reserved,
        }


@dataclass(frozen=True)
class ExtensionMap:
    lines: tuple[MapLine, ...]  # the ruler first; empty when nothing is held or planned
    ranges: tuple[RangeUse, ...]  # lowest first

    def to_json(self) -> dict[str, Any]:
        return {"ranges": [r.to_json() for r in self.ranges]}


LEGEND = MapLine(
    (
        Segment(".", "free"),
        Segment(" free  ", "text"),
        Segment("#", "held"),
        Segment(" held  ", "text"),
        Segment("!", "breaking"),
        Segment(" held against the plan  ", "text"),
        Segment("x", "shared"),
        Segment(" shared  ", "text"),
        Segment("r", "reserved"),
        Segment(" reserved", "text"),
    )
)


def build_map(applied: AppliedPlan, account: Account, team: str | None = None) -> ExtensionMap:
    """The map of ``account`` under the plan; ``team`` (``--team NAME``) keeps that team's
    ranges only (an unknown name is a usage error listing the plan's teams)."""
    plan = applied.plan
    kinds = _kinds(applied, account)
    if team is None:
        ranges = plan.ranges()
        planned = {e for r in ranges for e in r.range.candidates()}
        hundreds = {e[0] for e in ALL_EXTENSIONS if kinds[e] != "free" or e in planned}
        inside = None
    else:
        ranges = tuple(sorted(plan.ranges_of(plan.team_named(team)), key=lambda r: r.range.first))
        inside = {e for r in ranges for e in r.range.candidates()}
        hundreds = {e[0] for e in inside}
    labels = _labels(ranges)
    lines = [
        _line(start, kinds, inside, labels.get(start, ""))
        for start in LINE_STARTS
        if start[0] in hundreds
    ]
    uses = tuple(_use(r, kinds, account, plan.reserved) for r in ranges)
    return ExtensionMap((_ruler(), *lines) if lines else (), uses)


def _kinds(applied: AppliedPlan, account: Account) -> dict[str, Kind]:
    """Every extension's state, as one character shows it."""
    reserved = applied.plan.reserved
    claimed = damaged_claims(account)
    kinds: dict[str, Kind] = {}
    for extension in ALL_EXTENSIONS:
        holders = account.holders(extension)
        if len(holders) > 1:
            kinds[extension] = "shared"
        elif holders:
            rightful = extension not in reserved and applied.may_hold(holders[0].id, extension)
            kinds[extension] = "held" if rightful else "breaking"
        elif extension in claimed:
            kinds[extension] = "breaking"
        else:
            kinds[extension] = "reserved" if extension in reserved else "free"
    return kinds


def _line(start: str, kinds: dict[str, Kind], inside: set[str] | None, label: str) -> MapLine:
    first = ALL_EXTENSIONS.index(start)
    cells = ALL_EXTENSIONS[first : first + LINE_SIZE]
    segments = [Segment(f"{start} ", "text")]
    for index, extension in enumerate(cells):
        if index and index % GROUP == 0:
            segments.append(Segment(" ", "text"))
        kind = kinds[extension] if inside is None or extension in inside else "outside"
        segments.append(Segment(SYMBOLS[kind], kind))
    if label:
        segments.append(Segment(f"  {label}", "text"))
    return MapLine(tuple(_merged(segments)))


def _labels(ranges: Iterable[PlanRange]) -> dict[str, str]:
    """Line start -> the label naming the plan ranges the line crosses.

    Every line of a range names its team (``default`` for the default range), the first
    one with the span (``Sales 200-299``). When a line is too short for that, the span
    goes alone on the range's next line, if it has one, else is left out."""
    pieces: dict[str, list[_Piece]] = {}
    for plan_range in ranges:
        name = plan_range.team if plan_range.team is not None else "default"
        first, last = _line_start(plan_range.range.first), _line_start(plan_range.range.last)
        lines = [start for start in LINE_STARTS if first <= start <= last]
        span = str(plan_range.range)
        for index, start in enumerate(lines):
            piece = _Piece(name, f"{name} {span}" if index == 0 else name)
            if index == 0 and len(lines) > 1:
                piece.span_next = (lines[1], span)
            pieces.setdefault(start, []).append(piece)
    labels: dict[str, str] = {}
    for start in LINE_STARTS:
        line_pieces = pieces.get(start, [])
        if _label_width(line_pieces) > LABEL_WIDTH:
            for piece in line_pieces:
                piece.text = piece.name
                if piece.span_next is not None:
                    following, span = piece.span_next
                    later = next(p for p in pieces[following] if p.name == piece.name)
                    later.text = span
        if _label_width(line_pieces) > LABEL_WIDTH:
            line_pieces = [
                _Piece(name, name) for name in dict.fromkeys(p.name for p in line_pieces)
            ]
        if line_pieces:
            labels[start] = fit(_label_text(line_pieces), LABEL_WIDTH)
    return labels


@dataclass
class _Piece:
    """One range's part of a line's label."""

    name: str
    text: str
    span_next: tuple[str, str] | None = None  # (next line, span) if the span may move there


def _label_text(pieces: list[_Piece]) -> str:
    return "; ".join(p.text for p in pieces)


def _label_width(pieces: list[_Piece]) -> int:
    return display_width(_label_text(pieces))


def _line_start(extension: str) -> str:
    """The first extension of the map line ``extension`` is on: ``237`` -> ``200``."""
    return extension[0] + ("00" if extension[1] < "5" else "50")


def _ruler() -> MapLine:
    marks = "".join(str(offset).ljust(GROUP + 1) for offset in range(0, LINE_SIZE, GROUP))
    return MapLine((Segment(" " * GUTTER + marks.rstrip(), "text"),))


def _merged(segments: Iterable[Segment]) -> list[Segment]:
    """Runs of one kind as one segment: fewer colour codes for the caller to write."""
    merged: list[Segment] = []
    for segment in segments:
        if merged and merged[-1].kind == segment.kind:
            merged[-1] = Segment(merged[-1].text + segment.text, segment.kind)
        else:
            merged.append(segment)
    return merged


def _use(
    plan_range: PlanRange, kinds: dict[str, Kind], account: Account, reserved: frozenset[str]
) -> RangeUse:
    cells = plan_range.range.candidates()
    states = [kinds[e] for e in cells]
    return RangeUse(
        team=plan_range.team,
        range=plan_range.range,
        size=len(cells),
        held=sum(1 for e in cells if account.holders(e)),
        free=states.count("free"),
        breaking=sum(1 for k in states if k in ("breaking", "shared")),
        reserved=sum(1 for e in cells if e in reserved),
    )
