"""Read local input files safely: regular files only, and never more than a cap.

A path on the command line may name anything: a FIFO (opening it for reading waits for a
writer for ever), /dev/zero or /dev/urandom (reading never ends), a terminal, a socket.
Each path is stat()ed first and only a regular file is opened, with O_NONBLOCK so a FIFO
swapped in after the stat cannot block the open either, and checked again on the open
descriptor before a byte is read. Reads stop at the cap plus one byte, so a file that
grows while it is read still costs at most the cap.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

# O_NONBLOCK makes open() of a FIFO return at once; O_NOCTTY keeps a terminal device from
# becoming our controlling terminal. Neither exists on Windows, which has no FIFOs to fear.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)


class InputFileError(Exception):
    """Why a local file cannot be used; `str()` is the reason, without the path."""


class NotRegularFileError(InputFileError):
    """The path names a directory, FIFO, device or socket."""


class InputTooLargeError(InputFileError):
    """The file holds more bytes than its cap."""


def file_kind(mode: int) -> str:
    """What a file that is not a regular file is, in words ("a FIFO (named pipe)")."""
    kinds = (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    )
    return next((name for test, name in kinds if test(mode)), "a special file")


def require_regular(status: os.stat_result) -> None:
    """Raise NotRegularFileError unless `status` is a regular file's."""
    if not stat.S_ISREG(status.st_mode):
        raise NotRegularFileError(f"it is {file_kind(status.st_mode)}, not a regular file")


def read_regular_file(path: str | Path, limit: int, *, prefix: bool = False) -> bytes:
    """The bytes of the regular file at `path`, or with `prefix` only its first `limit`.

    Raises NotRegularFileError for anything else, InputTooLargeError when the file holds
    more than `limit` bytes (and `prefix` is not set), InputFileError when it cannot be
    read (the reason is the system's: "No such file or directory")."""
    try:
        require_regular(os.stat(path))
        fd = os.open(path, _OPEN_FLAGS)
        with os.fdopen(fd, "rb") as handle:
            require_regular(os.fstat(handle.fileno()))  # the path may have changed since
            raw = handle.read(limit if prefix else limit + 1)
    except OSError as exc:
        raise InputFileError(exc.strerror or str(exc)) from None
    if len(raw) > limit:
        raise InputTooLargeError(f"file is larger than {limit} bytes")
    return raw
