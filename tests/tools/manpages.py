"""Man pages: ``aircall-ext.1`` (overview, environment, files, exit status, examples) and one
page per command and subcommand, all from the Click tree so that they cannot disagree with
``--help``.

Our own generator rather than click-man: the overview needs sections click-man cannot add
(ENVIRONMENT, FILES, EXIT STATUS, EXAMPLES), and click-man leaves hyphens and leading dots in
help texts unescaped and cuts the NAME line at 45 characters.
"""

from __future__ import annotations

from collections.abc import Iterable

import click

from aircall_ext import __version__
from aircall_ext.api.ratelimit import DEFAULT_BUDGET
from aircall_ext.errors import (
    EXIT_API,
    EXIT_AUTH,
    EXIT_FINDINGS,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_STOPPED,
    EXIT_USAGE,
)
from aircall_ext.names import (
    DEFAULT_BASE_URL,
    ENV_API_ID,
    ENV_API_TOKEN,
    ENV_BASE_URL,
    ENV_CONFIG_DIR,
    ENV_DEBUG,
    ENV_NUMBERING,
    ENV_PROFILE,
    ENV_RATE_LIMIT,
    ENV_SANDBOX,
    ENV_SANDBOX_STATE,
)
from tests.tools import roff
from tests.tools.tree import command_contexts, help_text, page_name, subcommands, summary

# The date printed in every page footer, per release: regenerating never stamps today's date,
# so the pages change only when the commands (or the version) do. Add a line per new version.
MAN_DATES = {"0.1.0": "2026-11", "0.2.0": "2026-12"}

SECTION = "1"
MANUAL = "User Commands"

ENVIRONMENT = [
    (
        ENV_API_ID,
        f"API ID; with {ENV_API_TOKEN}, the credentials for CI and headless "
        "machines (no keyring needed). Takes precedence over the profile.",
    ),
    (ENV_API_TOKEN, f"API token that goes with {ENV_API_ID}. Never pass it in argv."),
    (
        ENV_BASE_URL,
        f"API root URL, as --base-url (default {DEFAULT_BASE_URL}). "
        "HTTPS is required except to loopback hosts.",
    ),
    (ENV_PROFILE, "Profile of config.toml to use, as --profile."),
    (
        ENV_NUMBERING,
        "Numbering plan file (TOML), as --numbering; takes precedence over the profile's "
        "numbering.",
    ),
    (ENV_RATE_LIMIT, f"Request budget N/SECONDS, as --rate-limit (default {DEFAULT_BUDGET})."),
    (ENV_SANDBOX, "1 runs every command against the embedded sandbox, as --sandbox."),
    (ENV_SANDBOX_STATE, "SQLite database of the sandbox."),
    (ENV_CONFIG_DIR, "Directory of config.toml."),
    ("NO_COLOR", "Any non-empty value turns colours off."),
    (ENV_DEBUG, "Show the traceback of an internal error (for bug reports)."),
]

FILES = [
    (
        "~/.config/aircall-ext/config.toml",
        "Profiles: API ID and base URL, never a token "
        "(the token is in the OS keyring, service aircall-ext). AIRCALL_EXT_CONFIG_DIR moves it.",
    ),
    (
        "~/.local/state/aircall-ext/sandbox.db",
        "Database of the embedded sandbox account, "
        "unless AIRCALL_EXT_SANDBOX_STATE names another file.",
    ),
    ("~/.local/state/aircall-ext/journals/", "Journals of bulk imports, to --resume from."),
    (
        "~/.cache/aircall-ext/completion.json",
        "The last listing of users, numbers and team names, for "
        "shell completion (which never calls the API). Safe to delete.",
    ),
    (
        "~/.cache/aircall-ext/rate-limits.json",
        "The lower limits the API imposed with a 429, per account (host and a fingerprint of "
        "the API ID), which cap the request budget of later runs. Delete it to forget them.",
    ),
]
FILES_NOTE = (
    "Paths shown for Linux (XDG_CONFIG_HOME, XDG_STATE_HOME and XDG_CACHE_HOME are honoured); "
    "macOS and Windows use their usual application folders."
)

EXIT_STATUS = [
    (EXIT_OK, "Success; nothing wrong found; the dialed call reaches a user; no drift."),
    (
        EXIT_FINDINGS,
        "Findings of severity error (or warnings with --strict); plan blocked; "
        "the dialed call does not reach a user (or --expect not met); drift found; "
        "import declined at the confirmation prompt (nothing written); "
        "import --undo skipped a row; import --plan refused a stale plan or one for another "
        "account; renumber could not place a user, assign --next found no free extension.",
    ),
    (
        EXIT_USAGE,
        "Usage error: bad option, bad argument (a USER that names no user, or several), "
        "unreadable file, a numbering plan that cannot be right.",
    ),
    (
        EXIT_AUTH,
        "Authentication or configuration error: no credentials, 401/403, keyring unusable.",
    ),
    (EXIT_API, "API or network error after retries: unreachable, 5xx, unexpected response."),
    (EXIT_STOPPED, "Import stopped part-way; the journal to --resume from is named on stderr."),
    (
        EXIT_INTERRUPTED,
        "Interrupted (Ctrl-C) with no write in flight, or end of input at a confirmation prompt.",
    ),
]

EXAMPLES = [
    (
        "Try it on the embedded demo account, no credentials needed:",
        ["aircall-ext --sandbox list", "aircall-ext --sandbox validate"],
    ),
    (
        "Log in once; the token goes to the OS keyring:",
        ["aircall-ext auth login --api-id YOUR_API_ID"],
    ),
    (
        "Audit the account in CI, failing on warnings too:",
        ["AIRCALL_API_ID=... AIRCALL_API_TOKEN=... aircall-ext validate --strict"],
    ),
    (
        "Give a user extension 101, exchanging with its holder; first see what would be written:",
        ["aircall-ext assign ann@example.com 101 --swap --dry-run"],
    ),
    (
        "Plan a bulk import as JSON, then apply it with a per-row report:",
        [
            "aircall-ext import extensions.csv --dry-run -o json",
            "aircall-ext import extensions.csv --yes --report report.csv",
        ],
    ),
    (
        "What does a caller hear who dials 101 during the IVR message of number 1234?",
        ["aircall-ext dial 1234 101 --stage ivr"],
    ),
    (
        "Install bash completion:",
        ["aircall-ext completion bash > ~/.local/share/bash-completion/completions/aircall-ext"],
    ),
]


def man_pages(root: click.Command, prog: str) -> dict[str, str]:
    """File name -> page, for the root command and every visible subcommand."""
    contexts = command_contexts(root, prog)
    top, subs = contexts[0], contexts[1:]
    pages = {f"{page_name(top)}.{SECTION}": _overview(top, subs)}
    for ctx in subs:
        pages[f"{page_name(ctx)}.{SECTION}"] = _command_page(ctx)
    return pages


def man_date(version: str = __version__) -> str:
    try:
        return MAN_DATES[version]
    except KeyError:
        raise LookupError(
            f"no man page date for version {version}: add it to MAN_DATES in {__name__}"
        ) from None


def _overview(ctx: click.Context, subs: list[click.Context]) -> str:
    lines = [
        *_head(ctx),
        *_options(ctx, with_help=True),
        ".SH COMMANDS",
        *_command_list(subs),
        ".SH ENVIRONMENT",
        *_tagged((roff.bold(name), roff.text_line(text)) for name, text in ENVIRONMENT),
        ".SH FILES",
        *_tagged((roff.italic(path), roff.text_line(text)) for path, text in FILES),
        ".PP",
        roff.text_line(FILES_NOTE),
        ".SH EXIT STATUS",
        *_tagged((roff.bold(str(code)), roff.text_line(text)) for code, text in EXIT_STATUS),
        ".SH EXAMPLES",
        *_examples(),
        ".SH SEE ALSO",
        _see_also(subs),
    ]
    return "\n".join(lines) + "\n"


def _command_page(ctx: click.Context) -> str:
    parent = ctx.parent
    assert parent is not None
    lines = [*_head(ctx), *_options(ctx, with_help=False)]
    lines.append(".PP")
    lines.append(f"Global options go before the command: see {_ref(_root(ctx))}.")
    children = subcommands(ctx)
    if children:
        lines += [".SH COMMANDS", *_command_list(children)]
    related = [_root(ctx)] + ([parent] if parent.parent is not None else []) + children
    lines += [".SH SEE ALSO", _see_also(related)]
    return "\n".join(lines) + "\n"


def _head(ctx: click.Context) -> list[str]:
    """Title, NAME, SYNOPSIS and DESCRIPTION: what every page starts with."""
    name = page_name(ctx)
    version = roff.escape(f"{_root(ctx).info_name} {__version__}")
    return [
        roff.macro("TH", roff.escape(name.upper()), SECTION, man_date(), version, MANUAL),
        ".nh",  # never hyphenate: option names and extensions must read (and paste) whole
        ".ad l",
        ".SH NAME",
        f"{roff.escape(name)} \\- {roff.escape(_lower_first(summary(ctx.command)))}",
        ".SH SYNOPSIS",
        roff.macro("B", roff.escape(ctx.command_path)),
        roff.usage(ctx.command.collect_usage_pieces(ctx)),
        ".SH DESCRIPTION",
        *roff.paragraphs(help_text(ctx.command)),
    ]


def _options(ctx: click.Context, *, with_help: bool) -> list[str]:
    help_option = ctx.command.get_help_option(ctx)
    records = [
        param.get_help_record(ctx)
        for param in ctx.command.get_params(ctx)
        if isinstance(param, click.Option) and (with_help or param is not help_option)
    ]
    tagged = [(roff.option_tag(tag), roff.text_line(text)) for tag, text in filter(None, records)]
    return [".SH OPTIONS", *_tagged(tagged)]


def _command_list(contexts: list[click.Context]) -> list[str]:
    entries = []
    for ctx in contexts:
        name = ctx.command_path.partition(" ")[2]
        body = f"{roff.text_line(summary(ctx.command))}. See {_ref(ctx)}."
        entries.append((roff.bold(name), body))
    return _tagged(entries)


def _tagged(entries: Iterable[tuple[str, str]]) -> list[str]:
    """``.TP`` entries: a tag and a body, both already roff."""
    lines: list[str] = []
    for tag, body in entries:
        lines += [".TP", tag, body]
    return lines


def _examples() -> list[str]:
    lines: list[str] = []
    for intro, commands in EXAMPLES:
        lines += [".PP", roff.text_line(intro), ".PP", ".RS 4", ".nf"]
        lines += [roff.escape(c) for c in commands]
        lines += [".fi", ".RE"]
    return lines


def _see_also(contexts: list[click.Context]) -> str:
    return ",\n".join(_ref(c) for c in contexts)


def _ref(ctx: click.Context) -> str:
    return f"\\fB{roff.escape(page_name(ctx))}\\fR({SECTION})"


def _root(ctx: click.Context) -> click.Context:
    return ctx.find_root()


def _lower_first(text: str) -> str:
    """Man NAME lines start in lowercase, but ``USER`` or ``CSV`` stay as they are."""
    first = text.split(" ", 1)[0]
    return text if first.isupper() else text[:1].lower() + text[1:]
