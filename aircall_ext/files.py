"""Files the tool writes: private ones (0600), atomic replacement, and output destinations.

Journals, reports, the copy of an import's standard input, config.toml and the completion
cache name users, emails or accounts, so they are created private whatever the umask. A
regular file is replaced atomically (a temp file of its own in the same directory, renamed
over it) so a reader never sees half of it; a pipe, a FIFO or a device (``/dev/stdout``,
``>(cmd)``) cannot be renamed over and is written directly. Destinations are checked (and
special files opened) before the command does anything, so a bad path is a usage error
before the account is touched, never after.
"""

from __future__ import annotations

import errno
import os
import stat
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from aircall_ext.errors import UsageError

PRIVATE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700
SHARED_MODE = 0o666  # the umask decides, as for a shell redirection


def create_private(path: Path) -> int:
    """Create ``path`` exclusively (0600, its directory 0700 if new); an fd to append to.

    Raises ``FileExistsError`` when it exists, ``OSError`` for anything else.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR_MODE)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, PRIVATE_MODE)
    _make_private(fd)
    return fd


def _make_private(fd: int) -> None:
    """A umask can only take bits away from 0600; say it anyway (Windows has no fchmod)."""
    if hasattr(os, "fchmod"):
        os.fchmod(fd, PRIVATE_MODE)


def write_atomic(path: Path, data: bytes, *, private: bool, durable: bool = True) -> None:
    """Replace the regular file ``path`` with ``data`` all at once (temp file + rename).

    A symlink is followed, so the file it points to is replaced, not the link. ``durable``
    flushes the data to disk before the rename, so a crash leaves the old file or the new
    one; a file that is only a convenience (the completion cache) skips that cost."""
    # Not tempfile.mkstemp: its file is always 0600, and a shared output follows the umask.
    # A random name per call: concurrent writers never share a temp file (O_EXCL checks).
    target = Path(os.path.realpath(path))
    temp = target.with_name(f".{target.name}.{os.urandom(4).hex()}.tmp")
    mode = PRIVATE_MODE if private else SHARED_MODE
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        if private:
            _make_private(fd)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


@dataclass
class Destination:
    """Where one output goes, checked up front: stdout (``-``), a special file opened
    already, or a regular file replaced atomically by :meth:`write`."""

    name: str  # as the user gave it
    private: bool
    stream: BinaryIO | None = field(default=None, repr=False)  # an opened special file
    is_stdout: bool = False  # ``-``, or a name for this process's stdout (``/dev/stdout``)

    def write(self, data: bytes) -> None:
        if self.is_stdout:
            sys.stdout.flush()  # after what was echoed before it
            out = sys.stdout.buffer
            out.write(data)
            out.flush()
        elif self.stream is not None:
            try:
                self.stream.write(data)
                self.stream.flush()
            finally:
                self.stream.close()
                self.stream = None
        else:
            write_atomic(Path(self.name), data, private=self.private)

    def close(self) -> None:
        if self.stream is not None:
            self.stream.close()
            self.stream = None


def open_destination(name: str, *, private: bool, what: str) -> Destination:
    """Check that ``name`` can be written (opening it if it is a pipe or a device), before
    anything else happens; ``what`` names it in errors ("report", "export file")."""
    if name == "-":
        return Destination(name, private, is_stdout=True)
    try:
        info: os.stat_result | None = os.stat(name)
    except FileNotFoundError:
        info = None
    except OSError as err:
        raise UsageError(f"cannot write {what} {name}: {err.strerror or err}") from None
    if info is not None and _is_stdout(info):
        # Written through our own stdout: reopening it would truncate a `>>` log, and
        # replacing the file would cut it off from what the shell redirected there.
        return Destination(name, private, is_stdout=True)
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise UsageError(f"cannot write {what} {name}: it is a directory")
    if info is not None and not stat.S_ISREG(info.st_mode):
        try:
            stream = open(name, "wb", buffering=0)  # noqa: SIM115 - kept open until written
        except OSError as err:
            raise UsageError(f"cannot write {what} {name}: {err.strerror or err}") from None
        return Destination(name, private, stream)
    parent = Path(os.path.realpath(name)).parent
    problem = None
    if not parent.is_dir():
        problem = errno.ENOENT if not parent.exists() else errno.ENOTDIR
    elif not os.access(parent, os.W_OK | os.X_OK):
        problem = errno.EACCES
    if problem is not None:
        raise UsageError(f"cannot write {what} {name}: {parent}: {os.strerror(problem)}")
    return Destination(name, private)


def _is_stdout(info: os.stat_result) -> bool:
    try:
        out = os.fstat(sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # no real stdout (captured, closed)
        return False
    return (info.st_dev, info.st_ino) == (out.st_dev, out.st_ino)


def same_file(first: str, second: str) -> bool:
    """Whether two paths name one file: by device and inode when both exist (hard links,
    symlinks, ``./x`` and ``x``), by resolved path otherwise. Terminals and other character
    devices are never "the same file" here: reading one and writing the other is normal."""
    ids = [_identity(first), _identity(second)]
    if None in ids:
        return False
    return ids[0] == ids[1]


def _identity(path: str) -> tuple[object, ...] | None:
    try:
        info = os.stat(path)
    except OSError:
        return ("path", os.path.realpath(path))
    if stat.S_ISCHR(info.st_mode):
        return None
    return ("inode", info.st_dev, info.st_ino)


def sha256_hex(data: bytes) -> str:
    """What a journal or a saved plan records to vouch for a file's bytes."""
    import hashlib

    return hashlib.sha256(data).hexdigest()


def rereadable(path: str) -> bool:
    """Whether ``path`` is a regular file, which gives the same bytes when read again; a
    pipe, a FIFO, a device or standard input (``-``) gives them once (or blocks)."""
    if path == "-":
        return False
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


def check_distinct(paths: Sequence[tuple[str, str | None]]) -> None:
    """Refuse two roles of one run naming the same file (``--report`` over the input CSV):
    ``paths`` is (role as the user knows it, path or None), inputs first, so the hint names
    the output to change; ``-`` is never compared."""
    given = [(role, path) for role, path in paths if path and path != "-"]
    for index, (role, path) in enumerate(given):
        for other_role, other in given[index + 1 :]:
            if same_file(path, other):
                shown = path if path == other else f"{path} and {other}"
                raise UsageError(
                    f"{role} and {other_role} name the same file ({shown}): "
                    "writing one would destroy the other",
                    hint=f"give {other_role} another path",
                )
