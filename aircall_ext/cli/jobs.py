"""``jobs``: the import journals, and the command that finishes or takes back each."""

from __future__ import annotations

import functools
from pathlib import Path

import click

from aircall_ext.cli.context import AppContext, output_option, with_app
from aircall_ext.columns import Columns

COLUMNS = Columns.of(("started", "started (UTC)"), "file", "account", "status", "command")
CSV_COLUMNS = Columns.of(
    "journal", "started", "file", "account", "status", "done", "total", "resume", "undo",
    "moved", "moved_back",
)  # fmt: skip


@click.command("jobs")
@output_option
@click.option(
    "--dir",
    "directory",
    metavar="PATH",
    type=click.Path(file_okay=False, exists=True),
    help="Journal directory to list (default: where `import` writes its journals).",
)
@with_app
def jobs_command(app: AppContext, directory: str | None) -> None:
    """List the import journals, newest first, with the command that resumes or undoes each.

    Each row is one import (or undo) job: when it started (UTC), its CSV file (- for
    standard input), its account (API ID@host, or sandbox), and its status: done,
    stopped at N of M (N writes confirmed of M planned), failed (its last run ended on a
    refused write or a failed check), undone (its undos put back every user it moved),
    partly undone (N of M) (N of the M users it moved are back), or unreadable (a damaged
    journal: listed, never fatal). An undo that was itself undone no longer counts. The
    command column is what to run next: `import --resume JOURNAL` for an unfinished job,
    `import --undo JOURNAL` for a done one; for a partly undone job, the resume of its
    stopped undo, else its undo again (none when the users left had no extension before).
    -o json gives both commands and the counts (moved, moved_back). Nothing is sent to
    the API. Journals written elsewhere with `import --journal PATH` are listed with --dir.
    """
    from aircall_ext.services.jobs import list_jobs
    from aircall_ext.services.journal import journals_dir

    where = Path(directory) if directory else journals_dir()
    jobs = list_jobs(where)
    for job in jobs:
        if job.error is not None:
            app.warn(job.error)
    docs = [job.to_json(functools.partial(app.command_line, sandbox=job.sandbox)) for job in jobs]
    rows = [
        {
            **doc,
            "started": _shown_time(doc["started"]),
            "file": _shown_file(doc),
            "account": doc["account"] or "-",
            "command": doc["resume"] or doc["undo"] or _no_command(doc),
        }
        for doc in docs
    ]
    app.emit(
        {"jobs": docs},
        rows if app.output == "table" else docs,  # CSV: the values as JSON has them
        COLUMNS,
        csv=CSV_COLUMNS,
        empty=f"no journals in {where}",
    )


def _no_command(doc: dict[str, object]) -> str:
    return f"(journal {doc['journal']})" if doc["status"] == "unreadable" else "-"


def _shown_time(started: str | None) -> str:
    return started.replace("T", " ").removesuffix("Z") if started else "-"


def _shown_file(doc: dict[str, object]) -> str:
    if doc["undo_of"]:
        return f"undo of {Path(str(doc['undo_of'])).name}"
    return str(doc["file"] or "-")
