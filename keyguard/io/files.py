"""Checks on an input path before a reader opens it.

Every reader starts with :func:`check_capture_file` so that a missing file, a directory or an
empty file gives the same one-line :class:`~keyguard.errors.InputError` whatever the format.
Inputs are only ever opened for reading.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from keyguard.errors import CaptureFormatError, CaptureNotFoundError


def check_capture_file(path: str | Path, *, allow_empty: bool = False) -> Path:
    """Return ``path`` as a Path if it names a readable, non-empty regular file.

    Raises CaptureNotFoundError (missing, a directory, not a regular file, unreadable) or
    CaptureFormatError (empty, unless ``allow_empty``).
    """
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise CaptureNotFoundError("no such file", p, "check the path") from None
    except PermissionError:
        raise CaptureNotFoundError("permission denied", p, "make the file readable") from None
    except OSError as e:
        raise CaptureNotFoundError(f"cannot open: {e.strerror or e}", p) from None
    if stat.S_ISDIR(st.st_mode):
        raise CaptureNotFoundError("is a directory, not a capture file",
                                   p, "name the files inside it")
    if not stat.S_ISREG(st.st_mode):
        raise CaptureNotFoundError("is not a regular file", p,
                                   "keyguard reads capture files, not devices or pipes")
    if not os.access(p, os.R_OK):
        raise CaptureNotFoundError("permission denied", p, "make the file readable")
    if st.st_size == 0 and not allow_empty:
        raise CaptureFormatError("file is empty (0 bytes)", p,
                                 "the recording was not written; record again")
    return p
