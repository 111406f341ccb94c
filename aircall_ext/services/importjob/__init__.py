"""The import job: a desired state (a CSV, a saved plan, an undo, a journal to resume)
made true on the account, safely, resumably, with a journal.

Usable without the CLI::

    job = ImportJob(FromCsv("users.csv"), Connected(client, identity), ImportOptions(yes=True))
    result = job.run()

Modules: ``job`` (the steps, in order), ``sources`` (the four sources), ``prepared`` (what is
decided before the first write), ``apply`` (the apply loop), ``journaling`` (the job's
journal), ``results`` (the report and the result), ``options`` (options and callbacks).
"""

from aircall_ext.services.importjob.apply import NoProgress, Progress
from aircall_ext.services.importjob.job import ImportJob
from aircall_ext.services.importjob.options import (
    Connected,
    Connection,
    ImportOptions,
    ImportUi,
    JobUi,
)
from aircall_ext.services.importjob.prepared import CsvInput, Prepared, UndoInput
from aircall_ext.services.importjob.results import (
    REPORT_COLUMNS,
    ImportResult,
    RowResult,
)
from aircall_ext.services.importjob.sources import (
    FromCsv,
    FromJournal,
    FromPlan,
    FromUndo,
    JobSource,
)

__all__ = [
    "REPORT_COLUMNS",
    "Connected",
    "Connection",
    "CsvInput",
    "FromCsv",
    "FromJournal",
    "FromPlan",
    "FromUndo",
    "ImportJob",
    "ImportOptions",
    "ImportResult",
    "ImportUi",
    "JobSource",
    "JobUi",
    "NoProgress",
    "Prepared",
    "Progress",
    "RowResult",
    "UndoInput",
]
