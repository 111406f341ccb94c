"""Just enough roff (man(7)) to write pages that ``groff -man -ww`` renders without a warning."""

from __future__ import annotations

import re


def escape(text: str) -> str:
    r"""Text for roff: ``\`` is an escape, ``-`` a hyphen (``\-`` is a minus that copy-pastes
    as an option dash), and non-ASCII goes through ``\[uXXXX]`` so the input stays ASCII."""
    text = text.replace("\\", "\\e").replace("-", "\\-").replace("\t", " ")
    return "".join(c if c.isascii() else f"\\[u{ord(c):04X}]" for c in text)


def text_line(text: str) -> str:
    """One input line of running text; a leading ``.`` or ``'`` would be read as a request."""
    line = escape(text.strip())
    return "\\&" + line if line.startswith((".", "'")) else line


def macro(name: str, *args: str) -> str:
    """A request line such as ``.TH`` with quoted arguments (already escaped)."""
    quoted = ['"' + a.replace('"', "\\(dq") + '"' if " " in a or not a else a for a in args]
    return " ".join([f".{name}", *quoted])


def bold(text: str) -> str:
    return f"\\fB{escape(text)}\\fR"


def italic(text: str) -> str:
    return f"\\fI{escape(text)}\\fR"


_METAVAR = re.compile(r"[A-Z][A-Z0-9_]*(?:\.\.\.)?")


def usage(pieces: list[str]) -> str:
    """Usage pieces (``[OPTIONS]``, ``USER``, ``COMMAND [ARGS]...``) with metavars in italics."""
    out: list[str] = []
    for piece in " ".join(pieces).split():
        match = _METAVAR.search(piece)
        if match is None:
            out.append(escape(piece))
            continue
        start, end = match.span()
        out.append(escape(piece[:start]) + italic(match[0]) + escape(piece[end:]))
    return " ".join(out)


def option_tag(record: str) -> str:
    """``-o, --output [table|json|csv]`` with option names in bold and values in italics."""
    out: list[str] = []
    for token in record.split():
        core, comma = (token[:-1], ",") if token.endswith(",") else (token, "")
        if core.startswith("-"):
            out.append(bold(core) + comma)
        elif core == "/":
            out.append(core)
        else:
            out.append(italic(core) + comma)
    return " ".join(out)


def paragraphs(text: str) -> list[str]:
    r"""Click's help layout as roff: blank lines separate paragraphs, and a paragraph that
    starts with a ``\b`` line is kept as written (no refilling)."""
    lines: list[str] = []
    for block in re.split(r"\n\s*\n", text.strip()):
        rows = block.splitlines()
        lines.append(".PP")
        if rows and rows[0].strip() == "\b":
            lines += [".nf", *(_verbatim(r) for r in rows[1:]), ".fi"]
        else:
            lines += [text_line(r) for r in rows if r.strip()]
    return lines


def _verbatim(row: str) -> str:
    line = escape(row.rstrip())
    return "\\&" + line if line.startswith((".", "'")) else line
